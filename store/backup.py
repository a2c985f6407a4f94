"""Backups and restores of a whole store, with SQLite's online backup API.

A backup is a page-for-page copy taken in one read transaction: consistent even while the app (or any
other process) is writing, and exactly as encrypted as the store (sensitive fields stay Fernet tokens,
the keys stay wrapped in the officers' slots). It needs no passphrase: it reads nothing a passphrase
protects. A restore checks that the file is a Liaison store of a schema this version knows and that
SQLite finds it intact, then makes it appear whole at the store path, or replaces an existing store in
one transaction (so an app that has it open sees the old store or the restored one, never a mixture),
after keeping a copy of what it replaces beside it.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from store import sqlite as dialect
from store.db import preflight, publish_no_clobber
from store.errors import StoreFileError
from store.files import FileError, atomic_path, check_target


class StoreExists(StoreFileError):
    """A restore onto a path that already holds a Liaison store, without being told to replace it."""


@dataclass(frozen=True)
class BackupResult:
    """A finished backup (or the safety copy a restore keeps)."""

    path: Path
    source: Path
    revision: str
    pages: int
    bytes: int


@dataclass(frozen=True)
class RestoreResult:
    """A finished restore: where, from what, and where the replaced store was kept (None for a new store)."""

    path: Path
    source: Path
    revision: str
    replaced: bool
    kept: Path | None


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), timeout=dialect.BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    conn.execute(f"PRAGMA busy_timeout={dialect.BUSY_TIMEOUT_MS}")
    return conn


def _source(path: Path) -> sqlite3.Connection:
    """A connection to a store another process may have open and be writing. Not read-only: SQLite would leave
    the `-wal` and `-shm` files of a read-only reader behind; a normal connection that only reads removes them
    when it is the last one to close, as the app does."""
    return _connect(path)


def _check_copy(path: Path, what: str) -> None:
    """SQLite's own quick check of a copy; anything but `ok` refuses it."""
    conn = _connect(path)
    try:
        rows = conn.execute("PRAGMA quick_check").fetchall()
    except sqlite3.DatabaseError as exc:
        raise StoreFileError(f"{what} is corrupt or unreadable ({exc})") from None
    finally:
        conn.close()
    if rows != [("ok",)]:
        raise StoreFileError(f"{what} is damaged: {rows[0][0]}")


def _copy(source: Path, tmp: Path) -> int:
    """Copy `source` into the empty file `tmp` in one step (one read transaction); returns the page count."""
    src = _source(source)
    try:
        dst = _connect(tmp)
        try:
            src.backup(dst, pages=-1)
            # one self-contained file: no -wal beside the copy; Liaison turns WAL on again when it opens it
            dst.execute("PRAGMA journal_mode=DELETE")
            pages = int(dst.execute("PRAGMA page_count").fetchone()[0])
        finally:
            dst.close()
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise StoreFileError(f"the store {source} stayed busy; try again") from None
        raise StoreFileError(f"cannot copy {source}: {exc}") from None
    except sqlite3.DatabaseError as exc:
        raise StoreFileError(f"store {source} is corrupt or unreadable ({exc})") from None
    finally:
        src.close()
    os.chmod(tmp, 0o600)
    return pages


def backup(store: Path | str, out: Path | str) -> BackupResult:
    """Copy the store at `store` to the new file `out` (never over an existing file), consistent while in use."""
    store, out = Path(store).expanduser(), Path(out).expanduser()
    revision = preflight(store)
    with atomic_path(out, protect=(store,)) as tmp:
        pages = _copy(store, tmp)
        _check_copy(tmp, f"the copy of {store}")
        preflight(tmp)
        size = tmp.stat().st_size
    return BackupResult(out, store, revision, pages, size)


def kept_copy_path(store: Path, now: datetime) -> Path:
    """Where a restore keeps the store it replaces: beside it, named with the time (UTC)."""
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    candidate = store.with_name(f"{store.name}.before-restore-{stamp}")
    n = 1
    while candidate.exists() or candidate.is_symlink():
        n += 1
        candidate = store.with_name(f"{store.name}.before-restore-{stamp}-{n}")
    return candidate


def restore(
    source: Path | str, store: Path | str, *, force: bool = False, now: datetime | None = None
) -> RestoreResult:
    """Make the backup `source` the store at `store`.

    `source` must be a Liaison store of a schema this version knows and pass SQLite's quick check. With no
    file at `store`, the copy appears there whole or not at all. An existing store is replaced only with
    `force`, only if it is itself a Liaison store, and only after a safety copy of it is written beside it;
    the replacement is one transaction of SQLite's backup API, so a process that has the store open never
    reads a half-restored file.
    """
    source, store = Path(source).expanduser(), Path(store).expanduser()
    revision = preflight(source)
    _check_copy(source, f"backup {source}")
    if store.is_symlink():
        raise FileError(
            f"{store} is a symbolic link; refusing to restore over it", field="restore_target", value=str(store)
        )
    if store.exists() and source.exists() and os.path.samefile(source, store):
        raise StoreFileError(f"{source} is the store itself", field="restore_target", value=str(store))
    if not store.exists():
        store.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        check_target(store)
        tmp = store.with_name(f".{store.name}.restoring-{os.getpid()}")
        for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm"), Path(f"{tmp}-journal")):
            leftover.unlink(missing_ok=True)
        try:
            tmp.touch(mode=0o600)
            _copy(source, tmp)
        except BaseException:
            for leftover in (tmp, Path(f"{tmp}-journal")):
                leftover.unlink(missing_ok=True)
            raise
        publish_no_clobber(tmp, store)
        return RestoreResult(store, source, revision, replaced=False, kept=None)
    if store.is_dir():
        raise FileError(f"{store} is a directory", field="restore_target", value=str(store))
    try:
        preflight(store)
    except StoreFileError as exc:
        raise StoreFileError(
            f"{exc}; a restore replaces only a Liaison store", field="restore_target", value=str(store)
        ) from None
    if not force:
        raise StoreExists(
            f"a store already exists at {store}; refusing to replace it", field="restore_target", value=str(store)
        )
    kept = backup(store, kept_copy_path(store, now or datetime.now(UTC))).path
    src = _source(source)
    try:
        dst = sqlite3.connect(str(store), timeout=dialect.BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        try:
            dst.execute(f"PRAGMA busy_timeout={dialect.BUSY_TIMEOUT_MS}")
            src.backup(dst, pages=-1)
            dst.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            dst.close()
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise StoreFileError(
                f"the store {store} stayed busy; nothing was restored (its copy is at {kept})"
            ) from None
        raise StoreFileError(f"cannot restore into {store}: {exc} (its copy is at {kept})") from None
    finally:
        src.close()
    return RestoreResult(store, source, revision, replaced=True, kept=kept)


__all__ = ["BackupResult", "RestoreResult", "StoreExists", "backup", "kept_copy_path", "restore"]
