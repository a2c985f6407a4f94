"""SVG snapshots of the working-group desk (dashboard charts and tables, a meeting, the pack preview) at 80×24, 120×40 and 200×60.

On the demo store (`store/demo.py` on the fixed clock: meetings, agenda and actions on both sides).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.tui.helpers import settle, unlock
from tui.app import LiaisonApp

SIZES = [
    pytest.param((80, 24), id="80x24"),
    pytest.param((120, 40), id="120x40"),
    pytest.param((200, 60), id="200x60"),
]


@pytest.mark.parametrize("size", SIZES)
def test_dashboard(
    snap_compare: Any, make_app: Callable[..., LiaisonApp], demo_path: Path, size: tuple[int, int]
) -> None:
    """Dashboard: next meeting with countdown, review count, unplanned quarters, overdue bars, shares per domain."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await unlock(pilot)
        await pilot.press("D")
        await settle(pilot)

    assert snap_compare(make_app("demo", path=demo_path), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_dashboard_tables(
    snap_compare: Any, make_app: Callable[..., LiaisonApp], demo_path: Path, size: tuple[int, int]
) -> None:
    """Dashboard as tables (`t`), scrolled to the trend and acknowledgement panels (tab ×3)."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await unlock(pilot)
        await pilot.press("D")
        await settle(pilot)
        await pilot.press("t", "tab", "tab", "tab")
        await settle(pilot)

    assert snap_compare(make_app("demo", path=demo_path), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_meeting(
    snap_compare: Any, make_app: Callable[..., LiaisonApp], demo_path: Path, size: tuple[int, int]
) -> None:
    """The next meeting: agenda per domain with outcomes, actions agreed, actions carried forward."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await unlock(pilot)
        await pilot.press("D")
        await settle(pilot)
        await pilot.press("m")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(make_app("demo", path=demo_path), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_meeting_pack_preview(
    snap_compare: Any, make_app: Callable[..., LiaisonApp], demo_path: Path, size: tuple[int, int]
) -> None:
    """The pack of the next meeting as it would be written (Markdown source, drawn as plain text)."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await unlock(pilot)
        await pilot.press("D")
        await settle(pilot)
        await pilot.press("m")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)

    assert snap_compare(make_app("demo", path=demo_path), terminal_size=size, run_before=run_before)
