"""Pilot tests: desk items edited on the file with sqlite3 (no keys) are marked in the app — dashboard, meetings
list, meeting screen — with the store's reason, and the app offers nothing to do on a damaged meeting."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.widgets import DataTable

from tests.tui.helpers import settle, static_text, unlock
from tui.app import LiaisonApp
from tui.screens.dashboard import DashboardScreen
from tui.screens.meetings import MeetingScreen, MeetingsScreen
from tui.widgets.status_line import StatusLine

#: An open action of the demo's 2026-Q1 meeting carried forward onto the next one (2026-Q2 on the fixed clock), and a
#: held meeting.
ACTION, MEETING, NEXT = "TR-MOI-A5", "2025-Q2", "2026-Q2"


def _tamper(path: Path) -> None:
    """What someone holding the file but no keys does: move an action's due date, flip a meeting's status."""
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(
            "UPDATE jwg_actions SET due = '2027-06-30', content_rev = content_rev + 1 WHERE code = ?", (ACTION,)
        )
        conn.execute(
            "UPDATE jwg_meetings SET status = CASE status WHEN 'held' THEN 'planned' ELSE 'held' END, rev = rev + 1"
            " WHERE quarter = ?",
            (MEETING,),
        )
    conn.close()


def _says(app: Any, selector: str) -> str:
    return static_text(app, selector)


ACTION_WHY = re.compile(rf"action {ACTION} differs from its signed event #\d+: content_rev, due")
MEETING_WHY = re.compile(rf"meeting {MEETING} differs from its signed event #\d+: rev, status")


async def test_damaged_desk_items_are_marked_with_their_reason(
    make_app: Callable[..., LiaisonApp], demo_path: Path
) -> None:
    """Threat 25: after the sqlite3 edits the dashboard names both items and why; the meetings list marks the
    meeting `✗` and says why on its row; the next meeting marks the carried action `✗ DAMAGED` with its reason."""
    _tamper(demo_path)
    app = make_app("demo", path=demo_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await unlock(pilot)
        await pilot.press("D")
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        banner = app.screen.query_one("#dash-damaged", StatusLine)
        assert banner.error and "2 desk items differ from the signed audit log" in banner.message
        assert ACTION_WHY.search(banner.message) and MEETING_WHY.search(banner.message), banner.message

        await pilot.press("m")
        await settle(pilot)
        assert isinstance(app.screen, MeetingsScreen)
        table = app.screen.query_one("#meetings", DataTable)
        quarters = {str(table.get_row_at(i)[0]): i for i in range(table.row_count)}
        assert f"✗ {MEETING}" in quarters and NEXT in quarters and f"✗ {NEXT}" not in quarters
        status = app.screen.query_one("#meetings-status", StatusLine)
        assert "✗ damaged" in status.message and not status.error
        table.move_cursor(row=quarters[f"✗ {MEETING}"])
        await settle(pilot)
        assert status.error and MEETING_WHY.search(status.message), status.message
        table.move_cursor(row=quarters[NEXT])
        await settle(pilot)
        assert not status.error

        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, MeetingScreen) and app.screen.quarter == NEXT
        text = _says(app, "#meeting-text")
        line = next(x for x in text.splitlines() if ACTION in x)
        assert line.lstrip().startswith(f"✗ DAMAGED  {ACTION}"), line
        assert ACTION_WHY.search(text), text
        intact = [x for x in text.splitlines() if re.search(r"\b[A-Z]{2}-MOI-A\d+\b", x) and ACTION not in x]
        assert intact and not any("DAMAGED" in x for x in intact)
        assert "1 damaged" in app.screen.query_one("#meeting-status", StatusLine).message


async def test_a_damaged_meeting_is_refused_with_a_banner_and_no_keys(
    make_app: Callable[..., LiaisonApp], demo_path: Path
) -> None:
    """Threat 25: opening the meeting edited on the file shows the store's refusal in a banner and nothing of the
    meeting; outcome, held and pack are not offered, and `h` changes nothing (the CLI refuses `meetings held`)."""
    _tamper(demo_path)
    conn = sqlite3.connect(demo_path)
    (rev,) = conn.execute("SELECT rev FROM jwg_meetings WHERE quarter = ?", (MEETING,)).fetchone()
    conn.close()
    app = make_app("demo", path=demo_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        await app.push_screen(MeetingScreen(MEETING))
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, MeetingScreen)
        banner = screen.query_one("#meeting-damaged", StatusLine)
        assert banner.error and banner.message.startswith("✗ DAMAGED — ") and MEETING_WHY.search(banner.message)
        assert _says(app, "#meeting-text") == ""
        offered = {b.binding.action for b in screen.active_bindings.values()}
        assert not {"add_outcome", "mark_held", "pack"} & offered and "back" in offered
        await pilot.press("h", "a", "p")
        await settle(pilot)
        assert app.screen is screen
        conn = sqlite3.connect(demo_path)
        assert conn.execute("SELECT rev FROM jwg_meetings WHERE quarter = ?", (MEETING,)).fetchone() == (rev,)
        conn.close()


async def test_an_intact_desk_shows_no_damage(make_app: Callable[..., LiaisonApp], demo_path: Path) -> None:
    """The demo as built: no banner on the dashboard, no mark in the meetings list."""
    app = make_app("demo", path=demo_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await unlock(pilot)
        await pilot.press("D")
        await settle(pilot)
        assert app.screen.query_one("#dash-damaged", StatusLine).message == ""
        await pilot.press("m")
        await settle(pilot)
        table = app.screen.query_one("#meetings", DataTable)
        assert not any("✗" in str(table.get_row_at(i)[0]) for i in range(table.row_count))
        assert "damaged" not in app.screen.query_one("#meetings-status", StatusLine).message
