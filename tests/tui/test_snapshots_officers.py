"""SVG snapshots of the officers and keys screen (issue 12) at 80×24 and 200×60, on the fixed-key store
(`tests.tui.fixed_keys.build_audit_store`, fixed clock: the key ages drawn are the same on every run)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.tui.helpers import settle, unlock
from tui.app import LiaisonApp

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((200, 60), id="200x60")]


@pytest.mark.parametrize("size", SIZES)
def test_officers_screen(snap_compare: Any, audit_app: Callable[[], LiaisonApp], size: tuple[int, int]) -> None:
    """O as the admin: the data key's and master secret's versions and ages against the policy, the ministry
    identity's age, every officer with role, date added and signing key age, the admin marked `you`, the keys
    a x R in the footer."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await unlock(pilot)
        await pilot.press("O")
        await settle(pilot)

    assert snap_compare(audit_app(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_officers_after_rotation(snap_compare: Any, audit_app: Callable[[], LiaisonApp], size: tuple[int, int]) -> None:
    """R then y: the bar full, the status line says the new data key version, what was re-encrypted and retired."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await unlock(pilot)
        await pilot.press("O")
        await settle(pilot)
        await pilot.press("R")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)

    assert snap_compare(audit_app(), terminal_size=size, run_before=run_before)


def test_remove_question_80x24(snap_compare: Any, audit_app: Callable[[], LiaisonApp]) -> None:
    """x on heron: what a removal does and cannot undo, whole inside 80×24, with its keys."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await unlock(pilot)
        await pilot.press("O")
        await settle(pilot)
        await pilot.press("down", "x")
        await settle(pilot)

    assert snap_compare(audit_app(), terminal_size=(80, 24), run_before=run_before)


def test_add_officer_form_80x24(snap_compare: Any, audit_app: Callable[[], LiaisonApp]) -> None:
    """a: name, role, the passphrase twice (masked); two different passphrases refused inline."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await unlock(pilot)
        await pilot.press("O")
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        await pilot.press(*"farah", "enter", "tab", *"first one", "enter", *"second", "enter")
        await settle(pilot)

    assert snap_compare(audit_app(), terminal_size=(80, 24), run_before=run_before)
