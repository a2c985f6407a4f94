"""Identity cards: a ministry's public keys, code and name in one self-signed canonical-JSON file."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from crypto.bundle.limits import CODE, MAX_CARD_BYTES, MAX_CODE, MAX_MINISTRY_NAME
from crypto.bundle.strict import BundleError, parse_canonical, require_b64, require_object, require_text
from crypto.encoding import b64e, canonical_json
from crypto.identity import PublicIdentity

CARD_TYPE = "liaison-identity-card"
CARD_CONTEXT = b"liaison-identity-card/v1\n"
CARD_FIELDS = {"type", "v", "ministry", "name", "signing", "exchange", "fingerprint", "signature"}


@dataclass(frozen=True)
class IdentityCard:
    """A counterpart ministry's public identity as read from its card."""

    ministry: str
    name: str
    identity: PublicIdentity

    @property
    def fingerprint(self) -> str:
        """The identity's fingerprint (64 hex digits)."""
        return self.identity.fingerprint


def _unsigned(ministry: str, name: str, identity: PublicIdentity) -> dict[str, Any]:
    return {
        "type": CARD_TYPE,
        "v": 1,
        "ministry": ministry,
        "name": name,
        "signing": b64e(identity.signing_public),
        "exchange": b64e(identity.exchange_public),
        "fingerprint": identity.fingerprint,
    }


def write_card(ministry: str, name: str, signing_key: bytes, identity: PublicIdentity) -> bytes:
    """The card file's bytes: canonical JSON self-signed with the ministry's signing key, then a newline."""
    body = _unsigned(ministry, name, identity)
    signature = Ed25519PrivateKey.from_private_bytes(signing_key).sign(CARD_CONTEXT + canonical_json(body))
    return canonical_json({**body, "signature": b64e(signature)}) + b"\n"


def read_card(data: bytes) -> IdentityCard:
    """Parse and check a card: size, canonical form, fields, fingerprint and self-signature."""
    if not data:
        raise BundleError("the card file is empty")
    if len(data) > MAX_CARD_BYTES:
        raise BundleError(f"the card file is larger than {MAX_CARD_BYTES} bytes")
    if not data.endswith(b"\n") or data.count(b"\n") != 1:
        raise BundleError("not a Liaison identity card (expected one line of JSON)")
    obj = parse_canonical(data[:-1], "identity card")
    if not isinstance(obj, dict) or obj.get("type") != CARD_TYPE:
        raise BundleError("not a Liaison identity card")
    obj = require_object(obj, CARD_FIELDS, "identity card")
    if obj["v"] != 1 or isinstance(obj["v"], bool):
        raise BundleError("unsupported identity card version")
    ministry = require_text(obj["ministry"], "card ministry code", pattern=CODE, max_len=MAX_CODE)
    name = require_text(obj["name"], "card ministry name", max_len=MAX_MINISTRY_NAME)
    identity = PublicIdentity(
        require_b64(obj["signing"], 32, "card signing key"), require_b64(obj["exchange"], 32, "card exchange key")
    )
    if obj["fingerprint"] != identity.fingerprint:
        raise BundleError("the card's fingerprint does not match its keys")
    signature = require_b64(obj["signature"], 64, "card signature")
    body = {k: v for k, v in obj.items() if k != "signature"}
    try:
        Ed25519PublicKey.from_public_bytes(identity.signing_public).verify(
            signature, CARD_CONTEXT + canonical_json(body)
        )
    except (InvalidSignature, ValueError):
        raise BundleError("the card's self-signature does not verify") from None
    return IdentityCard(ministry, name, identity)


def normalise_fingerprint(text: str) -> str:
    """A fingerprint as typed (groups, colons, any case) in its plain 64-hex form."""
    return "".join(ch for ch in text.lower() if ch not in " :-\t")
