"""App-wide behaviour: changes from another process, help, the command palette, worker failures, settings, run_app."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.command import CommandPalette
from textual.widgets import Static

from store.service import Session
from tests.tui.helpers import OFFICERS, settle, unlock
from tui.app import LiaisonApp, run_app
from tui.commands import RecordsCommands, ReviewCommands, VaultCommands
from tui.config import Settings, SettingsError
from tui.modals.help import HelpModal
from tui.screens.browser import BrowserScreen
from tui.screens.review import ReviewScreen
from tui.widgets.record_table import RecordTable

ADD_FROM_ANOTHER_PROCESS = """
import sys
from store.service import Draft, Vault
vault = Vault.open(sys.argv[1])
session = vault.unlock("heron", sys.argv[2])
print(session.add_record(Draft(domain="narcotics", tlp="GREEN", title="Added by another process")))
session.lock()
vault.close()
"""


async def test_a_record_added_elsewhere_shows_up(make_app: Callable[..., LiaisonApp], store_path: Path) -> None:
    """Another process adds a record; the next change-counter poll refreshes counts and rows without a restart."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await unlock(pilot)
        table = app.screen.query_one(RecordTable)
        before = table.total
        assert before is not None
        app.poll_changes()  # the first reading is the baseline
        await settle(pilot)
        done = subprocess.run(
            [sys.executable, "-c", ADD_FROM_ANOTHER_PROCESS, str(store_path), OFFICERS["heron"]],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        )
        reference = done.stdout.strip()
        app.poll_changes()  # what the interval timer calls every `poll_seconds`
        await settle(pilot)
        assert table.total == before + 1
        assert table.highlighted_row is not None
        assert table.highlighted_row.reference == reference
        assert table.highlighted_row.title == "Added by another process"


async def test_a_record_added_right_after_unlock_shows_up_on_the_first_poll(
    make_app: Callable[..., LiaisonApp], store_path: Path
) -> None:
    """The baseline is read with the first page, so a record added before the first poll is not taken as the baseline."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await unlock(pilot)
        table = app.screen.query_one(RecordTable)
        before = table.total
        assert before is not None
        subprocess.run(
            [sys.executable, "-c", ADD_FROM_ANOTHER_PROCESS, str(store_path), OFFICERS["heron"]],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        )
        app.poll_changes()  # the very first poll after unlock
        await settle(pilot)
        assert table.total == before + 1


async def test_help_lists_every_key_of_the_screen(make_app: Callable[..., LiaisonApp]) -> None:
    """`?` on the browser lists its keys, the table's and the app's, each with a description."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await unlock(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, HelpModal)
        keys = {k.description: k.key for k in modal.keys}
        for description in (
            "Search",
            "Filters",
            "New",
            "Review",
            "Clear filters",
            "Open",
            "Lock",
            "Help",
            "Commands",
            "Page down",
        ):
            assert description in keys, description
        assert keys["Lock"] == "^l"
        assert all(k.tooltip for k in modal.keys)
        await pilot.press("escape")
        assert isinstance(app.screen, BrowserScreen)


async def test_every_binding_has_description_tooltip_and_id() -> None:
    """House rule: each of our bindings can be remapped by id and explained in the help and footer."""
    from textual.binding import Binding

    from tui.modals import comment, compose, confirm, help
    from tui.navigation import Navigation
    from tui.screens import browser, detail, review, unlock
    from tui.widgets import facet_sidebar, filter_chips, queue_table, record_table, record_view

    classes: list[Any] = [
        Navigation,  # the app's global keys (LiaisonApp inherits them)
        browser.BrowserScreen,
        detail.DetailScreen,
        review.ReviewScreen,
        unlock.UnlockScreen,
        compose.ComposeModal,
        comment.CommentModal,
        confirm.ConfirmModal,
        help.HelpModal,
        facet_sidebar.FacetSidebar,
        filter_chips.Chip,
        record_table.RecordTable,
        record_view.RecordView,
        queue_table.QueueTable,
    ]
    for cls in classes:
        for binding in cls.__dict__["BINDINGS"]:
            assert isinstance(binding, Binding)
            assert binding.description and binding.tooltip and binding.id, (cls.__name__, binding.key)


async def test_help_on_the_review_queue_lists_only_our_keys(make_app: Callable[..., LiaisonApp]) -> None:
    """The queue's list and the record pane bring their own described keys, not a widget's internal ones."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await unlock(pilot)
        await pilot.press("v")
        await settle(pilot)
        await pilot.press("question_mark")
        modal = app.screen
        assert isinstance(modal, HelpModal)
        assert all(k.tooltip for k in modal.keys)
        assert {"Approve", "Return", "Next", "Previous", "Open", "Down", "Up"} <= {k.description for k in modal.keys}
        assert not [k for k in modal.keys if "left" in k.description.lower() or "right" in k.description.lower()]


async def test_palette_titles_read_area_action(make_app: Callable[..., LiaisonApp]) -> None:
    """Every discoverable command is titled `area: Action`, and the ones the issue names are there."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await unlock(pilot)
        await pilot.press("v")
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen)
        titles: list[str] = []
        for provider_class in (RecordsCommands, ReviewCommands, VaultCommands):
            provider = provider_class(app.screen)
            titles.extend(command.title for command in provider.commands())
        assert {
            "records: New",
            "review: Open queue",
            "review: Approve",
            "review: Return",
            "vault: Lock",
            "app: Quit",
        } <= set(titles)
        assert all(": " in title and title.split(": ")[0].isalpha() for title in titles)


