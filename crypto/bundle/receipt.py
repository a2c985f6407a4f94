"""Receipts: a receiver's signed statement of what arrived, sealed to the bundle's sender.

A receipt is a version line, a length-prefixed canonical-JSON envelope (plaintext, signed), a
length-prefixed body sealed to the bundle sender's X25519 key, and an Ed25519 signature.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from crypto.bundle.header import sniff_version
from crypto.bundle.limits import (
    BUNDLE_ID,
    CODE,
    FORMAT_VERSION,
    HEX64,
    MAX_CODE,
    MAX_RECEIPT_BODY,
    MAX_RECEIPT_ENVELOPE,
    MAX_RECEIPT_ITEMS,
    MAX_REFERENCE,
    MAX_REVISION,
    MIN_TOKEN,
    RECEIPT_INFO,
    RECEIPT_LINE,
    RECEIPT_LINES,
    RECEIPT_SIGNATURE_CONTEXT,
    REFERENCE,
    SIGNATURE_BYTES,
)
from crypto.bundle.strict import (
    BundleError,
    check_token_bytes,
    format_time,
    parse_canonical,
    parse_time,
    require_b64,
    require_int,
    require_object,
    require_text,
    sha256_hex,
)
from crypto.bundle.transition import KeyTransition, parse_transitions
from crypto.bundle.witness import Proof, parse_checkpoint_field, parse_proofs
from crypto.encoding import b64e, canonical_json
from crypto.errors import DecryptionFailed, MalformedData
from crypto.seal import open_sealed, seal


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
    version: int = 1
    #: v2: the receiver's key-transition statements (as in a bundle header, §13).
    transitions: tuple[KeyTransition, ...] = ()
    #: v2: the receiver's latest checkpoint and consistency proofs up to it (§14).
    checkpoint: str | None = None
    proofs: tuple[Proof, ...] = ()

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
    version: int = FORMAT_VERSION,
    transitions: tuple[KeyTransition, ...] = (),
    checkpoint: str | None = None,
    proofs: tuple[Proof, ...] = (),
) -> bytes:
    """A whole receipt file: what arrived, sealed to the bundle's sender and signed by its receiver."""
    if version not in RECEIPT_LINES:
        raise BundleError(f"cannot write receipt version {version}")
    if version == 1 and (transitions or checkpoint is not None or proofs):
        raise BundleError("a v1 receipt carries no key transition and no checkpoint")
    if proofs and checkpoint is None:
        raise BundleError("consistency proofs need the checkpoint they lead to")
    body_plain = canonical_json(
        {
            "v": version,
            "bundle": bundle_id,
            "from": sender,
            "to": recipient,
            "received_at": format_time(received_at),
            "records": items,
        }
    )
    try:
        epk, body = seal(recipient_exchange_public, body_plain, _receipt_info(bundle_id, sender, recipient))
    except MalformedData as exc:
        raise BundleError(f"cannot seal the receipt to {recipient}: {exc}") from None
    if len(body) > MAX_RECEIPT_BODY:
        raise BundleError("the receipt is too large")
    env: dict[str, Any] = {
        "v": version,
        "bundle": bundle_id,
        "from": {"code": sender, "fingerprint": sender_fingerprint},
        "to": {"code": recipient, "fingerprint": recipient_fingerprint},
        "created": format_time(created),
        "epk": b64e(epk),
    }
    if transitions:
        env["transitions"] = [t.to_json() for t in transitions]
    if checkpoint is not None:
        env["checkpoint"] = checkpoint
    if proofs:
        env["proofs"] = [p.to_json() for p in proofs]
    envelope = canonical_json(env)
    if len(envelope) > MAX_RECEIPT_ENVELOPE:
        raise BundleError("the receipt envelope is too large")
    preamble = RECEIPT_LINES[version] + struct.pack(">I", len(envelope)) + envelope
    read_receipt(preamble + b"\0\0\0\0", envelope_only=True)  # never write what a reader refuses
    sealed = struct.pack(">I", len(body)) + body
    message = RECEIPT_SIGNATURE_CONTEXT + hashlib.sha256(preamble).digest() + hashlib.sha256(body).digest()
    signature = Ed25519PrivateKey.from_private_bytes(signing_key).sign(message)
    return preamble + sealed + signature


