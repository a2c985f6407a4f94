"""Receipts: what arrived, signed by the receiver and sealed to the sender; processing one marks what it acknowledges."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session as OrmSession

from crypto import bundle as fmt
from crypto.bundle import BundleError
from crypto.identity import PublicIdentity, grouped_fingerprint
from store import policy
from store.audit import log as audit
from store.audit import state as audit_state
from store.bundles.common import BATCH, MAX_RECEIPT_FILE, BundleRefused, refused
from store.bundles.witness import Incoming, WitnessRefused, check_incoming, keep_incoming, note_sent, outgoing
from store.contacts import ContactInfo, contact, keyring_of, own_identity
from store.errors import NotFound
from store.files import atomic_write_bytes, check_target, read_limited
from store.identity import (
    KeyChange,
    KeyRefused,
    apply_transitions,
    confirm_key,
    note_carried,
    resolve_sender,
    retired_identities,
    transitions_for,
)
from store.models import BundleItem, BundleLog, Receipt, Record
from store.vocab import Role, Status

if TYPE_CHECKING:
    from store.service import Session


def make_receipt(session: Session, bundle_id: str) -> bytes:
    """A receipt for an imported bundle: what arrived, signed by this ministry and sealed to the sender."""
    keys = keyring_of(session)
    identity = own_identity(session)
    with session.act("receipt-write", bundle_id) as s:
        log = s.get(BundleLog, bundle_id)
        if log is None or log.direction != "in":
            raise NotFound(f"no imported bundle {bundle_id}")
        sender = contact(session, s, log.peer)
        if sender is None:
            raise NotFound(f"no contact card for {log.peer}", field="contact", value=log.peer)
        items = [
            [u, ref, rev, digest]
            for u, ref, rev, digest in s.execute(
                select(BundleItem.record_uuid, BundleItem.reference, BundleItem.revision, BundleItem.content_sha256)
                .where(BundleItem.bundle_id == bundle_id)
                .order_by(BundleItem.reference, BundleItem.record_uuid)
            )
        ]
        now = session.clock()
        transitions = transitions_for(session, s, log.peer)
        note_carried(s, log.peer, transitions, f"receipt for bundle {bundle_id}")
        witness = outgoing(s, log.peer)  # this store's checkpoint: the bundle's sender witnesses our log
        note_sent(s, log.peer, witness)
        data = fmt.write_receipt(
            bundle_id=bundle_id,
            sender=session.ministry,
            sender_fingerprint=identity.fingerprint,
            signing_key=keys.signing_key,
            recipient=log.peer,
            recipient_fingerprint=sender.fingerprint,
            recipient_exchange_public=sender.identity.exchange_public,
            received_at=log.at,
            items=items,
            created=now,
            transitions=transitions,
            checkpoint=witness.note,
            proofs=witness.proofs,
        )
        log.receipt_at = now
    return data


def write_receipt_file(session: Session, bundle_id: str, out: Path, *, overwrite: bool = False) -> Path:
    """Write the receipt for an imported bundle atomically (never over a store; over a file only if `overwrite`)."""
    out = check_target(out, overwrite=overwrite, protect=(session.db.path,))
    data = make_receipt(session, bundle_id)
    atomic_write_bytes(out, data, overwrite=overwrite, protect=(session.db.path,))
    return out


@dataclass(frozen=True)
class ReceiptResult:
    """What processing a receipt did."""

    path: Path
    bundle_id: str
    peer: str
    acknowledged: int
    mismatched: int
    missing: int
    received_at: datetime
    already_processed: bool = False
    #: The receiver's identity changes this receipt delivered (statements signed by its old and new keys).
    key_changes: tuple[KeyChange, ...] = ()
    #: Records it names that are damaged here (reference, why): left unacknowledged, never signed as they stand.
    damaged: tuple[tuple[str, str], ...] = ()


def _batched(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass(frozen=True)
class ReceiptPreview:
    """A receipt checked before it is processed: who sent it (signature verified), for which bundle we sent."""

    path: Path
    bundle_id: str
    sender: str
    sender_name: str
    fingerprint: str
    received_at: datetime
    records: int
    already_processed: bool

    @property
    def grouped_fingerprint(self) -> str:
        return grouped_fingerprint(self.fingerprint)


@dataclass(frozen=True)
class _Opened:
    envelope: fmt.ReceiptEnvelope
    peer: ContactInfo
    body: fmt.ReceiptBody
    transitions: tuple[fmt.KeyTransition, ...]  # the receiver's statements to apply
    fingerprint: str  # the receiver's key the signature verified with
    key: PublicIdentity


def _open_receipt(session: Session, path: Path) -> _Opened:
    """Read a receipt and check it (sender contact and its key transitions, signature, addressed to us)."""
    policy.require_role(session.actor, Role.REVIEWER, "import")
    keys = keyring_of(session)
    data = read_limited(path, MAX_RECEIPT_FILE, "receipt")
    try:
        envelope = fmt.read_receipt(data)
    except BundleError as exc:
        raise refused(path, exc) from None
    if envelope.recipient != session.ministry:
        raise refused(
            path, f"the receipt is addressed to {envelope.recipient}, not to this ministry ({session.ministry})"
        )
    with session.db.read() as s:
        peer = contact(session, s, envelope.sender)
        if peer is None:
            raise refused(
                path, f"unknown sender {envelope.sender}: no contact card", field="sender", value=envelope.sender
            )
        try:
            key, transitions = resolve_sender(s, peer, envelope.sender_fingerprint, envelope.transitions)
        except KeyRefused as exc:
            raise refused(path, f"the receipt {exc}") from None
        # sealed to our current key, or to one we rotated away from (the receiver had not learnt the new one)
        exchange = {own_identity(session).fingerprint: keys.exchange_key, **retired_identities(session, s)}
    try:
        fmt.verify_receipt(envelope, key.signing_public)
        private = exchange.get(envelope.recipient_fingerprint)
        if private is None:
            raise BundleError("the receipt was sealed to another key of this ministry")
        body = fmt.open_receipt(envelope, private)
    except BundleError as exc:
        raise refused(path, exc) from None
    with session.db.read() as s:
        witnessed(path, s, envelope, key)
    return _Opened(envelope, peer, body, transitions, key.fingerprint, key)


def witnessed(path: Path, s: OrmSession, envelope: fmt.ReceiptEnvelope, key: PublicIdentity) -> Incoming | None:
    """The receipt signer's checkpoint checked against the last one seen from it (docs/bundle-format.md §14)."""
    try:
        return check_incoming(s, envelope.sender, key, envelope.checkpoint, envelope.proofs, "receipt")
    except WitnessRefused as exc:
        if exc.field == "forked":
            raise BundleRefused(str(exc)) from None
        raise refused(path, str(exc)) from None


