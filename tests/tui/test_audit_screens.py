"""Issue 11 in the app: the audit screen (filters, verify in a worker, the first bad event highlighted), the
record's signed history and damage banner, the browser's damage marker (Threats 14 and 25)."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from textual.widgets import DataTable, Input, Select, Static

from store.service import UNREADABLE_TITLE, Session
from tests.liaison_helpers import attack
from tests.tui.helpers import palette, settle, unlock
from tests.tui.hostile import screen_text
from tui.app import LiaisonApp
from tui.screens.audit import BAD_STYLE, AuditScreen
from tui.screens.detail import DetailScreen
from tui.widgets.record_table import RecordTable
from tui.widgets.record_view import RecordView
from tui.widgets.status_line import StatusLine


def drawn(static: Static) -> str:
    """What a Static draws, as plain text."""
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(static.content)
    return console.export_text()


def newest_reference(reader: Session) -> str:
    return reader.list_records(limit=1)[0].reference


async def open_audit(pilot: object, app: LiaisonApp) -> AuditScreen:
    await unlock(pilot)  # type: ignore[arg-type]
    await pilot.press("A")  # type: ignore[attr-defined]
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, AuditScreen)
    return screen


async def test_audit_screen_lists_and_filters_the_signed_log(
    make_app: Callable[..., LiaisonApp], reader: Session
) -> None:
    """A opens the log newest first; a record filter narrows it to that record's events, each with its key."""
    reference = newest_reference(reader)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_audit(pilot, app)
        table = screen.query_one("#audit-events", DataTable)
        assert table.row_count > 0
        seqs = [entry.seq for entry in screen.entries]
        assert seqs == sorted(seqs, reverse=True)
        screen.query_one("#audit-record", Input).value = reference
        await settle(pilot)
        assert screen.entries
        assert {e.record_reference or e.target for e in screen.entries} == {reference}
        assert all(len(e.signer_fingerprint) == 16 for e in screen.entries)
        screen.query_one("#audit-since", Input).value = "not a day"
        await settle(pilot)
        assert screen.query_one("#audit-status", StatusLine).error


async def test_verify_on_an_intact_store_says_so(make_app: Callable[..., LiaisonApp]) -> None:
    """v runs the whole verification in a worker; the status line says what was checked. A bad since-date's error
    then goes once the date is corrected: the verdict shows again (it stayed while the list refiltered)."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_audit(pilot, app)
        await pilot.press("v")
        await settle(pilot)
        status = screen.query_one("#audit-status", StatusLine)
        assert status.message.startswith("intact: ") and not status.error
        screen.query_one("#audit-since", Input).value = "2026-02-30"
        await settle(pilot)
        assert status.error and "2026-02-30" in status.message
        screen.query_one("#audit-since", Input).value = ""
        await settle(pilot)
        assert not status.error and status.message.startswith("intact: "), status.message
        assert screen.report is not None and screen.report.ok
        assert not screen.busy


async def test_verify_highlights_the_first_bad_event(
    make_app: Callable[..., LiaisonApp], store_path: Path, reader: Session
) -> None:
    """Threat 14: an event edited in the file — verify names it, its row is drawn as bad and the cursor is on it."""
    seq = reader.audit_log()[-5].seq
    attack(store_path, "UPDATE audit_log SET officer = 'mallory' WHERE seq = ?", seq)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_audit(pilot, app)
        await palette(pilot, "audit: Verify")
        status = screen.query_one("#audit-status", StatusLine)
        assert status.error and "DAMAGED" in status.message, status.message
        report = screen.report
        assert report is not None and not report.ok
        first = report.problems[0].seq
        assert first is not None
        table = screen.query_one("#audit-events", DataTable)
        assert table.cursor_row == table.get_row_index(str(first))
        assert f"event #{first}" in status.message
        cell = table.get_row(str(first))[0]
        assert str(cell.style) == BAD_STYLE


async def test_a_damaged_record_is_marked_in_the_browser_and_bannered_in_its_detail(
    make_app: Callable[..., LiaisonApp], store_path: Path, reader: Session
) -> None:
    """Threat 25: a record's TLP edited in the file — the browser marks it (legend on the result line), its detail
    shows the DAMAGED banner and its signed history instead of the content, and offers no action."""
    row = reader.list_records(limit=1)[0]
    history = reader.record_history(row.reference)
    forged = "CLEAR" if row.tlp.value != "CLEAR" else "GREEN"
    attack(store_path, "UPDATE records SET tlp = ? WHERE reference = ?", forged, row.reference)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        table = app.screen.query_one(RecordTable)
        assert row.id in table.damaged
        assert "damaged" in app.screen.query_one("#result-line", StatusLine).message
        await pilot.press("enter")
        await settle(pilot)
        detail = app.screen
        assert isinstance(detail, DetailScreen) and detail.reference == row.reference
        banner = detail.query_one("#detail-damaged", StatusLine)
        assert banner.message.startswith("DAMAGED"), banner.message
        view = detail.query_one(RecordView)
        assert view.has_class("-withheld")
        assert not detail.allowed
        signed = drawn(view.query_one("#record-signed", Static))
        assert history and history[0].signer_fingerprint in signed


async def test_an_intact_record_shows_its_signed_history(make_app: Callable[..., LiaisonApp], reader: Session) -> None:
    """The detail ends with the record's signed events: who, when, which key; no banner."""
    reference = newest_reference(reader)
    history = reader.record_history(reference)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await unlock(pilot)
        await pilot.press("enter")
        await settle(pilot)
        detail = app.screen
        assert isinstance(detail, DetailScreen)
        assert not detail.query_one("#detail-damaged", StatusLine).message
        view = detail.query_one(RecordView)
        signed = drawn(view.query_one("#record-signed", Static))
        for entry in history:
            assert entry.officer in signed and entry.signer_fingerprint in signed


