"""The app leaves promptly, keys dropped, when its terminal goes away: SIGHUP, SIGTERM, or a hang-up with no signal.

The subprocess tests run the real `liaison` under a pseudo-terminal, unlock it by typing, then hang up.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.tui.helpers import PtyApp, unlock
from tui.app import HANGUP_EXIT

#: How long the app may take to leave once the terminal is gone (it checks every second).
EXIT_WITHIN_SECONDS = 5.0


@pytest.fixture
def pty_app(store_path: Path) -> Iterator[PtyApp]:
    app = PtyApp(store_path)
    yield app
    app.close()


def exit_status(app: PtyApp) -> int | None:
    """The app's exit status, or None if it still runs `EXIT_WITHIN_SECONDS` after the terminal went away."""
    try:
        return app.process.wait(EXIT_WITHIN_SECONDS)
    except subprocess.TimeoutExpired:
        return None


@pytest.mark.parametrize("signum", [signal.SIGHUP, signal.SIGTERM])
def test_a_hangup_signal_ends_the_app(pty_app: PtyApp, signum: signal.Signals) -> None:
    """SIGHUP (the terminal closed) or SIGTERM while unlocked: the app leaves within seconds with 128 + SIGHUP."""
    pty_app.unlock()
    pty_app.process.send_signal(signum)
    assert pty_app.drain_until_exit(EXIT_WITHIN_SECONDS) == HANGUP_EXIT


def test_a_terminal_gone_without_a_signal_ends_the_app(pty_app: PtyApp) -> None:
    """The terminal closes but SIGHUP goes elsewhere (the session leader is `make`): the app still leaves.

    Before, its input thread read end-of-file in a loop (a core at 65%) and the keys stayed in memory.
    """
    pty_app.unlock()
    os.close(pty_app.master)
    status = exit_status(pty_app)
    assert status is not None, "the app kept running after its terminal was gone"
    assert status == HANGUP_EXIT


async def test_hang_up_drops_the_keys_and_exits(make_app) -> None:  # type: ignore[no-untyped-def]
    """Threat 28: a hang-up locks the session (keys dropped) before anything else, then the app exits."""
    app = make_app("demo")
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        session = app.session
        assert session is not None
        app.hang_up()
        assert app.session is None
        assert session.keyring is None
    assert app.return_code == HANGUP_EXIT
