"""The bundle preamble: version line, length-prefixed canonical-JSON header, and its strict parser (v1 and v2)."""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO

from crypto.bundle.limits import (
    BUNDLE_ID,
    BUNDLE_PREFIX,
    CODE,
    FORMAT_VERSION,
    HEX64,
    MAX_CHUNK_RECORDS,
    MAX_CODE,
    MAX_HEADER_BYTES,
    MAX_RECIPIENTS,
    MAX_RECORDS,
    MAX_SEQ,
    MAX_STANZAS,
    MAX_VERSION_LINE,
    RECEIPT_LINES,
    RECEIPT_PREFIX,
    VERSION_LINE,
    VERSION_LINES,
)
from crypto.bundle.stanza import Stanza, parse_stanza
from crypto.bundle.strict import (
    BundleError,
    format_time,
    parse_canonical,
    parse_time,
    quote,
    read_exact,
    require_int,
    require_object,
    require_text,
)
from crypto.bundle.transition import KeyTransition, parse_transitions
from crypto.bundle.witness import Proof, parse_checkpoint_field, parse_proofs
from crypto.encoding import canonical_json

HEADER_FIELDS = {"v", "bundle", "sender", "recipients", "created", "records", "chunk_records", "stanzas"}
#: Fields a v2 header may add (each absent when it has nothing to say: never empty).
OPTIONAL_FIELDS_V2 = {"transitions", "checkpoint", "proofs"}


