"""Shared fixtures: a hermetic environment, fast key derivation, stores with officers, Ctrl-C injection.

The helpers themselves (running the CLI, fingerprints) live in `liaison_helpers.py` beside this file.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.liaison_helpers import LIAISON_ENV, PASSPHRASES, TEAM, LiaisonStore, init_store, store_fingerprint


@pytest.fixture
def fast_kdf(monkeypatch: pytest.MonkeyPatch) -> None:
    """Key slots at OWASP's minimum Argon2id cost, so each unlock takes milliseconds, not a second."""
    monkeypatch.setenv("LIAISON_KDF_PROFILE", "minimum")


@pytest.fixture(autouse=True)
def _hermetic_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory, fast_kdf: None) -> None:
    """No LIAISON_* value of the developer's shell, and a private user data dir, in any test."""
    for name in LIAISON_ENV:
        if name != "LIAISON_KDF_PROFILE":
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("xdg-data")))


@pytest.fixture
def store(tmp_path: Path) -> LiaisonStore:
    """A fresh store for PK-MOI with one officer, alice (admin)."""
    return init_store(tmp_path / "store" / "pk-moi.db")


@pytest.fixture
def team_store(store: LiaisonStore) -> LiaisonStore:
    """A store with alice (admin), bob (reviewer) and carol (officer)."""
    for name, role in TEAM.items():
        if name != "alice":
            store.ok("officers", "add", name, "--role", role, env={"LIAISON_NEW_PASSPHRASE": PASSPHRASES[name]})
    return store


@pytest.fixture
def fingerprint() -> Callable[[Path | str], dict[str, tuple[int, str]]]:
    """The `store_fingerprint` helper: row counts and a hash of all rows of every table."""
    return store_fingerprint


@pytest.fixture
def interrupt_before_commit() -> Callable[[], contextlib.AbstractContextManager[None]]:
    """A context manager under which every write raises KeyboardInterrupt just before COMMIT (Ctrl-C at the worst moment)."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    @contextlib.contextmanager
    def armed() -> Iterator[None]:
        def on_commit(conn: Any) -> None:
            raise KeyboardInterrupt

        event.listen(Engine, "commit", on_commit)
        try:
            yield
        finally:
            event.remove(Engine, "commit", on_commit)

    return armed
