"""Seal bytes to an X25519 public key: ephemeral X25519 → HKDF-SHA256 → Fernet (the age/saltpack pattern)."""

from __future__ import annotations

import base64

from cryptography.exceptions import InvalidKey
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from crypto.errors import DecryptionFailed, MalformedData

X25519_BYTES = 32


def public_bytes_x25519(key: X25519PublicKey) -> bytes:
    """Raw 32-byte encoding of an X25519 public key."""
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def _wrap_key(shared: bytes, ephemeral_public: bytes, recipient_public: bytes, info: bytes) -> Fernet:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=ephemeral_public + recipient_public, info=info)
    return Fernet(base64.urlsafe_b64encode(hkdf.derive(shared)))


def seal(recipient_public: bytes, plaintext: bytes, info: bytes) -> tuple[bytes, bytes]:
    """Encrypt `plaintext` so only the holder of the X25519 private key can read it; returns (ephemeral public, token)."""
    if len(recipient_public) != X25519_BYTES:
        raise MalformedData("recipient public key must be 32 bytes")
    ephemeral = X25519PrivateKey.generate()
    ephemeral_public = public_bytes_x25519(ephemeral.public_key())
    try:
        shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(recipient_public))
    except ValueError as exc:  # low-order point: the shared secret would be all zeros
        raise MalformedData("recipient public key is a low-order point") from exc
    token = _wrap_key(shared, ephemeral_public, recipient_public, info).encrypt(plaintext)
    return ephemeral_public, token


def open_sealed(private_key: bytes, ephemeral_public: bytes, token: bytes, info: bytes) -> bytes:
    """Decrypt what `seal` produced; raises DecryptionFailed on any mismatch."""
    if len(private_key) != X25519_BYTES or len(ephemeral_public) != X25519_BYTES:
        raise MalformedData("X25519 keys must be 32 bytes")
    sk = X25519PrivateKey.from_private_bytes(private_key)
    recipient_public = public_bytes_x25519(sk.public_key())
    try:
        shared = sk.exchange(X25519PublicKey.from_public_bytes(ephemeral_public))
    except (ValueError, InvalidKey) as exc:
        raise DecryptionFailed("ephemeral key is a low-order point") from exc
    try:
        return _wrap_key(shared, ephemeral_public, recipient_public, info).decrypt(token)
    except InvalidToken as exc:
        raise DecryptionFailed("sealed data did not authenticate") from exc
