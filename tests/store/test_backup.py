"""Backups (SQLite's online backup API) and restores: consistent while in use, as encrypted as the store,
never over an existing file, restores only of a Liaison store of a known schema, atomic."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from store.backup import backup, restore
from store.errors import StoreFileError
from store.files import FileError, TargetExists
from store.service import Draft, Vault
from tests.liaison_helpers import PASSPHRASES, LiaisonStore, find_plaintext, store_fingerprint

SECRET_TITLE = "Quokkaville safe-house on Canal Road"


def _add(store: LiaisonStore, title: str = SECRET_TITLE) -> str:
    session = store.session()
    try:
        return session.add_record(Draft(domain="narcotics", tlp="amber", title=title, summary=f"{title}: summary"))
    finally:
        session.vault.close()


def _titles(path: Path) -> list[str]:
    vault = Vault.open(path)
    try:
        session = vault.unlock("alice", PASSPHRASES["alice"])
        return sorted(r.title for r in session.list_records(limit=10_000))
    finally:
        vault.close()


def test_a_backup_opens_and_holds_every_record_encrypted(store: LiaisonStore, tmp_path: Path) -> None:
    _add(store)
    before = store_fingerprint(store.path)
    beside = sorted(p.name for p in store.path.parent.iterdir())
    out = tmp_path / "backup.db"
    result = backup(store.path, out)
    assert sorted(p.name for p in store.path.parent.iterdir()) == beside  # nothing left beside the store
    assert result.path == out and result.pages > 0
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    assert store_fingerprint(out) == before
    assert store_fingerprint(store.path) == before
    assert find_plaintext(out, SECRET_TITLE) == []
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")]
    assert _titles(out) == [SECRET_TITLE]


def test_a_backup_never_overwrites(store: LiaisonStore, tmp_path: Path) -> None:
    out = tmp_path / "notes.txt"
    out.write_bytes(b"keep")
    with pytest.raises(TargetExists, match="already exists; refusing to replace it"):
        backup(store.path, out)
    assert out.read_bytes() == b"keep"
    first = tmp_path / "first.db"
    backup(store.path, first)
    with pytest.raises(FileError, match="is a Liaison store; refusing to replace it"):
        backup(store.path, first)
    with pytest.raises(FileError, match=r"is the open store|is a Liaison store"):
        backup(store.path, store.path)


def test_a_backup_of_something_else_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.txt"
    other.write_text("not a store")
    with pytest.raises(StoreFileError, match="is not a Liaison store"):
        backup(other, tmp_path / "b.db")
    assert not (tmp_path / "b.db").exists()


def test_backup_while_another_connection_holds_a_write_transaction(store: LiaisonStore, tmp_path: Path) -> None:
    """The backup does not wait for the writer and holds the last committed state, not the uncommitted row."""
    _add(store, "committed before the backup")
    writer = sqlite3.connect(store.path, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("INSERT INTO liaison_meta(key, value) VALUES ('uncommitted', 'x')")
        out = tmp_path / "during.db"
        backup(store.path, out)
        writer.execute("COMMIT")
    finally:
        writer.close()
    copy = sqlite3.connect(out)
    try:
        assert copy.execute("SELECT count(*) FROM liaison_meta WHERE key='uncommitted'").fetchone() == (0,)
    finally:
        copy.close()
    assert _titles(out) == ["committed before the backup"]
    later = tmp_path / "after.db"
    backup(store.path, later)
    copy = sqlite3.connect(later)
    try:
        assert copy.execute("SELECT count(*) FROM liaison_meta WHERE key='uncommitted'").fetchone() == (1,)
    finally:
        copy.close()


def test_backups_taken_while_another_thread_writes_are_consistent(store: LiaisonStore, tmp_path: Path) -> None:
    """Each backup taken during a stream of commits opens, passes SQLite's check and holds a prefix of the stream."""
    session = store.session()
    stop = threading.Event()
    written: list[str] = []
    errors: list[BaseException] = []

    def write() -> None:
        try:
            i = 0
            while not stop.is_set() and i < 200:
                session.add_record(Draft(domain="narcotics", tlp="green", title=f"stream {i:03d}"))
                written.append(f"stream {i:03d}")
                i += 1
        except BaseException as exc:  # reported below
            errors.append(exc)

    thread = threading.Thread(target=write)
    thread.start()
    try:
        copies = []
        for n in range(4):
            out = tmp_path / f"b{n}.db"
            backup(store.path, out)
            copies.append(out)
    finally:
        stop.set()
        thread.join()
        session.vault.close()
    assert not errors
    for out in copies:
        titles = _titles(out)
        assert titles == [f"stream {i:03d}" for i in range(len(titles))]


