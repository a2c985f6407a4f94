"""A store holding hostile text as an older Liaison (before the text policy) would have written it (threats 21–24)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, update

from store.audit.log import note
from store.models import Record
from store.service import Clock, Draft, Vault, utcnow

MARKUP_TITLE = "[see annex] [/x] [bold]x"
#: Terminal attacks in a title: clipboard write (OSC 52), clear screen, a C1 CSI, a bidi override.
ESCAPE_TITLE = "Clip\x1b]52;c;SGVsbG8=\x07 wipe\x1b[2JB c1\x9b31m bidi\u202eevil"
ESCAPE_AUTHOR = "he\x1b[2Jron\u202e"
HOSTILE_SUMMARY = (
    "Markup [/x] stays.\n\n<b>raw html</b> <img src=x onerror=alert(1)>\n\n"
    "[click me](http://evil.example/x) and ![pixel](http://evil.example/p.png)\n\nESC\x1b[8m hidden"
)
PASSPHRASE = "demo"
#: Byte strings of the DATA's sequences: none of them may reach the terminal.
FORBIDDEN_BYTES = (b"\x1b]52;c;SGVsbG8", b"\x1b[2JB", b"\x1b[2Jron", b"\xc2\x9b", b"\xe2\x80\xae", b"\x1b[8m hidden")


def build_hostile_store(path: Path, monkeypatch: pytest.MonkeyPatch, clock: Clock = utcnow) -> tuple[str, str]:
    """A store with a markup title and an escape-laden title/author/summary, written past today's text policy (the
    records intact: their state signed into the audit log)."""
    import store.text

    with monkeypatch.context() as patch:
        patch.setattr(store.text, "_check", lambda field, text, *, multiline, reference: text)
        vault = Vault.create(
            path, "PK-MOI", "demo", PASSPHRASE, kdf_profile="minimum", clock=clock, short_passphrase_ok=True
        )
        session = vault.unlock("demo", PASSPHRASE)
        session.add_officer("heron", "officer", "heron-pass")
        markup = session.add_record(Draft(domain="narcotics", tlp="AMBER", title=MARKUP_TITLE, summary=MARKUP_TITLE))
        escape = session.add_record(
            Draft(
                domain="cybercrime", tlp="GREEN", title=ESCAPE_TITLE, summary=HOSTILE_SUMMARY, source="src\x1b]0;t\x07"
            )
        )
        # The author tag as an older version let it in, signed into the log as that version would have (an
        # unsigned edit would make the record damaged, and the app would refuse to show it at all).
        with session.act("test-setup", escape) as s:
            s.execute(update(Record).where(Record.reference == escape).values(author=ESCAPE_AUTHOR))
            note(s, record_id=s.execute(select(Record.id).where(Record.reference == escape)).scalar_one())
        session.lock()
        vault.close()
    return markup, escape


def screen_text(svg: str) -> str:
    """The characters of an app screenshot (`App.export_screenshot()`), row by row, as the officer would read them."""
    import html
    import re

    rows: dict[float, list[tuple[float, str]]] = {}
    for match in re.finditer(r'<text class="[^"]*" x="([\d.]+)" y="([\d.]+)"[^>]*>(.*?)</text>', svg):
        x, y, text = match.groups()
        rows.setdefault(float(y), []).append((float(x), html.unescape(text).replace("\xa0", " ")))
    lines = []
    for y in sorted(rows):
        line = ""
        for x, text in sorted(rows[y]):
            column = round(x / 12.2)
            line = line.ljust(column)[:column] + text
        lines.append(line.rstrip())
    return "\n".join(lines)
