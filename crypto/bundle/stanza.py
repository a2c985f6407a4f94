"""Key stanzas: the ways a bundle's file key is wrapped (to a recipient's X25519 key, or under a passphrase).

Also the symmetric keys derived from the file key (`payload_key`) and the Fernet constructor every part
of the format uses.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from crypto.bundle.limits import (
    ARGON2ID_INFO,
    CODE,
    MAX_CODE,
    MAX_STANZA_ITERATIONS,
    MAX_STANZA_LANES,
    MAX_STANZA_MEMORY_KIB,
    PAYLOAD_INFO,
    WRAPPED_KEY_TOKEN,
    X25519_INFO,
)
from crypto.bundle.strict import (
    BundleError,
    quote,
    require_b64,
    require_int,
    require_object,
    require_text,
    require_token,
)
from crypto.encoding import b64e
from crypto.errors import BadParameters, MalformedData
from crypto.kdf import KdfParams
from crypto.seal import seal


def fernet_for(key: bytes) -> Fernet:
    """A Fernet instance for 32 raw key bytes."""
    return Fernet(base64.urlsafe_b64encode(key))


def hkdf(secret: bytes, salt: bytes, info: bytes) -> bytes:
    """HKDF-SHA256 to 32 bytes."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(secret)


def payload_key(file_key: bytes, bundle_id: str) -> bytes:
    """The chunk key: HKDF-SHA256(file key, salt = bundle id bytes, info = payload label)."""
    return hkdf(file_key, bytes.fromhex(bundle_id), PAYLOAD_INFO)


def x25519_info(bundle_id: str, recipient: str) -> bytes:
    """The HKDF info binding an X25519 stanza to its bundle and recipient."""
    return X25519_INFO + bundle_id.encode("ascii") + b"|" + recipient.encode("ascii")


def passphrase_fernet(passphrase: bytes, params: KdfParams, bundle_id: str) -> Fernet:
    """The Fernet key a passphrase stanza is wrapped under (Argon2id → HKDF-SHA256)."""
    return fernet_for(hkdf(params.derive(passphrase), b"", ARGON2ID_INFO + bundle_id.encode("ascii")))


@dataclass(frozen=True)
class Stanza:
    """One way to recover the file key: sealed to a recipient's X25519 key, or under a passphrase."""

    kind: str  # "x25519" or "argon2id"
    body: bytes
    recipient: str = ""
    epk: bytes = b""
    params: KdfParams | None = None

    def to_json(self) -> dict[str, Any]:
        """The stanza as it appears in the header."""
        if self.kind == "x25519":
            return {
                "type": "x25519",
                "recipient": self.recipient,
                "epk": b64e(self.epk),
                "body": self.body.decode("ascii"),
            }
        assert self.params is not None
        return {
            "type": "argon2id",
            "salt": b64e(self.params.salt),
            "memory_kib": self.params.memory_kib,
            "iterations": self.params.iterations,
            "lanes": self.params.lanes,
            "body": self.body.decode("ascii"),
        }


def parse_stanza(obj: Any, index: int, recipients: set[str]) -> Stanza:
    """Validate stanza number `index` of a header whose recipients are `recipients`."""
    what = f"bundle header stanza {index + 1}"
    if not isinstance(obj, dict) or obj.get("type") not in ("x25519", "argon2id"):
        raise BundleError(f"{what} has an unknown type")
    if obj["type"] == "x25519":
        obj = require_object(obj, {"type", "recipient", "epk", "body"}, what)
        code = require_text(obj["recipient"], f"{what} recipient", pattern=CODE, max_len=MAX_CODE)
        if code not in recipients:
            raise BundleError(f"{what} names {quote(code)}, which is not a recipient")
        epk = require_b64(obj["epk"], 32, f"{what} ephemeral key")
        body = require_token(obj["body"], WRAPPED_KEY_TOKEN, f"{what} body", WRAPPED_KEY_TOKEN)
        return Stanza("x25519", body, recipient=code, epk=epk)
    obj = require_object(obj, {"type", "salt", "memory_kib", "iterations", "lanes", "body"}, what)
    salt = require_b64(obj["salt"], 16, f"{what} salt")
    params = KdfParams(
        salt=salt,
        memory_kib=require_int(obj["memory_kib"], 1, MAX_STANZA_MEMORY_KIB, f"{what} memory_kib"),
        iterations=require_int(obj["iterations"], 1, MAX_STANZA_ITERATIONS, f"{what} iterations"),
        lanes=require_int(obj["lanes"], 1, MAX_STANZA_LANES, f"{what} lanes"),
    )
    try:
        params.validate()
    except BadParameters as exc:
        raise BundleError(f"{what}: {exc}") from None
    return Stanza(
        "argon2id", require_token(obj["body"], WRAPPED_KEY_TOKEN, f"{what} body", WRAPPED_KEY_TOKEN), params=params
    )


def x25519_stanza(bundle_id: str, recipient: str, recipient_public: bytes, file_key: bytes) -> Stanza:
    """Wrap the file key to a recipient's X25519 key (ephemeral X25519 → HKDF-SHA256 → Fernet)."""
    try:
        epk, token = seal(recipient_public, file_key, x25519_info(bundle_id, recipient))
    except MalformedData as exc:
        raise BundleError(f"cannot wrap the key for {recipient}: {exc}") from None
    return Stanza("x25519", token, recipient=recipient, epk=epk)


def passphrase_stanza(bundle_id: str, passphrase: bytes, params: KdfParams, file_key: bytes) -> Stanza:
    """Wrap the file key under a passphrase (Argon2id → HKDF-SHA256 → Fernet)."""
    if (
        params.memory_kib > MAX_STANZA_MEMORY_KIB
        or params.iterations > MAX_STANZA_ITERATIONS
        or params.lanes > MAX_STANZA_LANES
    ):
        raise BundleError("passphrase parameters exceed what a reader accepts")
    return Stanza("argon2id", passphrase_fernet(passphrase, params, bundle_id).encrypt(file_key), params=params)
