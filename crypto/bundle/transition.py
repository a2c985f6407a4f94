"""Key-transition statements: a ministry's old identity hands over to a new one, signed by BOTH keys.

Modelled on GnuPG key-transition statements: the old key's signature says "my successor is this key", the new
key's signature proves its holder took part (nobody can be named successor of a key without holding it). A
statement travels in a v2 bundle or receipt header (docs/bundle-format.md §13); the receiver checks the old
half against the card it holds, then accepts only the new key from that ministry.

    message = "liaison-key-transition/v1\\n" || canonical_json(statement without "signatures")
    signatures = {"old": b64(Ed25519(old signing key, message)), "new": b64(Ed25519(new signing key, message))}

Parsing checks both signatures (everything needed is inside the statement); whether the old key is the one
this ministry holds for the sender is the store's decision.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from crypto.bundle.limits import CODE, HEX64, MAX_CODE, MAX_TRANSITIONS, TRANSITION_CONTEXT
from crypto.bundle.strict import BundleError, format_time, parse_time, require_b64, require_object, require_text
from crypto.encoding import b64e, canonical_json
from crypto.identity import PublicIdentity

TRANSITION_TYPE = "liaison-key-transition"
TRANSITION_FIELDS = {"type", "v", "ministry", "at", "old", "new", "signatures"}
KEY_FIELDS = {"signing", "exchange", "fingerprint"}


@dataclass(frozen=True)
class KeyTransition:
    """A checked statement: `ministry` moved from identity `old` to identity `new` at `at`."""

    ministry: str
    at: datetime
    old: PublicIdentity
    new: PublicIdentity
    old_signature: bytes
    new_signature: bytes

    def unsigned(self) -> dict[str, Any]:
        """The statement without its signatures: what both keys sign (after the context line)."""
        return _unsigned(self.ministry, self.at, self.old, self.new)

    def to_json(self) -> dict[str, Any]:
        """The statement as it travels (a JSON object)."""
        return {**self.unsigned(), "signatures": {"old": b64e(self.old_signature), "new": b64e(self.new_signature)}}

    def encode(self) -> bytes:
        """Canonical JSON of the whole statement (what a store keeps)."""
        return canonical_json(self.to_json())


def _key(identity: PublicIdentity) -> dict[str, str]:
    return {
        "signing": b64e(identity.signing_public),
        "exchange": b64e(identity.exchange_public),
        "fingerprint": identity.fingerprint,
    }


def _unsigned(ministry: str, at: datetime, old: PublicIdentity, new: PublicIdentity) -> dict[str, Any]:
    return {
        "type": TRANSITION_TYPE,
        "v": 1,
        "ministry": ministry,
        "at": format_time(at),
        "old": _key(old),
        "new": _key(new),
    }


def transition_message(unsigned: dict[str, Any]) -> bytes:
    """What each key signs: the context line, then the canonical statement without signatures."""
    return TRANSITION_CONTEXT + canonical_json(unsigned)


def make_transition(
    *,
    ministry: str,
    at: datetime,
    old_signing_key: bytes,
    old: PublicIdentity,
    new_signing_key: bytes,
    new: PublicIdentity,
) -> KeyTransition:
    """A statement signed by both private keys (the caller holds both: only the ministry itself can write one)."""
    message = transition_message(_unsigned(ministry, at, old, new))
    statement = KeyTransition(
        ministry,
        at,
        old,
        new,
        Ed25519PrivateKey.from_private_bytes(old_signing_key).sign(message),
        Ed25519PrivateKey.from_private_bytes(new_signing_key).sign(message),
    )
    return parse_transition(statement.to_json(), "key transition")  # never hand out what a reader refuses


def _identity(obj: Any, what: str) -> PublicIdentity:
    keys = require_object(obj, KEY_FIELDS, what)
    identity = PublicIdentity(
        require_b64(keys["signing"], 32, f"{what} signing key"),
        require_b64(keys["exchange"], 32, f"{what} exchange key"),
    )
    require_text(keys["fingerprint"], f"{what} fingerprint", pattern=HEX64, max_len=64)
    if keys["fingerprint"] != identity.fingerprint:
        raise BundleError(f"{what} fingerprint does not match its keys")
    return identity


def _verify(public: bytes, signature: bytes, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def parse_transition(obj: Any, what: str) -> KeyTransition:
    """A statement's fields, checked strictly, and BOTH signatures verified; else `BundleError`."""
    obj = require_object(obj, TRANSITION_FIELDS, what)
    if obj["type"] != TRANSITION_TYPE:
        raise BundleError(f"{what} is not a key-transition statement")
    if obj["v"] != 1 or isinstance(obj["v"], bool):
        raise BundleError(f"{what} version is not 1")
    ministry = require_text(obj["ministry"], f"{what} ministry", pattern=CODE, max_len=MAX_CODE)
    at = parse_time(obj["at"], f"{what} time")
    old = _identity(obj["old"], f"{what} old key")
    new = _identity(obj["new"], f"{what} new key")
    if old.fingerprint == new.fingerprint or old.signing_public == new.signing_public:
        raise BundleError(f"{what} hands a key over to itself")
    signatures = require_object(obj["signatures"], {"old", "new"}, f"{what} signatures")
    old_sig = require_b64(signatures["old"], 64, f"{what} old-key signature")
    new_sig = require_b64(signatures["new"], 64, f"{what} new-key signature")
    message = transition_message(_unsigned(ministry, at, old, new))
    old_ok, new_ok = _verify(old.signing_public, old_sig, message), _verify(new.signing_public, new_sig, message)
    if not (old_ok and new_ok):
        which = (
            "neither signature verifies"
            if not (old_ok or new_ok)
            else (
                "the old key's signature does not verify" if not old_ok else "the new key's signature does not verify"
            )
        )
        raise BundleError(f"{what} of {ministry} is refused: {which} (both keys must sign)")
    return KeyTransition(ministry, at, old, new, old_sig, new_sig)