async def test_text_from_the_log_is_drawn_as_text(
    make_app: Callable[..., LiaisonApp], store_path: Path, reader: Session
) -> None:
    """Threats 21 and 22: an officer and an action written into the log as markup and a terminal escape are drawn as
    the characters they are, in the table, in the action filter's list and in verify's finding; nothing crashes."""
    seq = reader.audit_log()[-3].seq
    officer, action = "[b]mal[/]\x1b[2J", "[link=x]a[/]"
    attack(store_path, "UPDATE audit_log SET officer = ?, action = ? WHERE seq = ?", officer, action, seq)
    app = make_app()
    async with app.run_test(size=(200, 60)) as pilot:
        screen = await open_audit(pilot, app)
        drawn = screen_text(app.export_screenshot())
        assert "[b]mal[/]\u241b[2J" in drawn
        assert action in drawn
        screen.query_one("#audit-action", Select).expanded = True
        await settle(pilot)
        assert sum(line.count(action) for line in screen_text(app.export_screenshot()).splitlines()) == 2
        screen.query_one("#audit-action", Select).expanded = False
        screen.query_one("#audit-events", DataTable).focus()
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        status = screen.query_one("#audit-status", StatusLine)
        assert status.error and f"event #{seq}" in status.message
        assert "\x1b" not in screen_text(app.export_screenshot())


async def test_key_fingerprints_stay_whole_at_80_columns(
    make_app: Callable[..., LiaisonApp], store_path: Path, reader: Session
) -> None:
    """A very long officer name, action and target in the log are cut with an ellipsis; every row's key fingerprint
    is still drawn whole at 80×24."""
    seq = reader.audit_log()[-1].seq
    attack(
        store_path,
        "UPDATE audit_log SET officer = ?, action = ?, target = ? WHERE seq = ?",
        "o" * 60,
        "a" * 60,
        "t" * 60,
        seq,
    )
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_audit(pilot, app)
        drawn = screen_text(app.export_screenshot())
        rows = [line.split() for line in drawn.splitlines()]
        rows = [" ".join(cells) for cells in rows if len(cells) > 2 and cells[0].isdigit() and cells[1][:4].isdigit()]
        assert len(rows) >= 10
        for entry, line in zip(screen.entries, rows, strict=False):
            assert line.split()[0] == str(entry.seq)
            assert f" {entry.signer_fingerprint} " in f"{line} ", line
        assert "o" * 60 not in drawn and "o" * 15 + "…" in drawn


#: The longest reference the store accepts (a 15-character ministry code, 9 digits): 30 characters.
LONGEST_REFERENCE = "PK-NARCOTICSCTL-2026-123456789"


def _drawn_rows(app: LiaisonApp) -> list[str]:
    """The table's rows as drawn (a line that starts with a sequence number and a time)."""
    lines = screen_text(app.export_screenshot()).splitlines()
    return [line for line in lines if re.match(r"^\s*\d+\s+(\d{4}-)?\d\d-\d\d ", line)]


