"""Audit events: their canonical bytes, the acting officer's Ed25519 signature, and what the log hashes.

An event body is a JSON object of plain values (no floats: their text is not canonical across writers),
serialized with `crypto.encoding.canonical_json`. The signature covers `b"liaison/event/v1\\n" ‖ body`, so an
event signature can never be replayed as a signature of anything else the same key signs. The log's leaf is
`leaf_input(body, signer, sig)`: the Merkle tree (`crypto.merkle.leaf_hash`) and the hash chain (`chain_hash`)
both cover who signed and the signature, not only the body.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from crypto.encoding import canonical_json

EVENT_CONTEXT = b"liaison/event/v1\n"
LEAF_CONTEXT = b"liaison/leaf/v1\n"
PUBLIC_KEY_SIZE = 32
SIGNATURE_SIZE = 64
#: The chain value before the first event.
CHAIN_START = bytes(32)
#: Deepest nesting an event body may have.
MAX_DEPTH = 8


_PLAIN = frozenset({str, int, bool, type(None)})


def _check_value(value: Any, depth: int) -> None:
    """Refuse anything without one canonical JSON text; scalars of the plain types are skipped without a call."""
    if depth > MAX_DEPTH:
        raise ValueError("event body is nested too deeply")
    if type(value) is dict or isinstance(value, Mapping):  # a dict first: the ABC check is slow
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError("event body keys must be text")
            if type(item) not in _PLAIN:
                _check_value(item, depth + 1)
        return
    if isinstance(value, list | tuple):
        for item in value:
            if type(item) not in _PLAIN:
                _check_value(item, depth + 1)
        return
    if value is None or isinstance(value, int | str):  # subclasses (a StrEnum, bool) encode as their value
        return
    raise ValueError(
        f"event body holds a {type(value).__name__}, not a JSON value (null, bool, int, text, list, object)"
    )


def event_bytes(body: Mapping[str, Any]) -> bytes:
    """The canonical bytes of an event body (sorted keys, no spaces, UTF-8).

    ValueError for anything but null, booleans, integers, text, lists and objects with text keys.
    """
    if not isinstance(body, Mapping):
        raise ValueError("an event body is a JSON object")
    _check_value(body, 0)
    return canonical_json(body)


def signing_public(private: bytes) -> bytes:
    """The 32-byte Ed25519 public key of a raw 32-byte private key."""
    return Ed25519PrivateKey.from_private_bytes(private).public_key().public_bytes_raw()


def generate_signing_key() -> bytes:
    """A new raw 32-byte Ed25519 private key."""
    return Ed25519PrivateKey.generate().private_bytes_raw()


def sign_event(private: bytes, body_bytes: bytes) -> bytes:
    """The signer's 64-byte Ed25519 signature of `EVENT_CONTEXT ‖ body_bytes`."""
    return event_signer(private)(body_bytes)


def event_signer(private: bytes) -> Callable[[bytes], bytes]:
    """`sign_event` with the key loaded once, for signing many events (an action's, an import's)."""
    key = Ed25519PrivateKey.from_private_bytes(private)

    def sign(body_bytes: bytes) -> bytes:
        return key.sign(EVENT_CONTEXT + body_bytes)

    return sign


@lru_cache(maxsize=256)
def _public_key(public: bytes) -> Ed25519PublicKey:
    """A loaded public key, cached: a log has few signers and many events."""
    return Ed25519PublicKey.from_public_bytes(public)


def verify_event(public: bytes, body_bytes: bytes, sig: bytes) -> bool:
    """Whether `sig` is `public`'s signature of the event `body_bytes`; False (never an exception) otherwise."""
    if not (isinstance(public, bytes) and len(public) == PUBLIC_KEY_SIZE):
        return False
    if not (isinstance(sig, bytes) and len(sig) == SIGNATURE_SIZE and isinstance(body_bytes, bytes)):
        return False
    try:
        _public_key(public).verify(sig, EVENT_CONTEXT + body_bytes)
    except (InvalidSignature, ValueError):
        return False
    return True


def leaf_input(body_bytes: bytes, signer_public: bytes, sig: bytes) -> bytes:
    """What the Merkle leaf and the chain cover: `LEAF_CONTEXT ‖ signer (32) ‖ sig (64) ‖ body`.

    The two fixed-length fields come first, so the encoding is unambiguous. ValueError on wrong lengths.
    """
    if len(signer_public) != PUBLIC_KEY_SIZE or len(sig) != SIGNATURE_SIZE:
        raise ValueError("a leaf holds a 32-byte public key and a 64-byte signature")
    return LEAF_CONTEXT + signer_public + sig + body_bytes


def chain_hash(previous: bytes, leaf_hash: bytes) -> bytes:
    """The next chain value: `SHA-256(previous chain ‖ leaf hash)`; the first event's previous is CHAIN_START."""
    if len(previous) != 32 or len(leaf_hash) != 32:
        raise ValueError("chain values and leaf hashes are 32 bytes")
    return hashlib.sha256(previous + leaf_hash).digest()
