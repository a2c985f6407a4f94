"""Withdrawals: the origin withdraws a record it shared; the next bundle to each recipient carries the notice.

At the origin, `withdraw` flags the record (content kept) and queues a withdrawal notice for every
ministry the record was sent to; `export_bundle` adds the pending notices to the next bundle to each of
them (even one with no record to carry) and records the delivery. At a receiver, a notice is accepted
only from the record's origin (the bundle's verified sender), and flags the record withdrawn: its
content stays, it is shown as withdrawn, and it never leaves again in a bundle. The bundle format's
notice object is `crypto.bundle.WITHDRAWAL` (docs/bundle-format.md §7).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, delete, exists, func, insert, select
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.orm import Session as OrmSession

from crypto import bundle as fmt
from crypto.errors import DecryptionFailed
from crypto.events import verify_event
from store import policy
from store.audit import log as audit
from store.audit import rekeys
from store.audit.snapshot import sha256_hex
from store.audit.state import parse_body
from store.audit.timeline import OfficerTimeline
from store.errors import LiaisonError, NotFound, PolicyError, TamperError
from store.interop.base import report_uuids
from store.models import Base, BundleItem, BundleLog, Record, UTCDateTime
from store.text import check_block, check_line
from store.vocab import Status

if TYPE_CHECKING:
    from store.history import ActivityEvent
    from store.service import Session


class Withdrawal(Base):
    """A record withdrawn by its origin: by this ministry (`out`), received from the origin (`in`), or a copy of
    such a record a STIX/MISP import made (`cpy`: flagged with the origin's notice, not a notice of its own)."""

    __tablename__ = "withdrawals"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_uuid: Mapped[str] = mapped_column(String(36), unique=True)
    record_id: Mapped[int | None] = mapped_column(ForeignKey("records.id", ondelete="SET NULL"), nullable=True)
    reference: Mapped[str] = mapped_column(String(40))
    origin: Mapped[str] = mapped_column(String(16))
    direction: Mapped[str] = mapped_column(String(3))
    withdrawn_at: Mapped[datetime] = mapped_column(UTCDateTime)
    officer: Mapped[str] = mapped_column(String(64))
    reason_ct: Mapped[bytes] = mapped_column(LargeBinary)
    bundle_id: Mapped[str | None] = mapped_column(ForeignKey("bundles.bundle_id", ondelete="SET NULL"), nullable=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_withdrawals_record", "record_id"),)


class WithdrawalDelivery(Base):
    """A withdrawal notice sent to a ministry in a bundle."""

    __tablename__ = "withdrawal_deliveries"
    withdrawal_id: Mapped[int] = mapped_column(ForeignKey("withdrawals.id", ondelete="CASCADE"), primary_key=True)
    peer: Mapped[str] = mapped_column(String(16), primary_key=True)
    bundle_id: Mapped[str] = mapped_column(ForeignKey("bundles.bundle_id", ondelete="CASCADE"))

    __table_args__ = (Index("ix_withdrawal_deliveries_bundle", "bundle_id"),)


class WithdrawalRefused(LiaisonError):
    """A withdrawal notice in a bundle that this store does not accept (the bundle is refused whole)."""


@dataclass(frozen=True)
class WithdrawalInfo:
    """A record's withdrawal: who withdrew it and why, and (at the origin) where the notice went or is pending."""

    reference: str
    origin: str
    direction: str  # "sent": this ministry withdrew it; "received": its origin did
    withdrawn_at: datetime
    officer: str
    reason: str
    delivered: tuple[tuple[str, str, datetime], ...]  # (ministry, bundle id, when)
    pending: tuple[str, ...]  # ministries the next bundle will tell

    def to_json(self) -> dict[str, Any]:
        def iso(moment: datetime) -> str:
            return moment.isoformat().replace("+00:00", "Z")

        return {
            "reference": self.reference,
            "origin": self.origin,
            "direction": self.direction,
            "withdrawn_at": iso(self.withdrawn_at),
            "officer": self.officer,
            "reason": self.reason,
            "delivered": [{"counterpart": p, "bundle_id": b, "at": iso(a)} for p, b, a in self.delivered],
            "pending": list(self.pending),
        }


def withdrawn_clause() -> Any:
    """SQL: the record (`Record`) is withdrawn (for the export rules)."""
    return exists().where(Withdrawal.record_uuid == Record.uuid)


def _recipients(s: OrmSession, uuid: str) -> list[str]:
    """Every ministry a record was ever sent to."""
    return list(
        s.scalars(
            select(BundleLog.peer)
            .join(BundleItem, BundleItem.bundle_id == BundleLog.bundle_id)
            .where(BundleLog.direction == "out", BundleItem.record_uuid == uuid)
            .distinct()
            .order_by(BundleLog.peer)
        )
    )


def withdraw(session: Session, reference: str, reason: str = "") -> WithdrawalInfo:
    """The origin withdraws a record it shared: flagged here at once, told to every recipient in the next bundle."""
    ref = reference.strip().upper()
    reason = check_block("reason", reason, reference=ref) if reason else ""
    with session.act("withdraw", ref) as s:
        rec = s.execute(select(Record).where(Record.reference == ref)).scalar_one_or_none()
        if rec is None:
            raise NotFound(f"no record {ref}", reference=ref)
        if s.execute(select(Withdrawal.id).where(Withdrawal.record_uuid == rec.uuid)).first() is not None:
            raise PolicyError(f"{ref} is already withdrawn", reference=ref)
        session.require_intact(s, rec)
        policy.check_withdraw(session.actor, Status(rec.status), ref, origin=rec.origin, own_ministry=session.ministry)
        now = session.clock()
        s.add(
            Withdrawal(
                record_uuid=rec.uuid,
                record_id=rec.id,
                reference=ref,
                origin=rec.origin,
                direction="out",
                withdrawn_at=now,
                officer=session.actor.name,
                reason_ct=session.seal(reason),
                bundle_id=None,
                recorded_at=now,
            )
        )
        s.flush()
        audit.note(s, record_id=rec.id, detail=reason or None, data={"withdrawn_at": fmt.format_time(now)})
        return _info(session, s, rec.uuid, checked=False)  # type: ignore[return-value]


def withdrawal_problem(session: Session, s: OrmSession, row: Withdrawal) -> str | None:
    """Why a withdrawal row is not the one its signed `withdraw` event recorded, None when it is (or when it owes
    none: a notice taken for a record not held then, or a withdrawal from before the log; `_withdraw_event`).

    The record's signed state says only whether it is withdrawn; the row's reason, officer and origin — what `show`
    displays and the next bundle carries as the notice — are held to the event: its signature, the record it is
    about, its officer (ours) or sender (received), and its encrypted detail (the reason), whose ciphertext must be
    the one it signed (or a later `rekey-details` event re-signed) and whose text must be the row's reason."""
    found = _withdraw_event(s, row)
    if isinstance(found, str) or found is None:
        return found
    seq, obj, signer, sig, detail_ct, body = found
    if not verify_event(signer, body, sig):
        return f"its withdraw event #{seq} does not verify (forged or edited)"
    # the key that signed it held to the officer's, as the officers rows (MACs only the store's keys make) anchor it
    timeline = OfficerTimeline.load(s, {str(obj.get("officer"))}, session.keys())
    key_why = timeline.key_problem(str(obj.get("officer")), signer, seq)
    if key_why is not None:
        return f"its withdraw event #{seq}: {key_why}"
    record, data = obj.get("record"), obj.get("data")
    if not isinstance(record, dict) or record.get("uuid") != row.record_uuid or not isinstance(data, dict):
        return f"its withdraw event #{seq} is about another record"
    signed_by = f"its signed withdraw event (#{seq})"
    if record.get("reference") != row.reference:
        return f"its reference is not the one {signed_by} names"
    kind = "out" if "by" not in data else "cpy" if "copy_of" in data else "in"
    if row.direction != kind:
        return f"it is {_DIRECTIONS.get(row.direction, 'of no known kind')}, {signed_by} says {_DIRECTIONS[kind]}"
    if kind == "out" and (obj.get("officer") != row.officer or record.get("origin") != row.origin):
        return f"its withdrawing officer or origin is not the one {signed_by} names"
    if kind != "out" and (data.get("by") != row.origin or data.get("officer", row.officer) != row.officer):
        return f"its sender or the sender's officer is not the one {signed_by} names"
    when = _format_time(row.withdrawn_at)
    if "withdrawn_at" in data:
        if data["withdrawn_at"] != when:
            return f"its time is not the one {signed_by} recorded"
    elif kind == "out" and not _within_a_minute(obj.get("at"), row.withdrawn_at):  # an event from before it held it
        return f"its time is not the one {signed_by} recorded"
    have = sha256_hex(bytes(detail_ct) if detail_ct is not None else None)
    if have != obj.get("detail_sha256") and have not in _rekeyed_detail(session, s, seq):
        return f"the reason its signed withdraw event (#{seq}) holds is not the one it signed"
    try:
        signed = "" if detail_ct is None else session.keys().decrypt(bytes(detail_ct)).decode("utf-8")
        reason = session.keys().decrypt(bytes(row.reason_ct)).decode("utf-8")
    except (DecryptionFailed, UnicodeDecodeError, TypeError):
        return f"its reason, or the one its signed withdraw event (#{seq}) holds, does not decrypt"
    if reason != signed:
        return f"its reason is not the one its signed withdraw event (#{seq}) recorded"
    return None


def _withdraw_event(
    s: OrmSession, row: Withdrawal
) -> tuple[int, dict[str, Any], bytes, bytes, bytes | None, bytes] | str | None:
    """The latest `withdraw` event filed under the row's record (seq, parsed body, signer, signature, detail, body),
    or why there is none where one is owed, or None where none is owed.

    Found by what the signed bodies say, not by the log's unsigned `action` column (an edit there would hide it).
    Only this ministry's own withdrawals owe one — except those made before the log, which its migration's
    `genesis` event signed as withdrawn; a received notice may be about a record not held when it came. A row of
    ours whose record no signed event shows withdrawn, or whose first withdrawn state is not such a genesis, had
    its event cut from the record (or never had one: a row written into the file)."""
    first_withdrawn: str | None = None
    latest: tuple[int, dict[str, Any], bytes, bytes, bytes | None, bytes] | None = None
    for seq, body, signer, sig, detail_ct in s.connection().exec_driver_sql(
        "SELECT seq, body, signer, sig, detail_ct FROM audit_log WHERE record_uuid = ? ORDER BY seq",
        (row.record_uuid,),
    ):
        obj = parse_body(bytes(body)) or {}
        if obj.get("action") == "withdraw":
            latest = (int(seq), obj, bytes(signer), bytes(sig), detail_ct, bytes(body))
        record = obj.get("record")
        if first_withdrawn is None and isinstance(record, dict) and record.get("withdrawn") is True:
            first_withdrawn = str(obj.get("action"))
    if latest is not None or row.direction != "out" or first_withdrawn == "genesis":
        return latest
    return "no signed withdraw event records it (cut from the record in the file, or the row written there)"


#: How a withdrawal row's direction reads in a damage reason.
_DIRECTIONS = {"out": "withdrawn by this ministry", "in": "a notice received", "cpy": "a copy flagged by a notice"}


def _format_time(moment: Any) -> str | None:
    try:
        return fmt.format_time(moment)
    except (TypeError, ValueError, AttributeError):
        return None


def _within_a_minute(signed_at: Any, moment: Any) -> bool:
    """Whether an event's signed time (ISO text) and a row's time are less than a minute apart (both read)."""
    try:
        at = datetime.fromisoformat(str(signed_at).replace("Z", "+00:00"))
        return bool(abs((at - moment).total_seconds()) < 60)
    except (TypeError, ValueError, AttributeError):
        return False


def _rekeyed_detail(session: Session, s: OrmSession, seq: int) -> set[str]:
    """The hashes later `rekey-details` events re-signed for event `seq`'s detail: each verified, signed with an
    admin's key (held to the officers rows) inside a key rotation. Read through the log's target index (those events
    are about `audit_log`): by action alone SQLite walks every later event."""
    found: list[tuple[int, str, bytes, str]] = []
    conn = s.connection()
    for at, body, signer, sig in conn.exec_driver_sql(
        "SELECT seq, body, signer, sig FROM audit_log WHERE target = 'audit_log' AND action = 'rekey-details'"
        " AND seq > ? ORDER BY seq",
        (seq,),
    ):
        if not verify_event(bytes(signer), bytes(body), bytes(sig)):
            continue
        obj = parse_body(bytes(body)) or {}
        data = obj.get("data")
        details = data.get("details") if isinstance(data, dict) else None
        if obj.get("seq") == at and isinstance(details, dict) and isinstance(details.get(str(seq)), str):
            found.append((int(at), str(obj.get("officer")), bytes(signer), details[str(seq)]))
    if not found:
        return set()
    rotations = rekeys.Rotations.read(conn)
    timeline = OfficerTimeline.load(s, {officer for _, officer, _, _ in found} | rotations.officers(), session.keys())
    rotations.settle(timeline)
    return {
        digest
        for at, officer, signer, digest in found
        if rekeys.may_move(timeline, officer, signer, at) and rotations.within(at)
    }


def withdrawals_of(s: OrmSession, record_ids: list[int]) -> list[Withdrawal]:
    """The withdrawal rows of these records (most have none: withdrawals are few, so all of them are read once and
    matched here — one query whatever the number of ids, none of them bound)."""
    wanted = set(record_ids)
    if not wanted:
        return []
    rows = s.scalars(select(Withdrawal).where(Withdrawal.record_id.is_not(None)).order_by(Withdrawal.id))
    return [row for row in rows if row.record_id in wanted]


def withdrawn_reference(s: OrmSession, row: Withdrawal) -> str:
    """The reference of the record a withdrawal row is about, as the record holds it (the row's own copy of it
    may be what was edited); the row's when this store does not hold the record."""
    held = s.scalar(select(Record.reference).where(Record.uuid == row.record_uuid))
    return str(held) if held is not None else row.reference


def require_intact_withdrawal(session: Session, s: OrmSession, row: Withdrawal) -> None:
    """TamperError naming the record when its withdrawal row is not the one its signed event recorded."""
    why = withdrawal_problem(session, s, row)
    if why is not None:
        ref = withdrawn_reference(s, row)
        raise TamperError(f"record {ref} is damaged: {why}", reference=ref)


def _info(session: Session, s: OrmSession, uuid: str, *, checked: bool = True) -> WithdrawalInfo | None:
    """The withdrawal of the record `uuid`, held to its signed event first (`checked`; not for the row the caller
    has just written, whose event is signed when its action ends)."""
    row = s.execute(select(Withdrawal).where(Withdrawal.record_uuid == uuid)).scalar_one_or_none()
    if row is None:
        return None
    if checked:
        require_intact_withdrawal(session, s, row)
    delivered = tuple(
        (peer, bundle_id, at)
        for peer, bundle_id, at in s.execute(
            select(WithdrawalDelivery.peer, WithdrawalDelivery.bundle_id, BundleLog.at)
            .join(BundleLog, BundleLog.bundle_id == WithdrawalDelivery.bundle_id)
            .where(WithdrawalDelivery.withdrawal_id == row.id)
            # as `pending_notices` counts them: through a bundle to that contact after the withdrawal
            .where(BundleLog.direction == "out", BundleLog.peer == WithdrawalDelivery.peer)
            .where(BundleLog.at >= row.withdrawn_at)
            .order_by(BundleLog.at, WithdrawalDelivery.peer)
        )
    )
    told = {p for p, _b, _a in delivered}
    pending = tuple(p for p in _recipients(s, uuid) if p not in told) if row.direction == "out" else ()
    return WithdrawalInfo(
        reference=row.reference,
        origin=row.origin,
        direction="sent" if row.direction == "out" else "received",
        withdrawn_at=row.withdrawn_at,
        officer=row.officer,
        reason=session.open_text(row.reason_ct, row.reference),
        delivered=delivered,
        pending=pending,
    )


def withdrawal_in(session: Session, s: OrmSession, uuid: str) -> WithdrawalInfo | None:
    """The withdrawal of the record `uuid`, inside the caller's transaction, or None."""
    return _info(session, s, uuid)


def withdrawal_of(session: Session, reference: str) -> WithdrawalInfo | None:
    """The withdrawal of a record, or None when it is not withdrawn."""
    session._keys()
    ref = reference.strip().upper()
    with session.db.read() as s:
        uuid = s.execute(select(Record.uuid).where(Record.reference == ref)).scalar_one_or_none()
        if uuid is None:
            raise NotFound(f"no record {ref}", reference=ref)
        return _info(session, s, uuid)


# ---- in bundles ---------------------------------------------------------------------------------------


def pending_notices(session: Session, s: OrmSession, peer: str) -> list[tuple[int, dict[str, Any]]]:
    """The withdrawal notices the next bundle to `peer` must carry: this ministry's withdrawals of records it
    sent to `peer`, not yet delivered there. Returns (withdrawal id, notice object) pairs."""
    sent_there = (
        select(BundleItem.record_uuid)
        .join(BundleLog, BundleLog.bundle_id == BundleItem.bundle_id)
        .where(BundleLog.direction == "out", BundleLog.peer == peer)
    )
    # a delivery counts only through a bundle that went to `peer` after the withdrawal: the delivery rows are not
    # signed, and one written into the file pointing at an earlier bundle would have kept the notice back
    delivered = (
        select(WithdrawalDelivery.withdrawal_id)
        .join(BundleLog, BundleLog.bundle_id == WithdrawalDelivery.bundle_id)
        .where(
            WithdrawalDelivery.peer == peer,
            WithdrawalDelivery.withdrawal_id == Withdrawal.id,
            BundleLog.direction == "out",
            BundleLog.peer == peer,
            BundleLog.at >= Withdrawal.withdrawn_at,
        )
    )
    rows = (
        s.execute(
            select(Withdrawal)
            .where(Withdrawal.direction == "out", Withdrawal.record_uuid.in_(sent_there), ~delivered.exists())
            .order_by(Withdrawal.id)
        )
        .scalars()
        .all()
    )
    for w in rows:  # a notice carries only what its signed withdraw event proves
        require_intact_withdrawal(session, s, w)
    return [
        (
            w.id,
            {
                "kind": "withdrawal",
                "uuid": w.record_uuid,
                "reference": w.reference,
                "origin": w.origin,
                "withdrawn_at": fmt.format_time(w.withdrawn_at),
                "officer": w.officer,
                "reason": session.open_text(w.reason_ct, w.reference),
            },
        )
        for w in rows
    ]


def record_deliveries(s: OrmSession, bundle_id: str, peer: str, withdrawal_ids: list[int]) -> None:
    """Note that the bundle `bundle_id` to `peer` carried these withdrawal notices."""
    if withdrawal_ids:
        # a row already there for one of them did not count (`pending_notices`: no bundle to `peer` after the
        # withdrawal backs it): this one replaces it
        s.execute(
            delete(WithdrawalDelivery).where(
                WithdrawalDelivery.peer == peer, WithdrawalDelivery.withdrawal_id.in_(withdrawal_ids)
            )
        )
        s.execute(
            insert(WithdrawalDelivery),
            [{"withdrawal_id": i, "peer": peer, "bundle_id": bundle_id} for i in withdrawal_ids],
        )


def apply_notice(
    session: Session,
    s: OrmSession,
    sender: str,
    bundle_id: str,
    notice: dict[str, Any],
    now: datetime,
    *,
    latest: datetime | None = None,
    copies: list[tuple[str, str]] | None = None,
    written: Collection[str] = (),
) -> str:
    """Take a withdrawal notice from a verified bundle of `sender`: `withdrawn` when it flagged a record held here,
    `not held` when the record is not here (the notice is kept, so the record is flagged if it ever arrives),
    `seen` when the notice was already taken. Copies of the record a STIX/MISP import made (under a local-only
    reference) are flagged too, and listed in `copies` as (copy's reference, record's reference).

    Refused (the whole bundle with it) unless the sender is the record's origin, or when its officer or date is
    not plausible text or time (checked like a record's author and dates, against `latest`, by default `now`), or
    when the record held (or a copy of it) is damaged in the file, unless this import just wrote it (`written`).
    """
    ref = notice["reference"]
    check_line("officer", notice["officer"], reference=ref)
    withdrawn_at = fmt.parse_time(notice["withdrawn_at"], "withdrawn_at")
    why = policy.record_time_refusal(withdrawn_at, latest or now)
    if why is not None:
        raise WithdrawalRefused(
            f"withdrawal of {ref} withdrawn_at {notice['withdrawn_at']} {why}",
            field="withdrawn_at",
            reference=ref,
            value=notice["withdrawn_at"],
        )
    if notice["origin"] != sender:
        raise WithdrawalRefused(
            f"withdrawal of {ref} names {notice['origin']} as origin but comes from {sender}", reference=ref
        )
    if notice["origin"] == session.ministry:
        raise WithdrawalRefused(f"withdrawal of {ref}, a record of this ministry, from {sender}", reference=ref)
    rec = s.execute(
        select(Record.id, Record.origin, Record.reference).where(Record.uuid == notice["uuid"])
    ).one_or_none()
    if rec is not None and (rec.origin != sender or rec.reference != ref):
        raise WithdrawalRefused(f"withdrawal of {ref} from {sender}, which is not that record's origin", reference=ref)
    reason = check_block("reason", notice["reason"], reference=ref) if notice["reason"] else ""
    if rec is not None and notice["uuid"] not in written:
        # the notice's event signs the record's state: never one damaged in the file (one the same import wrote
        # was checked before it was written over, or is new, and its state is the one the import signs)
        session.require_intact(s, s.get_one(Record, rec.id))
    flagged = _withdraw_copies(session, s, sender, bundle_id, notice, withdrawn_at, reason, now)
    if copies is not None:
        copies += flagged
    if s.execute(select(Withdrawal.id).where(Withdrawal.record_uuid == notice["uuid"])).first() is not None:
        return "seen"
    received = _Received(session, sender, bundle_id, notice, withdrawn_at, reason, now)
    s.add(received.row(notice["uuid"], rec.id if rec is not None else None, ref, direction="in"))
    s.flush()
    if rec is not None:
        audit.note(
            s,
            record_id=rec.id,
            action="withdraw",
            data={"by": sender, "bundle_id": bundle_id, **_notice_facts(notice, withdrawn_at)},
            detail=reason or None,
        )
    return "withdrawn" if rec is not None or flagged else "not held"


@dataclass(frozen=True)
class _Received:
    """What every row a received notice writes shares: who sent it in which bundle, when, by whom and why."""

    session: Session
    sender: str
    bundle_id: str
    notice: dict[str, Any]
    withdrawn_at: datetime
    reason: str
    now: datetime

    def row(self, uuid: str, record_id: int | None, reference: str, *, direction: str) -> Withdrawal:
        """The withdrawal row of one record (`in`: the record the notice names; `cpy`: a copy of it)."""
        return Withdrawal(
            record_uuid=uuid,
            record_id=record_id,
            reference=reference,
            origin=self.sender,
            direction=direction,
            withdrawn_at=self.withdrawn_at,
            officer=self.notice["officer"],
            reason_ct=self.session.seal(self.reason),
            bundle_id=self.bundle_id,
            recorded_at=self.now,
        )


def _withdraw_copies(
    session: Session,
    s: OrmSession,
    sender: str,
    bundle_id: str,
    notice: dict[str, Any],
    withdrawn_at: datetime,
    reason: str,
    now: datetime,
) -> list[tuple[str, str]]:
    """Flag withdrawn the copies of the record held from a STIX/MISP file its origin exported (their ids derived
    from the record's, `store.interop.base.report_uuids`; each under a local-only reference), not flagged yet:
    a withdrawn record never stays current under another reference. Returns (copy's reference, record's)."""
    ref = notice["reference"]
    flagged: list[tuple[str, str]] = []
    rows = s.execute(
        select(Record.id, Record.uuid, Record.reference)
        .where(Record.origin == sender, Record.uuid.in_(report_uuids(notice["uuid"])))
        .where(~exists().where(Withdrawal.record_uuid == Record.uuid))
        .order_by(Record.reference)
    ).all()
    received = _Received(session, sender, bundle_id, notice, withdrawn_at, reason, now)
    for row in rows:
        session.require_intact(s, s.get_one(Record, row.id))  # its event signs the copy's state, as for the record
        s.add(received.row(row.uuid, row.id, row.reference, direction="cpy"))
        s.flush()
        audit.note(
            s,
            record_id=row.id,
            action="withdraw",
            data={"by": sender, "bundle_id": bundle_id, "copy_of": ref, **_notice_facts(notice, withdrawn_at)},
            detail=reason or None,
        )
        flagged.append((row.reference, ref))
    return flagged


def _notice_facts(notice: dict[str, Any], withdrawn_at: datetime) -> dict[str, str]:
    """What a received notice says beside its reason, signed into the `withdraw` event its row is held to."""
    return {"officer": str(notice["officer"]), "withdrawn_at": fmt.format_time(withdrawn_at)}


def link_arrivals(s: OrmSession) -> None:
    """Point notices that arrived before their record at the record, now that it is here."""
    for w in s.execute(select(Withdrawal).where(Withdrawal.record_id.is_(None))).scalars():
        rid = s.execute(select(Record.id).where(Record.uuid == w.record_uuid)).scalar_one_or_none()
        if rid is not None:
            w.record_id = rid


# ---- for the history --------------------------------------------------------------------------------


def withdrawal_counts(s: OrmSession) -> dict[str, int]:
    """How many withdrawal notices each bundle carried (sent: deliveries; received: notices taken)."""
    counts: dict[str, int] = {}
    for bundle_id, n in s.execute(
        select(WithdrawalDelivery.bundle_id, func.count()).group_by(WithdrawalDelivery.bundle_id)
    ):
        counts[bundle_id] = int(n)
    for in_bundle, n in s.execute(
        select(Withdrawal.bundle_id, func.count())
        .where(Withdrawal.bundle_id.is_not(None), Withdrawal.direction == "in")
        .group_by(Withdrawal.bundle_id)
    ):
        counts[str(in_bundle)] = counts.get(str(in_bundle), 0) + int(n)
    return counts


def withdrawal_events(session: Session, s: OrmSession, uuid: str, reference: str) -> list[ActivityEvent]:
    """The withdrawal steps of a record's activity: withdrawn (with the reason), and each notice sent."""
    from store.history import ActivityEvent

    info = _info(session, s, uuid)
    if info is None:
        return []
    row = s.execute(select(Withdrawal.bundle_id).where(Withdrawal.record_uuid == uuid)).scalar_one()
    events = [
        ActivityEvent(
            info.withdrawn_at,
            "withdrawn",
            info.officer,
            counterpart=info.origin if info.direction == "received" else "",
            bundle_id=row or "",
            comment=info.reason,
        )
    ]
    events += [
        ActivityEvent(at, "withdrawal-sent", "", counterpart=peer, bundle_id=bundle_id)
        for peer, bundle_id, at in info.delivered
    ]
    return events


__all__ = [
    "Withdrawal",
    "WithdrawalDelivery",
    "WithdrawalInfo",
    "WithdrawalRefused",
    "apply_notice",
    "pending_notices",
    "record_deliveries",
    "withdraw",
    "withdrawal_of",
    "withdrawn_clause",
]
