"""Signed checkpoints of the audit log: a C2SP tlog-checkpoint body in a C2SP signed note, signed with Ed25519.

The note (https://c2sp.org/signed-note, https://c2sp.org/tlog-checkpoint) reads::

    liaison/TR-MOI/6f1c…          origin: liaison/<MINISTRY>/<store uuid>
    1204                          tree size, decimal, no leading zeros
    q3c…=                         root hash, standard base64 (RFC 4648 §4, padded)
    time 2026-11-28T10:02:05Z     the one extension line: when it was signed, RFC 3339 UTC
                                  blank line
    — <key name> base64(key id ‖ Ed25519 signature of the four lines above, final newline included)

The key id is C2SP's for Ed25519: `SHA-256(key name ‖ 0x0A ‖ 0x01 ‖ 32-byte public key)[:4]` (what COMMON.md
says too). As C2SP asks, signature lines from other keys (another name or another id) are ignored, a line from
the expected key that fails to verify refuses the note, and a note with no verified line from it is refused.
Opening refuses anything off the canonical form (extra lines, leading zeros, non-canonical base64 or time),
only with crypto.errors types: MalformedData for shape, BadSignature for signatures.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from crypto.errors import BadSignature, MalformedData, quote

#: C2SP signed-note signature type of Ed25519.
ED25519_TYPE = 0x01
#: A note longer than this is refused before parsing (ours are ~250 bytes).
MAX_NOTE_BYTES = 8192
#: C2SP verifiers must accept at least 16 signature lines; more is refused.
MAX_SIGNATURES = 16
MAX_SIZE = (1 << 63) - 1
_EM_DASH = "\u2014"
_SIZE = re.compile(r"0|[1-9][0-9]{0,18}")
_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{6})?Z")
_TIME_PREFIX = "time "


@dataclass(frozen=True)
class Checkpoint:
    """A signed tree head: the log `origin`, its `size` and `root` hash, and the UTC `time` it was signed."""

    origin: str
    size: int
    root: bytes
    time: datetime


def key_id(key_name: str, signing_public: bytes) -> bytes:
    """C2SP signed-note key id of an Ed25519 key: `SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[:4]`."""
    return hashlib.sha256(key_name.encode("utf-8") + b"\n" + bytes([ED25519_TYPE]) + signing_public).digest()[:4]


def format_time(moment: datetime) -> str:
    """RFC 3339 UTC text of an aware datetime: seconds, or microseconds when it has any, then `Z`."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("checkpoint time must be timezone-aware")
    utc = moment.astimezone(UTC)
    text = utc.strftime("%Y-%m-%dT%H:%M:%S")
    if utc.microsecond:
        text += f".{utc.microsecond:06d}"
    return text + "Z"