def parse_transitions(raw: Any, sender: str, sender_fingerprint: str, what: str) -> tuple[KeyTransition, ...]:
    """A header's `transitions`: 1..8 statements of the sender, oldest first, each handing over to the next,
    the last one to the key the file names (and is signed with)."""
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_TRANSITIONS:
        raise BundleError(f"{what} must hold 1..{MAX_TRANSITIONS} key-transition statements")
    chain = tuple(parse_transition(item, f"{what} {i + 1}") for i, item in enumerate(raw))
    check_chain(chain, sender, sender_fingerprint, what)
    return chain


def check_chain(chain: Sequence[KeyTransition], sender: str, sender_fingerprint: str, what: str) -> None:
    """Statements of `sender` only, linked old → new in order, ending at `sender_fingerprint`, no key twice."""
    seen: set[str] = set()
    for i, statement in enumerate(chain):
        if statement.ministry != sender:
            raise BundleError(f"{what} {i + 1} is a statement of {statement.ministry}, not of the sender {sender}")
        if i and chain[i - 1].new.fingerprint != statement.old.fingerprint:
            raise BundleError(f"{what} {i + 1} does not continue from the key statement {i} handed over to")
        if i and statement.at < chain[i - 1].at:
            raise BundleError(f"{what} {i + 1} is dated before statement {i}")
        if statement.old.fingerprint in seen:
            raise BundleError(f"{what} {i + 1} hands over from a key used before in the chain")
        seen.add(statement.old.fingerprint)
    if chain and chain[-1].new.fingerprint != sender_fingerprint:
        raise BundleError(f"{what} do not end at the sender key the file names")
    if sender_fingerprint in seen:
        raise BundleError(f"{what} hand over from the sender key the file names")


__all__ = [
    "TRANSITION_FIELDS",
    "TRANSITION_TYPE",
    "KeyTransition",
    "check_chain",
    "make_transition",
    "parse_transition",
    "parse_transitions",
    "transition_message",
]
