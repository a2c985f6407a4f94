"""The Liaison bundle and receipt formats, version 1 (docs/bundle-format.md): framing, stanzas, chunks, signatures.

Modelled on age v1 and saltpack with Fernet as the symmetric layer. A bundle is a version line, a
length-prefixed canonical-JSON header (with one stanza per recipient wrapping a fresh file key), a
sequence of length-prefixed Fernet chunk tokens, and an Ed25519 signature over the header and the hash
of every chunk token. Readers check every size limit and every encoding before any expensive work, and
verify the signature before anything is decrypted. Every failure raises `BundleError`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import struct
import uuid as uuidlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, BinaryIO

from cryptography.exceptions import InvalidSignature
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from crypto.encoding import b64e, canonical_json
from crypto.errors import BadParameters, CryptoError, DecryptionFailed, MalformedData
from crypto.kdf import KdfParams
from crypto.seal import open_sealed, seal

VERSION_LINE = b"liaison-bundle/v1\n"
RECEIPT_LINE = b"liaison-receipt/v1\n"
BUNDLE_PREFIX = b"liaison-bundle/"
RECEIPT_PREFIX = b"liaison-receipt/"
#: Longest version line a reader looks at before giving up.
MAX_VERSION_LINE = 32

MAX_HEADER_BYTES = 64 * 1024
MAX_RECIPIENTS = 16
MAX_STANZAS = 16
MAX_RECORDS = 1_000_000
MAX_CHUNK_RECORDS = 10_000
DEFAULT_CHUNK_RECORDS = 250
#: Plaintext of one chunk (canonical JSON) may not exceed this; writers close a chunk well before it.
MAX_CHUNK_PLAINTEXT = 4 * 1024 * 1024
TARGET_CHUNK_PLAINTEXT = 512 * 1024
MAX_SEQ = 2**53 - 1
FILE_KEY_BYTES = 32
SIGNATURE_BYTES = 64
FRAME_CHUNK = 0x43  # "C"
FRAME_SIGNATURE = 0x53  # "S"

#: Passphrase stanzas: Argon2id bounded above so a hostile bundle cannot exhaust the machine.
MAX_STANZA_MEMORY_KIB = 256 * 1024
MAX_STANZA_ITERATIONS = 16
MAX_STANZA_LANES = 4

MAX_TITLE = 300
MAX_TEXT = 200_000
MAX_AUTHOR = 64
MAX_REFERENCE = 40

MAX_RECEIPT_ENVELOPE = 16 * 1024
MAX_RECEIPT_BODY = 64 * 1024 * 1024
MAX_RECEIPT_ITEMS = MAX_RECORDS

SIGNATURE_CONTEXT = b"liaison-bundle/v1/signature\n"
RECEIPT_SIGNATURE_CONTEXT = b"liaison-receipt/v1/signature\n"
PAYLOAD_INFO = b"liaison-bundle/v1/payload"
X25519_INFO = b"liaison-bundle/v1/x25519|"
ARGON2ID_INFO = b"liaison-bundle/v1/argon2id|"
RECEIPT_INFO = b"liaison-receipt/v1/seal|"

TLP_LABELS = ("CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED")
CODE = re.compile(r"[A-Z]{2}-[A-Z0-9]{2,12}")
BUNDLE_ID = re.compile(r"[0-9a-f]{32}")
HEX64 = re.compile(r"[0-9a-f]{64}")
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")
DOMAIN = re.compile(r"[a-z][a-z0-9-]{1,39}")
REFERENCE = re.compile(r"[A-Z]{2}-[A-Z0-9]{2,12}-\d{4}-\d{5,9}")
B64_CHARS = re.compile(rb"[A-Za-z0-9_-]*={0,2}")


class BundleError(CryptoError):
    """A bundle, receipt or card was refused; the message says why in one line."""


def fernet_token_length(plaintext_bytes: int) -> int:
    """Exact length of the base64url Fernet token for a plaintext of this many bytes."""
    raw = 1 + 8 + 16 + 16 * (plaintext_bytes // 16 + 1) + 32
    return 4 * ((raw + 2) // 3)


MAX_CHUNK_TOKEN = fernet_token_length(MAX_CHUNK_PLAINTEXT)
WRAPPED_KEY_TOKEN = fernet_token_length(FILE_KEY_BYTES)


def format_time(moment: datetime) -> str:
    """The one canonical timestamp form of the format: UTC, microseconds, `Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: Any, what: str) -> datetime:
    """Parse a canonical timestamp, refusing every other form."""
    if not isinstance(text, str) or not TIMESTAMP.fullmatch(text):
        raise BundleError(f"{what} is not a canonical timestamp")
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    except ValueError:
        raise BundleError(f"{what} is not a valid date") from None


def sha256_hex(data: bytes) -> str:
    """Lower-case hex SHA-256."""
    return hashlib.sha256(data).hexdigest()


def record_hash(record: dict[str, Any]) -> str:
    """The content hash of one record object: SHA-256 of its canonical JSON (what receipts echo back)."""
    return sha256_hex(canonical_json(record))


# ---- strict decoding helpers -----------------------------------------------------------------------


def parse_canonical(data: bytes, what: str) -> Any:
    """Parse JSON that must be exactly in canonical form (sorted keys, no spaces, UTF-8, no escapes that could be literal)."""
    try:
        obj = json.loads(data.decode("utf-8"), parse_constant=_refuse_constant, parse_float=_refuse_float)
        again = canonical_json(obj)
    except (UnicodeError, ValueError, RecursionError):
        raise BundleError(f"{what} is not valid JSON") from None
    if again != data:
        raise BundleError(f"{what} is not in canonical JSON form")
    return obj


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"constant {name}")


def _refuse_float(text: str) -> Any:
    raise ValueError("floats are not allowed")


def _object(obj: Any, keys: set[str], what: str) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise BundleError(f"{what} is not a JSON object")
    if set(obj) != keys:
        unknown, missing = sorted(set(obj) - keys), sorted(keys - set(obj))
        detail = f"unknown field {unknown[0]}" if unknown else f"missing field {missing[0]}"
        raise BundleError(f"{what}: {detail}")
    return obj


def _int(value: Any, low: int, high: int, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise BundleError(f"{what} must be an integer in {low}..{high}")
    return value


def _str(value: Any, what: str, *, pattern: re.Pattern[str] | None = None, max_len: int = 200, min_len: int = 1) -> str:
    if not isinstance(value, str) or not min_len <= len(value) <= max_len:
        raise BundleError(f"{what} must be text of {min_len}..{max_len} characters")
    if pattern is not None and not pattern.fullmatch(value):
        raise BundleError(f"{what} is malformed")
    if "\x00" in value:
        raise BundleError(f"{what} contains a NUL character")
    return value


def _b64(value: Any, length: int, what: str) -> bytes:
    """Strict padded base64url of exactly `length` bytes, in its one canonical spelling."""
    if not isinstance(value, str) or not value.isascii() or not B64_CHARS.fullmatch(value.encode("ascii")):
        raise BundleError(f"{what} is not canonical base64")
    try:
        raw = base64.urlsafe_b64decode(value.encode("ascii"))
    except ValueError:
        raise BundleError(f"{what} is not canonical base64") from None
    if b64e(raw) != value:
        raise BundleError(f"{what} is not canonical base64")
    if len(raw) != length:
        raise BundleError(f"{what} must be {length} bytes, not {len(raw)}")
    return raw


def _token(value: Any, length: int | None, what: str, max_len: int) -> bytes:
    """A Fernet token as canonical base64url text (of an exact length when given)."""
    if not isinstance(value, str) or not value.isascii():
        raise BundleError(f"{what} is not a Fernet token")
    data = value.encode("ascii")
    if len(data) > max_len or (length is not None and len(data) != length) or len(data) < fernet_token_length(0):
        raise BundleError(f"{what} has the wrong length")
    _check_token_bytes(data, what)
    return data


def _check_token_bytes(data: bytes, what: str) -> None:
    if not B64_CHARS.fullmatch(data):
        raise BundleError(f"{what} is not canonical base64")
    try:
        raw = base64.urlsafe_b64decode(data)
    except ValueError:
        raise BundleError(f"{what} is not canonical base64") from None
    if base64.urlsafe_b64encode(raw) != data:
        raise BundleError(f"{what} is not canonical base64")


def _fernet(key: bytes) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(key))


def _hkdf(secret: bytes, salt: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(secret)


def payload_key(file_key: bytes, bundle_id: str) -> bytes:
    """The chunk key: HKDF-SHA256(file key, salt = bundle id bytes, info = payload label)."""
    return _hkdf(file_key, bytes.fromhex(bundle_id), PAYLOAD_INFO)


def _read_exact(fh: BinaryIO, n: int, where: str) -> bytes:
    data = fh.read(n)
    if len(data) != n:
        raise BundleError(f"bundle is truncated ({where})")
    return data


# ---- the header -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    """A ministry the bundle is addressed to, with the sender's sequence number for it."""

    code: str
    seq: int


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
            return {"type": "x25519", "recipient": self.recipient, "epk": b64e(self.epk), "body": self.body.decode("ascii")}
        assert self.params is not None
        return {
            "type": "argon2id",
            "salt": b64e(self.params.salt),
            "memory_kib": self.params.memory_kib,
            "iterations": self.params.iterations,
            "lanes": self.params.lanes,
            "body": self.body.decode("ascii"),
        }


@dataclass(frozen=True)
class Header:
    """A parsed, validated bundle header and the exact bytes it was read from."""

    bundle_id: str
    sender: str
    sender_fingerprint: str
    recipients: tuple[Recipient, ...]
    created: datetime
    records: int
    chunk_records: int
    stanzas: tuple[Stanza, ...]
    preamble_sha256: bytes

    def to_json(self) -> dict[str, Any]:
        """The header object (canonical JSON of this is what the file holds)."""
        return {
            "v": 1,
            "bundle": self.bundle_id,
            "sender": {"code": self.sender, "fingerprint": self.sender_fingerprint},
            "recipients": [{"code": r.code, "seq": r.seq} for r in self.recipients],
            "created": format_time(self.created),
            "records": self.records,
            "chunk_records": self.chunk_records,
            "stanzas": [s.to_json() for s in self.stanzas],
        }

    def seq_for(self, code: str) -> int | None:
        """The sequence number the sender gave this bundle for ministry `code`."""
        return next((r.seq for r in self.recipients if r.code == code), None)


def _parse_stanza(obj: Any, index: int, recipients: set[str]) -> Stanza:
    what = f"bundle header stanza {index + 1}"
    if not isinstance(obj, dict) or obj.get("type") not in ("x25519", "argon2id"):
        raise BundleError(f"{what} has an unknown type")
    if obj["type"] == "x25519":
        obj = _object(obj, {"type", "recipient", "epk", "body"}, what)
        code = _str(obj["recipient"], f"{what} recipient", pattern=CODE, max_len=16)
        if code not in recipients:
            raise BundleError(f"{what} names {code}, which is not a recipient")
        epk = _b64(obj["epk"], 32, f"{what} ephemeral key")
        return Stanza("x25519", _token(obj["body"], WRAPPED_KEY_TOKEN, f"{what} body", WRAPPED_KEY_TOKEN), recipient=code, epk=epk)
    obj = _object(obj, {"type", "salt", "memory_kib", "iterations", "lanes", "body"}, what)
    salt = _b64(obj["salt"], 16, f"{what} salt")
    params = KdfParams(
        salt=salt,
        memory_kib=_int(obj["memory_kib"], 1, MAX_STANZA_MEMORY_KIB, f"{what} memory_kib"),
        iterations=_int(obj["iterations"], 1, MAX_STANZA_ITERATIONS, f"{what} iterations"),
        lanes=_int(obj["lanes"], 1, MAX_STANZA_LANES, f"{what} lanes"),
    )
    try:
        params.validate()
    except BadParameters as exc:
        raise BundleError(f"{what}: {exc}") from None
    return Stanza("argon2id", _token(obj["body"], WRAPPED_KEY_TOKEN, f"{what} body", WRAPPED_KEY_TOKEN), params=params)


def parse_header(data: bytes, preamble_sha256: bytes) -> Header:
    """Validate a header's canonical JSON: exact fields, types, ranges and patterns."""
    obj = _object(
        parse_canonical(data, "bundle header"),
        {"v", "bundle", "sender", "recipients", "created", "records", "chunk_records", "stanzas"},
        "bundle header",
    )
    if obj["v"] != 1 or isinstance(obj["v"], bool):
        raise BundleError("bundle header version is not 1")
    bundle_id = _str(obj["bundle"], "bundle id", pattern=BUNDLE_ID, max_len=32)
    sender = _object(obj["sender"], {"code", "fingerprint"}, "bundle header sender")
    raw_recipients = obj["recipients"]
    if not isinstance(raw_recipients, list) or not 1 <= len(raw_recipients) <= MAX_RECIPIENTS:
        raise BundleError(f"bundle header must name 1..{MAX_RECIPIENTS} recipients")
    recipients: list[Recipient] = []
    for i, item in enumerate(raw_recipients):
        item = _object(item, {"code", "seq"}, f"bundle header recipient {i + 1}")
        recipients.append(
            Recipient(_str(item["code"], "recipient code", pattern=CODE, max_len=16), _int(item["seq"], 1, MAX_SEQ, "sequence number"))
        )
    codes = {r.code for r in recipients}
    if len(codes) != len(recipients):
        raise BundleError("bundle header names a recipient twice")
    raw_stanzas = obj["stanzas"]
    if not isinstance(raw_stanzas, list) or not 1 <= len(raw_stanzas) <= MAX_STANZAS:
        raise BundleError(f"bundle header must carry 1..{MAX_STANZAS} stanzas")
    stanzas = tuple(_parse_stanza(s, i, codes) for i, s in enumerate(raw_stanzas))
    x_codes = [s.recipient for s in stanzas if s.kind == "x25519"]
    if len(set(x_codes)) != len(x_codes):
        raise BundleError("bundle header has two stanzas for one recipient")
    if sum(1 for s in stanzas if s.kind == "argon2id") > 1:
        raise BundleError("bundle header has more than one passphrase stanza")
    sender_code = _str(sender["code"], "sender code", pattern=CODE, max_len=16)
    if sender_code in codes:
        raise BundleError("bundle header names its sender as a recipient")
    return Header(
        bundle_id=bundle_id,
        sender=sender_code,
        sender_fingerprint=_str(sender["fingerprint"], "sender fingerprint", pattern=HEX64, max_len=64),
        recipients=tuple(recipients),
        created=parse_time(obj["created"], "bundle creation time"),
        records=_int(obj["records"], 1, MAX_RECORDS, "record count"),
        chunk_records=_int(obj["chunk_records"], 1, MAX_CHUNK_RECORDS, "chunk size"),
        stanzas=stanzas,
        preamble_sha256=preamble_sha256,
    )


def sniff(first: bytes) -> str:
    """`bundle` or `receipt` from a file's first bytes; anything else is refused."""
    if not first:
        raise BundleError("the file is empty")
    if first.startswith(VERSION_LINE):
        return "bundle"
    if first.startswith(RECEIPT_LINE):
        return "receipt"
    for prefix, kind in ((BUNDLE_PREFIX, "bundle"), (RECEIPT_PREFIX, "receipt")):
        if first.startswith(prefix):
            line = first[:MAX_VERSION_LINE].split(b"\n", 1)[0]
            shown = line.decode("ascii", "replace")[:MAX_VERSION_LINE]
            raise BundleError(f"unsupported {kind} version {shown!r}; this Liaison reads {(VERSION_LINE if kind == 'bundle' else RECEIPT_LINE).decode().strip()}")
    raise BundleError("not a Liaison bundle or receipt (unknown version line)")


# ---- writing --------------------------------------------------------------------------------------


def new_bundle_id() -> str:
    """A fresh random bundle id (32 lower-case hex digits)."""
    return uuidlib.uuid4().hex


def new_file_key() -> bytes:
    """A fresh random file key."""
    return os.urandom(FILE_KEY_BYTES)


def x25519_stanza(bundle_id: str, recipient: str, recipient_public: bytes, file_key: bytes) -> Stanza:
    """Wrap the file key to a recipient's X25519 key (ephemeral X25519 → HKDF-SHA256 → Fernet)."""
    try:
        epk, token = seal(recipient_public, file_key, X25519_INFO + bundle_id.encode("ascii") + b"|" + recipient.encode("ascii"))
    except MalformedData as exc:
        raise BundleError(f"cannot wrap the key for {recipient}: {exc}") from None
    return Stanza("x25519", token, recipient=recipient, epk=epk)


def _passphrase_fernet(passphrase: bytes, params: KdfParams, bundle_id: str) -> Fernet:
    return _fernet(_hkdf(params.derive(passphrase), b"", ARGON2ID_INFO + bundle_id.encode("ascii")))


def passphrase_stanza(bundle_id: str, passphrase: bytes, params: KdfParams, file_key: bytes) -> Stanza:
    """Wrap the file key under a passphrase (Argon2id → HKDF-SHA256 → Fernet)."""
    if params.memory_kib > MAX_STANZA_MEMORY_KIB or params.iterations > MAX_STANZA_ITERATIONS or params.lanes > MAX_STANZA_LANES:
        raise BundleError("passphrase parameters exceed what a reader accepts")
    return Stanza("argon2id", _passphrase_fernet(passphrase, params, bundle_id).encrypt(file_key), params=params)


def encode_preamble(header: dict[str, Any]) -> bytes:
    """Version line, big-endian u32 header length, canonical header JSON."""
    body = canonical_json(header)
    if not 1 <= len(body) <= MAX_HEADER_BYTES:
        raise BundleError(f"bundle header would be {len(body)} bytes, over the limit of {MAX_HEADER_BYTES}")
    return VERSION_LINE + struct.pack(">I", len(body)) + body


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
    ) -> None:
        self.out = out
        self.bundle_id = bundle_id
        self.records = records
        self.chunk_records = chunk_records
        self.target_chunk_bytes = target_chunk_bytes
        self._signing_key = Ed25519PrivateKey.from_private_bytes(signing_key)
        self._fernet = _fernet(payload_key(file_key, bundle_id))
        header = {
            "v": 1,
            "bundle": bundle_id,
            "sender": {"code": sender, "fingerprint": sender_fingerprint},
            "recipients": [{"code": r.code, "seq": r.seq} for r in recipients],
            "created": format_time(created),
            "records": records,
            "chunk_records": chunk_records,
            "stanzas": [s.to_json() for s in stanzas],
        }
        preamble = encode_preamble(header)
        self.preamble_sha256 = hashlib.sha256(preamble).digest()
        parse_header(preamble[len(VERSION_LINE) + 4 :], self.preamble_sha256)  # never write what a reader refuses
        out.write(preamble)
        self._chunk_hashes = hashlib.sha256()
        self._chunks = 0
        self._written = 0
        self._pending: list[bytes] = []
        self._pending_bytes = 0

    def add(self, record: dict[str, Any]) -> str:
        """Queue one record object (validated here); returns its content hash."""
        validate_record(record, "record")
        encoded = canonical_json(record)
        if len(encoded) + 512 > MAX_CHUNK_PLAINTEXT:
            raise BundleError(f"record {record.get('reference')} is too large for a bundle chunk")
        if self._pending and (len(self._pending) >= self.chunk_records or self._pending_bytes + len(encoded) > self.target_chunk_bytes):
            self._flush(final=False)
        self._pending.append(encoded)
        self._pending_bytes += len(encoded) + 1
        self._written += 1
        return sha256_hex(encoded)

    def _flush(self, *, final: bool) -> None:
        envelope = (
            b'{"bundle":"' + self.bundle_id.encode() + b'","final":' + (b"true" if final else b"false")
            + b',"header":"' + self.preamble_sha256.hex().encode() + b'","index":' + str(self._chunks).encode()
            + b',"records":[' + b",".join(self._pending) + b"]}"
        )
        token = self._fernet.encrypt(envelope)
        self.out.write(bytes([FRAME_CHUNK]) + struct.pack(">I", len(token)) + token)
        self._chunk_hashes.update(hashlib.sha256(token).digest())
        self._chunks += 1
        self._pending, self._pending_bytes = [], 0

    def finish(self) -> None:
        """Write the last chunk (flagged final) and the signature; the record count must match the header."""
        if self._written != self.records or not self._pending:
            raise BundleError(f"bundle header promised {self.records} records but {self._written} were written")
        self._flush(final=True)
        message = signed_message(self.preamble_sha256, self._chunks, self._chunk_hashes.digest())
        self.out.write(bytes([FRAME_SIGNATURE]) + self._signing_key.sign(message))


# ---- reading --------------------------------------------------------------------------------------


def read_preamble(fh: BinaryIO) -> Header:
    """Read and validate the version line and header from the start of `fh` (cheap checks only)."""
    first = fh.read(len(VERSION_LINE))
    kind = sniff(first)
    if kind != "bundle":
        raise BundleError("this file is a receipt, not a bundle")
    raw_len = fh.read(4)
    if len(raw_len) != 4:
        raise BundleError("bundle is truncated (in the header length)")
    (length,) = struct.unpack(">I", raw_len)
    if not 1 <= length <= MAX_HEADER_BYTES:
        raise BundleError(f"bundle header length {length} is out of range 1..{MAX_HEADER_BYTES}")
    body = _read_exact(fh, length, "in the header")
    return parse_header(body, hashlib.sha256(first + raw_len + body).digest())


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
                signature = _read_exact(fh, SIGNATURE_BYTES, "in the signature")
                if fh.read(1):
                    raise BundleError("trailing bytes after the bundle signature")
                break
            if tag[0] != FRAME_CHUNK:
                raise BundleError(f"unknown frame type 0x{tag[0]:02x} at byte {fh.tell() - 1}")
            index = len(hashes)
            if index >= header.records:
                raise BundleError("bundle has more chunks than records")
            raw_len = _read_exact(fh, 4, f"in chunk {index + 1}")
            (length,) = struct.unpack(">I", raw_len)
            if not fernet_token_length(0) <= length <= MAX_CHUNK_TOKEN:
                raise BundleError(f"chunk {index + 1} length {length} is out of range")
            token = _read_exact(fh, length, f"in chunk {index + 1}")
            h = hashlib.sha256(token).digest()
            hashes.append(h)
            digest.update(h)
        if not hashes:
            raise BundleError("bundle has no chunks")
        try:
            Ed25519PublicKey.from_public_bytes(signing_public).verify(signature, signed_message(header.preamble_sha256, len(hashes), digest.digest()))
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
            key = open_sealed(exchange_private, stanza.epk, stanza.body, X25519_INFO + self.header.bundle_id.encode("ascii") + b"|" + recipient.encode("ascii"))
        except (DecryptionFailed, MalformedData) as exc:
            reason = "its ephemeral key is a low-order point" if "low-order" in str(exc) else "it does not open with this ministry's key"
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
            key = _passphrase_fernet(passphrase, stanza.params, self.header.bundle_id).decrypt(stanza.body)
        except InvalidToken:
            raise BundleError("wrong bundle passphrase") from None
        if len(key) != FILE_KEY_BYTES:
            raise BundleError("the passphrase stanza holds a key of the wrong size")
        return key

    def chunks(self, file_key: bytes) -> Iterator[list[dict[str, Any]]]:
        """Pass 2: re-read each chunk, check it is the one signed, decrypt and validate it; yields its records."""
        if self._hashes is None:
            raise BundleError("the bundle signature has not been verified")
        fernet = _fernet(payload_key(file_key, self.header.bundle_id))
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
            _check_token_bytes(token, f"chunk {index + 1}")
            try:
                plain = fernet.decrypt(token)
            except InvalidToken:
                raise BundleError(f"chunk {index + 1} does not decrypt with the bundle key") from None
            if len(plain) > MAX_CHUNK_PLAINTEXT:
                raise BundleError(f"chunk {index + 1} is larger than {MAX_CHUNK_PLAINTEXT} bytes")
            envelope = _object(parse_canonical(plain, f"chunk {index + 1}"), {"bundle", "final", "header", "index", "records"}, f"chunk {index + 1}")
            if envelope["bundle"] != header.bundle_id or envelope["header"] != header.preamble_sha256.hex():
                raise BundleError(f"chunk {index + 1} belongs to another bundle")
            if envelope["index"] != index or isinstance(envelope["index"], bool):
                raise BundleError(f"chunk {index + 1} claims to be chunk {envelope['index']!r}: chunks reordered or dropped")
            if envelope["final"] is not (index == last):
                if index == last:
                    raise BundleError("the last chunk is not flagged final: the bundle was truncated")
                raise BundleError(f"chunk {index + 1} is flagged final but more chunks follow")
            records = envelope["records"]
            if not isinstance(records, list) or not 1 <= len(records) <= header.chunk_records:
                raise BundleError(f"chunk {index + 1} must hold 1..{header.chunk_records} records")
            for i, record in enumerate(records):
                validate_record(record, f"chunk {index + 1} record {i + 1}")
            seen += len(records)
            if seen > header.records:
                raise BundleError(f"the bundle holds more records than its header says ({header.records})")
            yield records
        if seen != header.records:
            raise BundleError(f"the bundle holds {seen} records but its header says {header.records}")


RECORD_FIELDS = {
    "uuid", "reference", "domain", "origin", "releasable_to", "tlp", "no_reexport", "revision",
    "author", "created_at", "updated_at", "title", "summary", "source",
}


def validate_record(obj: Any, what: str) -> dict[str, Any]:
    """Check one record object's shape: exact fields, types, sizes and patterns (meaning is the store's job)."""
    rec = _object(obj, RECORD_FIELDS, what)
    uid = _str(rec["uuid"], f"{what} uuid", max_len=36, min_len=36)
    try:
        if str(uuidlib.UUID(uid)) != uid:
            raise ValueError
    except ValueError:
        raise BundleError(f"{what} uuid is malformed") from None
    _str(rec["reference"], f"{what} reference", pattern=REFERENCE, max_len=MAX_REFERENCE)
    _str(rec["domain"], f"{what} domain", pattern=DOMAIN, max_len=40)
    _str(rec["origin"], f"{what} origin", pattern=CODE, max_len=16)
    releasable = rec["releasable_to"]
    if not isinstance(releasable, list) or len(releasable) > 64:
        raise BundleError(f"{what} releasable_to must be a list of ministry codes")
    for code in releasable:
        _str(code, f"{what} releasable_to entry", pattern=CODE, max_len=16)
    if releasable != sorted(set(releasable)):
        raise BundleError(f"{what} releasable_to must be sorted and without repeats")
    if rec["tlp"] not in TLP_LABELS:
        raise BundleError(f"{what} tlp is not a TLP 2.0 label")
    if not isinstance(rec["no_reexport"], bool):
        raise BundleError(f"{what} no_reexport must be true or false")
    _int(rec["revision"], 1, 1_000_000, f"{what} revision")
    _str(rec["author"], f"{what} author", max_len=MAX_AUTHOR)
    created = parse_time(rec["created_at"], f"{what} created_at")
    if parse_time(rec["updated_at"], f"{what} updated_at") < created:
        raise BundleError(f"{what} was updated before it was created")
    _str(rec["title"], f"{what} title", max_len=MAX_TITLE)
    _str(rec["summary"], f"{what} summary", max_len=MAX_TEXT, min_len=0)
    _str(rec["source"], f"{what} source", max_len=MAX_TEXT, min_len=0)
    return rec


# ---- receipts -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceiptEnvelope:
    """The signed, plaintext outside of a receipt; its body is sealed to the bundle's sender."""

    bundle_id: str
    sender: str  # who signed the receipt: the ministry that received the bundle
    sender_fingerprint: str
    recipient: str  # who the receipt is sealed to: the ministry that sent the bundle
    recipient_fingerprint: str
    created: datetime
    epk: bytes
    body: bytes
    preamble_sha256: bytes
    signature: bytes

    @property
    def receipt_id(self) -> str:
        """A stable id of this exact receipt file."""
        return sha256_hex(self.preamble_sha256 + self.signature)


def _receipt_info(bundle_id: str, sender: str, recipient: str) -> bytes:
    return RECEIPT_INFO + f"{bundle_id}|{sender}|{recipient}".encode("ascii")


def write_receipt(
    *,
    bundle_id: str,
    sender: str,
    sender_fingerprint: str,
    signing_key: bytes,
    recipient: str,
    recipient_fingerprint: str,
    recipient_exchange_public: bytes,
    received_at: datetime,
    items: list[list[Any]],
    created: datetime,
) -> bytes:
    """A whole receipt file: what arrived, sealed to the bundle's sender and signed by its receiver."""
    body_plain = canonical_json(
        {"v": 1, "bundle": bundle_id, "from": sender, "to": recipient, "received_at": format_time(received_at), "records": items}
    )
    try:
        epk, body = seal(recipient_exchange_public, body_plain, _receipt_info(bundle_id, sender, recipient))
    except MalformedData as exc:
        raise BundleError(f"cannot seal the receipt to {recipient}: {exc}") from None
    if len(body) > MAX_RECEIPT_BODY:
        raise BundleError("the receipt is too large")
    envelope = canonical_json(
        {
            "v": 1,
            "bundle": bundle_id,
            "from": {"code": sender, "fingerprint": sender_fingerprint},
            "to": {"code": recipient, "fingerprint": recipient_fingerprint},
            "created": format_time(created),
            "epk": b64e(epk),
        }
    )
    preamble = RECEIPT_LINE + struct.pack(">I", len(envelope)) + envelope
    sealed = struct.pack(">I", len(body)) + body
    message = RECEIPT_SIGNATURE_CONTEXT + hashlib.sha256(preamble).digest() + hashlib.sha256(body).digest()
    signature = Ed25519PrivateKey.from_private_bytes(signing_key).sign(message)
    return preamble + sealed + signature


def read_receipt(data: bytes) -> ReceiptEnvelope:
    """Parse a receipt file's framing and envelope strictly (nothing is verified or opened yet)."""
    if sniff(data[: len(RECEIPT_LINE)]) != "receipt":
        raise BundleError("this file is a bundle, not a receipt")
    pos = len(RECEIPT_LINE)
    if len(data) < pos + 4:
        raise BundleError("receipt is truncated")
    (env_len,) = struct.unpack(">I", data[pos : pos + 4])
    if not 1 <= env_len <= MAX_RECEIPT_ENVELOPE:
        raise BundleError(f"receipt envelope length {env_len} is out of range")
    pos += 4
    env_bytes = data[pos : pos + env_len]
    if len(env_bytes) != env_len:
        raise BundleError("receipt is truncated")
    pos += env_len
    preamble_sha256 = hashlib.sha256(data[:pos]).digest()
    obj = _object(parse_canonical(env_bytes, "receipt envelope"), {"v", "bundle", "from", "to", "created", "epk"}, "receipt envelope")
    if obj["v"] != 1 or isinstance(obj["v"], bool):
        raise BundleError("receipt version is not 1")
    frm = _object(obj["from"], {"code", "fingerprint"}, "receipt sender")
    to = _object(obj["to"], {"code", "fingerprint"}, "receipt recipient")
    if len(data) < pos + 4:
        raise BundleError("receipt is truncated")
    (body_len,) = struct.unpack(">I", data[pos : pos + 4])
    if not fernet_token_length(0) <= body_len <= MAX_RECEIPT_BODY:
        raise BundleError(f"receipt body length {body_len} is out of range")
    pos += 4
    body = data[pos : pos + body_len]
    pos += body_len
    signature = data[pos : pos + SIGNATURE_BYTES]
    if len(body) != body_len or len(signature) != SIGNATURE_BYTES:
        raise BundleError("receipt is truncated")
    if len(data) != pos + SIGNATURE_BYTES:
        raise BundleError("trailing bytes after the receipt signature")
    _check_token_bytes(body, "receipt body")
    return ReceiptEnvelope(
        bundle_id=_str(obj["bundle"], "receipt bundle id", pattern=BUNDLE_ID, max_len=32),
        sender=_str(frm["code"], "receipt sender code", pattern=CODE, max_len=16),
        sender_fingerprint=_str(frm["fingerprint"], "receipt sender fingerprint", pattern=HEX64, max_len=64),
        recipient=_str(to["code"], "receipt recipient code", pattern=CODE, max_len=16),
        recipient_fingerprint=_str(to["fingerprint"], "receipt recipient fingerprint", pattern=HEX64, max_len=64),
        created=parse_time(obj["created"], "receipt creation time"),
        epk=_b64(obj["epk"], 32, "receipt ephemeral key"),
        body=body,
        preamble_sha256=preamble_sha256,
        signature=signature,
    )


def verify_receipt(envelope: ReceiptEnvelope, signing_public: bytes) -> None:
    """Check the receiver's Ed25519 signature over the envelope and the sealed body."""
    message = RECEIPT_SIGNATURE_CONTEXT + envelope.preamble_sha256 + hashlib.sha256(envelope.body).digest()
    try:
        Ed25519PublicKey.from_public_bytes(signing_public).verify(envelope.signature, message)
    except (InvalidSignature, ValueError):
        raise BundleError(f"receipt signature does not verify against {envelope.sender}'s key") from None


@dataclass(frozen=True)
class ReceiptBody:
    """What the receiver says arrived: (uuid, reference, revision, content hash) per record."""

    bundle_id: str
    received_at: datetime
    items: tuple[tuple[str, str, int, str], ...]


def open_receipt(envelope: ReceiptEnvelope, exchange_private: bytes) -> ReceiptBody:
    """Open the sealed body with the bundle sender's X25519 key and validate it against the envelope."""
    try:
        plain = open_sealed(exchange_private, envelope.epk, envelope.body, _receipt_info(envelope.bundle_id, envelope.sender, envelope.recipient))
    except (DecryptionFailed, MalformedData):
        raise BundleError("the receipt does not open with this ministry's key") from None
    obj = _object(parse_canonical(plain, "receipt body"), {"v", "bundle", "from", "to", "received_at", "records"}, "receipt body")
    if obj["v"] != 1 or obj["bundle"] != envelope.bundle_id or obj["from"] != envelope.sender or obj["to"] != envelope.recipient:
        raise BundleError("the receipt body does not match its envelope")
    raw = obj["records"]
    if not isinstance(raw, list) or len(raw) > MAX_RECEIPT_ITEMS:
        raise BundleError("receipt records must be a list")
    items: list[tuple[str, str, int, str]] = []
    for i, item in enumerate(raw):
        if not isinstance(item, list) or len(item) != 4:
            raise BundleError(f"receipt record {i + 1} is malformed")
        items.append(
            (
                _str(item[0], f"receipt record {i + 1} uuid", max_len=36, min_len=36),
                _str(item[1], f"receipt record {i + 1} reference", pattern=REFERENCE, max_len=MAX_REFERENCE),
                _int(item[2], 1, 1_000_000, f"receipt record {i + 1} revision"),
                _str(item[3], f"receipt record {i + 1} hash", pattern=HEX64, max_len=64),
            )
        )
    return ReceiptBody(envelope.bundle_id, parse_time(obj["received_at"], "receipt time"), tuple(items))


ProgressFn = Callable[[int, int], None]