def _parse_time(text: str) -> datetime:
    if not _TIME.fullmatch(text):
        raise MalformedData(f"checkpoint time is not RFC 3339 UTC: {quote(text)}")
    try:
        moment = datetime.strptime(text[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    except ValueError as exc:
        raise MalformedData(f"checkpoint time is not a real time: {quote(text)}") from exc
    if len(text) > 20:
        moment = moment.replace(microsecond=int(text[20:26]))
    if format_time(moment) != text:  # ".000000" is written as no fraction
        raise MalformedData(f"checkpoint time is not in canonical form: {quote(text)}")
    return moment


def _check_name(kind: str, name: str) -> None:
    if not isinstance(name, str) or not name or any(c.isspace() or c == "+" for c in name):
        raise ValueError(f"{kind} must be non-empty, without spaces or '+'")
    if not name.isprintable():
        raise ValueError(f"{kind} must be printable")


def checkpoint_body(cp: Checkpoint) -> str:
    """The note text a checkpoint is signed as (four lines, each ending in a newline)."""
    _check_name("origin", cp.origin)
    if isinstance(cp.size, bool) or not isinstance(cp.size, int) or not 0 <= cp.size <= MAX_SIZE:
        raise ValueError("checkpoint size must be an integer in 0..2^63-1")
    if not isinstance(cp.root, bytes) or len(cp.root) != 32:
        raise ValueError("checkpoint root must be 32 bytes")
    root_text = base64.b64encode(cp.root).decode("ascii")
    return f"{cp.origin}\n{cp.size}\n{root_text}\n{_TIME_PREFIX}{format_time(cp.time)}\n"


def sign_checkpoint(cp: Checkpoint, key_name: str, signing_private: bytes) -> str:
    """The signed note of `cp` under the raw 32-byte Ed25519 private key, named `key_name`.

    ValueError for a checkpoint or key name that cannot be written (the caller's mistake, not outside input).
    """
    _check_name("key name", key_name)
    body = checkpoint_body(cp)
    private = Ed25519PrivateKey.from_private_bytes(signing_private)
    public = private.public_key().public_bytes_raw()
    signature = private.sign(body.encode("utf-8"))
    line = base64.b64encode(key_id(key_name, public) + signature).decode("ascii")
    return f"{body}\n{_EM_DASH} {key_name} {line}\n"


def _b64_strict(text: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
        raise MalformedData(f"{what} is not base64") from exc
    if base64.b64encode(raw).decode("ascii") != text:
        raise MalformedData(f"{what} is not canonical base64")
    return raw


def _split_note(note: str) -> tuple[str, list[tuple[str, bytes]]]:
    """The note text and its signature lines as (key name, decoded signature) pairs."""
    if not isinstance(note, str):
        raise MalformedData("a checkpoint note must be text")
    try:
        size = len(note.encode("utf-8"))
    except UnicodeEncodeError as exc:
        raise MalformedData("a checkpoint note must be valid UTF-8") from exc
    if size > MAX_NOTE_BYTES:
        raise MalformedData("checkpoint note is too large")
    if any(c < " " and c != "\n" for c in note) or "\x7f" in note:
        raise MalformedData("checkpoint note holds a control character")
    if not note.endswith("\n"):
        raise MalformedData("checkpoint note does not end with a newline")
    cut = note.rfind("\n\n")
    if cut < 0:
        raise MalformedData("checkpoint note has no signature block")
    text, block = note[: cut + 1], note[cut + 2 :]
    lines = block.split("\n")[:-1]
    if not lines:
        raise MalformedData("checkpoint note has no signature")
    if len(lines) > MAX_SIGNATURES:
        raise MalformedData("checkpoint note has too many signatures")
    signatures: list[tuple[str, bytes]] = []
    for line in lines:
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != _EM_DASH or not parts[1]:
            raise MalformedData(f"checkpoint signature line is malformed: {quote(line)}")
        raw = _b64_strict(parts[2], "checkpoint signature")
        if len(raw) < 5:
            raise MalformedData("checkpoint signature is too short")
        signatures.append((parts[1], raw))
    return text, signatures


def _parse_body(text: str) -> Checkpoint:
    lines = text.split("\n")[:-1]
    if len(lines) != 4:
        raise MalformedData(f"checkpoint has {len(lines)} lines, expected 4 (origin, size, root, time)")
    origin, size_text, root_text, time_line = lines
    if not origin or any(c.isspace() or c == "+" for c in origin):
        raise MalformedData(f"checkpoint origin is malformed: {quote(origin)}")
    if not _SIZE.fullmatch(size_text) or int(size_text) > MAX_SIZE:
        raise MalformedData(f"checkpoint size is not a decimal tree size: {quote(size_text)}")
    root_hash = _b64_strict(root_text, "checkpoint root")
    if len(root_hash) != 32:
        raise MalformedData("checkpoint root is not 32 bytes")
    if not time_line.startswith(_TIME_PREFIX):
        raise MalformedData(f"checkpoint has no time line: {quote(time_line)}")
    return Checkpoint(origin, int(size_text), root_hash, _parse_time(time_line[len(_TIME_PREFIX) :]))


def open_checkpoint(note: str, key_name: str, signing_public: bytes) -> Checkpoint:
    """The checkpoint of a signed note, after checking its signature by (`key_name`, `signing_public`).

    MalformedData when the note or its body is off the format; BadSignature when no line of that key verifies
    (none present, or one that fails, which refuses the note whatever else it carries).
    """
    if not isinstance(signing_public, bytes) or len(signing_public) != 32:
        raise MalformedData("checkpoint key must be a 32-byte Ed25519 public key")
    text, signatures = _split_note(note)
    expected_id = key_id(key_name, signing_public)
    try:
        public = Ed25519PublicKey.from_public_bytes(signing_public)
    except ValueError as exc:
        raise MalformedData("checkpoint key is not an Ed25519 public key") from exc
    verified = False
    for name, raw in signatures:
        if name != key_name or raw[:4] != expected_id:
            continue  # another key's signature (a witness, a rotated key): ignored, as C2SP asks
        try:
            public.verify(raw[4:], text.encode("utf-8"))
        except InvalidSignature as exc:
            raise BadSignature(f"checkpoint signature by {quote(key_name)} does not verify") from exc
        verified = True
    if not verified:
        raise BadSignature(f"checkpoint is not signed by {quote(key_name)}")
    return _parse_body(text)
