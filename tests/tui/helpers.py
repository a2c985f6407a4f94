"""Helpers the TUI tests share: the fixture store's officers and clock, settling the app, unlocking, the palette, a counterpart.

Fixtures live in `conftest.py`; test modules import plain helpers from here, never from one another.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from textual.worker import WorkerCancelled, WorkerFailed

from store.contacts import add_contact, identity_card
from store.service import Session, Vault
from tui.modals.prompt import PromptModal

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
PASSPHRASE = "demo"
OFFICERS = {"demo": "demo", "kestrel": "kestrel-pass", "heron": "heron-pass"}
SEARCH_CANARY = "Saffron"


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
