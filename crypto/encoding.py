"""Canonical JSON and base64 helpers shared by every serialized structure of the crypto layer."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from crypto.errors import MalformedData


def canonical_json(obj: Any) -> bytes:
    """Serialize `obj` deterministically (sorted keys, no spaces, UTF-8) so it can be authenticated."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def b64e(data: bytes) -> str:
    """Encode bytes as unpadded-free standard urlsafe base64 text."""
    return base64.urlsafe_b64encode(data).decode("ascii")


def b64d(text: Any, *, length: int | None = None) -> bytes:
    """Decode urlsafe base64 strictly, optionally checking the decoded length."""
    if not isinstance(text, str):
        raise MalformedData("expected base64 text")
    try:
        raw = base64.urlsafe_b64decode(text.encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
        raise MalformedData("invalid base64") from exc
    if b64e(raw) != text:
        raise MalformedData("non-canonical base64")
    if length is not None and len(raw) != length:
        raise MalformedData(f"expected {length} bytes, got {len(raw)}")
    return raw


def parse_json_object(data: bytes, *, max_size: int = 1 << 20) -> dict[str, Any]:
    """Parse a JSON object, refusing oversized or non-object input."""
    if len(data) > max_size:
        raise MalformedData("serialized object too large")
    try:
        obj = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:  # deep nesting overflows the parser
        raise MalformedData("not valid JSON") from exc
    if not isinstance(obj, dict):
        raise MalformedData("expected a JSON object")
    return obj


def body_fields(plaintext: bytes) -> dict[str, str] | None:
    """A revision body's long fields from its decrypted JSON (None: not a JSON object)."""
    try:
        body = json.loads(plaintext)
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    return {k: str(body.get(k, "")) for k in ("summary", "source", "notes")}
