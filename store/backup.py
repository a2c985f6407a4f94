"""Backups and restores of a whole store, with SQLite's online backup API.

A backup is a page-for-page copy taken in one read transaction: consistent even while the app (or any
other process) is writing, and exactly as encrypted as the store (sensitive fields stay Fernet tokens,
the keys stay wrapped in the officers' slots). It needs no passphrase: it reads nothing a passphrase
protects. A restore checks that the file is a Liaison store of a schema this version knows and that
SQLite finds it intact, then makes it appear whole at the store path, or replaces an existing store in
one transaction (so an app that has it open sees the old store or the restored one, never a mixture),
after keeping a copy of what it replaces beside it. Once the store has a signed log, restoring an older
copy is a deliberate rollback: an admin accepts it (signed into the restored log) and this workstation's
witness of the log follows, so the store is not refused as rolled back at its next open.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from store import sqlite as dialect
from store.audit.witness import RollbackAccepted, RolledBack, Witness
from store.db import preflight, publish_no_clobber
from store.errors import StoreFileError
from store.files import FileError, atomic_path, check_target

if TYPE_CHECKING:
    from store.service import Session
    from store.vault import Vault


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
    #: The rollback an admin accepted because this workstation had seen a newer log of the store, else None.
    accepted: RollbackAccepted | None = None


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


#: How a restore that turns out to be a rollback gets an admin's session on the staged copy (the CLI asks for
#: the passphrase only then).
Unlock = Callable[["Vault"], "Session"]


def _stage_path(store: Path) -> Path:
    """Where a restore stages its copy: a hidden name beside the store (same file system, so it can be renamed)."""
    tmp = store.with_name(f".{store.name}.restoring-{os.getpid()}")
    _remove_staged(tmp)
    return tmp


def _remove_staged(tmp: Path) -> None:
    for leftover in (tmp, *(Path(f"{tmp}{suffix}") for suffix in ("-wal", "-shm", "-journal"))):
        leftover.unlink(missing_ok=True)


def _accept_if_rolled_back(
    staged: Path, state_dir: Path, unlock: Unlock | None, kdf_profile: str | None
) -> RollbackAccepted | None:
    """Open the staged copy as the store would be opened; when this workstation has seen a newer (or another)
    log of the same store, an admin accepts the rollback in the copy's own log before it is put in place."""
    from store.vault import Vault

    vault = Vault.open(staged, kdf_profile=kdf_profile, state_dir=state_dir, allow_rollback=True)
    try:
        found = vault.rollback
        if found is None:
            return None
        if unlock is None:
            raise RolledBack(
                f"{found.message()}; restoring this copy is a rollback an admin must accept", field="restore_rollback"
            )
        accepted = unlock(vault).accept_rollback(via="restore", record_witness=False)
        vault.db.checkpoint()
        return accepted
    finally:
        vault.close()
        conn = _connect(staged)
        try:  # one self-contained file again, as `_copy` left it
            conn.execute("PRAGMA journal_mode=DELETE")
        finally:
            conn.close()


def restore(
    source: Path | str,
    store: Path | str,
    *,
    force: bool = False,
    now: datetime | None = None,
    state_dir: Path | None = None,
    unlock: Unlock | None = None,
    kdf_profile: str | None = None,
) -> RestoreResult:
    """Make the backup `source` the store at `store`.

    `source` must be a Liaison store of a schema this version knows and pass SQLite's quick check. It is first
    copied beside the store. With a `state_dir` (the workstation's witness of each store's log, see
    `store.audit.witness`), a copy whose log is behind what this workstation saw of the same store is a
    deliberate rollback: an admin (`unlock`) accepts it, signed into the copy's own log, and the witness is
    reset to it once the copy is in place — instead of the store being refused at its next open. With no file
    at `store`, the copy appears there whole or not at all. An existing store is replaced only with `force`,
    only if it is itself a Liaison store, and only after a safety copy of it is written beside it; the
    replacement is one transaction of SQLite's backup API, so a process that has the store open never reads a
    half-restored file.
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
    replacing = store.exists()
    if replacing:
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
    else:
        store.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        check_target(store)
    tmp = _stage_path(store)
    try:
        tmp.touch(mode=0o600)
        _copy(source, tmp)
        accepted = _accept_if_rolled_back(tmp, state_dir, unlock, kdf_profile) if state_dir is not None else None
    except BaseException:
        _remove_staged(tmp)
        raise
    if not replacing:
        publish_no_clobber(tmp, store)
        _remove_staged(tmp)
        kept = None
    else:
        try:
            kept = backup(store, kept_copy_path(store, now or datetime.now(UTC))).path
            _replace_in_place(tmp, store, kept)
        finally:
            _remove_staged(tmp)
    if accepted is not None and state_dir is not None:
        Witness(state_dir).record(accepted.now_trusted, replace=True)
    return RestoreResult(store, source, revision, replaced=replacing, kept=kept, accepted=accepted)


def _replace_in_place(staged: Path, store: Path, kept: Path) -> None:
    """Copy the staged file over the store in one transaction of SQLite's backup API."""
    src = _source(staged)
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


__all__ = ["BackupResult", "RestoreResult", "StoreExists", "backup", "kept_copy_path", "restore"]
