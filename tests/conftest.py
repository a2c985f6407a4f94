"""Shared fixtures: a hermetic environment, fast key derivation, stores with officers, Ctrl-C injection.

The helpers themselves (running the CLI, fingerprints) live in `liaison_helpers.py` beside this file.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from tests.liaison_helpers import (
    LIAISON_ENV,
    PASSPHRASES,
    TEAM,
    LiaisonStore,
    init_store,
    patched_env,
    store_fingerprint,
)

# Hypothesis profiles: `ci` (the default, so `make test` and CI run it) draws the same examples every run and keeps no
# example database, so the suite never passes or fails by chance; `HYPOTHESIS_PROFILE=dev` fuzzes afresh each run.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("dev", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def fast_kdf(monkeypatch: pytest.MonkeyPatch) -> None:
    """Key slots at OWASP's minimum Argon2id cost, so each unlock takes milliseconds, not a second."""
    monkeypatch.setenv("LIAISON_KDF_PROFILE", "minimum")


@pytest.fixture(scope="session", autouse=True)
def _session_state_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The workstation state dir (witnesses of each store's log) of session-scoped templates: never the
    developer's own; each test then gets its own (`_hermetic_env`)."""
    state = tmp_path_factory.mktemp("session-state")
    with patched_env({"LIAISON_STATE_DIR": str(state / "liaison"), "XDG_STATE_HOME": str(state / "xdg")}):
        yield


@pytest.fixture(autouse=True)
def _hermetic_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory, fast_kdf: None) -> None:
    """No LIAISON_* value of the developer's shell, a private user data dir and a private state dir (the
    workstation's witness of each store's log), in any test."""
    for name in LIAISON_ENV:
        if name != "LIAISON_KDF_PROFILE":
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("xdg-data")))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("xdg-state")))
    monkeypatch.setenv("LIAISON_STATE_DIR", str(tmp_path_factory.mktemp("state")))


@pytest.fixture(scope="session")
def _store_templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The fixture stores, made once through the CLI; each test gets its own copy of the file."""
    root = tmp_path_factory.mktemp("templates")
    hermetic = {name: None for name in LIAISON_ENV} | {
        "LIAISON_KDF_PROFILE": "minimum",
        "LIAISON_STATE_DIR": str(root / "state"),  # the templates' witnesses; each test has its own state dir
    }
    with patched_env(hermetic):
        solo = init_store(root / "solo" / "pk-moi.db")
        team = init_store(root / "team" / "pk-moi.db")
        for name, role in TEAM.items():
            if name != "alice":
                team.ok("officers", "add", name, "--role", role, env={"LIAISON_NEW_PASSPHRASE": PASSPHRASES[name]})
    for template in (solo, team):
        assert sorted(p.name for p in template.path.parent.iterdir()) == ["pk-moi.db"], (
            "a template must be checkpointed"
        )
    return {"solo": solo.path, "team": team.path}


def _copy_template(template: Path, tmp_path: Path) -> LiaisonStore:
    path = tmp_path / "store" / "pk-moi.db"
    path.parent.mkdir()
    shutil.copyfile(template, path)
    path.chmod(0o600)
    return LiaisonStore(path)


@pytest.fixture
def store(tmp_path: Path, _store_templates: dict[str, Path]) -> LiaisonStore:
    """A store for PK-MOI with one officer, alice (admin); a copy of a template made by `liaison init`."""
    return _copy_template(_store_templates["solo"], tmp_path)


@pytest.fixture
def team_store(tmp_path: Path, _store_templates: dict[str, Path]) -> LiaisonStore:
    """A store with alice (admin), bob (reviewer) and carol (officer), added with `liaison officers add`."""
    return _copy_template(_store_templates["team"], tmp_path)


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