async def test_palette_opens_the_review_queue(make_app: Callable[..., LiaisonApp]) -> None:
    """ctrl+p, "review: open", enter."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await unlock(pilot)
        await pilot.press("ctrl+p")
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"review: open")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen)


async def test_a_failing_worker_is_reported_not_fatal(
    make_app: Callable[..., LiaisonApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unexpected exception while counting becomes an error notification; the app keeps running."""
    app = make_app()

    def broken(self: Session, *args: Any, **kwargs: Any) -> int:
        raise RuntimeError("disk on fire")

    async with app.run_test(size=(120, 40)) as pilot:
        await unlock(pilot)
        monkeypatch.setattr(Session, "count_records", broken)
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert app.is_running
        messages = [n.message for n in app._notifications]
        assert any("RuntimeError: disk on fire" in m for m in messages)
        monkeypatch.undo()
        await pilot.press("j", "ctrl+r")
        await settle(pilot)
        assert app.screen.query_one(RecordTable).total is not None


async def test_query_refusal_shows_in_the_result_line(make_app: Callable[..., LiaisonApp]) -> None:
    """The store's refusal of a search is shown where the count would be."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await unlock(pilot)
        await pilot.press("slash", "!", "enter")
        await settle(pilot)
        line = str(app.screen.query_one("#result-line", Static).content)
        assert line.startswith("nothing to search for")


def test_settings_from_env() -> None:
    """Idle minutes and poll seconds come from the environment; nonsense is refused with the variable's name."""
    assert Settings.from_env({}).idle_lock_minutes == 10.0
    assert Settings.from_env({"LIAISON_IDLE_LOCK_MINUTES": "2.5", "LIAISON_POLL_SECONDS": "1"}) == Settings(
        idle_lock_minutes=2.5, poll_seconds=1.0
    )
    assert Settings.from_env({"LIAISON_IDLE_LOCK_MINUTES": "0"}).idle_lock_minutes == 0
    with pytest.raises(SettingsError, match="LIAISON_IDLE_LOCK_MINUTES must be a number, got 'soon'"):
        Settings.from_env({"LIAISON_IDLE_LOCK_MINUTES": "soon"})
    with pytest.raises(SettingsError, match="LIAISON_POLL_SECONDS must be between"):
        Settings.from_env({"LIAISON_POLL_SECONDS": "0"})


def test_unlock_delay_schedule() -> None:
    """No wait after the first failure, then 1, 2, 4 … seconds up to the cap."""
    settings = Settings(unlock_backoff_cap_seconds=30)
    assert [settings.unlock_delay(n) for n in range(1, 9)] == [0, 1, 2, 4, 8, 16, 30, 30]


def test_run_app_refuses_a_missing_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """No store: one `error:` line and exit code 1, no traceback, nothing created."""
    missing = tmp_path / "nope.db"
    assert run_app(missing, None) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: no store at") and err.count("\n") == 1
    assert not missing.exists()


def test_run_app_refuses_bad_settings(
    store_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bad LIAISON_IDLE_LOCK_MINUTES is a usage error (exit 2)."""
    monkeypatch.setenv("LIAISON_IDLE_LOCK_MINUTES", "-1")
    assert run_app(store_path, None) == 2
    assert "LIAISON_IDLE_LOCK_MINUTES must be between" in capsys.readouterr().err


async def test_a_new_bundle_in_the_inbox_is_announced_with_one_key_to_import(
    make_app: Callable[..., LiaisonApp], tmp_path: Path
) -> None:
    """With an inbox folder set, a file that appears there is announced; `i` opens the import screen on the folder."""
    from tui.screens.import_bundle import ImportScreen

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "old.bundle").write_bytes(b"already here")
    app = make_app(inbox=str(inbox))
    async with app.run_test(size=(120, 40)) as pilot:
        await unlock(pilot)
        app.poll_changes()
        await settle(pilot)
        assert app.inbox_arrival is None  # what was there before is not news
        (inbox / "from-tr-moi.bundle").write_bytes(b"new")
        app.poll_changes()
        await settle(pilot)
        assert app.inbox_arrival == "from-tr-moi.bundle"
        active = app.screen.active_bindings
        assert "open_inbox" in {b.binding.action for b in active.values()}
        await pilot.press("i")
        await pilot.pause()
        assert isinstance(app.screen, ImportScreen)
        assert app.screen.start == inbox