def test_restore_to_a_new_path(store: LiaisonStore, tmp_path: Path) -> None:
    _add(store)
    out = tmp_path / "b.db"
    backup(store.path, out)
    target = tmp_path / "restored" / "pk-moi.db"
    result = restore(out, target)
    assert not result.replaced and result.kept is None
    assert store_fingerprint(target) == store_fingerprint(store.path)
    assert _titles(target) == [SECRET_TITLE]
    assert sorted(p.name for p in target.parent.iterdir()) == ["pk-moi.db"]


def test_restore_over_an_existing_store_needs_force_and_keeps_a_copy(store: LiaisonStore, tmp_path: Path) -> None:
    out = tmp_path / "b.db"
    backup(store.path, out)  # empty
    _add(store, "added after the backup")
    before = store_fingerprint(store.path)
    with pytest.raises(StoreFileError, match=r"a store already exists at .*; refusing to replace it"):
        restore(out, store.path)
    assert store_fingerprint(store.path) == before
    result = restore(out, store.path, force=True)
    assert result.replaced and result.kept is not None
    assert store_fingerprint(store.path) == store_fingerprint(out)
    assert store_fingerprint(result.kept) == before
    assert _titles(store.path) == []
    assert _titles(result.kept) == ["added after the backup"]


def test_restore_under_an_open_store_is_seen_whole(store: LiaisonStore, tmp_path: Path) -> None:
    """Another process (here: a vault) with the store open sees the restored content after the restore commits."""
    out = tmp_path / "b.db"
    backup(store.path, out)
    _add(store, "to be rolled back")
    session = store.session()
    try:
        assert [r.title for r in session.list_records()] == ["to be rolled back"]
        restore(out, store.path, force=True)
        assert session.list_records() == []
    finally:
        session.vault.close()


def test_restore_refuses_what_is_not_a_liaison_store(store: LiaisonStore, tmp_path: Path) -> None:
    before = store_fingerprint(store.path)
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(StoreFileError, match="is not a Liaison store"):
        restore(text, store.path, force=True)
    plain = tmp_path / "plain.sqlite"
    conn = sqlite3.connect(plain)
    conn.execute("CREATE TABLE t(x)")
    conn.commit()
    conn.close()
    with pytest.raises(StoreFileError, match="is not a Liaison store"):
        restore(plain, store.path, force=True)
    assert store_fingerprint(store.path) == before


def test_restore_refuses_a_newer_schema(store: LiaisonStore, tmp_path: Path) -> None:
    out = tmp_path / "b.db"
    backup(store.path, out)
    conn = sqlite3.connect(out)
    conn.execute("UPDATE alembic_version SET version_num='9999_future'")
    conn.commit()
    conn.close()
    target = tmp_path / "new.db"
    with pytest.raises(StoreFileError, match="newer than this Liaison knows"):
        restore(out, target)
    assert not target.exists()


def test_restore_never_replaces_a_file_that_is_not_a_store(store: LiaisonStore, tmp_path: Path) -> None:
    out = tmp_path / "b.db"
    backup(store.path, out)
    victim = tmp_path / "report.txt"
    victim.write_text("precious")
    with pytest.raises(StoreFileError, match="a restore replaces only a Liaison store"):
        restore(out, victim, force=True)
    assert victim.read_text() == "precious"
    link = tmp_path / "link.db"
    link.symlink_to(store.path)
    with pytest.raises(FileError, match="is a symbolic link"):
        restore(out, link, force=True)
    assert link.is_symlink()


def test_restore_refuses_a_damaged_backup(store: LiaisonStore, tmp_path: Path) -> None:
    out = tmp_path / "b.db"
    backup(store.path, out)
    data = bytearray(out.read_bytes())
    page = 8192
    for i in range(page * 2, len(data)):  # every page after the schema page: the tables are garbage now
        data[i] = 0xA5
    out.write_bytes(bytes(data))
    target = tmp_path / "new.db"
    with pytest.raises(StoreFileError):
        restore(out, target)
    assert not target.exists()
