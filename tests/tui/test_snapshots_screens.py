"""SVG snapshots of the review, compose, help, export, import and contacts screens at 80×24 and 120×40.

On the fixture store (fixed clock, no cursor blink, store opened by a relative path so the paths drawn are
the same on every machine). Contacts and import run on a PK-MOI store that knows TR-MOI's card, both built from
fixed key material (`tests/tui/fixed_keys.py`), so the fingerprints drawn are the same on every run.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.tui.fixed_keys import build_contacts_stores
from tests.tui.helpers import OFFICERS, settle, unlock
from tui.app import LiaisonApp

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]


@pytest.mark.parametrize("size", SIZES)
def test_compose_screen(snap_compare: Any, snap_app: Callable[..., LiaisonApp], size: tuple[int, int]) -> None:
    """Compose: a half-filled new record with a recipient ticked; TLP selector and the summary's right edge inside the box."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await unlock(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"Dhow sightings off Jiwani", "tab", "space", "tab", *"Three dhows seen at night.")
        await settle(pilot)

    assert snap_compare(snap_app(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_review_screen(snap_compare: Any, snap_app: Callable[..., LiaisonApp], size: tuple[int, int]) -> None:
    """Review queue as the admin: own records marked `you`, the second record readable beside (wide) or under (narrow) the list."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await unlock(pilot, OFFICERS["demo"])
        await pilot.press("v")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)

    assert snap_compare(snap_app("demo"), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_review_approve_question(snap_compare: Any, snap_app: Callable[..., LiaisonApp], size: tuple[int, int]) -> None:
    """Approve asks first: the record's reference and title, an optional comment field, the keys."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await unlock(pilot, OFFICERS["kestrel"])
        await pilot.press("v")
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)

    assert snap_compare(snap_app("kestrel"), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_help_screen(snap_compare: Any, snap_app: Callable[..., LiaisonApp], size: tuple[int, int]) -> None:
    """Help over the review queue: the whole box inside the terminal, every key with what it does."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await unlock(pilot)
        await pilot.press("v")
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)

    assert snap_compare(snap_app(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_export_screen(snap_compare: Any, snap_app: Callable[..., LiaisonApp], size: tuple[int, int]) -> None:
    """Export: the form (one line per field), the summary and the preview table both visible."""

    async def run_before(pilot: Pilot[Any]) -> None:
        from tui.screens.export import ExportScreen

        await unlock(pilot)
        await pilot.app.push_screen(ExportScreen())
        await settle(pilot)

    assert snap_compare(snap_app(), terminal_size=size, run_before=run_before)


@pytest.fixture(scope="session")
def contacts_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """PK-MOI store and TR-MOI card from fixed keys, built once per session."""
    root = tmp_path_factory.mktemp("fixed-keys")
    build_contacts_stores(root)
    return root


@pytest.fixture
def keyed_app(
    make_app: Callable[..., LiaisonApp], contacts_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[[], LiaisonApp]:
    """The app on a private copy of the fixed-key store, opened by the relative path `desk/pk.db` (`desk` holds only it and TR-MOI's card)."""
    desk = tmp_path / "desk"
    desk.mkdir()
    for name in ("pk.db", "tr.card"):
        shutil.copyfile(contacts_template / name, desk / name)
    monkeypatch.chdir(tmp_path)
    return lambda: make_app(path=Path("desk") / "pk.db")


@pytest.mark.parametrize("size", SIZES)
def test_contacts_screen(snap_compare: Any, keyed_app: Callable[[], LiaisonApp], size: tuple[int, int]) -> None:
    """Contacts: this ministry's fingerprint in groups, TR-MOI's row with its fingerprint never cut."""

    async def run_before(pilot: Pilot[Any]) -> None:
        from tui.screens.contacts import ContactsScreen

        await unlock(pilot)
        await pilot.app.push_screen(ContactsScreen())
        await settle(pilot)

    assert snap_compare(keyed_app(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_import_screen(snap_compare: Any, keyed_app: Callable[[], LiaisonApp], size: tuple[int, int]) -> None:
    """Import: the path field, the file tree of the store's (relative) directory, the hint where the preview goes."""

    async def run_before(pilot: Pilot[Any]) -> None:
        from tui.screens.import_bundle import ImportScreen

        await unlock(pilot)
        await pilot.app.push_screen(ImportScreen())
        await settle(pilot)

    assert snap_compare(keyed_app(), terminal_size=size, run_before=run_before)
