"""The CLI's plain-text tables: every column as wide as the widest value shown, so a long reference (a long
ministry code) or a long action name never pushes the columns after it out of line.

Values arrive already made safe (`safe`, `visible`); widths are counted in terminal cells (`rich.cells`), so
wide characters in a name line up too. A listing longer than one page (`liaison list` over a large store) is
not held in memory: its widths come from its first page, each column at least as wide as the longest value
it may legally hold (`Column.longest`: a reference, a domain, a TLP), so later pages stay in line.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rich.cells import cell_len

#: Rows held to size the columns of a long listing.
PAGE = 500
#: The gap between two columns.
GAP = "  "
#: The longest ministry code `store.vocab.MINISTRY_CODE` accepts: `XX-` and 12 letters or digits.
LONGEST_CODE = len("XX-") + 12
#: The longest reference `store.vocab.REFERENCE` accepts: a ministry code, `-YYYY-` and 9 digits.
LONGEST_REFERENCE = LONGEST_CODE + len("-YYYY-") + 9
#: The longest domain slug `store.vocab.DOMAIN_SLUG` accepts.
LONGEST_DOMAIN = 40


@dataclass(frozen=True)
class Column:
    """A column: its heading, the longest value it may legally hold (None: no bound), right-aligned or not."""

    title: str
    longest: int | None = None
    right: bool = False


def _cell(value: str, width: int, right: bool) -> str:
    pad = " " * max(0, width - cell_len(value))
    return pad + value if right else value + pad


def _line(columns: Sequence[Column], widths: Sequence[int], values: Sequence[str]) -> str:
    last = len(columns) - 1
    cells = [
        value if i == last and not columns[i].right else _cell(value, widths[i], columns[i].right)
        for i, value in enumerate(values)
    ]
    return GAP.join(cells)


def table_lines(columns: Sequence[Column], rows: Iterable[Sequence[str]], *, header: bool = True) -> Iterable[str]:
    """The header line (unless not `header`) then one line per row (nothing at all when there are no rows), each
    column as wide as its widest value; rows are read a page at a time, and a listing of more than one page is
    sized from its first page and the columns' legal bounds."""
    it = iter(rows)
    first = list(itertools.islice(it, PAGE))
    if not first:
        return
    more = list(itertools.islice(it, 1))
    titles = [cell_len(c.title) if header else 0 for c in columns]
    widths = [max([titles[i], *(cell_len(row[i]) for row in first)]) for i in range(len(columns))]
    if more:
        widths = [max(w, c.longest or 0) for w, c in zip(widths, columns, strict=True)]
    if header:
        yield _line(columns, widths, [c.title for c in columns])
    for row in itertools.chain(first, more, it):
        yield _line(columns, widths, row)


def print_table(columns: Sequence[Column], rows: Iterable[Sequence[str]], *, header: bool = True) -> int:
    """Print `table_lines` on stdout; how many rows were printed."""
    lines = 0
    for line in table_lines(columns, rows, header=header):
        print(line)
        lines += 1
    return max(0, lines - 1) if header else lines
