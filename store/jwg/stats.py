"""The desk's numbers, from plaintext tags, the sharing ledger and action dates — nothing is decrypted.

Used by the meeting pack and meant for the dashboard: `desk_stats(session, since=, until=)` reads in one
transaction and returns plain counts. Shares are ledger rows (`bundle_items`): one record revision in one
bundle, `sent` (outbound) or `received` (inbound), tagged with the record's domain when it travelled.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from store.jwg.models import Action
from store.jwg.quarter import Quarter
from store.models import BundleItem, BundleLog

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


_WAY = {"out": "sent", "in": "received"}
_BUNDLE_COLUMNS = (BundleLog.bundle_id, BundleLog.direction, BundleLog.peer, BundleLog.at)


def weighted_median(values: list[tuple[float, int]]) -> float:
    """The median of values each repeated `n` times (`statistics.median` of the expanded list)."""
    ordered = sorted(values)
    total = sum(n for _v, n in ordered)
    lo_index, hi_index = (total - 1) // 2, total // 2
    picked: list[float] = []
    seen = 0
    for value, n in ordered:
        if seen <= lo_index < seen + n:
            picked.append(value)
        if seen <= hi_index < seen + n:
            picked.append(value)
        seen += n
    return sum(picked) / 2


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
    delays: dict[str, list[tuple[float, int]]] = defaultdict(list)  # (days, how many records)
    actions: Counter[tuple[str, str]] = Counter()
    overdue: Counter[str] = Counter()
    held = BundleItem.record_id.is_not(None)  # a ledger row whose record is still here
    tagged = BundleItem.domain.is_not(None)  # every such row has its domain (written with it, or by migration 0010)
    session.keys()  # an unlocked session only (AuthError once locked), though nothing here is decrypted
    # A plain read, not a logged action: the numbers come from plaintext tags and dates the log already covers,
    # and a signed, synced event per dashboard visit would cost every visit a write (and fill the log).
    with session.db.read() as s:
        bundles = {b: (d, p, _aware(at)) for b, d, p, at in s.execute(select(*_BUNDLE_COLUMNS))}
        # every bundle's rows by acknowledgement time (a receipt acknowledges a bundle's records at once):
        # the trend and the medians from one scan of the ledger, a few rows a bundle
        for bundle_id, acked, n in s.execute(
            select(BundleItem.bundle_id, BundleItem.acknowledged_at, func.count())
            .where(held)
            .group_by(BundleItem.bundle_id, BundleItem.acknowledged_at)
        ):
            direction, _peer, at = bundles[bundle_id]
            q = str(Quarter.of(at))
            by_quarter[(q, _WAY[direction])] += n
            if direction == "out" and acked is not None:
                delays[q].append(((_aware(acked) - at).total_seconds() / 86400, n))
        # the period's shares and the unacknowledged records, by the domain each row carries (migration 0010):
        # from the ledger's index, no record row read
        period = [BundleLog.at >= lo] if lo is not None else []
        period += [BundleLog.at < hi] if hi is not None else []
        for direction, peer, domain, n in s.execute(
            select(BundleLog.direction, BundleLog.peer, BundleItem.domain, func.count())
            .join(BundleItem, BundleItem.bundle_id == BundleLog.bundle_id)
            .where(*period, held, tagged)
            .group_by(BundleLog.direction, BundleLog.peer, BundleItem.domain)
        ):
            if domain is not None:  # (the query's `tagged`)
                shares[(domain, _WAY[direction], peer)] += n
        for peer, domain, n in s.execute(
            select(BundleLog.peer, BundleItem.domain, func.count())
            .join(BundleItem, BundleItem.bundle_id == BundleLog.bundle_id)
            .where(BundleLog.direction == "out", BundleItem.acknowledged_at.is_(None), held, tagged)
            .group_by(BundleLog.peer, BundleItem.domain)
        ):
            if domain is not None:
                unacked[(domain, peer)] += n
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
        {q: round(weighted_median(v), 1) for q, v in sorted(delays.items())},
        dict(actions),
        dict(overdue),
    )
