"""Files Liaison writes or reads outside the store: atomic replacement and size-bounded reads."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from store.errors import LiaisonError


class FileError(LiaisonError):
    """A bundle, receipt, card or backup file that cannot be read or written."""


class TargetExists(FileError):
    """The path holds an ordinary file that may be replaced only when the officer asks for it (a force option,
    a confirmation); every other refusal of `check_target` stands even then."""


#: The first bytes of an SQLite database and of an SQLite write-ahead log (both byte orders).
SQLITE_MAGIC = b"SQLite format 3\x00"
WAL_MAGICS = (b"\x37\x7f\x06\x82", b"\x37\x7f\x06\x83")
#: The files SQLite keeps beside a database: writing one of these names could corrupt the database.
SIDE_SUFFIXES = ("-wal", "-shm", "-journal")


def _head(path: Path, size: int) -> bytes:
    try:
        with path.open("rb") as fh:
            return fh.read(size)
    except OSError:
        return b""


def _is_liaison_store(path: Path) -> bool:
    """A best-effort look (read-only, nothing created) at whether an SQLite file is a Liaison store."""
    import sqlite3

    from store.sqlite import read_only_probe

    try:
        probe = read_only_probe(path)
        try:
            return (
                probe.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='liaison_meta'").fetchone()
                is not None
            )
        finally:
            probe.close()
    except (sqlite3.Error, OSError):
        return False


def _database_of(path: Path) -> Path | None:
    """The SQLite database a `-wal`/`-shm`/`-journal` name belongs to, when that database exists."""
    for suffix in SIDE_SUFFIXES:
        if path.name.endswith(suffix) and len(path.name) > len(suffix):
            base = path.with_name(path.name[: -len(suffix)])
            if base.is_file() and not base.is_symlink() and _head(base, len(SQLITE_MAGIC)) == SQLITE_MAGIC:
                return base
    return None


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def check_target(path: Path | str, *, overwrite: bool = False, protect: Iterable[Path | str] = ()) -> Path:
    """The one check before Liaison writes a file at `path` (an export, a card, a receipt, a backup): returns the path.

    An existing ordinary file is refused with `TargetExists` unless `overwrite` (the officer asked for it).
    Refused even then: a directory, a symbolic link (never followed, never replaced), anything that is not a
    regular file, any SQLite database (a Liaison store or not) or write-ahead log, the `-wal`/`-shm`/`-journal`
    name of an existing database (even when that side file does not exist yet), and the files in `protect`
    (the open store) with their side files, whatever name or hard link reaches them.
    """
    target = Path(path).expanduser()
    shown = str(target)
    guarded = [Path(p) for p in protect]
    for store in guarded:
        for suffix in ("", *SIDE_SUFFIXES):
            side = Path(f"{store}{suffix}")
            if target.absolute() == side.absolute() or _same_file(target, side):
                what = "the open store" if not suffix else f"the open store's {suffix[1:]} file"
                raise FileError(f"{shown} is {what}; refusing to write there", field="path", value=shown)
    if target.is_symlink():
        raise FileError(
            f"{shown} is a symbolic link; refusing to write there (remove it or choose another name)",
            field="path",
            value=shown,
        )
    base = _database_of(target)
    if base is not None:
        raise FileError(f"{shown} belongs to the database {base}; refusing to write there", field="path", value=shown)
    if not target.exists():
        if not target.parent.is_dir():
            raise FileError(f"cannot write {shown}: no directory {target.parent}", field="path", value=shown)
        return target
    if target.is_dir():
        raise FileError(f"{shown} is a directory", field="path", value=shown)
    if not target.is_file():
        raise FileError(f"{shown} is not a regular file; refusing to replace it", field="path", value=shown)
    head = _head(target, len(SQLITE_MAGIC))
    if head == SQLITE_MAGIC:
        what = "a Liaison store" if _is_liaison_store(target) else "an SQLite database"
        raise FileError(f"{shown} is {what}; refusing to replace it", field="path", value=shown)
    if head[:4] in WAL_MAGICS:
        raise FileError(f"{shown} is an SQLite write-ahead log; refusing to replace it", field="path", value=shown)
    if not overwrite:
        raise TargetExists(f"{shown} already exists; refusing to replace it", field="path", value=shown)
    return target


def _open_temp(fd: int) -> BinaryIO:
    """Wrap the temporary file's descriptor (tests replace this to simulate a full disk)."""
    return os.fdopen(fd, "wb")


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _publish(tmp: Path, final: Path, *, overwrite: bool, protect: Iterable[Path | str]) -> None:
    """Give the finished temporary file its name: never over anything unless `overwrite`, and then only over
    what `check_target` allows (checked again at the last moment: the path may have changed meanwhile)."""
    check_target(final, overwrite=overwrite, protect=protect)
    if overwrite and final.exists():
        os.replace(tmp, final)
        return
    try:
        os.link(tmp, final)  # fails if anything appeared at `final` since the check: nothing is replaced
    except FileExistsError:
        raise TargetExists(f"{final} already exists; refusing to replace it", field="path", value=str(final)) from None
    except OSError:
        # a file system without hard links: O_EXCL is not available to a rename, so check once more and rename
        check_target(final, overwrite=overwrite, protect=protect)
        if final.exists() and not overwrite:
            raise TargetExists(
                f"{final} already exists; refusing to replace it", field="path", value=str(final)
            ) from None
        os.replace(tmp, final)
        return
    tmp.unlink(missing_ok=True)


