"""Reading the audit log: `AuditQuery` filters, `AuditEntry` rows (what `audit log` and the audit screen show)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session as OrmSession

from store.audit.rekeys import index_rows
from store.audit.state import parse_body
from store.models import AuditRow, Record


@dataclass(frozen=True)
class AuditQuery:
    """Which events to list: of one record (reference), by one officer, of one action, since a day; newest last."""

    record: str | None = None
    officer: str | None = None
    action: str | None = None
    since: date | datetime | None = None
    limit: int | None = None


@dataclass(frozen=True)
class AuditEntry:
    """One event as listed: `signer_fingerprint` is the first 16 hex digits of SHA-256 of the signer's public key."""

    seq: int
    at: datetime
    officer: str
    action: str
    target: str
    signer_fingerprint: str
    record_reference: str | None

    def to_json(self) -> dict[str, Any]:
        """The JSON object of `audit log --json`."""
        return {
            "seq": self.seq,
            "at": self.at.isoformat(),
            "officer": self.officer,
            "action": self.action,
            "target": self.target,
            "signer": self.signer_fingerprint,
            "record": self.record_reference,
        }


def signer_fingerprint(public: bytes) -> str:
    """A short, stable name of a signing key."""
    return hashlib.sha256(bytes(public)).hexdigest()[:16]


def _entry(row: Any, batch_of: str | None = None) -> AuditEntry:
    reference = batch_of
    if row.record_uuid is not None:
        body = parse_body(bytes(row.body)) or {}
        record = body.get("record")
        if isinstance(record, dict) and isinstance(record.get("reference"), str):
            reference = record["reference"]
    return AuditEntry(
        seq=int(row.seq),
        at=row.at,
        officer=row.officer,
        action=row.action,
        target=row.target,
        signer_fingerprint=signer_fingerprint(row.signer),
        record_reference=reference,
    )


def query_log(s: OrmSession, query: AuditQuery) -> list[AuditEntry]:
    """The events matching `query`, oldest first (the newest `limit` when a limit is given)."""
    stmt = select(AuditRow)
    batches: set[int] = set()  # the batches (a rotation's, an export's shares) that name the record
    ref = None
    if query.record:
        ref = query.record.strip().upper()
        uuid = s.execute(select(Record.uuid).where(Record.reference == ref)).scalar_one_or_none()
        if uuid:
            batches = {seq for _uuid, seq in index_rows(s.connection(), "WHERE record_uuid = ?", (uuid,))}
        stmt = stmt.where(
            or_(AuditRow.record_uuid == uuid, AuditRow.target == ref, AuditRow.seq.in_(sorted(batches)))
            if uuid
            else AuditRow.target == ref
        )
    if query.officer:
        stmt = stmt.where(AuditRow.officer == query.officer.strip())
    if query.action:
        stmt = stmt.where(AuditRow.action == query.action.strip())
    if query.since is not None:
        since = query.since
        if not isinstance(since, datetime):
            since = datetime.combine(since, time.min, tzinfo=UTC)
        stmt = stmt.where(AuditRow.at >= since)
    if query.limit is not None:
        rows = list(s.scalars(stmt.order_by(AuditRow.seq.desc()).limit(max(0, query.limit))))
        rows.reverse()
    else:
        rows = list(s.scalars(stmt.order_by(AuditRow.seq)))
    return [_entry(r, ref if r.seq in batches and r.record_uuid is None else None) for r in rows]


__all__ = ["AuditEntry", "AuditQuery", "query_log", "signer_fingerprint"]
