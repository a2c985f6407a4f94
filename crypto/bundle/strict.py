"""Strict decoding shared by every reader of the formats: canonical JSON, exact objects, bounded values.

Each helper either returns the checked value or raises `BundleError` with a one-line message naming
`what` was wrong. The card reader (`crypto/card.py`) uses them too.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from datetime import UTC, datetime
from typing import Any, BinaryIO

from crypto.bundle.limits import B64_CHARS, MIN_TOKEN, TIMESTAMP
from crypto.encoding import b64e, canonical_json
from crypto.errors import BundleError, quote

__all__ = [
    "BundleError",
    "check_token_bytes",
    "format_time",
    "parse_canonical",
    "parse_time",
    "quote",
    "read_exact",
    "require_b64",
    "require_int",
    "require_object",
    "require_text",
    "require_token",
    "sha256_hex",
]


def format_time(moment: datetime) -> str:
    """The one canonical timestamp form of the format: UTC, microseconds, `Z`."""
    if moment.tzinfo is UTC and moment.year >= 1000:  # the same text, written faster (a bundle has one per field)
        return moment.replace(tzinfo=None).isoformat("T", "microseconds") + "Z"
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: Any, what: str) -> datetime:
    """Parse a canonical timestamp, refusing every other form."""
    if not isinstance(text, str) or not TIMESTAMP.fullmatch(text):
        raise BundleError(f"{what} is not a canonical timestamp")
    try:
        # TIMESTAMP fixed the shape (six fraction digits, `Z`); fromisoformat checks the date, ten times faster
        return datetime.fromisoformat(text[:-1]).replace(tzinfo=UTC)
    except ValueError:
        raise BundleError(f"{what} is not a valid date") from None


def sha256_hex(data: bytes) -> str:
    """Lower-case hex SHA-256."""
    return hashlib.sha256(data).hexdigest()


def parse_canonical(data: bytes, what: str) -> Any:
    """Parse JSON that must be exactly in canonical form (sorted keys, no spaces, UTF-8, no escapes that could be literal)."""
    try:
        obj = json.loads(data.decode("utf-8"), parse_constant=_refuse_constant, parse_float=_refuse_float)
        again = canonical_json(obj)
    except (UnicodeError, ValueError, RecursionError):
        raise BundleError(f"{what} is not valid JSON") from None
    if again != data:
        raise BundleError(f"{what} is not in canonical JSON form")
    return obj


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"constant {name}")


def _refuse_float(text: str) -> Any:
    raise ValueError("floats are not allowed")


def require_object(obj: Any, keys: set[str], what: str) -> dict[str, Any]:
    """`obj` as a JSON object with exactly these keys."""
    if not isinstance(obj, dict):
        raise BundleError(f"{what} is not a JSON object")
    if set(obj) != keys:
        unknown, missing = sorted(set(obj) - keys), sorted(keys - set(obj))
        detail = f"unknown field {quote(unknown[0])}" if unknown else f"missing field {missing[0]}"
        raise BundleError(f"{what}: {detail}")
    return obj


def require_int(value: Any, low: int, high: int, what: str) -> int:
    """`value` as an integer (not a boolean) in `low..high`."""
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise BundleError(f"{what} must be an integer in {low}..{high}")
    return value


def require_text(
    value: Any, what: str, *, pattern: re.Pattern[str] | None = None, max_len: int = 200, min_len: int = 1
) -> str:
    """`value` as text of `min_len..max_len` characters, without NUL, fully matching `pattern` when given."""
    if not isinstance(value, str) or not min_len <= len(value) <= max_len:
        raise BundleError(f"{what} must be text of {min_len}..{max_len} characters")
    if pattern is not None and not pattern.fullmatch(value):
        raise BundleError(f"{what} is malformed")
    if "\x00" in value:
        raise BundleError(f"{what} contains a NUL character")
    return value


def require_b64(value: Any, length: int, what: str) -> bytes:
    """Strict padded base64url of exactly `length` bytes, in its one canonical spelling."""
    if not isinstance(value, str) or not value.isascii() or not B64_CHARS.fullmatch(value.encode("ascii")):
        raise BundleError(f"{what} is not canonical base64")
    try:
        raw = base64.urlsafe_b64decode(value.encode("ascii"))
    except ValueError:
        raise BundleError(f"{what} is not canonical base64") from None
    if b64e(raw) != value:
        raise BundleError(f"{what} is not canonical base64")
    if len(raw) != length:
        raise BundleError(f"{what} must be {length} bytes, not {len(raw)}")
    return raw


def require_token(value: Any, length: int | None, what: str, max_len: int) -> bytes:
    """A Fernet token as canonical base64url text (of an exact length when given)."""
    if not isinstance(value, str) or not value.isascii():
        raise BundleError(f"{what} is not a Fernet token")
    data = value.encode("ascii")
    if len(data) > max_len or (length is not None and len(data) != length) or len(data) < MIN_TOKEN:
        raise BundleError(f"{what} has the wrong length")
    check_token_bytes(data, what)
    return data


def check_token_bytes(data: bytes, what: str) -> None:
    """Refuse token bytes that are not canonical base64url."""
    if not B64_CHARS.fullmatch(data):
        raise BundleError(f"{what} is not canonical base64")
    try:
        raw = base64.urlsafe_b64decode(data)
    except ValueError:
        raise BundleError(f"{what} is not canonical base64") from None
    if base64.urlsafe_b64encode(raw) != data:
        raise BundleError(f"{what} is not canonical base64")


def read_exact(fh: BinaryIO, n: int, where: str) -> bytes:
    """Exactly `n` bytes from `fh`, or a truncation error naming `where`."""
    data = fh.read(n)
    if len(data) != n:
        raise BundleError(f"bundle is truncated ({where})")
    return data