def read_receipt(data: bytes, *, envelope_only: bool = False) -> ReceiptEnvelope:
    """Parse a receipt file's framing and envelope strictly (nothing is verified or opened yet)."""
    kind, version = sniff_version(data[: len(RECEIPT_LINE)])
    if kind != "receipt":
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
    obj = parse_canonical(env_bytes, "receipt envelope")
    # the version first: a v2 envelope under a v1 line is named as such, not by the first v2 field it carries
    if isinstance(obj, dict) and "v" in obj and (obj["v"] != version or isinstance(obj["v"], bool)):
        raise BundleError(f"receipt version is not {version}, the version its first line names")
    optional = {"transitions", "checkpoint", "proofs"} & set(obj) if version == 2 and isinstance(obj, dict) else set()
    obj = require_object(obj, {"v", "bundle", "from", "to", "created", "epk"} | optional, "receipt envelope")
    frm = require_object(obj["from"], {"code", "fingerprint"}, "receipt sender")
    to = require_object(obj["to"], {"code", "fingerprint"}, "receipt recipient")
    sender = require_text(frm["code"], "receipt sender code", pattern=CODE, max_len=MAX_CODE)
    sender_fingerprint = require_text(frm["fingerprint"], "receipt sender fingerprint", pattern=HEX64, max_len=64)
    transitions = (
        parse_transitions(obj["transitions"], sender, sender_fingerprint, "receipt transitions")
        if "transitions" in obj
        else ()
    )
    checkpoint = parse_checkpoint_field(obj["checkpoint"], "receipt") if "checkpoint" in obj else None
    proofs = parse_proofs(obj["proofs"], "receipt") if "proofs" in obj else ()
    if proofs and checkpoint is None:
        raise BundleError("receipt carries consistency proofs without a checkpoint")
    if envelope_only:
        body, signature = b"", b""
        return _envelope(
            obj,
            sender,
            sender_fingerprint,
            to,
            body,
            preamble_sha256,
            signature,
            version,
            transitions,
            checkpoint,
            proofs,
        )
    if len(data) < pos + 4:
        raise BundleError("receipt is truncated")
    (body_len,) = struct.unpack(">I", data[pos : pos + 4])
    if not MIN_TOKEN <= body_len <= MAX_RECEIPT_BODY:
        raise BundleError(f"receipt body length {body_len} is out of range")
    pos += 4
    body = data[pos : pos + body_len]
    pos += body_len
    signature = data[pos : pos + SIGNATURE_BYTES]
    if len(body) != body_len or len(signature) != SIGNATURE_BYTES:
        raise BundleError("receipt is truncated")
    if len(data) != pos + SIGNATURE_BYTES:
        raise BundleError("trailing bytes after the receipt signature")
    check_token_bytes(body, "receipt body")
    return _envelope(
        obj, sender, sender_fingerprint, to, body, preamble_sha256, signature, version, transitions, checkpoint, proofs
    )


def _envelope(
    obj: dict[str, Any],
    sender: str,
    sender_fingerprint: str,
    to: dict[str, Any],
    body: bytes,
    preamble_sha256: bytes,
    signature: bytes,
    version: int,
    transitions: tuple[KeyTransition, ...],
    checkpoint: str | None,
    proofs: tuple[Proof, ...],
) -> ReceiptEnvelope:
    return ReceiptEnvelope(
        bundle_id=require_text(obj["bundle"], "receipt bundle id", pattern=BUNDLE_ID, max_len=32),
        sender=sender,
        sender_fingerprint=sender_fingerprint,
        recipient=require_text(to["code"], "receipt recipient code", pattern=CODE, max_len=MAX_CODE),
        recipient_fingerprint=require_text(
            to["fingerprint"], "receipt recipient fingerprint", pattern=HEX64, max_len=64
        ),
        created=parse_time(obj["created"], "receipt creation time"),
        epk=require_b64(obj["epk"], 32, "receipt ephemeral key"),
        body=body,
        preamble_sha256=preamble_sha256,
        signature=signature,
        version=version,
        transitions=transitions,
        checkpoint=checkpoint,
        proofs=proofs,
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
        plain = open_sealed(
            exchange_private,
            envelope.epk,
            envelope.body,
            _receipt_info(envelope.bundle_id, envelope.sender, envelope.recipient),
        )
    except (DecryptionFailed, MalformedData):
        raise BundleError("the receipt does not open with this ministry's key") from None
    obj = require_object(
        parse_canonical(plain, "receipt body"), {"v", "bundle", "from", "to", "received_at", "records"}, "receipt body"
    )
    if (
        obj["v"] != envelope.version
        or obj["bundle"] != envelope.bundle_id
        or obj["from"] != envelope.sender
        or obj["to"] != envelope.recipient
    ):
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
                require_text(item[0], f"receipt record {i + 1} uuid", max_len=36, min_len=36),
                require_text(item[1], f"receipt record {i + 1} reference", pattern=REFERENCE, max_len=MAX_REFERENCE),
                require_int(item[2], 1, MAX_REVISION, f"receipt record {i + 1} revision"),
                require_text(item[3], f"receipt record {i + 1} hash", pattern=HEX64, max_len=64),
            )
        )
    return ReceiptBody(envelope.bundle_id, parse_time(obj["received_at"], "receipt time"), tuple(items))
