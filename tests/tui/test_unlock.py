"""Unlocking: wrong then right passphrase, the growing wait, the officer chooser, a passphrase that cannot be copied."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.timer import Timer
from textual.widgets import Input, OptionList, Select, Static

from tests.tui.helpers import OFFICERS, settle, unlock
from tui.app import LiaisonApp
from tui.screens.browser import BrowserScreen
from tui.screens.unlock import UnlockScreen
from tui.widgets.passphrase_input import PassphraseInput


def error_text(app: LiaisonApp) -> str:
    return str(app.screen.query_one("#unlock-error", Static).content)


async def test_wrong_then_right_passphrase(make_app: Callable[..., LiaisonApp]) -> None:
    """A wrong passphrase shows the store's reason inline and clears the field; the right one opens the browser."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await unlock(pilot, "not-the-passphrase")
        assert isinstance(app.screen, UnlockScreen)
        assert app.session is None
        assert error_text(app) == "wrong passphrase for officer demo"
        assert app.screen.query_one("#passphrase", Input).value == ""
        await unlock(pilot, "demo")
        assert isinstance(app.screen, BrowserScreen)
        assert app.session is not None and app.session.actor.name == "demo"


async def test_wait_grows_after_repeated_failures(
    make_app: Callable[..., LiaisonApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    """From the second wrong passphrase on, the field is disabled for 1 s, then 2 s, then 4 s.

    The wait is a real timer: on a loaded machine a second can pass between two steps of the test, the field
    would open again on its own and "ignored while waiting" would unlock. So the screen's timers are
    recorded instead of started, and the test ends each wait by calling the callback the screen asked for.
    """
    app = make_app(unlock_backoff_cap_seconds=30.0)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, UnlockScreen)
        timers: list[tuple[float, Callable[[], object]]] = []

        def record_timer(delay: float, callback: Callable[[], object], *args: Any, **kwargs: Any) -> Timer:
            timers.append((delay, callback))
            return Timer(screen, delay, callback=callback)  # never started: it cannot fire

        monkeypatch.setattr(screen, "set_timer", record_timer)

        def end_wait() -> None:
            _delay, callback = timers.pop()
            assert not timers
            callback()

        await unlock(pilot, "wrong-1")
        assert screen.retry_in == 0
        assert timers == []
        await unlock(pilot, "wrong-2")
        field = screen.query_one("#passphrase", Input)
        assert field.disabled
        assert screen.retry_in == 1.0
        assert [delay for delay, _ in timers] == [1.0]
        assert error_text(app).endswith("wait 1 s before trying again")
        await pilot.press(*"demo", "enter")  # ignored while waiting
        await settle(pilot)
        assert app.session is None
        assert field.disabled
        end_wait()
        await settle(pilot)
        assert not field.disabled and screen.retry_in == 0
        await unlock(pilot, "wrong-3")
        assert screen.retry_in == 2.0 and field.disabled
        assert [delay for delay, _ in timers] == [2.0]
        end_wait()
        await unlock(pilot, "wrong-4")
        assert screen.retry_in == 4.0
        assert [delay for delay, _ in timers] == [4.0]
        end_wait()
        await unlock(pilot, "demo")
        assert isinstance(app.screen, BrowserScreen)
        assert app.unlock_failures == 0


async def test_officer_chooser_unlocks_the_chosen_officer(make_app: Callable[..., LiaisonApp]) -> None:
    """With several officers the chooser is enabled, defaults to the admin, and unlocks whoever is chosen."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        select = app.screen.query_one("#officer", Select)
        assert not select.disabled
        assert select.value == "demo"
        select.value = "heron"
        await settle(pilot)
        await unlock(pilot, OFFICERS["heron"])
        assert app.session is not None and app.session.actor.name == "heron"


async def test_preferred_officer_is_preselected(make_app: Callable[..., LiaisonApp]) -> None:
    """The officer named on the command line is chosen at start."""
    app = make_app(officer="kestrel")
    async with app.run_test(size=(120, 40)) as pilot:
        await unlock(pilot, OFFICERS["kestrel"])
        assert app.session is not None and app.session.actor.name == "kestrel"


async def test_passphrase_cannot_be_copied_or_cut(make_app: Callable[..., LiaisonApp]) -> None:
    """Select-all then copy or cut leaves the clipboard empty and the field intact."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        field = app.screen.query_one("#passphrase", PassphraseInput)
        field.focus()
        await pilot.press(*"secret-words")
        field.action_select_all()
        await pilot.press("ctrl+c")
        await pilot.press("ctrl+x")
        await pilot.pause()
        assert app.clipboard == ""
        assert field.value == "secret-words"
        assert field.password
        assert not field.allow_select


async def test_choosing_an_officer_with_ctrl_o_then_enter_unlocks(make_app: Callable[..., LiaisonApp]) -> None:
    """ctrl+o opens the list, enter picks an officer, and the next enter (after the passphrase) unlocks."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+o")
        await settle(pilot)
        select = app.screen.query_one("#officer", Select)
        assert select.expanded
        await pilot.press("enter")  # keep the highlighted officer (the admin)
        await settle(pilot)
        assert not select.expanded
        assert app.screen.query_one("#passphrase").has_focus
        await pilot.press(*OFFICERS["demo"], "enter")
        await settle(pilot)
        assert isinstance(app.screen, BrowserScreen)


async def test_no_loading_entry_is_left_in_the_officer_list(make_app: Callable[..., LiaisonApp]) -> None:
    """Once the officers are known the chooser lists exactly them: no greyed `loading officers…` placeholder."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert not app.screen.query("#officer-loading")
        await pilot.press("ctrl+o")
        await settle(pilot)
        listed = app.screen.query_one("#officer", Select).query_one(OptionList)
        prompts = [str(listed.get_option_at_index(i).prompt) for i in range(listed.option_count)]
        assert prompts == ["demo (admin)", "heron (officer)", "kestrel (reviewer)"]


async def test_demo_store_names_its_officers_and_passphrase(
    make_app: Callable[..., LiaisonApp], demo_path: Path
) -> None:
    """The unlock screen of a demo store lists the demo officers and says their passphrase."""
    app = make_app(path=demo_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        notice = str(app.screen.query_one("#unlock-notice", Static).content)
        assert "Demo store" in notice and "'demo'" in notice and "demo (admin)" in notice
