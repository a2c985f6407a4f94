"""The desk's numbers, from plaintext tags, the sharing ledger and action dates — nothing is decrypted.

Used by the meeting pack and meant for the dashboard: `desk_stats(session, since=, until=)` reads in one
transaction and returns plain counts. Shares are ledger rows (`bundle_items`): one record revision in one
bundle, `sent` (outbound) or `received` (inbound), tagged with the record's domain.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from store.jwg.models import Action
from store.jwg.quarter import Quarter
from store.models import BundleItem, BundleLog, Record

if TYPE_CHECKING:
    from store.service import Session


@dataclass(frozen=True)
class DeskStats:
    """Counts for a period [`since`, `until`) (None: unbounded) and the trend over every quarter.

    - `shares[(domain, direction, counterpart)]`: ledger rows in the period (`direction` sent/received).
    - `shares_by_quarter[(quarter, direction)]`: ledger rows per quarter (all time).
    - `unacknowledged[(domain, counterpart)]`: records sent (any time) whose receipt has not come back.
    - `median_ack_days[quarter]`: median days from shared to acknowledged, for shares made in that quarter.
    - `actions[(owner, status)]`: every action; `overdue[owner]`: open actions past their due date.
    """

    since: datetime | None
    until: datetime | None
    shares: dict[tuple[str, str, str], int] = field(default_factory=dict)
    shares_by_quarter: dict[tuple[str, str], int] = field(default_factory=dict)
    unacknowledged: dict[tuple[str, str], int] = field(default_factory=dict)
    median_ack_days: dict[str, float] = field(default_factory=dict)
    actions: dict[tuple[str, str], int] = field(default_factory=dict)
    overdue: dict[str, int] = field(default_factory=dict)

    def shared(self, direction: str) -> int:
        """Total shares in the period in one direction."""
        return sum(n for (_d, way, _c), n in self.shares.items() if way == direction)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def desk_stats(
    session: Session,
    *,
    since: datetime | date | None = None,
    until: datetime | date | None = None,
    today: date | None = None,
) -> DeskStats:
    """Compute `DeskStats`; `since`/`until` bound the period (dates are taken as midnight UTC)."""

    def moment(value: datetime | date | None) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            return datetime(value.year, value.month, value.day, tzinfo=UTC)
        return _aware(value)

    lo, hi = moment(since), moment(until)
    day = today or session.clock().date()
    shares: Counter[tuple[str, str, str]] = Counter()
    by_quarter: Counter[tuple[str, str]] = Counter()
    unacked: Counter[tuple[str, str]] = Counter()
    delays: dict[str, list[float]] = defaultdict(list)
    actions: Counter[tuple[str, str]] = Counter()
    overdue: Counter[str] = Counter()
    with session.act("desk-stats", "jwg", mutates=False) as s:
        rows = s.execute(
            select(BundleLog.direction, BundleLog.peer, BundleLog.at, BundleItem.acknowledged_at, Record.domain)
            .join(BundleItem, BundleItem.bundle_id == BundleLog.bundle_id)
            .join(Record, Record.id == BundleItem.record_id)
        ).all()
        for direction, peer, at, acked, domain in rows:
            at = _aware(at)
            way = "sent" if direction == "out" else "received"
            q = str(Quarter.of(at))
            by_quarter[(q, way)] += 1
            if (lo is None or at >= lo) and (hi is None or at < hi):
                shares[(domain, way, peer)] += 1
            if direction == "out":
                if acked is None:
                    unacked[(domain, peer)] += 1
                else:
                    delays[q].append((_aware(acked) - at).total_seconds() / 86400)
        for owner, status, due in s.execute(select(Action.owner, Action.status, Action.due)):
            actions[(owner, status)] += 1
            if status == "open" and due < day:
                overdue[owner] += 1
    return DeskStats(
        lo,
        hi,
        dict(shares),
        dict(by_quarter),
        dict(unacked),
        {q: round(statistics.median(v), 1) for q, v in sorted(delays.items())},
        dict(actions),
        dict(overdue),
    )