def _sent_log(s: OrmSession, path: Path, envelope: fmt.ReceiptEnvelope) -> BundleLog:
    """The ledger entry of the bundle a receipt answers, which must have gone to the receipt's sender."""
    log = s.get(BundleLog, envelope.bundle_id)
    if log is None or log.direction != "out" or log.peer != envelope.sender:
        raise refused(path, f"receipt for a bundle never sent to {envelope.sender} ({envelope.bundle_id})")
    return log


def preview_receipt(session: Session, path: Path) -> ReceiptPreview:
    """Check a receipt without processing it: the verified sender, the bundle it answers, whether it was seen."""
    path = Path(path).expanduser()
    opened = _open_receipt(session, path)
    envelope, peer, body = opened.envelope, opened.peer, opened.body
    with session.db.read() as s:
        log = _sent_log(s, path, envelope)
        seen = s.get(Receipt, envelope.receipt_id) is not None
        records = log.records
    return ReceiptPreview(
        path, envelope.bundle_id, envelope.sender, peer.name, opened.fingerprint, body.received_at, records, seen
    )


def process_receipt(session: Session, path: Path) -> ReceiptResult:
    """Check a receipt (sender contact, signature, addressed to us, for a bundle we sent) and mark what arrived acknowledged."""
    path = Path(path).expanduser()
    opened = _open_receipt(session, path)
    envelope, body = opened.envelope, opened.body
    # like a record's dates: ahead of both the store's clock and the wall clock by at most a day, not before 2000
    received = fmt.format_time(body.received_at)
    why = policy.record_time_refusal(body.received_at, max(session.clock(), datetime.now(UTC)))
    if why is not None:
        raise refused(path, f"the receipt's received time {received} {why}", field="received_at", value=received)
    with session.act("receipt", envelope.bundle_id) as s:
        log = _sent_log(s, path, envelope)
        if s.get(Receipt, envelope.receipt_id) is not None:
            return ReceiptResult(
                path, envelope.bundle_id, envelope.sender, 0, 0, 0, body.received_at, already_processed=True
            )
        now = session.clock()
        key_changes = apply_transitions(
            session, s, envelope.sender, opened.transitions, f"receipt for bundle {envelope.bundle_id}"
        )
        keep_incoming(s, witnessed(path, s, envelope, opened.key))
        # the receiver sealed it to this key of ours: our rotations up to that key reached it
        confirm_key(s, envelope.sender, envelope.recipient_fingerprint, now, f"receipt for bundle {envelope.bundle_id}")
        acknowledged = mismatched = 0
        damaged: list[tuple[str, str]] = []
        seen: set[str] = set()
        for batch in _batched(body.items, BATCH):
            uuids = [item[0] for item in batch]
            ledger = {
                row.record_uuid: row
                for row in s.execute(
                    select(BundleItem.record_uuid, BundleItem.record_id, BundleItem.revision, BundleItem.content_sha256)
                    .join(BundleLog, BundleLog.bundle_id == BundleItem.bundle_id)
                    # only what went to the receipt's sender: a receipt never acknowledges a record sent elsewhere
                    .where(
                        BundleItem.bundle_id == log.bundle_id,
                        BundleItem.record_uuid.in_(uuids),
                        BundleLog.direction == "out",
                        BundleLog.peer == envelope.sender,
                    )
                )
            }
            matched: list[str] = []
            record_ids: list[int] = []
            for u, _ref, rev, digest in batch:
                row = ledger.get(u)
                if row is None or u in seen or row.revision != rev or row.content_sha256 != digest:
                    mismatched += 1
                    continue
                seen.add(u)
                matched.append(u)
                if row.record_id is not None:
                    record_ids.append(row.record_id)
            if matched:
                s.execute(
                    update(BundleItem)
                    .where(BundleItem.bundle_id == log.bundle_id, BundleItem.record_uuid.in_(matched))
                    .values(acknowledged_at=body.received_at)
                )
            if record_ids:
                # by primary key (`+status`: SQLite would otherwise walk the status index over every shared record,
                # batch after batch)
                s.flush()
                conn = s.connection()
                ids = (json.dumps(record_ids), Status.SHARED.value)
                changed = list(
                    conn.exec_driver_sql(
                        "SELECT id FROM records WHERE id IN (SELECT value FROM json_each(?)) AND +status = ?", ids
                    ).scalars()
                )
                # a record damaged in the file is left as it is: acknowledging it would sign its state as it stands
                bad = audit_state.damaged_among(
                    s, session.keys(), changed, own_ministry=session.ministry, four_eyes=session.four_eyes, full=False
                )
                if bad:
                    refs = dict(s.execute(select(Record.id, Record.reference).where(Record.id.in_(sorted(bad)))).all())
                    damaged += [(str(refs.get(rid, rid)), why) for rid, why in sorted(bad.items())]
                    changed = [rid for rid in changed if rid not in bad]
                audit.note_records(s, changed, action="acknowledge", data={"bundle_id": log.bundle_id})
                conn.exec_driver_sql(
                    "UPDATE records SET status = ? WHERE id IN (SELECT value FROM json_each(?)) AND +status = ?",
                    (Status.ACKNOWLEDGED.value, json.dumps(changed), Status.SHARED.value),
                )
            acknowledged += len(matched)
        missing = max(0, log.records - acknowledged - mismatched)
        if acknowledged or not log.records:  # a receipt that matches nothing acknowledges nothing
            log.receipt_at = now
        s.add(
            Receipt(
                receipt_id=envelope.receipt_id,
                bundle_id=log.bundle_id,
                peer=envelope.sender,
                received_at=body.received_at,
                processed_at=now,
                acknowledged=acknowledged,
                mismatched=mismatched,
            )
        )
        audit.note(
            s,
            data={
                "receipt_id": envelope.receipt_id,
                "peer": envelope.sender,
                "acknowledged": acknowledged,
                "mismatched": mismatched,
            },
        )
    return ReceiptResult(
        path,
        envelope.bundle_id,
        envelope.sender,
        acknowledged,
        mismatched,
        missing,
        body.received_at,
        key_changes=tuple(key_changes),
        damaged=tuple(damaged),
    )
