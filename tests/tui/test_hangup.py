"""The app leaves promptly, keys dropped, when its terminal goes away: SIGHUP, SIGTERM, or a hang-up with no signal.

The subprocess tests run the real `liaison` under a pseudo-terminal, unlock it by typing, then hang up.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.tui.helpers import PASSPHRASE, unlock
from tui.app import HANGUP_EXIT

#: How long the app may take to leave once the terminal is gone (it checks every second).
EXIT_WITHIN_SECONDS = 5.0
#: How long the app may take to start and draw (a cold interpreter on a busy 2-core machine).
START_WITHIN_SECONDS = 60.0


class PtyApp:
    """`liaison` on the store, in its own session, with a pseudo-terminal of 80×24 as stdin, stdout and stderr."""

    def __init__(self, store: Path) -> None:
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        env = {**os.environ, "TERM": "xterm-256color", "LIAISON_KDF_PROFILE": "minimum"}
        env.pop("LIAISON_PASSPHRASE", None)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tui.cli.main", "--store", str(store), "--officer", "demo"],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            start_new_session=True,
        )
        os.close(slave)
        self.seen = b""

    def wait_for(self, text: bytes, timeout: float = START_WITHIN_SECONDS) -> None:
        """Read the screen's bytes until `text` was drawn."""
        deadline = time.monotonic() + timeout
        while text not in self.seen:
            left = deadline - time.monotonic()
            assert left > 0, f"{text!r} never drawn; the app wrote {self.seen[-400:]!r}"
            ready, _, _ = select.select([self.master], [], [], min(left, 0.5))
            if ready:
                try:
                    self.seen += os.read(self.master, 65536)
                except OSError:
                    break
            assert self.process.poll() is None, f"the app left early: {self.seen[-400:]!r}"

    def type(self, text: str) -> None:
        os.write(self.master, text.encode())

    def unlocked(self) -> PtyApp:
        """Type the passphrase on the unlock screen and wait for the browser."""
        self.wait_for(b"Passphrase")
        self.type(PASSPHRASE + "\r")
        self.wait_for(b"records in the store")
        return self

    def exit_status(self, timeout: float = EXIT_WITHIN_SECONDS) -> int | None:
        """The app's exit status, or None if it is still running after `timeout` seconds."""
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        with contextlib.suppress(OSError):
            os.close(self.master)


@pytest.fixture
def pty_app(store_path: Path) -> Iterator[PtyApp]:
    app = PtyApp(store_path)
    yield app
    app.close()


@pytest.mark.parametrize("signum", [signal.SIGHUP, signal.SIGTERM])
def test_a_hangup_signal_ends_the_app(pty_app: PtyApp, signum: signal.Signals) -> None:
    """SIGHUP (the terminal closed) or SIGTERM while unlocked: the app leaves within seconds with 128 + SIGHUP."""
    pty_app.unlocked()
    pty_app.process.send_signal(signum)
    assert pty_app.exit_status() == HANGUP_EXIT


def test_a_terminal_gone_without_a_signal_ends_the_app(pty_app: PtyApp) -> None:
    """The terminal closes but SIGHUP goes elsewhere (the session leader is `make`): the app still leaves.

    Before, its input thread read end-of-file in a loop (a core at 65%) and the keys stayed in memory.
    """
    pty_app.unlocked()
    os.close(pty_app.master)
    status = pty_app.exit_status()
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
