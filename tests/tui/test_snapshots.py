"""SVG snapshots at 120×40 of the unlock, browser and detail screens (review, compose, help: `test_snapshots_screens.py`), on the fixture store (fixed clock, no cursor blink, relative store path)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.tui.helpers import settle, unlock
from tui.app import LiaisonApp

SIZE = (120, 40)


def test_unlock_screen(snap_compare: Any, snap_app: Callable[..., LiaisonApp]) -> None:
    """Unlock: store line, officer chooser on the admin, empty masked passphrase field, footer keys."""
    assert snap_compare(snap_app(), terminal_size=SIZE, run_before=settle)


def test_unlock_wrong_passphrase(snap_compare: Any, snap_app: Callable[..., LiaisonApp]) -> None:
    """Unlock after a wrong passphrase: the store's reason inline, the field emptied."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await unlock(pilot, "not-it")

    assert snap_compare(snap_app(), terminal_size=SIZE, run_before=run_before)


def test_records_browser(snap_compare: Any, snap_app: Callable[..., LiaisonApp]) -> None:
    """Browser: facet counts, no chips, header row, coloured TLP labels, cursor on the newest record, preview line."""
    assert snap_compare(snap_app(), terminal_size=SIZE, run_before=unlock)


def test_records_browser_demo_data(
    snap_compare: Any, make_app: Callable[..., LiaisonApp], demo_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Browser on the demo store (`liaison demo`): 300 records, every domain, TLP and status, both origins."""
    monkeypatch.chdir(demo_path.parent)
    assert snap_compare(make_app("demo", path=Path(demo_path.name)), terminal_size=SIZE, run_before=unlock)


def test_records_browser_filtered(snap_compare: Any, snap_app: Callable[..., LiaisonApp]) -> None:
    """Browser filtered on TLP RED and a search: two chips, marked facets, counts under the filters."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await unlock(pilot)
        sidebar: Any = pilot.app.screen.query_one("#facets")
        await pilot.press("f")
        sidebar.highlighted = sidebar.get_option_index("tlp:RED")
        await pilot.press("space", "slash", *"gwadar", "enter")
        await settle(pilot)

    assert snap_compare(snap_app(), terminal_size=SIZE, run_before=run_before)


def test_record_detail(snap_compare: Any, snap_app: Callable[..., LiaisonApp]) -> None:
    """Detail: reference, TLP label, status, title, facts, Markdown summary, source, ledger."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await unlock(pilot)
        await pilot.press("j", "j", "enter")
        await settle(pilot)

    assert snap_compare(snap_app(), terminal_size=SIZE, run_before=run_before)


def test_record_markup_title(
    snap_compare: Any, make_app: Callable[..., LiaisonApp], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A record titled `[see annex] [/x] [bold]x` (title and summary) shows those characters literally, in the detail
    (fixed keys: its signed history draws the key fingerprint)."""
    from tests.tui.fixed_keys import fixed_keyring, fixed_officer_keys
    from tests.tui.helpers import fixed_clock
    from tests.tui.hostile import build_hostile_store

    with fixed_keyring("hostile"), fixed_officer_keys("hostile"):
        build_hostile_store(tmp_path / "hostile.db", monkeypatch, clock=fixed_clock)
    monkeypatch.chdir(tmp_path)

    async def run_before(pilot: Pilot[Any]) -> None:
        await unlock(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)

    assert snap_compare(make_app("demo", path=Path("hostile.db")), terminal_size=SIZE, run_before=run_before)


SMALL = (80, 24)


def test_unlock_screen_80x24(snap_compare: Any, snap_app: Callable[..., LiaisonApp]) -> None:
    """Unlock at 80×24: the whole box, the officer chooser and the passphrase field fit."""
    assert snap_compare(snap_app(), terminal_size=SMALL, run_before=settle)


def test_records_browser_80x24(snap_compare: Any, snap_app: Callable[..., LiaisonApp]) -> None:
    """Browser at 80×24: sidebar hidden, title column readable, short statuses uncut, footer shows ^l Lock and ? Help."""
    assert snap_compare(snap_app(), terminal_size=SMALL, run_before=unlock)


def test_records_browser_no_sidebar(snap_compare: Any, snap_app: Callable[..., LiaisonApp]) -> None:
    """Browser at 120×40 with the sidebar hidden (`b`): the title column takes the room, domain shown."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await unlock(pilot)
        await pilot.press("b")
        await settle(pilot)

    assert snap_compare(snap_app(), terminal_size=SIZE, run_before=run_before)


def test_record_detail_80x24(snap_compare: Any, snap_app: Callable[..., LiaisonApp]) -> None:
    """Detail at 80×24: header, title and facts readable; footer keys of the record's state."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await unlock(pilot)
        await pilot.press("j", "j", "enter")
        await settle(pilot)

    assert snap_compare(snap_app(), terminal_size=SMALL, run_before=run_before)
