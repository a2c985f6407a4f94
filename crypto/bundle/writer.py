"""Writing bundles: fresh ids and keys, the signed message, and the streaming `BundleWriter`."""

from __future__ import annotations

import hashlib
import os
import struct
import uuid as uuidlib
from datetime import datetime
from typing import Any, BinaryIO

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from crypto.bundle.header import Recipient, encode_preamble, header_object, parse_header
from crypto.bundle.limits import (
    DEFAULT_CHUNK_RECORDS,
    FILE_KEY_BYTES,
    FORMAT_VERSION,
    FRAME_CHUNK,
    FRAME_SIGNATURE,
    MAX_CHUNK_PLAINTEXT,
    SIGNATURE_CONTEXT,
    TARGET_CHUNK_PLAINTEXT,
    VERSION_LINE,
)
from crypto.bundle.record import encode_record, validate_entry, validate_withdrawal
from crypto.bundle.stanza import Stanza, fernet_for, payload_key
from crypto.bundle.strict import BundleError, quote, sha256_hex
from crypto.bundle.transition import KeyTransition
from crypto.bundle.witness import Proof
from crypto.encoding import canonical_json


def new_bundle_id() -> str:
    """A fresh random bundle id (32 lower-case hex digits)."""
    return uuidlib.uuid4().hex


def new_file_key() -> bytes:
    """A fresh random file key."""
    return os.urandom(FILE_KEY_BYTES)


def signed_message(preamble_sha256: bytes, chunk_count: int, chunks_digest: bytes) -> bytes:
    """What the sender signs: context, SHA-256 of the preamble, chunk count, SHA-256 of the chunk hashes."""
    return SIGNATURE_CONTEXT + preamble_sha256 + struct.pack(">Q", chunk_count) + chunks_digest


class BundleWriter:
    """Streams a bundle to `out`: the header first, chunks as records arrive, the signature at the end."""

    def __init__(
        self,
        out: BinaryIO,
        *,
        bundle_id: str,
        sender: str,
        sender_fingerprint: str,
        recipients: list[Recipient],
        stanzas: list[Stanza],
        records: int,
        signing_key: bytes,
        file_key: bytes,
        created: datetime,
        chunk_records: int = DEFAULT_CHUNK_RECORDS,
        target_chunk_bytes: int = TARGET_CHUNK_PLAINTEXT,
        version: int = FORMAT_VERSION,
        transitions: tuple[KeyTransition, ...] = (),
        checkpoint: str | None = None,
        proofs: tuple[Proof, ...] = (),
    ) -> None:
        self.out = out
        self.bundle_id = bundle_id
        self.records = records
        self.chunk_records = chunk_records
        self.target_chunk_bytes = target_chunk_bytes
        self._signing_key = Ed25519PrivateKey.from_private_bytes(signing_key)
        self._fernet = fernet_for(payload_key(file_key, bundle_id))
        header = header_object(
            bundle_id=bundle_id,
            sender=sender,
            sender_fingerprint=sender_fingerprint,
            recipients=recipients,
            created=created,
            records=records,
            chunk_records=chunk_records,
            stanzas=stanzas,
            version=version,
            transitions=transitions,
            checkpoint=checkpoint,
            proofs=proofs,
        )
        preamble = encode_preamble(header)
        self.preamble_sha256 = hashlib.sha256(preamble).digest()
        # never write what a reader refuses
        parse_header(preamble[len(VERSION_LINE) + 4 :], self.preamble_sha256, version)
        out.write(preamble)
        self._chunk_hashes = hashlib.sha256()
        self._chunks = 0
        self._written = 0
        self._pending: list[bytes] = []
        self._pending_bytes = 0

    def add(self, record: dict[str, Any]) -> str:
        """Queue one record object (validated here); returns its content hash."""
        encoded = encode_record(record)
        self._append(encoded)
        return sha256_hex(encoded)

    def add_withdrawal(self, notice: dict[str, Any]) -> str:
        """Queue one withdrawal notice (validated here; it counts as an entry of the header's `records`)."""
        validate_withdrawal(notice, "withdrawal")
        return self._queue(notice)

    def add_entry(self, entry: dict[str, Any]) -> str:
        """Queue one entry of any kind (a working-group meeting, agenda item or action…), validated here."""
        validate_entry(entry, "entry")
        return self._queue(entry)

    def add_encoded(self, encoded: bytes, digest: str) -> str:
        """Queue one record object already checked and encoded by `encode_record` (by a helper
        process of this export), with its content hash; returns the hash."""
        if len(encoded) + 512 > MAX_CHUNK_PLAINTEXT:
            raise BundleError("record is too large for a bundle chunk")
        self._append(encoded)
        return digest

    def _queue(self, record: dict[str, Any]) -> str:
        encoded = canonical_json(record)
        if len(encoded) + 512 > MAX_CHUNK_PLAINTEXT:
            raise BundleError(f"record {quote(record.get('reference'))} is too large for a bundle chunk")
        self._append(encoded)
        return sha256_hex(encoded)

    def _append(self, encoded: bytes) -> None:
        if self._pending and (
            len(self._pending) >= self.chunk_records or self._pending_bytes + len(encoded) > self.target_chunk_bytes
        ):
            self._flush(final=False)
        self._pending.append(encoded)
        self._pending_bytes += len(encoded) + 1
        self._written += 1

    def _flush(self, *, final: bool) -> None:
        envelope = (
            b'{"bundle":"' + self.bundle_id.encode() + b'","final":' + (b"true" if final else b"false")
            + b',"header":"' + self.preamble_sha256.hex().encode() + b'","index":' + str(self._chunks).encode()
            + b',"records":[' + b",".join(self._pending) + b"]}"
        )  # fmt: skip
        token = self._fernet.encrypt(envelope)
        self.out.write(bytes([FRAME_CHUNK]) + struct.pack(">I", len(token)) + token)
        self._chunk_hashes.update(hashlib.sha256(token).digest())
        self._chunks += 1
        self._pending, self._pending_bytes = [], 0

    def finish(self) -> None:
        """Write the last chunk (flagged final) and the signature; the record count must match the header."""
        if self._written != self.records or (self.records and not self._pending):
            raise BundleError(f"bundle header promised {self.records} records but {self._written} were written")
        self._flush(final=True)
        message = signed_message(self.preamble_sha256, self._chunks, self._chunk_hashes.digest())
        self.out.write(bytes([FRAME_SIGNATURE]) + self._signing_key.sign(message))