def _temp_beside(final: Path, overwrite: bool, protect: tuple[Path | str, ...]) -> tuple[Path, int, Path]:
    """`final` checked (`check_target`), and a new temporary file beside it: (final, its descriptor, its path)."""
    final = check_target(final, overwrite=overwrite, protect=protect)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".partial", dir=final.parent)
    except OSError as exc:
        raise FileError(f"cannot write {final}: {exc.strerror}") from None
    return final, fd, Path(tmp_name)


@contextmanager
def atomic_file(final: Path, *, overwrite: bool = False, protect: Iterable[Path | str] = ()) -> Iterator[BinaryIO]:
    """A temporary file beside `final`, given its name only once complete and synced; removed on any failure.

    `check_target` runs before the first byte and again at publication, so no path that holds data is lost.
    """
    protect = tuple(protect)
    final, fd, tmp = _temp_beside(final, overwrite, protect)
    directory = final.parent
    try:
        with _open_temp(fd) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        _publish(tmp, final, overwrite=overwrite, protect=protect)
        _fsync_dir(directory)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise FileError(f"cannot write {final}: {exc.strerror or exc}; nothing was written there") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextmanager
def atomic_path(final: Path, *, overwrite: bool = False, protect: Iterable[Path | str] = ()) -> Iterator[Path]:
    """Like `atomic_file`, for writers that need a path (an SQLite copy): an empty temporary file beside `final`,
    given its name only if the block completes; removed (with any `-journal`/`-wal`/`-shm` of it) on any failure."""
    protect = tuple(protect)
    final, fd, tmp = _temp_beside(final, overwrite, protect)
    directory = final.parent
    os.close(fd)

    def cleanup() -> None:
        for suffix in ("", *SIDE_SUFFIXES):
            Path(f"{tmp}{suffix}").unlink(missing_ok=True)

    try:
        yield tmp
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        _publish(tmp, final, overwrite=overwrite, protect=protect)
        _fsync_dir(directory)
    except OSError as exc:
        cleanup()
        raise FileError(f"cannot write {final}: {exc.strerror or exc}; nothing was written there") from None
    except BaseException:
        cleanup()
        raise
    cleanup()


def atomic_write_bytes(
    final: Path, data: bytes, *, overwrite: bool = False, protect: Iterable[Path | str] = ()
) -> None:
    """Write `data` to `final` atomically (refusing what `check_target` refuses)."""
    with atomic_file(final, overwrite=overwrite, protect=protect) as fh:
        fh.write(data)


def read_limited(path: Path, limit: int, what: str) -> bytes:
    """A whole small file, refusing one larger than `limit` bytes."""
    path = Path(path).expanduser()
    try:
        with path.open("rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise FileError(f"cannot read {what} {path}: {exc.strerror}") from None
    if len(data) > limit:
        raise FileError(f"{what} {path} is larger than {limit} bytes")
    return data
