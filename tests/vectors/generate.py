"""Generate the frozen v1 test vectors in `tests/vectors/v1/` (run `python -m tests.vectors.generate`).

Modelled on the C2SP/CCTV age testkit: one file per vector, a few `key: value` header lines stating what a
reader needs (keys, recipient, passphrase) and the expected outcome (`expect: accept` with what must come out,
or `expect: refuse` with the exact one-line error), a blank line, then the file's raw bytes.

Longer than ~500 lines on purpose: it is one flat list of vectors, each a few lines, and reading them in one
place is what lets a reviewer see the whole testkit at once.

Everything is deterministic — keys from a fixed seed, fixed times, and the randomness the format uses (Fernet
IVs and timestamps, X25519 ephemeral keys) drawn from a seeded SHA-256 counter while generating — so running
this again writes byte-identical files, and `tests/vectors/test_vectors.py` checks that it still does. A
change to the format, intended or not, therefore shows up as a diff of these files; an intended one must bump
the version (these v1 vectors stay as they are and must keep being read as they say).

The private keys here are test keys: they protect nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import struct
import sys
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

import cryptography.fernet
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

import crypto.seal
from crypto import bundle as fmt
from crypto.card import write_card
from crypto.encoding import b64e, canonical_json
from crypto.identity import PublicIdentity, public_identity
from crypto.kdf import KdfParams

VECTORS = Path(__file__).parent / "v1"
SEED = b"liaison test vectors v1"
CREATED = datetime(2026, 3, 14, 9, 26, 53, 589793, tzinfo=UTC)
FERNET_TIME = int(CREATED.timestamp())  # the time inside every Fernet token
BUNDLE_ID = hashlib.sha256(SEED + b"|bundle id").hexdigest()[:32]
PASSPHRASE = "correct horse battery staple"


def seeded(label: str) -> bytes:
    """32 deterministic bytes for `label`."""
    return hashlib.sha256(SEED + b"|" + label.encode()).digest()


@dataclass(frozen=True)
class Party:
    """A ministry with deterministic keys."""

    code: str
    name: str
    signing_key: bytes
    exchange_key: bytes

    @property
    def identity(self) -> PublicIdentity:
        return public_identity(self.signing_key, self.exchange_key)


SENDER = Party("PK-MOI", "Ministry of Interior, Pakistan", seeded("PK-MOI signing"), seeded("PK-MOI exchange"))
RECEIVER = Party("TR-MOI", "Ministry of Interior, Türkiye", seeded("TR-MOI signing"), seeded("TR-MOI exchange"))


class _Stream:
    """A SHA-256 counter stream standing in for the OS random source while generating."""

    def __init__(self, label: str) -> None:
        self.key = seeded(label)
        self.counter = 0

    def __call__(self, n: int) -> bytes:
        out = b""
        while len(out) < n:
            self.counter += 1
            out += hashlib.sha256(self.key + self.counter.to_bytes(8, "big")).digest()
        return out[:n]


@contextlib.contextmanager
def deterministic(label: str) -> Iterator[None]:
    """Fernet IVs and timestamps and X25519 ephemeral keys drawn from a stream seeded by `label`."""
    stream = _Stream(label)

    class Ephemeral:
        from_private_bytes = staticmethod(X25519PrivateKey.from_private_bytes)

        @staticmethod
        def generate() -> X25519PrivateKey:
            return X25519PrivateKey.from_private_bytes(stream(32))

    fake_os = types.SimpleNamespace(urandom=stream)
    fake_time = types.SimpleNamespace(time=lambda: float(FERNET_TIME))
    with (
        mock.patch.object(cryptography.fernet, "os", fake_os),
        mock.patch.object(cryptography.fernet, "time", fake_time),
        mock.patch.object(crypto.seal, "X25519PrivateKey", Ephemeral),
    ):
        yield


def record(n: int, **changes: Any) -> dict[str, Any]:
    """A well-formed record object from PK-MOI, releasable to TR-MOI."""
    when = fmt.format_time(CREATED)
    obj = {
        "uuid": f"0c5d1b9e-7a3f-4e21-8b6d-{n:012d}",
        "reference": f"PK-MOI-2026-{n:05d}",
        "domain": "narcotics",
        "origin": "PK-MOI",
        "releasable_to": ["TR-MOI"],
        "tlp": "AMBER",
        "no_reexport": False,
        "revision": 1,
        "author": "alice",
        "created_at": when,
        "updated_at": when,
        "title": f"Test vector record {n}",
        "summary": f"Body of record {n}.\nSecond line, with ünïcödé.",
        "source": "",
    }
    obj.update(changes)
    return obj


RECORDS = [record(1), record(2), record(3)]
#: A withdrawal notice from PK-MOI for a record it shared earlier (a payload entry beside records).
WITHDRAWAL = {
    "kind": "withdrawal",
    "uuid": "0c5d1b9e-7a3f-4e21-8b6d-000000000009",
    "reference": "PK-MOI-2026-00009",
    "origin": "PK-MOI",
    "withdrawn_at": fmt.format_time(CREATED),
    "officer": "alice",
    "reason": "Source retracted.",
}


# ---- bundles ------------------------------------------------------------------------------------------


def genuine_bundle(
    *, passphrase: bool = False, records: list[dict[str, Any]] = RECORDS, chunk_records: int = 2
) -> bytes:
    """A bundle as `BundleWriter` writes it (X25519 stanza for TR-MOI, or a passphrase stanza)."""
    file_key = seeded("file key")
    if passphrase:
        params = KdfParams(salt=seeded("salt")[:16], memory_kib=19 * 1024, iterations=2, lanes=1)
        stanza = fmt.passphrase_stanza(BUNDLE_ID, PASSPHRASE.encode(), params, file_key)
    else:
        stanza = fmt.x25519_stanza(BUNDLE_ID, RECEIVER.code, RECEIVER.identity.exchange_public, file_key)
    out = io.BytesIO()
    writer = fmt.BundleWriter(
        out,
        bundle_id=BUNDLE_ID,
        sender=SENDER.code,
        sender_fingerprint=SENDER.identity.fingerprint,
        recipients=[fmt.Recipient(RECEIVER.code, 7)],
        stanzas=[stanza],
        records=len(records),
        signing_key=SENDER.signing_key,
        file_key=file_key,
        created=CREATED,
        chunk_records=chunk_records,
        version=1,
    )
    for obj in records:
        if fmt.is_withdrawal(obj):
            writer.add_withdrawal(obj)
        else:
            writer.add(obj)
    writer.finish()
    return out.getvalue()


def crafted_bundle(
    chunks: Callable[[str], list[dict[str, Any]]],
    *,
    records: int,
    header_changes: dict[str, Any] | None = None,
    version_line: bytes | None = None,
) -> bytes:
    """A bundle whose chunk envelopes are given as objects, signed with the sender's real key.

    This is what a counterpart running modified software can send: the signature is genuine, so only
    the reader's own checks stand between the file and the store. `chunks` gets the header hash.
    """
    file_key = seeded("file key")
    stanza = fmt.x25519_stanza(BUNDLE_ID, RECEIVER.code, RECEIVER.identity.exchange_public, file_key)
    header = fmt.header_object(
        bundle_id=BUNDLE_ID,
        sender=SENDER.code,
        sender_fingerprint=SENDER.identity.fingerprint,
        recipients=[fmt.Recipient(RECEIVER.code, 7)],
        created=CREATED,
        records=records,
        chunk_records=2,
        stanzas=[stanza],
        version=1,
    )
    header.update(header_changes or {})
    preamble = fmt.encode_preamble(header)
    if version_line is not None:  # v2 vectors: any header behind the given version line
        preamble = version_line + preamble[len(version_line) :]
    header_hash = hashlib.sha256(preamble).digest()
    fernet = fmt.fernet_for(fmt.payload_key(file_key, BUNDLE_ID))
    tokens = [fernet.encrypt(canonical_json(envelope)) for envelope in chunks(header_hash.hex())]
    digest = hashlib.sha256()
    body = preamble
    for token in tokens:
        body += bytes([fmt.FRAME_CHUNK]) + struct.pack(">I", len(token)) + token
        digest.update(hashlib.sha256(token).digest())
    message = fmt.signed_message(header_hash, len(tokens), digest.digest())
    return body + bytes([fmt.FRAME_SIGNATURE]) + Ed25519PrivateKey.from_private_bytes(SENDER.signing_key).sign(message)


def envelope(header_hash: str, index: int, final: bool, records: list[dict[str, Any]]) -> dict[str, Any]:
    """A chunk envelope (the plaintext inside one chunk token)."""
    return {"bundle": BUNDLE_ID, "final": final, "header": header_hash, "index": index, "records": records}


def flip(data: bytes, at: int) -> bytes:
    """`data` with the byte at `at` (negative counts from the end) changed; a base64 letter stays a base64 letter."""
    out = bytearray(data)
    out[at] = ord("B") if out[at] == ord("A") else ord("A") if chr(out[at]).isalnum() else out[at] ^ 0x01
    return bytes(out)


def spaced_header(data: bytes) -> bytes:
    """`data` with one space added after the header's opening brace (length prefix adjusted)."""
    start = len(fmt.VERSION_LINE)
    (length,) = struct.unpack(">I", data[start : start + 4])
    assert data[start + 4 : start + 5] == b"{"
    return data[:start] + struct.pack(">I", length + 1) + b"{ " + data[start + 5 :]


