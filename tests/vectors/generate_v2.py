"""Generate the v2 test vectors in `tests/vectors/v2/` (run `python -m tests.vectors.generate_v2`).

Same testkit layout and determinism as the frozen v1 set (`tests/vectors/generate.py`, whose keys, records and
seeded randomness this reuses): one file per vector, `key: value` header lines, a blank line, the raw bytes.
v2 adds to the header, optionally, key-transition statements (§13 of docs/bundle-format.md) and the writer's
checkpoint with consistency proofs (§14); these vectors pin how a reader treats each.

Accepted bundles state `transitions` (how many statements the header carries) besides the v1 outputs; a
transition vector's `sender-signing-public` is the NEW key (the bundle is signed with it), and
`previous-fingerprint` is the key a receiver must hold for the chain to start from.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from crypto import bundle as fmt
from crypto.bundle.transition import transition_message
from crypto.encoding import b64e
from tests.vectors.generate import (
    BUNDLE_ID,
    CREATED,
    FORGED_KEY,
    RECEIVER,
    RECORDS,
    SENDER,
    Party,
    _records_digest,
    crafted_bundle,
    deterministic,
    envelope,
    seeded,
)

VECTORS = Path(__file__).parent / "v2"

#: PK-MOI after one and two rotations (deterministic test keys).
SENDER_2 = Party(SENDER.code, SENDER.name, seeded("PK-MOI signing 2"), seeded("PK-MOI exchange 2"))
SENDER_3 = Party(SENDER.code, SENDER.name, seeded("PK-MOI signing 3"), seeded("PK-MOI exchange 3"))
RECEIVER_2 = Party(RECEIVER.code, RECEIVER.name, seeded("TR-MOI signing 2"), seeded("TR-MOI exchange 2"))


def transition(old: Party, new: Party, days: int = 1) -> fmt.KeyTransition:
    """`old` hands over to `new`, signed by both."""
    return fmt.make_transition(
        ministry=old.code,
        at=CREATED + timedelta(days=days),
        old_signing_key=old.signing_key,
        old=old.identity,
        new_signing_key=new.signing_key,
        new=new.identity,
    )


def forged(statement: fmt.KeyTransition, which: str) -> fmt.KeyTransition:
    """`statement` with the `which` ("old" or "new") signature made by an unrelated key."""
    stranger = Ed25519PrivateKey.from_private_bytes(seeded("stranger signing"))
    sig = stranger.sign(transition_message(statement.unsigned()))
    return replace(statement, **{f"{which}_signature": sig})


def bundle_v2(*, sender: Party = SENDER, transitions: tuple[fmt.KeyTransition, ...] = (), check: bool = True) -> bytes:
    """A v2 bundle as `BundleWriter` writes it, signed by `sender` (its current key), X25519 stanza for TR-MOI."""
    from unittest import mock

    file_key = seeded("file key")
    stanza = fmt.x25519_stanza(BUNDLE_ID, RECEIVER.code, RECEIVER.identity.exchange_public, file_key)
    out = io.BytesIO()
    guard = mock.patch("crypto.bundle.writer.parse_header") if not check else _nothing()
    with guard:
        writer = fmt.BundleWriter(
            out,
            bundle_id=BUNDLE_ID,
            sender=sender.code,
            sender_fingerprint=sender.identity.fingerprint,
            recipients=[fmt.Recipient(RECEIVER.code, 7)],
            stanzas=[stanza],
            records=len(RECORDS),
            signing_key=sender.signing_key,
            file_key=file_key,
            created=CREATED,
            chunk_records=2,
            version=2,
            transitions=transitions,
        )
    for obj in RECORDS:
        writer.add(obj)
    writer.finish()
    return out.getvalue()


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def crafted_v2(header_changes: dict[str, Any]) -> bytes:
    """A v2 bundle whose header was changed as given, re-signed with PK-MOI's real key."""
    return crafted_bundle(
        lambda h: [envelope(h, 0, True, RECORDS[:1])],
        records=1,
        header_changes={"v": 2, **header_changes},
        version_line=fmt.VERSION_LINE_V2,
    )


