"""A ministry's public identity: Ed25519 signing and X25519 exchange keys with a readable fingerprint."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from crypto.errors import DecryptionFailed


@dataclass(frozen=True)
class PublicIdentity:
    """Public halves of a ministry's keys."""

    signing_public: bytes
    exchange_public: bytes

    @property
    def fingerprint(self) -> str:
        """SHA-256 over both public keys, hex (64 characters)."""
        return hashlib.sha256(b"liaison/identity/v1" + self.signing_public + self.exchange_public).hexdigest()

    def verify(self, signature: bytes, message: bytes) -> None:
        """Raise DecryptionFailed unless `signature` is this identity's Ed25519 signature of `message`."""
        try:
            Ed25519PublicKey.from_public_bytes(self.signing_public).verify(signature, message)
        except (InvalidSignature, ValueError) as exc:
            raise DecryptionFailed("signature does not verify") from exc


def grouped_fingerprint(fingerprint: str, group: int = 4) -> str:
    """A fingerprint in readable groups: `3f2a 91c0 …`."""
    return " ".join(fingerprint[i : i + group] for i in range(0, len(fingerprint), group))


def public_identity(signing_key: bytes, exchange_key: bytes) -> PublicIdentity:
    """Public identity from the raw private keys held in the keyring."""
    sign_pub = (
        Ed25519PrivateKey.from_private_bytes(signing_key).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    )
    ex_pub = X25519PrivateKey.from_private_bytes(exchange_key).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return PublicIdentity(signing_public=sign_pub, exchange_public=ex_pub)


def sign(signing_key: bytes, message: bytes) -> bytes:
    """Ed25519 signature of `message` with the raw private key."""
    return Ed25519PrivateKey.from_private_bytes(signing_key).sign(message)
