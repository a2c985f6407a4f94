"""Reading bundles: the header first, then the signature over every chunk, then chunk by chunk.

Nothing is decrypted before the signature verifies; each chunk is re-read in pass 2 and must hash to
what was signed.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterator
from typing import Any, BinaryIO

from cryptography.exceptions import InvalidSignature
from cryptography.fernet import InvalidToken
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from crypto.bundle.header import read_preamble
from crypto.bundle.limits import (
    FILE_KEY_BYTES,
    FRAME_CHUNK,
    FRAME_SIGNATURE,
    MAX_CHUNK_PLAINTEXT,
    MAX_CHUNK_TOKEN,
    MIN_TOKEN,
    SIGNATURE_BYTES,
)
from crypto.bundle.record import validate_entry
from crypto.bundle.stanza import fernet_for, passphrase_fernet, payload_key, x25519_info
from crypto.bundle.strict import BundleError, check_token_bytes, parse_canonical, quote, read_exact, require_object
from crypto.bundle.writer import signed_message
from crypto.errors import DecryptionFailed, MalformedData
from crypto.seal import open_sealed

CHUNK_FIELDS = {"bundle", "final", "header", "index", "records"}


class BundleReader:
    """Reads a bundle from a seekable binary file: header, then signature check, then chunk by chunk."""

    def __init__(self, fh: BinaryIO) -> None:
        self.fh = fh
        self.header = read_preamble(fh)
        self._chunks_at = fh.tell()
        self._hashes: list[bytes] | None = None

    @property
    def verified(self) -> bool:
        """True once the signature has been checked."""
        return self._hashes is not None

    def verify(self, signing_public: bytes) -> int:
        """Pass 1: frame every chunk, hash it and check the Ed25519 signature; returns the chunk count."""
        fh, header = self.fh, self.header
        fh.seek(self._chunks_at)
        hashes: list[bytes] = []
        digest = hashlib.sha256()
        while True:
            tag = fh.read(1)
            if not tag:
                raise BundleError("bundle is truncated (no signature)")
            if tag[0] == FRAME_SIGNATURE:
                signature = read_exact(fh, SIGNATURE_BYTES, "in the signature")
                if fh.read(1):
                    raise BundleError("trailing bytes after the bundle signature")
                break
            if tag[0] != FRAME_CHUNK:
                raise BundleError(f"unknown frame type 0x{tag[0]:02x} at byte {fh.tell() - 1}")
            index = len(hashes)
            if index >= max(header.records, 1):  # a bundle of no records (a key transition alone) has one chunk
                raise BundleError("bundle has more chunks than records")
            raw_len = read_exact(fh, 4, f"in chunk {index + 1}")
            (length,) = struct.unpack(">I", raw_len)
            if not MIN_TOKEN <= length <= MAX_CHUNK_TOKEN:
                raise BundleError(f"chunk {index + 1} length {length} is out of range")
            token = read_exact(fh, length, f"in chunk {index + 1}")
            h = hashlib.sha256(token).digest()
            hashes.append(h)
            digest.update(h)
        if not hashes:
            raise BundleError("bundle has no chunks")
        try:
            Ed25519PublicKey.from_public_bytes(signing_public).verify(
                signature, signed_message(header.preamble_sha256, len(hashes), digest.digest())
            )
        except (InvalidSignature, ValueError):
            raise BundleError(
                f"bundle signature does not verify against {header.sender}'s key: the bundle was altered, truncated or signed by another key"
            ) from None
        self._hashes = hashes
        return len(hashes)

    def file_key_from_identity(self, recipient: str, exchange_private: bytes) -> bytes:
        """Unwrap the file key from the X25519 stanza addressed to `recipient`."""
        stanza = next((s for s in self.header.stanzas if s.kind == "x25519" and s.recipient == recipient), None)
        if stanza is None:
            raise BundleError(f"the bundle has no key stanza for {recipient}")
        try:
            key = open_sealed(exchange_private, stanza.epk, stanza.body, x25519_info(self.header.bundle_id, recipient))
        except (DecryptionFailed, MalformedData) as exc:
            reason = (
                "its ephemeral key is a low-order point"
                if "low-order" in str(exc)
                else "it does not open with this ministry's key"
            )
            raise BundleError(f"the key stanza for {recipient} is refused: {reason}") from None
        if len(key) != FILE_KEY_BYTES:
            raise BundleError(f"the key stanza for {recipient} holds a key of the wrong size")
        return key

    def has_passphrase_stanza(self) -> bool:
        """True when the bundle can be opened with a passphrase."""
        return any(s.kind == "argon2id" for s in self.header.stanzas)

    def file_key_from_passphrase(self, passphrase: bytes) -> bytes:
        """Unwrap the file key from the passphrase stanza (its parameters were bounded when the header was read)."""
        stanza = next((s for s in self.header.stanzas if s.kind == "argon2id"), None)
        if stanza is None or stanza.params is None:
            raise BundleError("the bundle has no passphrase stanza")
        try:
            key = passphrase_fernet(passphrase, stanza.params, self.header.bundle_id).decrypt(stanza.body)
        except InvalidToken:
            raise BundleError("wrong bundle passphrase") from None
        if len(key) != FILE_KEY_BYTES:
            raise BundleError("the passphrase stanza holds a key of the wrong size")
        return key

    def chunks(self, file_key: bytes) -> Iterator[list[dict[str, Any]]]:
        """Pass 2: re-read each chunk, check it is the one signed, decrypt and validate it; yields its records."""
        if self._hashes is None:
            raise BundleError("the bundle signature has not been verified")
        fernet = fernet_for(payload_key(file_key, self.header.bundle_id))
        fh, header = self.fh, self.header
        fh.seek(self._chunks_at)
        seen = 0
        last = len(self._hashes) - 1
        for index, expected in enumerate(self._hashes):
            tag = fh.read(1)
            raw_len = fh.read(4)
            if len(tag) != 1 or tag[0] != FRAME_CHUNK or len(raw_len) != 4:
                raise BundleError(f"chunk {index + 1} changed since the signature was checked")
            (length,) = struct.unpack(">I", raw_len)
            if length > MAX_CHUNK_TOKEN:
                raise BundleError(f"chunk {index + 1} changed since the signature was checked")
            token = fh.read(length)
            if hashlib.sha256(token).digest() != expected:
                raise BundleError(f"chunk {index + 1} changed since the signature was checked")
            check_token_bytes(token, f"chunk {index + 1}")
            try:
                plain = fernet.decrypt(token)
            except InvalidToken:
                raise BundleError(f"chunk {index + 1} does not decrypt with the bundle key") from None
            if len(plain) > MAX_CHUNK_PLAINTEXT:
                raise BundleError(f"chunk {index + 1} is larger than {MAX_CHUNK_PLAINTEXT} bytes")
            envelope = require_object(parse_canonical(plain, f"chunk {index + 1}"), CHUNK_FIELDS, f"chunk {index + 1}")
            if envelope["bundle"] != header.bundle_id or envelope["header"] != header.preamble_sha256.hex():
                raise BundleError(f"chunk {index + 1} belongs to another bundle")
            if envelope["index"] != index or isinstance(envelope["index"], bool):
                raise BundleError(
                    f"chunk {index + 1} claims to be chunk {quote(envelope['index'])}: chunks reordered or dropped"
                )
            if envelope["final"] is not (index == last):
                if index == last:
                    raise BundleError("the last chunk is not flagged final: the bundle was truncated")
                raise BundleError(f"chunk {index + 1} is flagged final but more chunks follow")
            records = envelope["records"]
            least = 1 if header.records else 0  # the one chunk of a bundle of no records is empty
            if not isinstance(records, list) or not least <= len(records) <= header.chunk_records:
                raise BundleError(f"chunk {index + 1} must hold {least}..{header.chunk_records} records")
            for i, record in enumerate(records):
                validate_entry(record, f"chunk {index + 1} record {i + 1}")
            seen += len(records)
            if seen > header.records:
                raise BundleError(f"the bundle holds more records than its header says ({header.records})")
            yield records
        if seen != header.records:
            raise BundleError(f"the bundle holds {seen} records but its header says {header.records}")