async def test_references_stay_whole_at_80_columns(
    make_app: Callable[..., LiaisonApp], store_path: Path, reader: Session
) -> None:
    """At 80×24, with the longest legal reference and a 60-character officer and action in the log, every
    event's record reference in "About" is drawn whole and so is every key; the time gives way to its day, the
    action and the officer are cut. At 200×60 nothing gives way but the 60-character names."""
    reference = newest_reference(reader)
    newest = reader.audit_log()[-1].seq
    attack(
        store_path,
        "UPDATE audit_log SET body = CAST(replace(CAST(body AS TEXT), ?, ?) AS BLOB), target = replace(target, ?, ?)",
        reference,
        LONGEST_REFERENCE,
        reference,
        LONGEST_REFERENCE,
    )
    attack(store_path, "UPDATE audit_log SET officer = ?, action = ? WHERE seq = ?", "o" * 60, "a" * 60, newest)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_audit(pilot, app)
        assert any(e.record_reference == LONGEST_REFERENCE for e in screen.entries)
        rows = _drawn_rows(app)
        assert len(rows) >= 10
        for entry, line in zip(screen.entries, rows, strict=False):
            assert line.split()[0] == str(entry.seq)
            assert f" {entry.signer_fingerprint} " in line, line
            if entry.record_reference:
                assert line.rstrip().endswith(f" {entry.record_reference}"), line
            assert f" {entry.at:%Y-%m-%d} " in line, line
        drawn = screen_text(app.export_screenshot())
        assert "o" * 6 + "…" in drawn and "a" * 5 + "…" in drawn and "o" * 7 not in drawn and "a" * 6 not in drawn
        await pilot.resize_terminal(200, 60)
        await settle(pilot)
        rows = _drawn_rows(app)
        for entry, line in zip(screen.entries, rows, strict=False):
            assert f" {entry.at:%Y-%m-%d %H:%M} " in line, line
            about = entry.record_reference or entry.target
            assert line.rstrip().endswith(f" {about}"), line
        drawn = screen_text(app.export_screenshot())
        assert "o" * 15 + "…" in drawn and "a" * 15 + "…" in drawn
        await pilot.resize_terminal(80, 24)  # narrower again: the columns shrink back
        await settle(pilot)
        rows = _drawn_rows(app)
        assert len(rows) >= 10
        for entry, line in zip(screen.entries, rows, strict=False):
            if entry.record_reference:
                assert line.rstrip().endswith(f" {entry.record_reference}"), line


async def test_a_title_no_key_opens_does_not_blank_the_browser(
    make_app: Callable[..., LiaisonApp], store_path: Path, reader: Session
) -> None:
    """Threat 2 in the app: one record's title ciphertext overwritten in the file (random bytes, no key). The browser
    still lists every record, that one as unreadable and marked damaged (the page's check names why); its detail
    shows the DAMAGED banner instead of its content. (`liaison list` refuses, naming it: tests/store.)"""
    rows = reader.list_records(limit=5)
    bad = rows[1]
    attack(store_path, "UPDATE records SET title_ct = randomblob(120) WHERE id = ?", bad.id)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        table = app.screen.query_one(RecordTable)
        shown = [table.cache.row(i) for i in range(len(rows))]
        assert [r.reference for r in shown if r is not None] == [r.reference for r in rows]
        assert shown[1] is not None and shown[1].title == UNREADABLE_TITLE
        assert [r.title for r in shown if r is not None and r.id != bad.id] == [r.title for r in rows if r.id != bad.id]
        assert bad.id in table.damaged and "title ciphertext" in table.damaged[bad.id]
        assert "damaged" in app.screen.query_one("#result-line", StatusLine).message
        assert "(unreadable" in screen_text(app.export_screenshot())
        await pilot.press("down", "enter")
        await settle(pilot)
        detail = app.screen
        assert isinstance(detail, DetailScreen) and detail.reference == bad.reference
        assert detail.query_one("#detail-damaged", StatusLine).message.startswith("DAMAGED")
        assert not detail.allowed


def test_the_columns_fit_80_columns_with_the_labels_counted() -> None:
    """Found by a new officer's pass: at 80×24 the demo's log (action names up to 15 cells, officers of 4–6, whose
    label "Officer" is 7) scrolled sideways and cut `TR-MOI-2026-00049` to `TR-MOI-2026-000`: the cuts were sized
    by the cells alone, the columns by their labels too. Each column is now as wide as the cuts say, labels
    counted, and the references stay whole."""
    from tui.screens.audit import column_widths, fit_columns

    widest = {"seq": 3, "key": 16, "reference": 17}
    for width in (78, 90, 118, 198):  # 80, 92, 120 and 200 columns, the scrollbar's two cells kept
        fit = fit_columns(width, **widest, officer=6, action=15, other=40)
        widths = column_widths(fit, **widest)
        assert sum(widths.values()) <= width, (width, widths)
        assert widths["about"] >= 1 + 17 and widths["key"] == 1 + 16 and widths["seq"] == 1 + 3
        assert widths["officer"] >= 1 + len("Officer") and widths["action"] >= 1 + len("Action")
