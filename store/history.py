"""What happened, for officers to look at: every bundle sent and received, and one record's activity.

Read-only queries over the tables that already record it (revisions, review events, the bundle log and
its items, receipts, withdrawals). The faces show these; they decide nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session as OrmSession

from store.bundles.ledger import ledger_entries
from store.errors import NotFound
from store.models import AuditRow, BundleItem, BundleLog, Record, ReviewEvent, Revision

if TYPE_CHECKING:
    from store.service import Session

#: `direction` of the bundle log as the faces name it.
DIRECTIONS = {"out": "sent", "in": "received"}


@dataclass(frozen=True)
class BundleEntry:
    """One bundle this store sent or received.

    `acknowledged`: for a sent bundle, a receipt from the counterpart was processed; for a received one, this
    ministry wrote a receipt for it. `acknowledged_records` counts the records a receipt confirmed (sent only).
    """

    bundle_id: str
    direction: str  # "sent" or "received"
    at: datetime
    counterpart: str
    seq: int
    records: int
    officer: str
    acknowledged: bool
    receipt_at: datetime | None
    acknowledged_records: int
    withdrawals: int = 0


def bundle_history(
    session: Session, *, direction: str | None = None, counterpart: str | None = None
) -> list[BundleEntry]:
    """Every bundle sent and received, newest first (optionally only `sent`/`received`, or one counterpart)."""
    session._keys()  # an unlocked session: the history is the officers' to see
    from store.withdrawals import withdrawal_counts

    acked = (
        select(BundleItem.bundle_id, func.count().label("n"))
        .where(BundleItem.acknowledged_at.is_not(None))
        .group_by(BundleItem.bundle_id)
        .subquery()
    )
    stmt = (
        select(
            BundleLog.bundle_id,
            BundleLog.direction,
            BundleLog.at,
            BundleLog.peer,
            BundleLog.seq,
            BundleLog.records,
            BundleLog.officer,
            BundleLog.receipt_at,
            func.coalesce(acked.c.n, 0),
        )
        .outerjoin(acked, acked.c.bundle_id == BundleLog.bundle_id)
        .order_by(BundleLog.at.desc(), case((BundleLog.direction == "in", 0), else_=1), BundleLog.seq.desc())
    )
    if direction is not None:
        wanted = {v: k for k, v in DIRECTIONS.items()}[direction]
        stmt = stmt.where(BundleLog.direction == wanted)
    if counterpart is not None:
        stmt = stmt.where(BundleLog.peer == counterpart.strip().upper())
    with session.db.read() as s:
        rows = s.execute(stmt).all()
        withdrawals = withdrawal_counts(s)
    return [
        BundleEntry(
            bundle_id=r[0],
            direction=DIRECTIONS.get(r[1], str(r[1])),
            at=r[2],
            counterpart=r[3],
            seq=r[4],
            records=r[5],
            officer=r[6],
            acknowledged=r[7] is not None,
            receipt_at=r[7],
            acknowledged_records=int(r[8]),
            withdrawals=withdrawals.get(r[0], 0),
        )
        for r in rows
    ]


@dataclass(frozen=True)
class ActivityEvent:
    """One thing that happened to a record, for its activity list.

    `kind` is one of: created, revised, submitted, approved, returned, actioned, closed (review steps),
    shared (a revision went to `counterpart` in `bundle_id`), received (a revision arrived from `counterpart`),
    acknowledged (`counterpart` confirmed receiving it), withdrawn (by its origin), withdrawal-sent
    (the withdrawal went to `counterpart`), re-encrypted (a key rotation's batch moved its ciphertexts).
    """

    at: datetime
    kind: str
    officer: str = ""
    revision: int | None = None
    counterpart: str = ""
    bundle_id: str = ""
    comment: str = ""


#: Review actions (`review_events.action`) as activity kinds.
REVIEW_KINDS = {
    "submit": "submitted",
    "approve": "approved",
    "return": "returned",
    "actioned": "actioned",
    "close": "closed",
}
#: Order of kinds that share a timestamp: the story reads in the order things must have happened.
_ORDER = (
    "created",
    "received",
    "revised",
    "submitted",
    "returned",
    "approved",
    "shared",
    "acknowledged",
    "actioned",
    "withdrawn",
    "withdrawal-sent",
    "closed",
    "re-encrypted",
)


def _rotations(s: OrmSession, uuid: str) -> list[ActivityEvent]:
    """The key rotations' batches that re-encrypted the record (`rekey_index`; each batch is one signed event, so a
    move an admin signed is seen here, under their name; the exports' share batches listed there too are the
    sharing ledger's to show)."""
    from store.audit.rekeys import index_rows

    seqs = sorted({seq for _uuid, seq in index_rows(s.connection(), "WHERE record_uuid = ?", (uuid,))})
    if not seqs:
        return []
    rows = s.execute(
        select(AuditRow.seq, AuditRow.at, AuditRow.officer).where(AuditRow.seq.in_(seqs), AuditRow.action == "rekey")
    )
    return [
        ActivityEvent(at, "re-encrypted", officer, comment=f"by a key rotation (audit event #{seq})")
        for seq, at, officer in rows
    ]


def record_activity(session: Session, reference: str) -> list[ActivityEvent]:
    """Everything that happened to one record, oldest first: creation, every revision, review steps with their
    comments (decrypted), every bundle it went out in or came in with, acknowledgements, withdrawal."""
    session._keys()
    from store.withdrawals import withdrawal_events

    ref = reference.strip().upper()
    events: list[ActivityEvent] = []
    with session.db.read() as s:
        rec = s.execute(
            select(Record.id, Record.uuid, Record.reference, Record.origin, Record.author, Record.created_at).where(
                Record.reference == ref
            )
        ).one_or_none()
        if rec is None:
            raise NotFound(f"no record {ref}", reference=ref)
        revisions = s.execute(
            select(Revision.number, Revision.created_at, Revision.officer)
            .where(Revision.record_id == rec.id)
            .order_by(Revision.number)
        ).all()
        first = revisions[0].number if revisions else 1
        # an inbound record's first revision here may be a later one of the origin's: it was created there
        events.append(ActivityEvent(rec.created_at, "created", rec.author, revision=first))
        for number, at, officer in revisions[1:]:
            events.append(ActivityEvent(at, "revised", officer, revision=number))
        for officer, action, at, comment_ct in s.execute(
            select(ReviewEvent.officer, ReviewEvent.action, ReviewEvent.at, ReviewEvent.comment_ct)
            .where(ReviewEvent.record_id == rec.id)
            .order_by(ReviewEvent.id)
        ):
            comment = session.open_text(comment_ct, rec.reference) if comment_ct else ""
            events.append(ActivityEvent(at, REVIEW_KINDS.get(action, action), officer, comment=comment))
        for entry in ledger_entries(s, rec.uuid):
            kind = "shared" if entry.direction == "out" else "received"
            for when, what, who in [(entry.at, kind, entry.officer), (entry.acknowledged_at, "acknowledged", "")]:
                if when is not None:
                    events.append(
                        ActivityEvent(
                            when,
                            what,
                            who,
                            revision=entry.revision,
                            counterpart=entry.peer,
                            bundle_id=entry.bundle_id,
                        )
                    )
        events.extend(withdrawal_events(session, s, rec.uuid, rec.reference))
        events.extend(_rotations(s, rec.uuid))
    events.sort(key=lambda e: (e.at, _ORDER.index(e.kind) if e.kind in _ORDER else len(_ORDER)))
    return events


__all__ = ["ActivityEvent", "BundleEntry", "bundle_history", "record_activity"]
