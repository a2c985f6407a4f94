"""Locking by key and when idle: keys and decrypted text are dropped, and unlocking brings the officer back."""

from __future__ import annotations

from collections.abc import Callable

from textual.widgets import Input, Markdown

from store.records import RecordQuery
from store.service import Session
from tests.tui.helpers import OFFICERS, settle, unlock
from tui.app import LiaisonApp
from tui.modals.compose import ComposeModal
from tui.screens.browser import BrowserScreen
from tui.screens.detail import DetailScreen
from tui.screens.unlock import UnlockScreen
from tui.widgets.record_table import RecordTable


class FakeMonotonic:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_lock_and_unlock_back_to_the_same_record(make_app: Callable[..., LiaisonApp], reader: Session) -> None:
    """ctrl+l on a record: session keys forgotten, no decrypted text left, then unlock returns to that record and list position."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await unlock(pilot)
        await pilot.press("f")
        sidebar_target = "domain:policing"
        sidebar = app.screen.query_one("#facets")
        sidebar.highlighted = sidebar.get_option_index(sidebar_target)  # type: ignore[attr-defined]
        await pilot.press("space")
        await settle(pilot)
        await pilot.press("escape", "j", "j")
        await settle(pilot)
        browser = app.screen
        assert isinstance(browser, BrowserScreen)
        table = browser.query_one(RecordTable)
        expected_row = table.highlighted_row
        assert expected_row is not None
        await pilot.press("enter")
        await settle(pilot)
        detail = app.screen
        assert isinstance(detail, DetailScreen)
        session = app.session
        assert session is not None
        summary = detail.query_one("#record-summary", Markdown)
        assert summary.source

        await pilot.press("ctrl+l")
        await settle(pilot)
        assert isinstance(app.screen, UnlockScreen)
        assert app.session is None
        assert session.keyring is None
        assert table.cache.decrypted_rows == 0
        assert detail.detail is None
        assert summary.source == ""
        assert not [s for s in app.screen_stack if isinstance(s, BrowserScreen | DetailScreen)]

        await unlock(pilot)
        assert isinstance(app.screen, DetailScreen)
        assert app.screen.reference == expected_row.reference
        assert app.screen.detail is not None and app.screen.detail.row.reference == expected_row.reference
        await pilot.press("escape")
        await settle(pilot)
        back = app.screen
        assert isinstance(back, BrowserScreen)
        assert back.record_query == RecordQuery(domains=frozenset({"policing"}))
        assert back.query_one(RecordTable).cursor == 2
        assert back.query_one(RecordTable).highlighted_row == expected_row


async def test_another_officer_unlocking_starts_at_home(make_app: Callable[..., LiaisonApp]) -> None:
    """Where demo was is not where kestrel lands."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await unlock(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
        await pilot.press("ctrl+l")
        await settle(pilot)
        app.screen.query_one("#officer").value = "kestrel"  # type: ignore[attr-defined]
        await unlock(pilot, OFFICERS["kestrel"])
        assert isinstance(app.screen, BrowserScreen)
        assert len(app.screen_stack) == 2


async def test_idle_lock_after_the_configured_minutes(make_app: Callable[..., LiaisonApp]) -> None:
    """No key for `idle_lock_minutes` locks; a key press in between restarts the count."""
    clock = FakeMonotonic()
    app = make_app(idle_lock_minutes=10.0)
    app._monotonic = clock
    async with app.run_test(size=(120, 40)) as pilot:
        await unlock(pilot)
        clock.now += 9 * 60
        app.check_idle_lock()
        await settle(pilot)
        assert app.session is not None
        await pilot.press("j")
        clock.now += 9 * 60
        app.check_idle_lock()
        await settle(pilot)
        assert app.session is not None, "a key press restarts the idle count"
        clock.now += 61
        app.check_idle_lock()
        await settle(pilot)
        assert app.session is None
        assert isinstance(app.screen, UnlockScreen)


async def test_idle_lock_can_be_turned_off(make_app: Callable[..., LiaisonApp]) -> None:
    """`idle_lock_minutes=0` never locks by itself."""
    clock = FakeMonotonic()
    app = make_app(idle_lock_minutes=0.0)
    app._monotonic = clock
    async with app.run_test(size=(120, 40)) as pilot:
        await unlock(pilot)
        clock.now += 24 * 3600
        app.check_idle_lock()
        await settle(pilot)
        assert app.session is not None


async def test_a_draft_survives_the_lock_sealed(make_app: Callable[..., LiaisonApp]) -> None:
    """The compose form is sealed under the store key while locked (no plaintext kept) and comes back after unlock."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await unlock(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"Unfinished thought about Ormara")
        await pilot.press("ctrl+l")
        await settle(pilot)
        assert app._resume is not None
        kinds = [p.kind for p in app._resume[1]]
        assert kinds == ["browser", "compose"]
        sealed = app._resume[1][1].data["sealed"]
        assert isinstance(sealed, bytes) and b"Ormara" not in sealed
        await unlock(pilot)
        modal = app.screen
        assert isinstance(modal, ComposeModal)
        assert modal.query_one("#title", Input).value == "Unfinished thought about Ormara"
        await pilot.press("escape")
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, BrowserScreen)


async def test_palette_lock_command(make_app: Callable[..., LiaisonApp]) -> None:
    """ctrl+p, "vault: lock", enter locks the store."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await unlock(pilot)
        await pilot.press("ctrl+p")
        await pilot.press(*"vault: lock")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert app.session is None
        assert isinstance(app.screen, UnlockScreen)


async def test_unlock_reopens_the_screen_the_officer_was_on(make_app: Callable[..., LiaisonApp]) -> None:
    """ctrl+l in the export wizard, the dashboard or a meeting: unlocking opens the same screen again, at 80x24."""
    from tui.screens.dashboard import DashboardScreen
    from tui.screens.export import ExportScreen
    from tui.screens.meetings import MeetingScreen, MeetingsScreen

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        for open_it, kind in [
            (lambda: app.push_screen(ExportScreen()), ExportScreen),
            (app.action_dashboard, DashboardScreen),
            (lambda: app.push_screen(MeetingScreen("2026-Q3")), MeetingScreen),
        ]:
            await app.action_home()
            open_it()
            await settle(pilot)
            assert isinstance(app.screen, kind)
            await pilot.press("ctrl+l")
            await settle(pilot)
            assert isinstance(app.screen, UnlockScreen)
            await unlock(pilot)
            await settle(pilot)
            assert isinstance(app.screen, kind), app.screen
            assert [type(s) for s in app.screen_stack[1:]] == [BrowserScreen, kind]
            if kind is MeetingScreen:
                assert app.screen.quarter == "2026-Q3"  # type: ignore[attr-defined]
        await app.action_home()
        app.action_meetings()
        await settle(pilot)
        assert isinstance(app.screen, MeetingsScreen)
