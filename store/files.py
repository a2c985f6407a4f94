"""Files Liaison writes or reads outside the store: atomic replacement and size-bounded reads."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from store.errors import LiaisonError


class FileError(LiaisonError):
    """A bundle, receipt or card file that cannot be read or written."""


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


@contextmanager
def atomic_file(final: Path) -> Iterator[BinaryIO]:
    """A temporary file beside `final`, renamed over it only once complete and synced; removed on any failure."""
    final = Path(final).expanduser()
    directory = final.parent
    if final.is_dir():
        raise FileError(f"{final} is a directory")
    if not directory.is_dir():
        raise FileError(f"cannot write {final}: no directory {directory}")
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".partial", dir=directory)
    except OSError as exc:
        raise FileError(f"cannot write {final}: {exc.strerror}") from None
    tmp = Path(tmp_name)
    try:
        with _open_temp(fd) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, final)
        _fsync_dir(directory)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise FileError(f"cannot write {final}: {exc.strerror or exc}; nothing was written there") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_bytes(final: Path, data: bytes) -> None:
    """Write `data` to `final` atomically."""
    with atomic_file(final) as fh:
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
