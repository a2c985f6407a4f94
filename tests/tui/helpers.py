"""Helpers the TUI tests share: the fixture store's officers and clock, settling the app, unlocking, the palette, a counterpart.

Fixtures live in `conftest.py`; test modules import plain helpers from here, never from one another.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import os
import select
import struct
import subprocess
import sys
import termios
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from rich.console import Console
from textual.widgets import Static
from textual.worker import WorkerCancelled, WorkerFailed

from store.contacts import add_contact, identity_card
from store.service import Session, Vault
from tui.modals.prompt import PromptModal

ScreenType = TypeVar("ScreenType")

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
PASSPHRASE = "demo"
OFFICERS = {"demo": "demo", "kestrel": "kestrel-pass", "heron": "heron-pass"}
SEARCH_CANARY = "Saffron"


def static_text(app: Any, selector: str, width: int = 200) -> str:
    """What a `Static` on the current screen holds, drawn as plain text `width` columns wide (any Rich renderable:
    a `Text`, or a `Group` of texts and grids)."""
    console = Console(width=width, record=True, file=io.StringIO())
    console.print(app.screen.query_one(selector, Static).content)
    return console.export_text().rstrip("\n")


def fixed_clock() -> datetime:
    """The clock of the app under test."""
    return NOW


@dataclass
class Counterpart:
    """The TR-MOI side: its session, and both identity cards written beside the stores."""

    session: Session
    vault: Vault
    tr_card: Path
    pk_card: Path
    root: Path

    def close(self) -> None:
        self.session.lock()
        self.vault.close()


def make_counterpart(root: Path, pk: Session) -> Counterpart:
    """A TR-MOI store (single officer, four-eyes off) that knows PK-MOI's card; both cards written to `root`."""
    vault = Vault.create(root / "tr.db", "TR-MOI", "elif", "elif-pass", four_eyes=False, kdf_profile="minimum")
    tr = vault.unlock("elif", "elif-pass")
    tr_card, pk_card = root / "tr.card", root / "pk.card"
    tr_card.write_bytes(identity_card(tr))
    pk_card.write_bytes(identity_card(pk))
    add_contact(tr, pk_card)
    return Counterpart(tr, vault, tr_card, pk_card, root)


def waiting(app: Any, worker: Any) -> bool:
    """True for a worker that needs no waiting: a directory tree's loader, or a flow waiting on the prompt shown."""
    if worker.name == "_loader":
        return True
    return str(worker.group).endswith("-flow") and isinstance(app.screen, PromptModal)


async def settle(pilot: Any) -> None:
    """Wait until every worker chain (unlock → counts → pages …) has finished and the screen has caught up.

    Workers that are `waiting` (a tree's loader, a flow asking a question) are not awaited.

    A flow is never awaited itself (it ends only when its question is answered): the loop looks again until it
    is waiting on a prompt or done.
    """
    app = pilot.app
    for _ in range(200):
        await pilot.pause()
        busy = [w for w in app.workers if w.is_running and not waiting(app, w)]
        if not busy:
            await pilot.pause()
            return
        for worker in busy:
            if str(worker.group).endswith("-flow"):
                await pilot.pause(0.01)
                continue
            with contextlib.suppress(WorkerCancelled, WorkerFailed):
                await worker.wait()
    raise AssertionError("workers did not settle")


async def palette(pilot: Any, command: str) -> None:
    """ctrl+p, type the command, enter."""
    await pilot.press("ctrl+p")
    await pilot.press(*command)
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)


async def type_text(pilot: Any, text: str) -> None:
    """Type `text` one key at a time."""
    await pilot.press(*text)


async def unlock(pilot: Any, passphrase: str = PASSPHRASE) -> None:
    """Type the passphrase on the unlock screen, press enter and wait for the result."""
    await settle(pilot)
    pilot.app.screen.query_one("#passphrase").focus()
    await pilot.press(*passphrase, "enter")
    await settle(pilot)


async def open_screen(pilot: Any, screen: ScreenType) -> ScreenType:
    """Push `screen`, wait until it has loaded what it shows, and return it (it is on top)."""
    await pilot.app.push_screen(screen)
    await settle(pilot)
    assert pilot.app.screen is screen
    return screen


class PtyApp:
    """The real `liaison` on `store`, in its own session, a pseudo-terminal of `size` as stdin, stdout and stderr.

    `seen` holds every byte the app wrote to the terminal so far.
    """

    def __init__(self, store: Path, *, size: tuple[int, int] = (80, 24), officer: str = "demo") -> None:
        columns, rows = size
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        env = {
            **os.environ,
            "TERM": "xterm-256color",
            "COLUMNS": str(columns),
            "LINES": str(rows),
            "LIAISON_KDF_PROFILE": "minimum",
            "LIAISON_POLL_SECONDS": "3600",
        }
        env.pop("LIAISON_PASSPHRASE", None)
        self.process = subprocess.Popen(
            [str(Path(sys.executable).with_name("liaison")), "--store", str(store), "--officer", officer],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            start_new_session=True,
        )
        os.close(slave)
        self.seen = bytearray()

    def _read(self, wait: float) -> bool:
        """Read what the app wrote within `wait` seconds; False once the terminal has nothing more to give."""
        ready, _, _ = select.select([self.master], [], [], wait)
        if not ready:
            return True
        try:
            chunk = os.read(self.master, 65536)
        except OSError:
            chunk = b""
        self.seen.extend(chunk)
        return bool(chunk)

    def wait_for(self, marker: bytes, timeout: float = 60.0) -> None:
        """Read the terminal until `marker` was drawn (fails on timeout, or if the app ends first)."""
        deadline = time.monotonic() + timeout
        while marker not in self.seen:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{marker!r} never reached the terminal; last bytes {bytes(self.seen[-300:])!r}")
            if not self._read(min(left, 0.5)):
                raise AssertionError(f"the app ended before {marker!r} reached the terminal")

    def type(self, text: str | bytes) -> None:
        os.write(self.master, text.encode() if isinstance(text, str) else text)

    def unlock(self, passphrase: str = PASSPHRASE) -> None:
        """Type the passphrase on the unlock screen and wait for the browser."""
        self.wait_for(b"Passphrase")
        self.type(passphrase + "\r")
        self.wait_for(b"records in the store")

    def drain_until_exit(self, timeout: float = 30.0) -> int | None:
        """Keep reading (a full terminal would block the app's last writes) until the app exits: its status, or None."""
        deadline = time.monotonic() + timeout
        while self.process.poll() is None and time.monotonic() < deadline:
            self._read(0.1)
        try:
            return self.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            return None

    def close(self) -> None:
        """End the app if it still runs, and close the terminal."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        with contextlib.suppress(OSError):
            os.close(self.master)