def receipt_v2(*, signer: Party = RECEIVER, transitions: tuple[fmt.KeyTransition, ...] = ()) -> bytes:
    """TR-MOI's v2 receipt for the genuine bundle, signed by `signer` and sealed to PK-MOI."""
    return fmt.write_receipt(
        bundle_id=BUNDLE_ID,
        sender=RECEIVER.code,
        sender_fingerprint=signer.identity.fingerprint,
        signing_key=signer.signing_key,
        recipient=SENDER.code,
        recipient_fingerprint=SENDER.identity.fingerprint,
        recipient_exchange_public=SENDER.identity.exchange_public,
        received_at=CREATED,
        items=[[r["uuid"], r["reference"], r["revision"], fmt.record_hash(r)] for r in RECORDS],
        created=CREATED,
        version=2,
        transitions=transitions,
    )


class Vector:
    """One v2 vector file."""

    def __init__(self, name: str, kind: str, body: bytes, comment: str, error: str | None, **kw: Any) -> None:
        self.name, self.kind, self.body, self.comment, self.error = name, kind, body, comment, error
        self.signer: Party = kw.get("signer", SENDER if kind == "bundle" else RECEIVER)
        self.previous: Party | None = kw.get("previous")
        self.transitions: int = kw.get("transitions", 0)


def vectors() -> list[Vector]:
    """Every v2 vector, generated deterministically."""
    out: list[Vector] = []

    def add(
        label: str, make: Callable[[], bytes], kind: str, comment: str, error: str | None = None, **kw: Any
    ) -> None:
        with deterministic(label):
            body = make()
        out.append(Vector(label, kind, body, comment, error, **kw))

    one = transition(SENDER, SENDER_2)
    two = transition(SENDER_2, SENDER_3, days=2)
    add("bundle-v2-x25519", bundle_v2, "bundle", "a genuine v2 bundle without optional fields: 3 records in 2 chunks")
    add(
        "bundle-v2-transition",
        lambda: bundle_v2(sender=SENDER_2, transitions=(one,)),
        "bundle",
        "PK-MOI rotated: signed by its new key, the header carries the statement signed by the old and new keys",
        signer=SENDER_2,
        previous=SENDER,
        transitions=1,
    )
    add(
        "bundle-v2-transition-chain",
        lambda: bundle_v2(sender=SENDER_3, transitions=(one, two)),
        "bundle",
        "two rotations not yet delivered: both statements, oldest first, ending at the signing key",
        signer=SENDER_3,
        previous=SENDER,
        transitions=2,
    )
    add(
        "bundle-v2-transition-bad-new-signature",
        lambda: bundle_v2(sender=SENDER_2, transitions=(forged(one, "new"),), check=False),
        "bundle",
        "the new key's signature on the statement is by another key: the old key alone cannot rotate",
        "bundle header transitions 1 of PK-MOI is refused: the new key's signature does not verify (both keys must sign)",
        signer=SENDER_2,
    )
    add(
        "bundle-v2-transition-bad-old-signature",
        lambda: bundle_v2(sender=SENDER_2, transitions=(forged(one, "old"),), check=False),
        "bundle",
        "the old key's signature on the statement is by another key: a new key alone cannot take over",
        "bundle header transitions 1 of PK-MOI is refused: the old key's signature does not verify (both keys must sign)",
        signer=SENDER_2,
    )
    add(
        "bundle-v2-transition-not-to-signer",
        lambda: bundle_v2(sender=SENDER_3, transitions=(one,), check=False),
        "bundle",
        "a valid statement handing over to a key other than the one the bundle names and is signed with",
        "bundle header transitions do not end at the sender key the file names",
        signer=SENDER_3,
    )
    add(
        "bundle-v2-transition-broken-chain",
        lambda: bundle_v2(sender=SENDER_3, transitions=(two, one), check=False),
        "bundle",
        "two valid statements in the wrong order",
        "bundle header transitions 2 does not continue from the key statement 1 handed over to",
        signer=SENDER_3,
    )
    add(
        "bundle-v2-transition-of-another-ministry",
        lambda: bundle_v2(sender=SENDER_2, transitions=(transition(RECEIVER, RECEIVER_2),), check=False),
        "bundle",
        "TR-MOI's own (valid) statement carried in PK-MOI's bundle",
        "bundle header transitions 1 is a statement of TR-MOI, not of the sender PK-MOI",
        signer=SENDER_2,
    )
    add(
        "bundle-v2-empty-transitions",
        lambda: crafted_v2({"transitions": []}),
        "bundle",
        "an optional field present but empty (absent is the one spelling of none)",
        "bundle header transitions must hold 1..8 key-transition statements",
    )
    add(
        "bundle-v2-proofs-without-checkpoint",
        lambda: crafted_v2({"proofs": [{"from": 1, "hashes": []}]}),
        "bundle",
        "consistency proofs with no checkpoint to lead to",
        "bundle header carries consistency proofs without a checkpoint",
    )
    add(
        "bundle-v2-unknown-field",
        lambda: crafted_v2({FORGED_KEY: 1}),
        "bundle",
        "an unknown header key holding controls: v2 has optional fields, not open-ended ones",
        "bundle header: unknown field '\\nerror: import finished, 0 refused\\x1b]52;c'…",
    )
    good = out[0].body
    add(
        "bundle-v2-line-on-v1-header",
        lambda: crafted_bundle(
            lambda h: [envelope(h, 0, True, RECORDS[:1])], records=1, version_line=fmt.VERSION_LINE_V2
        ),
        "bundle",
        "a v1 header behind the v2 version line (re-signed)",
        "bundle header version is not 2, the version its first line names",
    )
    add(
        "bundle-version-3",
        lambda: b"liaison-bundle/v3\n" + good[len(fmt.VERSION_LINE_V2) :],
        "bundle",
        "a version this reader does not know",
        "unsupported bundle version 'liaison-bundle/v3'; this Liaison reads liaison-bundle/v1 and liaison-bundle/v2",
    )
    add("receipt-v2", receipt_v2, "receipt", "TR-MOI's genuine v2 receipt for the bundle, sealed to PK-MOI")
    add(
        "receipt-v2-transition",
        lambda: receipt_v2(signer=RECEIVER_2, transitions=(transition(RECEIVER, RECEIVER_2),)),
        "receipt",
        "TR-MOI rotated: the receipt is signed by its new key and carries the statement",
        signer=RECEIVER_2,
        previous=RECEIVER,
        transitions=1,
    )
    add(
        "receipt-v2-transition-bad-old-signature",
        lambda: _unchecked_receipt(forged(transition(RECEIVER, RECEIVER_2), "old")),
        "receipt",
        "a receipt whose statement's old-key signature is by another key",
        "receipt transitions 1 of TR-MOI is refused: the old key's signature does not verify (both keys must sign)",
        signer=RECEIVER_2,
    )
    return out


