"""`crypto.rekey_pool.rotate_token`, the rotation's re-encryption on raw token bytes: it accepts and refuses exactly
what `keyring.reencrypt_token` (Fernet itself) accepts and refuses, and keeps each token's plaintext and time."""

from __future__ import annotations

import base64
import os

import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.hmac import HMAC

from crypto.errors import DecryptionFailed
from crypto.keyring import reencrypt_token
from crypto.rekey_pool import RawKey, rotate_token

NEW, OLD, OLDER, FOREIGN = (Fernet.generate_key() for _ in range(4))
AT = 1_700_000_000


def _raw(key: bytes, text: bytes) -> bytes:
    return base64.urlsafe_b64decode(Fernet(key).encrypt_at_time(text, AT))


def _forged(key: bytes, blocks: bytes, version: int = 0x80) -> bytes:
    """A token whose HMAC is right under `key` around ciphertext of `blocks` as given (padding or length unsound)."""
    raw = base64.urlsafe_b64decode(key)
    iv = os.urandom(16)
    body = blocks
    if len(blocks) % 16 == 0 and blocks:
        encryptor = Cipher(algorithms.AES(raw[16:]), modes.CBC(iv)).encryptor()
        body = encryptor.update(blocks) + encryptor.finalize()
    parts = bytes([version]) + AT.to_bytes(8, "big") + iv + body
    mac = HMAC(raw[:16], SHA256())
    mac.update(parts)
    return parts + mac.finalize()


def _reference(token: bytes) -> bytes | type[DecryptionFailed] | None:
    try:
        return reencrypt_token(Fernet(NEW), [Fernet(OLD), Fernet(OLDER)], token)
    except DecryptionFailed:
        return DecryptionFailed


def _fast(token: bytes) -> bytes | type[DecryptionFailed] | None:
    try:
        return rotate_token(RawKey(NEW), [RawKey(OLD), RawKey(OLDER)], token)
    except DecryptionFailed:
        return DecryptionFailed


CASES = {
    "under the retiring key": _raw(OLD, b"a title"),
    "under an older key": _raw(OLDER, b"x" * 1500),
    "empty plaintext": _raw(OLD, b""),
    "a whole block of plaintext": _raw(OLD, b"y" * 16),
    "already under the current key": _raw(NEW, b"current"),
    "under no key of ours": _raw(FOREIGN, b"foreign"),
    "truncated": _raw(OLD, b"a title")[:-1],
    "too short for a block": _raw(OLD, b"a title")[:60],
    "another version byte": bytes([0x81]) + _raw(OLD, b"a title")[1:],
    "an edited ciphertext byte": (lambda t: t[:30] + bytes([t[30] ^ 1]) + t[31:])(_raw(OLD, b"a title")),
    "authentic, unsound padding (retiring key)": _forged(OLD, b"z" * 15 + b"\x11"),
    "authentic, zero padding (current key)": _forged(NEW, b"z" * 15 + b"\x00"),
    "authentic, padding bytes unequal": _forged(OLD, b"z" * 13 + b"\x02\x03\x03"),
    "authentic, no ciphertext": _forged(OLD, b""),
    "authentic, part of a block": _forged(OLD, b"q" * 20),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_rotate_token_does_what_fernet_does(case: str) -> None:
    """Threat 2: a token is re-encrypted, left (current key) or refused exactly as Fernet would, so a tampered
    or foreign token is never re-encrypted into an authentic one; what is re-encrypted keeps plaintext and time."""
    token = CASES[case]
    want, got = _reference(token), _fast(token)
    if isinstance(want, bytes):
        assert isinstance(got, bytes)
        for new in (want, got):
            encoded = base64.urlsafe_b64encode(new)
            assert Fernet(NEW).extract_timestamp(encoded) == AT
        assert Fernet(NEW).decrypt(base64.urlsafe_b64encode(got)) == Fernet(NEW).decrypt(base64.urlsafe_b64encode(want))
        assert got[9:25] != token[9:25]  # a fresh IV
    else:
        assert got is want
