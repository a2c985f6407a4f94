"""The meeting pack as a PDF for printing, drawn with fpdf2 from the pack's own Markdown (`store.jwg.pack`).

The pack is Markdown of a fixed shape that `pack.py` writes: `#`/`##`/`###` headings, `- ` list items, pipe
tables (a header row, a `| --- |` rule, rows), plain lines, `**bold**` runs and backslash escapes. This
module draws exactly that shape: headings in bold at three sizes, list items with a bullet, tables as
ruled grids with the numbers right-aligned, escapes undone. Nothing else is interpreted (no links, no
HTML), so text from the store is printed as the characters it is.

Venues, names and titles carry letters outside Latin-1 (İçişleri Bakanlığı): the PDF core fonts cannot
print them, so a Unicode TrueType font is embedded — DejaVu Sans from the system (Debian and Ubuntu:
the `fonts-dejavu-core` package). Without it `--pdf` is refused with that hint rather than printing
question marks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from store.errors import ValidationError

#: Where DejaVu Sans is found (Debian/Ubuntu, Fedora/Arch, Homebrew/macOS user fonts).
FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/share/fonts/TTF"),
    Path("/usr/local/share/fonts"),
    Path.home() / "Library" / "Fonts",
)
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
FONT = "DejaVu"

_ESCAPE = re.compile(r"\\(.)")
_RULE = re.compile(r"\|(\s*-+:?\s*\|)+")


def find_fonts(dirs: Iterable[Path] = FONT_DIRS) -> dict[str, Path]:
    """The regular and bold DejaVu Sans files, from the first directory that has both."""
    for d in dirs:
        found = {style: d / name for style, name in FONT_FILES.items()}
        if all(p.is_file() for p in found.values()):
            return found
    raise ValidationError(
        "--pdf needs the DejaVu Sans font to print every letter (Debian/Ubuntu: apt-get install fonts-dejavu-core)",
        field="pdf",
    )


def _unescape(text: str) -> str:
    return _ESCAPE.sub(r"\1", text)


def _runs(text: str) -> list[tuple[str, bool]]:
    """`**bold**` runs of one line: (text, bold), escapes undone; an escaped `\\*` never starts a run."""
    out: list[tuple[str, bool]] = []
    bold, buf, i = False, [], 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            buf.append(text[i + 1])
            i += 2
        elif text.startswith("**", i):
            if buf:
                out.append(("".join(buf), bold))
                buf = []
            bold = not bold
            i += 2
        else:
            buf.append(text[i])
            i += 1
    if buf:
        out.append(("".join(buf), bold))
    return out


def _cells(row: str) -> list[str]:
    """The cells of a pipe-table row (escaped pipes stay inside their cell)."""
    cells, buf, i = [], [], 0
    body = row.strip()[1:-1] if row.strip().endswith("|") else row.strip()[1:]
    while i < len(body):
        if body[i] == "\\" and i + 1 < len(body):
            buf.append(body[i : i + 2])
            i += 2
        elif body[i] == "|":
            cells.append("".join(buf).strip())
            buf = []
            i += 1
        else:
            buf.append(body[i])
            i += 1
    cells.append("".join(buf).strip())
    return cells


def render_pdf(markdown: str, *, title: str, author: str, created: datetime, fonts: dict[str, Path]) -> bytes:
    """The pack's Markdown drawn as an A4 PDF; `created` is written as the document's creation date."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_creation_date(created)
    pdf.set_title(title)
    pdf.set_author(author)
    pdf.set_creator("Liaison")
    for style, path in fonts.items():
        pdf.add_font(FONT, style=style, fname=str(path))
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.set_margins(18, 16, 18)
    pdf.add_page()
    pdf.set_font(FONT, size=10)

    margin = pdf.l_margin

    def write_line(text: str, *, size: float = 10, bullet: bool = False) -> None:
        height = size * 0.5
        if bullet:  # the bullet in the margin's first 7 mm, wrapped lines hanging under the text
            pdf.set_font(FONT, "", size)
            pdf.set_x(margin + 2)
            pdf.write(height, "•")
            pdf.set_left_margin(margin + 7)
            pdf.set_x(margin + 7)
        for run, bold in _runs(text):
            pdf.set_font(FONT, "B" if bold else "", size)
            pdf.write(height, run)
        pdf.set_left_margin(margin)
        pdf.ln(height + 0.5)

    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("|"):
            rows = []
            while i < len(lines) and lines[i].startswith("|"):
                if not _RULE.fullmatch(lines[i].strip()):
                    rows.append(_cells(lines[i]))
                i += 1
            _table(pdf, rows)
            continue
        if line.startswith("### "):
            pdf.ln(1.5)
            write_line(f"**{line[4:]}**", size=11)
        elif line.startswith("## "):
            pdf.ln(3)
            write_line(f"**{line[3:]}**", size=13)
        elif line.startswith("# "):
            write_line(f"**{line[2:]}**", size=16)
            pdf.ln(2)
        elif line.startswith("- "):
            write_line(line[2:], bullet=True)
        elif line.strip():
            write_line(line)
        else:
            pdf.ln(2)
        i += 1
    return bytes(pdf.output())


def _table(pdf: object, rows: list[list[str]]) -> None:
    """A ruled table: the first row bold, columns after the first right-aligned when they hold numbers."""
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    assert isinstance(pdf, FPDF)
    if not rows:
        return
    width = max(len(r) for r in rows)
    numeric = [
        all(re.fullmatch(r"[\d*.,\s]*", r[c] if c < len(r) else "") for r in rows[1:]) and c > 0 for c in range(width)
    ]
    align = tuple("RIGHT" if n else "LEFT" for n in numeric)
    pdf.ln(1)
    pdf.set_font(FONT, "", 9)
    with pdf.table(
        text_align=align,
        headings_style=FontFace(emphasis="BOLD"),
        line_height=5,
        markdown=False,
        first_row_as_headings=True,
    ) as table:
        for r in rows:
            row = table.row()
            for c in range(width):
                cell = r[c] if c < len(r) else ""
                bold = cell.startswith("**") and cell.endswith("**") and len(cell) > 4
                text = _unescape(cell[2:-2] if bold else cell)
                row.cell(text, style=FontFace(emphasis="BOLD") if bold else None)
    pdf.ln(2)
