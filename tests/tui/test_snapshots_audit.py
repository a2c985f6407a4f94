"""SVG snapshots of issue 11 in the app at 80×24 and 200×60: the audit screen (filtered; verified with its first bad
event highlighted), the browser marking a damaged record, a damaged record's banner and signed history, an intact
record's signed history.

On a store whose every key is fixed (`tests.tui.fixed_keys.build_audit_store`), so the key fingerprints drawn are the
same on every run; the damage is done with sqlite3 on the file, as someone holding the file and no keys would.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.liaison_helpers import attack
from tests.tui.helpers import settle, unlock
from tui.app import LiaisonApp

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((200, 60), id="200x60")]

#: kestrel's approval of the first record (event #10 of the fixed store).
APPROVAL_SEQ = 10
#: The record whose TLP is edited in the file.
DAMAGED = "PK-MOI-2026-00002"


@pytest.mark.parametrize("size", SIZES)
def test_audit_screen_filtered(snap_compare: Any, audit_app: Callable[[], LiaisonApp], size: tuple[int, int]) -> None:
    """A then an officer filter: heron's events newest first, each with when, what, about which record, which key."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await unlock(pilot)
        await pilot.press("A")
        await settle(pilot)
        await pilot.press("f", "tab", *"heron")
        await settle(pilot)

    assert snap_compare(audit_app(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_audit_verify_damaged(
    snap_compare: Any, audit_app: Callable[[], LiaisonApp], audit_store: Path, size: tuple[int, int]
) -> None:
    """Threat 14: an event's officer edited in the file — v verifies; the first bad event's row is drawn in the error
    colours with the cursor on it, the status line names it and why."""
    attack(audit_store, "UPDATE audit_log SET officer = 'mallory' WHERE seq = ?", APPROVAL_SEQ)

    async def run_before(pilot: Pilot[Any]) -> None:
        await unlock(pilot)
        await pilot.press("A")
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)

    assert snap_compare(audit_app(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_browser_marks_a_damaged_record(
    snap_compare: Any, audit_app: Callable[[], LiaisonApp], audit_store: Path, size: tuple[int, int]
) -> None:
    """Threat 25: a record's TLP edited in the file — ✗ before its title, the legend on the result line, the
    preview says DAMAGED and why."""
    attack(audit_store, "UPDATE records SET tlp = 'CLEAR' WHERE reference = ?", DAMAGED)

    async def run_before(pilot: Pilot[Any]) -> None:
        await unlock(pilot)
        await pilot.press("down", "down", "down", "down")
        await settle(pilot)

    assert snap_compare(audit_app(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_damaged_record_detail(
    snap_compare: Any, audit_app: Callable[[], LiaisonApp], audit_store: Path, size: tuple[int, int]
) -> None:
    """Threat 25: the detail of that record — the DAMAGED banner, the store's refusal, and only its signed history."""
    attack(audit_store, "UPDATE records SET tlp = 'CLEAR' WHERE reference = ?", DAMAGED)

    async def run_before(pilot: Pilot[Any]) -> None:
        await unlock(pilot)
        await pilot.press("down", "down", "down", "down", "enter")
        await settle(pilot)

    assert snap_compare(audit_app(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_intact_record_signed_history(
    snap_compare: Any, audit_app: Callable[[], LiaisonApp], size: tuple[int, int]
) -> None:
    """An approved record's detail scrolled to its end: its signed history (who, when, what, which key)."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await unlock(pilot)
        await pilot.press("end", "enter")
        await settle(pilot)
        await pilot.press("end")
        await settle(pilot)

    assert snap_compare(audit_app(), terminal_size=size, run_before=run_before)
