"""`store.files.check_target`, the one check before Liaison writes a file: what it refuses, with and without overwrite."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

import store.files
from store.files import FileError, TargetExists, atomic_write_bytes, check_target
from tests.liaison_helpers import LiaisonStore, store_fingerprint


def _sqlite(path: Path) -> Path:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    return path


def test_a_new_path_is_accepted(tmp_path: Path) -> None:
    assert check_target(tmp_path / "new.bundle") == tmp_path / "new.bundle"


def test_an_existing_file_needs_overwrite(tmp_path: Path) -> None:
    old = tmp_path / "old.bundle"
    old.write_bytes(b"keep me")
    with pytest.raises(TargetExists, match=r"old\.bundle already exists; refusing to replace it$") as info:
        check_target(old)
    assert info.value.field == "path"
    assert check_target(old, overwrite=True) == old
    with pytest.raises(TargetExists):
        atomic_write_bytes(old, b"new")
    assert old.read_bytes() == b"keep me"
    atomic_write_bytes(old, b"new", overwrite=True)
    assert old.read_bytes() == b"new"


def test_a_directory_is_refused_even_with_overwrite(tmp_path: Path) -> None:
    with pytest.raises(FileError, match=r"is a directory$") as info:
        check_target(tmp_path, overwrite=True)
    assert not isinstance(info.value, TargetExists)


@pytest.mark.parametrize("dangling", [False, True])
def test_a_symbolic_link_is_refused_and_never_followed(tmp_path: Path, dangling: bool) -> None:
    target = tmp_path / "target.txt"
    if not dangling:
        target.write_bytes(b"precious")
    link = tmp_path / "link.bundle"
    link.symlink_to(target)
    with pytest.raises(FileError, match=r"is a symbolic link; refusing to write there") as info:
        atomic_write_bytes(link, b"new", overwrite=True)
    assert not isinstance(info.value, TargetExists)
    assert link.is_symlink()
    assert target.exists() is not dangling
    if not dangling:
        assert target.read_bytes() == b"precious"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")] == []


def test_any_sqlite_database_is_refused_even_with_overwrite(tmp_path: Path) -> None:
    db = _sqlite(tmp_path / "other.sqlite")
    before = db.read_bytes()
    with pytest.raises(FileError, match=r"other\.sqlite is an SQLite database; refusing to replace it$") as info:
        atomic_write_bytes(db, b"x", overwrite=True)
    assert not isinstance(info.value, TargetExists)
    assert db.read_bytes() == before


def test_a_liaison_store_is_named_as_such(store: LiaisonStore) -> None:
    before = store_fingerprint(store.path)
    with pytest.raises(FileError, match=r"is a Liaison store; refusing to replace it$"):
        atomic_write_bytes(store.path, b"x", overwrite=True)
    assert store_fingerprint(store.path) == before


@pytest.mark.parametrize("suffix", ["-wal", "-shm", "-journal"])
@pytest.mark.parametrize("exists", [False, True])
def test_the_side_files_of_a_database_are_refused(tmp_path: Path, suffix: str, exists: bool) -> None:
    db = _sqlite(tmp_path / "a.db")
    side = Path(f"{db}{suffix}")
    if exists:
        side.write_bytes(b"\0" * 32)
    with pytest.raises(FileError, match=rf"a\.db{suffix} belongs to the database .*a\.db; refusing to write there$"):
        atomic_write_bytes(side, b"x", overwrite=True)
    assert side.exists() is exists


def test_a_write_ahead_log_is_refused_by_its_bytes(tmp_path: Path) -> None:
    wal = tmp_path / "renamed.log"
    wal.write_bytes(b"\x37\x7f\x06\x82" + b"\0" * 28)
    with pytest.raises(FileError, match=r"is an SQLite write-ahead log"):
        check_target(wal, overwrite=True)


def test_the_open_store_is_refused_by_any_name(store: LiaisonStore, tmp_path: Path) -> None:
    """A hard link to the store, or its -wal name, is the open store; `protect` names it."""
    alias = tmp_path / "alias.db"
    os.link(store.path, alias)
    with pytest.raises(FileError, match=r"alias\.db is the open store; refusing to write there$"):
        check_target(alias, overwrite=True, protect=[store.path])
    with pytest.raises(FileError, match=r"is the open store's wal file; refusing to write there$"):
        check_target(Path(f"{store.path}-wal"), overwrite=True, protect=[store.path])


def test_a_device_or_fifo_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(FileError, match=r"is not a regular file; refusing to replace it$"):
        check_target(fifo, overwrite=True)


def test_no_directory(tmp_path: Path) -> None:
    with pytest.raises(FileError, match=r"^cannot write .*x\.bundle: no directory .*missing$"):
        check_target(tmp_path / "missing" / "x.bundle")


def test_a_file_that_appears_while_writing_is_not_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check runs again at publication, and publication itself refuses to clobber (hard link, not rename)."""
    out = tmp_path / "race.bundle"
    real_open = store.files._open_temp

    def open_and_race(fd: int):  # type: ignore[no-untyped-def]
        out.write_bytes(b"written by someone else meanwhile")
        return real_open(fd)

    monkeypatch.setattr(store.files, "_open_temp", open_and_race)
    with pytest.raises(TargetExists):
        atomic_write_bytes(out, b"ours")
    assert out.read_bytes() == b"written by someone else meanwhile"
    assert [p.name for p in tmp_path.iterdir()] == ["race.bundle"]


def test_a_store_that_appears_while_writing_is_not_replaced_even_with_overwrite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "race.bundle"
    real_open = store.files._open_temp

    def open_and_race(fd: int):  # type: ignore[no-untyped-def]
        _sqlite(out)
        return real_open(fd)

    monkeypatch.setattr(store.files, "_open_temp", open_and_race)
    with pytest.raises(FileError, match="is an SQLite database"):
        atomic_write_bytes(out, b"ours", overwrite=True)
    assert out.read_bytes().startswith(b"SQLite format 3\0")
