"""Stores for the key-lifecycle tests: a small demo store with every kind of ciphertext, and a 20k-record one."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from store.authoring import Changes, Draft
from store.demo import DEMO_OFFICER, DEMO_PASSPHRASE, build_demo
from store.records import RecordQuery
from store.service import Session, Vault


def unlock(path: Path, officer: str = DEMO_OFFICER, passphrase: str = DEMO_PASSPHRASE) -> Session:
    """A session on `path` (close `session.vault` after)."""
    vault = Vault.open(path)
    try:
        return vault.unlock(officer, passphrase)
    except BaseException:
        vault.close()
        raise


@pytest.fixture(scope="session")
def _small_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    small = tmp_path_factory.mktemp("keys-small") / "pk-moi.db"
    build_demo(small, records=120)  # with its counterpart: meetings, agenda, actions and comments too
    session = unlock(small)
    try:
        ref = session.add_record(Draft("narcotics", "amber", "Canary title kestrel", "Canary summary osprey"))
        session.edit_record(ref, Changes(title="Canary title merlin", summary="Canary summary harrier"))
        rows = session.list_records(RecordQuery(statuses=frozenset({"shared"})), limit=500)
        withdrawn = next(r.reference for r in rows if r.origin == session.ministry)
        session.withdraw(withdrawn, "Canary reason peregrine")
        session.vault.db.checkpoint()
    finally:
        session.vault.close()
    return small


@pytest.fixture(scope="session")
def _big_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    big = tmp_path_factory.mktemp("keys-big") / "pk-moi.db"
    build_demo(big, records=20_000, counterpart=False, summary_bytes=300)
    return big


def _copy(template: Path, tmp_path: Path) -> Path:
    path = tmp_path / "store" / "pk-moi.db"
    path.parent.mkdir()
    shutil.copyfile(template, path)
    path.chmod(0o600)
    return path


@pytest.fixture
def small_store(tmp_path: Path, _small_template: Path) -> Path:
    """A 120-record demo store (officer demo, admin) with JWG minutes, comments, and a record of two revisions."""
    return _copy(_small_template, tmp_path)


@pytest.fixture
def big_store(tmp_path: Path, _big_template: Path) -> Path:
    """A 20,000-record demo store built with the bulk ingest."""
    return _copy(_big_template, tmp_path)
