"""The sharing ledger: which bundles a record travelled in, and how many bundles went each way."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session as OrmSession

from crypto.bundle import record_hash
from store.contacts import keyring_of
from store.errors import NotFound
from store.models import BundleItem, BundleLog, Record

if TYPE_CHECKING:
    from store.service import Session

# ---- the ledger, for `show` and the TUI ------------------------------------------------------------------


def ledger_item(
    bundle_id: str,
    record_id: int,
    obj: dict[str, Any],
    *,
    digest: str | None = None,
    acknowledged_at: datetime | None = None,
) -> dict[str, Any]:
    """A `bundle_items` row: the revision of a record (its bundle record object `obj`) a bundle carried out or in,
    with the object's content hash (`digest` when the writer already computed it)."""
    return {
        "bundle_id": bundle_id,
        "record_uuid": obj["uuid"],
        "record_id": record_id,
        "reference": obj["reference"],
        "revision": obj["revision"],
        "content_sha256": digest if digest is not None else record_hash(obj),
        "acknowledged_at": acknowledged_at,
        "domain": obj["domain"],
    }


@dataclass(frozen=True)
class LedgerEntry:
    """One time a record revision went to (or came from) a ministry."""

    bundle_id: str
    direction: str
    peer: str
    revision: int
    at: datetime
    acknowledged_at: datetime | None
    #: The officer who sent or imported the bundle.
    officer: str


def ledger_entries(s: OrmSession, record_uuid: str) -> list[LedgerEntry]:
    """Every bundle the record with this uuid travelled in, oldest first (one query: `ledger` and the activity list)."""
    rows = s.execute(
        select(
            BundleLog.bundle_id,
            BundleLog.direction,
            BundleLog.peer,
            BundleItem.revision,
            BundleLog.at,
            BundleItem.acknowledged_at,
            BundleLog.officer,
        )
        .join(BundleItem, BundleItem.bundle_id == BundleLog.bundle_id)
        .where(BundleItem.record_uuid == record_uuid)
        .order_by(BundleLog.at)
    ).all()
    return [LedgerEntry(*row) for row in rows]


def ledger(session: Session, reference: str) -> list[LedgerEntry]:
    """Every bundle a record travelled in, oldest first."""
    keyring_of(session)
    with session.db.read() as s:
        rec = s.execute(select(Record.uuid).where(Record.reference == reference.strip().upper())).scalar_one_or_none()
        if rec is None:
            raise NotFound(f"no record {reference}")
        return ledger_entries(s, rec)


def counts(session: Session) -> Counter[str]:
    """How many bundles were sent and imported (for summaries)."""
    with session.db.read() as s:
        return Counter(
            {d: int(n) for d, n in s.execute(select(BundleLog.direction, func.count()).group_by(BundleLog.direction))}
        )