@dataclass(frozen=True)
class Recipient:
    """A ministry the bundle is addressed to, with the sender's sequence number for it."""

    code: str
    seq: int


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
    version: int = 1
    #: v2: the sender's key-transition statements, oldest first, ending at `sender_fingerprint` (§13).
    transitions: tuple[KeyTransition, ...] = ()
    #: v2: the sender's latest audit-log checkpoint (a signed note) and consistency proofs up to it (§14).
    checkpoint: str | None = None
    proofs: tuple[Proof, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The header object (canonical JSON of this is what the file holds)."""
        return header_object(
            bundle_id=self.bundle_id,
            sender=self.sender,
            sender_fingerprint=self.sender_fingerprint,
            recipients=self.recipients,
            created=self.created,
            records=self.records,
            chunk_records=self.chunk_records,
            stanzas=self.stanzas,
            version=self.version,
            transitions=self.transitions,
            checkpoint=self.checkpoint,
            proofs=self.proofs,
        )

    def seq_for(self, code: str) -> int | None:
        """The sequence number the sender gave this bundle for ministry `code`."""
        return next((r.seq for r in self.recipients if r.code == code), None)


def header_object(
    *,
    bundle_id: str,
    sender: str,
    sender_fingerprint: str,
    recipients: tuple[Recipient, ...] | list[Recipient],
    created: datetime,
    records: int,
    chunk_records: int,
    stanzas: tuple[Stanza, ...] | list[Stanza],
    version: int = FORMAT_VERSION,
    transitions: tuple[KeyTransition, ...] | list[KeyTransition] = (),
    checkpoint: str | None = None,
    proofs: tuple[Proof, ...] | list[Proof] = (),
) -> dict[str, Any]:
    """The header as a JSON object (writers and `Header.to_json` share it); v1 has none of the v2 fields."""
    if version not in VERSION_LINES:
        raise BundleError(f"cannot write bundle version {version}")
    if version == 1 and (transitions or checkpoint is not None or proofs):
        raise BundleError("a v1 bundle carries no key transition and no checkpoint")
    if proofs and checkpoint is None:
        raise BundleError("consistency proofs need the checkpoint they lead to")
    obj: dict[str, Any] = {
        "v": version,
        "bundle": bundle_id,
        "sender": {"code": sender, "fingerprint": sender_fingerprint},
        "recipients": [{"code": r.code, "seq": r.seq} for r in recipients],
        "created": format_time(created),
        "records": records,
        "chunk_records": chunk_records,
        "stanzas": [s.to_json() for s in stanzas],
    }
    if transitions:
        obj["transitions"] = [t.to_json() for t in transitions]
    if checkpoint is not None:
        obj["checkpoint"] = checkpoint
    if proofs:
        obj["proofs"] = [p.to_json() for p in proofs]
    return obj


def parse_header(data: bytes, preamble_sha256: bytes, version: int = 1) -> Header:
    """Validate a header's canonical JSON: exact fields, types, ranges and patterns; `version` is the version line's."""
    obj = parse_canonical(data, "bundle header")
    # the version first: a v2 header under a v1 line is named as such, not by the first v2 field it carries
    if isinstance(obj, dict) and "v" in obj and (obj["v"] != version or isinstance(obj["v"], bool)):
        raise BundleError(f"bundle header version is not {version}, the version its first line names")
    optional = OPTIONAL_FIELDS_V2 & set(obj) if version == 2 and isinstance(obj, dict) else set()
    obj = require_object(obj, HEADER_FIELDS | optional, "bundle header")
    bundle_id = require_text(obj["bundle"], "bundle id", pattern=BUNDLE_ID, max_len=32)
    sender = require_object(obj["sender"], {"code", "fingerprint"}, "bundle header sender")
    raw_recipients = obj["recipients"]
    if not isinstance(raw_recipients, list) or not 1 <= len(raw_recipients) <= MAX_RECIPIENTS:
        raise BundleError(f"bundle header must name 1..{MAX_RECIPIENTS} recipients")
    recipients: list[Recipient] = []
    for i, item in enumerate(raw_recipients):
        item = require_object(item, {"code", "seq"}, f"bundle header recipient {i + 1}")
        recipients.append(
            Recipient(
                require_text(item["code"], "recipient code", pattern=CODE, max_len=MAX_CODE),
                require_int(item["seq"], 1, MAX_SEQ, "sequence number"),
            )
        )
    codes = {r.code for r in recipients}
    if len(codes) != len(recipients):
        raise BundleError("bundle header names a recipient twice")
    raw_stanzas = obj["stanzas"]
    if not isinstance(raw_stanzas, list) or not 1 <= len(raw_stanzas) <= MAX_STANZAS:
        raise BundleError(f"bundle header must carry 1..{MAX_STANZAS} stanzas")
    stanzas = tuple(parse_stanza(s, i, codes) for i, s in enumerate(raw_stanzas))
    x_codes = [s.recipient for s in stanzas if s.kind == "x25519"]
    if len(set(x_codes)) != len(x_codes):
        raise BundleError("bundle header has two stanzas for one recipient")
    if sum(1 for s in stanzas if s.kind == "argon2id") > 1:
        raise BundleError("bundle header has more than one passphrase stanza")
    sender_code = require_text(sender["code"], "sender code", pattern=CODE, max_len=MAX_CODE)
    if sender_code in codes:
        raise BundleError("bundle header names its sender as a recipient")
    sender_fingerprint = require_text(sender["fingerprint"], "sender fingerprint", pattern=HEX64, max_len=64)
    transitions = (
        parse_transitions(obj["transitions"], sender_code, sender_fingerprint, "bundle header transitions")
        if "transitions" in obj
        else ()
    )
    checkpoint = parse_checkpoint_field(obj["checkpoint"], "bundle header") if "checkpoint" in obj else None
    proofs = parse_proofs(obj["proofs"], "bundle header") if "proofs" in obj else ()
    if proofs and checkpoint is None:
        raise BundleError("bundle header carries consistency proofs without a checkpoint")
    return Header(
        bundle_id=bundle_id,
        sender=sender_code,
        sender_fingerprint=sender_fingerprint,
        recipients=tuple(recipients),
        created=parse_time(obj["created"], "bundle creation time"),
        # none only in a bundle that carries a key transition (a rotation need not wait for a record to send)
        records=require_int(obj["records"], 0 if transitions else 1, MAX_RECORDS, "record count"),
        chunk_records=require_int(obj["chunk_records"], 1, MAX_CHUNK_RECORDS, "chunk size"),
        stanzas=stanzas,
        preamble_sha256=preamble_sha256,
        version=version,
        transitions=transitions,
        checkpoint=checkpoint,
        proofs=proofs,
    )


def sniff(first: bytes) -> str:
    """`bundle` or `receipt` from a file's first bytes; anything else is refused."""
    return sniff_version(first)[0]


def sniff_version(first: bytes) -> tuple[str, int]:
    """(`bundle` or `receipt`, format version) from a file's first bytes; anything else is refused."""
    if not first:
        raise BundleError("the file is empty")
    for kind, lines in (("bundle", VERSION_LINES), ("receipt", RECEIPT_LINES)):
        for version, line in lines.items():
            if first.startswith(line):
                return kind, version
    for prefix, kind in ((BUNDLE_PREFIX, "bundle"), (RECEIPT_PREFIX, "receipt")):
        if first.startswith(prefix):
            line = first[:MAX_VERSION_LINE].split(b"\n", 1)[0]
            shown = line.decode("ascii", "replace")[:MAX_VERSION_LINE]
            known = VERSION_LINES if kind == "bundle" else RECEIPT_LINES
            supported = " and ".join(v.decode().strip() for v in known.values())
            raise BundleError(
                f"unsupported {kind} version {quote(shown, MAX_VERSION_LINE)}; this Liaison reads {supported}"
            )
    raise BundleError("not a Liaison bundle or receipt (unknown version line)")


def encode_preamble(header: dict[str, Any]) -> bytes:
    """Version line (the header's `v`), big-endian u32 header length, canonical header JSON."""
    body = canonical_json(header)
    if not 1 <= len(body) <= MAX_HEADER_BYTES:
        raise BundleError(f"bundle header would be {len(body)} bytes, over the limit of {MAX_HEADER_BYTES}")
    line = VERSION_LINES.get(header.get("v"), VERSION_LINE)  # type: ignore[arg-type]
    return line + struct.pack(">I", len(body)) + body


def read_preamble(fh: BinaryIO) -> Header:
    """Read and validate the version line and header from the start of `fh` (cheap checks only)."""
    first = fh.read(len(VERSION_LINE))
    kind, version = sniff_version(first)
    if kind != "bundle":
        raise BundleError("this file is a receipt, not a bundle")
    raw_len = fh.read(4)
    if len(raw_len) != 4:
        raise BundleError("bundle is truncated (in the header length)")
    (length,) = struct.unpack(">I", raw_len)
    if not 1 <= length <= MAX_HEADER_BYTES:
        raise BundleError(f"bundle header length {length} is out of range 1..{MAX_HEADER_BYTES}")
    body = read_exact(fh, length, "in the header")
    return parse_header(body, hashlib.sha256(first + raw_len + body).digest(), version)
