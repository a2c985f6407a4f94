"""Pilot tests of the working-group desk in the app: dashboard (charts, tables), meetings, outcomes with actions, the pack."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from textual.widgets import DataTable, Input, Static

from store.errors import LiaisonError
from tests.tui.helpers import settle, static_text, unlock
from tui.app import LiaisonApp
from tui.modals.confirm import ConfirmModal
from tui.modals.path_input import PathModal
from tui.screens.dashboard import DashboardScreen
from tui.screens.meetings import MeetingScreen, MeetingsScreen
from tui.screens.pack import PackScreen
from tui.widgets.charts import ChartPanel
from tui.widgets.status_line import StatusLine


def _text(app: Any, selector: str) -> str:
    return static_text(app, selector)


def _drawn(renderable: Any) -> str:
    console = Console(width=100, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


async def test_dashboard_charts_and_table(make_app: Callable[..., LiaisonApp], demo_path: Path) -> None:
    app = make_app("demo", path=demo_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await unlock(pilot)
        await pilot.press("D")
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        summary = _text(app, "#dash-summary")
        assert "Next meeting" in summary and "In review" in summary
        assert "no meeting planned yet" in summary or "has a meeting planned" in summary
        trend = app.screen.query_one("#dash-trend", ChartPanel)
        assert trend.chart is not None and not trend.chart.empty
        assert sum(v for row in trend.chart.values for v in row) > 0
        assert len(trend.chart.labels) == 8
        charted = _drawn(trend.render())
        assert "█" in charted or "▄" in charted
        await pilot.press("t")
        await settle(pilot)
        assert all(p.as_table for p in app.screen.query(ChartPanel))
        tabled = _drawn(trend.render())
        assert "█" not in tabled and str(trend.chart.labels[-1]) in tabled
        # tab moves between panels
        first = app.focused
        await pilot.press("tab")
        assert app.focused is not first and isinstance(app.focused, ChartPanel)
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, DashboardScreen)


async def test_dashboard_from_the_palette(make_app: Callable[..., LiaisonApp], demo_path: Path) -> None:
    app = make_app("demo", path=demo_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await unlock(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"desk: Dashboard")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)


async def _modal(pilot: Any) -> None:
    """Wait for the path modal (its flow worker waits on it, so `settle` would wait forever)."""
    for _ in range(20):
        await pilot.pause()
        if isinstance(pilot.app.screen, PathModal):
            return
    raise AssertionError("no path modal")


async def _open_next_meeting(app: LiaisonApp, pilot: Any) -> str:
    await unlock(pilot)
    await pilot.press("D")
    await settle(pilot)
    await pilot.press("m")
    await settle(pilot)
    assert isinstance(app.screen, MeetingsScreen)
    table = app.screen.query_one("#meetings", DataTable)
    assert table.row_count >= 5
    quarter = str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(app.screen, MeetingScreen)
    assert app.screen.quarter == quarter
    return quarter


async def test_record_an_outcome_with_an_action(make_app: Callable[..., LiaisonApp], demo_path: Path) -> None:
    app = make_app("demo", path=demo_path)
    async with app.run_test(size=(120, 40)) as pilot:
        quarter = await _open_next_meeting(app, pilot)
        assert "Agenda" in _text(app, "#meeting-text")
        await pilot.press("a")
        await settle(pilot)
        await pilot.press(*"Exchange [bold]watch lists[/bold] monthly")
        app.screen.query_one("#outcome-owner", Input).value = "TR-MOI"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, MeetingScreen)
        status = str(app.screen.query_one("#meeting-status", StatusLine).render())
        assert "for TR-MOI recorded" in status, status
        shown = _text(app, "#meeting-text")
        assert "Exchange [bold]watch lists[/bold] monthly" in shown
        session = app.session
        assert session is not None
        mine = [a for a in session.actions(meeting=quarter) if a.title.startswith("Exchange")]
        assert len(mine) == 1 and mine[0].owner == "TR-MOI"


async def test_bad_outcome_is_refused_inline(make_app: Callable[..., LiaisonApp], demo_path: Path) -> None:
    app = make_app("demo", path=demo_path)
    async with app.run_test(size=(120, 40)) as pilot:
        quarter = await _open_next_meeting(app, pilot)
        session = app.session
        assert session is not None
        before = len(session.actions(meeting=quarter))
        await pilot.press("a")
        await settle(pilot)
        await pilot.press(*"Something")
        app.screen.query_one("#outcome-owner", Input).value = "XX-NOPE"
        await pilot.press("ctrl+s")
        await settle(pilot)
        status = app.screen.query_one("#meeting-status", StatusLine)
        assert status.error and "XX-NOPE" in status.message
        assert len(session.actions(meeting=quarter)) == before


async def test_write_the_pack(make_app: Callable[..., LiaisonApp], demo_path: Path, tmp_path: Path) -> None:
    app = make_app("demo", path=demo_path)
    out = tmp_path / "pack.md"
    async with app.run_test(size=(120, 40)) as pilot:
        quarter = await _open_next_meeting(app, pilot)
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, PackScreen)
        assert quarter in _text(app, "#pack-text")
        await pilot.press("w")
        await _modal(pilot)
        path_input = app.screen.query_one("#path", Input)
        path_input.value = str(out)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, PackScreen)
        assert out.is_file() and quarter in out.read_text(encoding="utf-8")
        assert "wrote" in app.screen.query_one("#pack-status", StatusLine).message
        # a second write to the same path asks first; saying no leaves the file alone
        out.write_text("keep me", encoding="utf-8")
        await pilot.press("w")
        await _modal(pilot)
        app.screen.query_one("#path", Input).value = str(out)
        await pilot.press("enter")
        for _ in range(20):
            await pilot.pause()
            if isinstance(app.screen, ConfirmModal):
                break
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("n")
        await settle(pilot)
        assert "nothing written" in app.screen.query_one("#pack-status", StatusLine).message
        assert out.read_text(encoding="utf-8") == "keep me"


async def test_pack_as_pdf_and_sealed_for_the_counterpart(
    make_app: Callable[..., LiaisonApp], demo_path: Path, tmp_path: Path
) -> None:
    """From the pack screen: `w` to a `.pdf` name writes a PDF; `s` seals the pack for TR-MOI (the demo's one
    counterpart) into a bundle."""
    from store.jwg.pack_pdf import find_fonts

    app = make_app("demo", path=demo_path)
    pdf, sealed = tmp_path / "pack.pdf", tmp_path / "pack.bundle"
    async with app.run_test(size=(120, 40)) as pilot:
        await _open_next_meeting(app, pilot)
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, PackScreen)
        await pilot.press("s")
        await _modal(pilot)
        app.screen.query_one("#path", Input).value = str(sealed)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, PackScreen)
        assert "sealed for TR-MOI" in app.screen.query_one("#pack-status", StatusLine).message
        assert sealed.read_bytes().startswith(b"liaison-bundle/")
        try:
            find_fonts()
        except LiaisonError:
            return  # no DejaVu Sans here: the PDF is refused (tests/jwg covers the refusal)
        await pilot.press("w")
        await _modal(pilot)
        app.screen.query_one("#path", Input).value = str(pdf)
        await pilot.press("enter")
        await settle(pilot)
        assert pdf.read_bytes().startswith(b"%PDF-")


async def test_dashboard_names_a_meeting_passed_and_not_marked_held(demo_path: Path) -> None:
    """Three months on, the demo's next meeting (2026-Q2, 2026-05-16, planned by PK-MOI) has passed unmarked: the
    dashboard names it and how to mark it held, instead of "none planned"; each line fits 80 columns."""
    from datetime import timedelta

    from store.service import Vault
    from tests.tui.helpers import NOW
    from tui.config import Settings

    later = NOW + timedelta(days=91)
    vault = Vault.open(demo_path, clock=lambda: later, kdf_profile="minimum")
    try:
        settings = Settings(cursor_blink=False, unlock_backoff_cap_seconds=0.0, poll_seconds=3600.0)  # type: ignore[call-arg]
        app = LiaisonApp(vault, officer="demo", settings=settings)
        async with app.run_test(size=(80, 24)) as pilot:
            await unlock(pilot)
            await pilot.press("D")
            await settle(pilot)
            assert isinstance(app.screen, DashboardScreen)
            static = app.screen.query_one("#dash-summary", Static)
            drawn = [line.rstrip() for line in _text(app, "#dash-summary").splitlines()]
            assert drawn[:2] == [
                "Next meeting  2026-Q2 (2026-05-16) passed, not marked held",
                "Mark it held  meetings held 2026-Q2",
            ]
            assert "none planned" not in _text(app, "#dash-summary")
            assert all(len(line) <= static.content_region.width for line in drawn), drawn
    finally:
        vault.close()
