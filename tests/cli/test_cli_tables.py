"""The CLI's tables stay in line: every column as wide as the widest value shown (a long ministry code's
references, a long officer name, the 19-character `contact-key-rotated` action), and a listing longer than a page
wide enough for the longest legal reference and domain."""

from __future__ import annotations

import re
from pathlib import Path

from store.vocab import DOMAIN_SLUG, MINISTRY_CODE, REFERENCE
from tests.liaison_helpers import PASSPHRASES, init_store
from tui.cli.audit import AUDIT_COLUMNS
from tui.cli.records import LIST_COLUMNS
from tui.cli.table import LONGEST_CODE, LONGEST_DOMAIN, LONGEST_REFERENCE, PAGE, table_lines

#: A ministry code of the longest legal length (15): its references are 26 characters.
LONG_CODE = "PK-NARCOTICSCTL"
LONG_OFFICER = "muhammad.abdul-rehman"


def column_starts(header: str) -> list[int]:
    """Where each heading starts (headings are separated by at least two spaces; `WHEN (UTC)` holds one)."""
    return [m.start() for m in re.finditer(r"\S+(?: \S+)*", header)]


def assert_aligned(lines: list[str], *, skip_first: bool = False) -> None:
    """Every value of every row starts where its heading starts, after a gap of at least two spaces."""
    starts = column_starts(lines[0])
    for line in lines[1:]:
        for start in starts[1:] if skip_first else starts:
            if start == 0:
                continue
            assert line[start - 2 : start] == "  " and line[start] != " ", (start, lines[0], line)


def test_list_lines_up_long_references(tmp_path: Path) -> None:
    """`liaison list` of a ministry with a 15-character code (26-character references) stays in line."""
    store = init_store(tmp_path / "long.db", "--ministry-name", "Anti-Narcotics Control", ministry=LONG_CODE)
    store.add("Ferry route", domain="human-smuggling", tlp="green")
    store.add("Port watch", domain="narcotics", tlp="amber+strict")
    lines = store.ok("list").out.splitlines()
    assert len(lines) == 3 and lines[1].startswith(f"{LONG_CODE}-")
    assert_aligned(lines)


def test_audit_log_lines_up_long_officers_and_targets(tmp_path: Path) -> None:
    """`liaison audit log` and `officers list` with a 21-character officer name and 26-character references stay
    in line."""
    store = init_store(tmp_path / "long.db", "--ministry-name", "Anti-Narcotics Control", ministry=LONG_CODE)
    store.ok("officers", "add", LONG_OFFICER, "--role", "officer", env={"LIAISON_NEW_PASSPHRASE": PASSPHRASES["bob"]})
    store.add("Ferry route", officer=LONG_OFFICER, passphrase=PASSPHRASES["bob"])
    lines = store.ok("audit", "log").out.splitlines()
    assert any(LONG_OFFICER in line for line in lines[1:])
    assert_aligned(lines, skip_first=True)  # SEQ is right-aligned
    officers = store.ok("officers", "list").out.splitlines()
    assert len({line.index(line.split()[1]) for line in officers}) == 1, officers  # the roles line up


def test_a_19_character_action_keeps_the_audit_columns_in_line() -> None:
    """`contact-key-rotated` (19 characters) does not push TARGET and KEY out of line."""
    rows = [
        ("12", "2026-11-28 10:02", "alice", "contact-key-rotated", "TR-MOI", "ab12 cd34"),
        ("13", "2026-11-28 10:03", "alice", "create", "PK-MOI-2026-00001", "ab12 cd34"),
    ]
    lines = list(table_lines(AUDIT_COLUMNS, rows))
    assert_aligned(lines, skip_first=True)


def test_a_listing_longer_than_a_page_is_wide_enough_for_any_legal_reference() -> None:
    """The first page sizes a long listing; a longest legal reference on a later page still lines up."""
    short = ("PK-MOI-2026-00001", "2026-11-28", "narcotics", "PK-MOI→—", "GREEN", "draft", "Title")
    longest = (f"{LONG_CODE}-2026-123456789", "2026-11-28", "a" * LONGEST_DOMAIN, "PK-MOI→—", "GREEN", "draft", "T")
    lines = list(table_lines(LIST_COLUMNS, [short] * PAGE + [longest]))
    assert len(lines) == PAGE + 2
    assert_aligned([lines[0], lines[1], lines[-1]])


def test_the_longest_legal_values_are_the_patterns_own() -> None:
    """The bounds the tables use are the longest values the store's patterns accept."""
    code = "PK-" + "A" * (LONGEST_CODE - 3)
    assert MINISTRY_CODE.fullmatch(code) and not MINISTRY_CODE.fullmatch(code + "A")
    reference = f"{code}-2026-" + "1" * (LONGEST_REFERENCE - len(code) - 6)
    assert REFERENCE.fullmatch(reference) and not REFERENCE.fullmatch(reference + "1")
    slug = "a" * LONGEST_DOMAIN
    assert DOMAIN_SLUG.fullmatch(slug) and not DOMAIN_SLUG.fullmatch(slug + "a")
