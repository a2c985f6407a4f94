"""What the sharing modules share: the refusal errors, batch sizes, opening a bundle file for reading."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from crypto.bundle import BundleError, BundleReader
from store.errors import LiaisonError
from store.files import FileError

if TYPE_CHECKING:
    pass

Progress = Callable[[int, int], None]
BATCH = 500
MAX_RECEIPT_FILE = 96 * 1024 * 1024


class BundleRefused(LiaisonError):
    """A bundle or receipt that is not imported; the store is unchanged."""


class NothingToExport(LiaisonError):
    """No record qualifies for the export; the message lists why each was excluded."""


def refused(
    path: Path, exc: BundleError | str, *, field: str | None = None, reference: str | None = None, value: object = None
) -> BundleRefused:
    return BundleRefused(f"{path.name}: {exc}", field=field, reference=reference, value=value)


def open_file(path: Path) -> BinaryIO:
    try:
        return Path(path).expanduser().open("rb")
    except OSError as exc:
        raise FileError(f"cannot read {path}: {exc.strerror}") from None


def reader_of(path: Path, fh: BinaryIO) -> BundleReader:
    try:
        return BundleReader(fh)
    except BundleError as exc:
        raise refused(path, exc) from None