# ---- receipts and cards ---------------------------------------------------------------------------


def genuine_receipt() -> bytes:
    """TR-MOI's receipt for the genuine bundle, sealed to PK-MOI and signed by TR-MOI."""
    return fmt.write_receipt(
        bundle_id=BUNDLE_ID,
        sender=RECEIVER.code,
        sender_fingerprint=RECEIVER.identity.fingerprint,
        signing_key=RECEIVER.signing_key,
        recipient=SENDER.code,
        recipient_fingerprint=SENDER.identity.fingerprint,
        recipient_exchange_public=SENDER.identity.exchange_public,
        received_at=CREATED,
        items=[[r["uuid"], r["reference"], r["revision"], fmt.record_hash(r)] for r in RECORDS],
        created=CREATED,
        version=1,
    )


def genuine_card() -> bytes:
    """PK-MOI's self-signed identity card."""
    return write_card(SENDER.code, SENDER.name, SENDER.signing_key, SENDER.identity)


def card_with(changes: dict[str, Any], *, resign: bool) -> bytes:
    """PK-MOI's card with fields changed, re-signed with its own key or keeping the old signature."""
    from crypto.card import CARD_CONTEXT

    obj = dict(fmt.parse_canonical(genuine_card()[:-1], "card"))
    obj.update(changes)
    if resign:
        unsigned = {k: v for k, v in obj.items() if k != "signature"}
        signature = Ed25519PrivateKey.from_private_bytes(SENDER.signing_key).sign(
            CARD_CONTEXT + canonical_json(unsigned)
        )
        obj["signature"] = b64e(signature)
    return canonical_json(obj) + b"\n"