def _unchecked_receipt(statement: fmt.KeyTransition) -> bytes:
    from unittest import mock

    import crypto.bundle.receipt as receipt_module

    # the modified writer does not check its own envelope
    with mock.patch.object(receipt_module, "read_receipt"):
        return receipt_v2(signer=RECEIVER_2, transitions=(statement,))


_FORMATS = {"bundle": "liaison-bundle/v2", "receipt": "liaison-receipt/v2"}


def render(vector: Vector) -> bytes:
    """The vector file: header lines, a blank line, the body."""
    lines = [f"format: {_FORMATS[vector.kind]}", f"expect: {'accept' if vector.error is None else 'refuse'}"]
    if vector.error is not None:
        lines.append(f"error: {vector.error}")
    if vector.kind == "bundle":
        lines.append(f"sender-signing-public: {b64e(vector.signer.identity.signing_public)}")
        lines.append(f"recipient: {RECEIVER.code}")
        lines.append(f"recipient-exchange-private: {b64e(RECEIVER.exchange_key)}")
        if vector.error is None:
            lines.append(f"records: {len(RECORDS)}")
            lines.append(f"records-sha256: {_records_digest(RECORDS)}")
    else:
        lines.append(f"receipt-signer-public: {b64e(vector.signer.identity.signing_public)}")
        lines.append(f"sender-exchange-private: {b64e(SENDER.exchange_key)}")
        if vector.error is None:
            lines.append(f"bundle: {BUNDLE_ID}")
            lines.append(f"items: {len(RECORDS)}")
            lines.append(f"records-sha256: {_records_digest(RECORDS)}")
    if vector.error is None:
        lines.append(f"transitions: {vector.transitions}")
        if vector.previous is not None:
            lines.append(f"previous-fingerprint: {vector.previous.identity.fingerprint}")
    lines.append(f"comment: {vector.comment}")
    for line in lines:
        assert "\n" not in line and line.isprintable(), line
    return ("\n".join(lines) + "\n\n").encode("utf-8") + vector.body


def rendered() -> dict[str, bytes]:
    """Every vector file's name and bytes."""
    return {v.name: render(v) for v in vectors()}


def main() -> None:
    """Write the vectors (and nothing else) into tests/vectors/v2/."""
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