# ---- the vector set -----------------------------------------------------------------------------------

FORGED_KEY = "\nerror: import finished, 0 refused\x1b]52;c;cHduZWQ=\x07\x1b[2J\u202e"


@dataclass
class Vector:
    """One vector file: its name, kind, body, expected outcome and what a reader needs."""

    name: str
    kind: str  # bundle, receipt, card
    body: bytes
    comment: str
    error: str | None = None  # None: accept
    passphrase: bool = False
    extra: dict[str, str] = field(default_factory=dict)
    entries: list[dict[str, Any]] = field(default_factory=lambda: RECORDS)  # what an accepted bundle yields


def _records_digest(records: list[dict[str, Any]]) -> str:
    return hashlib.sha256("".join(fmt.record_hash(r) for r in records).encode("ascii")).hexdigest()


def vectors() -> list[Vector]:
    """Every vector, generated deterministically."""
    out: list[Vector] = []

    def add(
        label: str, make: Callable[[], bytes], kind: str, comment: str, error: str | None = None, **kw: Any
    ) -> None:
        with deterministic(label):
            body = make()
        out.append(Vector(label, kind, body, comment, error, **kw))

    # bundles
    add(
        "bundle-x25519",
        genuine_bundle,
        "bundle",
        "a genuine bundle: 3 records in 2 chunks, one X25519 stanza for TR-MOI",
    )
    add(
        "bundle-passphrase",
        lambda: genuine_bundle(passphrase=True),
        "bundle",
        "a genuine bundle under a passphrase stanza (Argon2id 19 MiB × 2)",
        passphrase=True,
    )
    good = out[0].body
    add("bundle-empty", lambda: b"", "bundle", "an empty file", "the file is empty")
    add(
        "bundle-version-2",
        lambda: b"liaison-bundle/v2\n" + good[len(fmt.VERSION_LINE) :],
        "bundle",
        "a version this reader does not know",
        "unsupported bundle version 'liaison-bundle/v2'; this Liaison reads liaison-bundle/v1",
    )
    add(
        "bundle-not-liaison",
        lambda: b"age-encryption.org/v1\n" + good[40:],
        "bundle",
        "another format",
        "not a Liaison bundle or receipt (unknown version line)",
    )
    add(
        "bundle-truncated-signature",
        lambda: good[:-10],
        "bundle",
        "the signature cut short",
        "bundle is truncated (in the signature)",
    )
    add(
        "bundle-no-signature",
        lambda: good[:-65],
        "bundle",
        "the signature frame removed",
        "bundle is truncated (no signature)",
    )
    add(
        "bundle-trailing-bytes",
        lambda: good + b"\n",
        "bundle",
        "a byte after the signature",
        "trailing bytes after the bundle signature",
    )
    bad_signature = "bundle signature does not verify against PK-MOI's key: the bundle was altered, truncated or signed by another key"
    add(
        "bundle-flipped-chunk",
        lambda: flip(good, -200),
        "bundle",
        "one character of the last chunk token changed",
        bad_signature,
    )
    add(
        "bundle-flipped-signature",
        lambda: flip(good, -1),
        "bundle",
        "one bit of the signature's last byte flipped",
        bad_signature,
    )
    add(
        "bundle-header-edited",
        lambda: good.replace(b'"seq":7', b'"seq":8', 1),
        "bundle",
        "the sequence number in the header edited, signature kept",
        bad_signature,
    )
    add(
        "bundle-header-unknown-key",
        lambda: crafted_bundle(
            lambda h: [envelope(h, 0, True, RECORDS[:1])], records=1, header_changes={FORGED_KEY: 1}
        ),
        "bundle",
        "an unknown header key holding a newline, OSC 52 and a bidi override: quoted, cut, one line",
        "bundle header: unknown field '\\nerror: import finished, 0 refused\\x1b]52;c'…",
    )
    add(
        "bundle-header-not-canonical",
        lambda: spaced_header(good),
        "bundle",
        "the header JSON with one extra space",
        "bundle header is not in canonical JSON form",
    )
    add(
        "bundle-chunks-reordered",
        lambda: crafted_bundle(
            lambda h: [envelope(h, 1, True, RECORDS[2:]), envelope(h, 0, False, RECORDS[:2])], records=3
        ),
        "bundle",
        "chunks swapped and re-signed with the sender's real key",
        "chunk 1 claims to be chunk 1: chunks reordered or dropped",
    )
    add(
        "bundle-final-chunk-dropped",
        lambda: crafted_bundle(lambda h: [envelope(h, 0, False, RECORDS[:2])], records=2),
        "bundle",
        "the final chunk dropped and the rest re-signed with the sender's real key",
        "the last chunk is not flagged final: the bundle was truncated",
    )
    add(
        "bundle-record-count-short",
        lambda: crafted_bundle(lambda h: [envelope(h, 0, True, RECORDS[:2])], records=3),
        "bundle",
        "the header promises 3 records, the chunks hold 2 (re-signed)",
        "the bundle holds 2 records but its header says 3",
    )
    add(
        "bundle-record-unknown-tlp",
        lambda: crafted_bundle(lambda h: [envelope(h, 0, True, [record(1, tlp="PURPLE")])], records=1),
        "bundle",
        "a signed record with a label that is not TLP 2.0",
        "chunk 1 record 1 tlp is not a TLP 2.0 label",
    )
    add(
        "bundle-record-unknown-field",
        lambda: crafted_bundle(lambda h: [envelope(h, 0, True, [{**record(1), FORGED_KEY: "x"}])], records=1),
        "bundle",
        "a signed record with an extra field holding controls",
        "chunk 1 record 1: unknown field '\\nerror: import finished, 0 refused\\x1b]52;c'…",
    )
    add(
        "bundle-passphrase-wrong",
        lambda: genuine_bundle(passphrase=True),
        "bundle",
        "the passphrase bundle read with another passphrase",
        "wrong bundle passphrase",
        passphrase=True,
        extra={"passphrase": "incorrect horse battery staple"},
    )
    add(
        "bundle-withdrawal",
        lambda: genuine_bundle(records=[*RECORDS[:2], WITHDRAWAL]),
        "bundle",
        "a genuine bundle of 2 records and a withdrawal notice (3 entries in 2 chunks)",
        entries=[*RECORDS[:2], WITHDRAWAL],
    )
    add(
        "bundle-withdrawal-bad-kind",
        lambda: crafted_bundle(lambda h: [envelope(h, 0, True, [{**WITHDRAWAL, "kind": "erase"}])], records=1),
        "bundle",
        "a signed entry with a `kind` other than withdrawal",
        'chunk 1 entry 1 kind must be "withdrawal"',
    )
    # receipts
    add("receipt", genuine_receipt, "receipt", "TR-MOI's genuine receipt for bundle-x25519, sealed to PK-MOI")
    receipt = out[-1].body
    add(
        "receipt-truncated",
        lambda: receipt[:-1],
        "receipt",
        "the signature cut short by one byte",
        "receipt is truncated",
    )
    add(
        "receipt-trailing-bytes",
        lambda: receipt + b"\x00",
        "receipt",
        "a byte after the signature",
        "trailing bytes after the receipt signature",
    )
    add(
        "receipt-flipped-body",
        lambda: flip(receipt, -100),
        "receipt",
        "one character of the sealed body changed",
        "receipt signature does not verify against TR-MOI's key",
    )
    add(
        "receipt-is-a-bundle",
        lambda: good,
        "receipt",
        "a bundle offered as a receipt",
        "this file is a bundle, not a receipt",
    )
    # cards
    add("card", genuine_card, "card", "PK-MOI's genuine self-signed identity card")
    card = out[-1].body
    add(
        "card-name-edited",
        lambda: card_with({"name": "Ministry of Interior, Pakistan (forged)"}, resign=False),
        "card",
        "the name edited, signature kept",
        "the card's self-signature does not verify",
    )
    add(
        "card-fingerprint-edited",
        lambda: card_with({"fingerprint": "0" * 64}, resign=True),
        "card",
        "a fingerprint that is not its keys', re-signed",
        "the card's fingerprint does not match its keys",
    )
    add(
        "card-two-lines",
        lambda: card + b"\n",
        "card",
        "an extra newline",
        "not a Liaison identity card (expected one line of JSON)",
    )
    add(
        "card-not-canonical",
        lambda: card.replace(b'","', b'", "', 1),
        "card",
        "one extra space in the JSON",
        "identity card is not in canonical JSON form",
    )
    add(
        "card-unknown-field",
        lambda: card_with({FORGED_KEY: 1}, resign=True),
        "card",
        "an extra field holding controls, re-signed",
        "identity card: unknown field '\\nerror: import finished, 0 refused\\x1b]52;c'…",
    )
    return out


def render(vector: Vector) -> bytes:
    """The vector file: header lines, a blank line, the body."""
    lines = [
        f"format: {_FORMATS[vector.kind]}",
        f"expect: {'accept' if vector.error is None else 'refuse'}",
    ]
    if vector.error is not None:
        lines.append(f"error: {vector.error}")
    if vector.kind == "bundle":
        lines.append(f"sender-signing-public: {b64e(SENDER.identity.signing_public)}")
        if vector.passphrase:
            lines.append(f"passphrase: {vector.extra.get('passphrase', PASSPHRASE)}")
        else:
            lines.append(f"recipient: {RECEIVER.code}")
            lines.append(f"recipient-exchange-private: {b64e(RECEIVER.exchange_key)}")
        if vector.error is None:
            lines.append(f"records: {len(vector.entries)}")
            lines.append(f"records-sha256: {_records_digest(vector.entries)}")
    elif vector.kind == "receipt":
        lines.append(f"receipt-signer-public: {b64e(RECEIVER.identity.signing_public)}")
        lines.append(f"sender-exchange-private: {b64e(SENDER.exchange_key)}")
        if vector.error is None:
            lines.append(f"bundle: {BUNDLE_ID}")
            lines.append(f"items: {len(RECORDS)}")
            lines.append(f"records-sha256: {_records_digest(RECORDS)}")
    elif vector.error is None:
        lines.append(f"ministry: {SENDER.code}")
        lines.append(f"fingerprint: {SENDER.identity.fingerprint}")
    lines.append(f"comment: {vector.comment}")
    for line in lines:
        assert "\n" not in line and line.isprintable(), line
    return ("\n".join(lines) + "\n\n").encode("utf-8") + vector.body


_FORMATS = {"bundle": "liaison-bundle/v1", "receipt": "liaison-receipt/v1", "card": "liaison-identity-card/v1"}


def rendered() -> dict[str, bytes]:
    """Every vector file's name and bytes."""
    return {v.name: render(v) for v in vectors()}


def main() -> None:
    """Write the vectors (and nothing else) into tests/vectors/v1/."""
    VECTORS.mkdir(exist_ok=True)
    files = rendered()
    for stale in VECTORS.iterdir():
        if stale.name not in files:
            stale.unlink()
    for name, data in files.items():
        (VECTORS / name).write_bytes(data)
    print(f"wrote {len(files)} vectors to {VECTORS}", file=sys.stderr)


if __name__ == "__main__":
    main()
