"""`desk_stats` aggregates in SQL (per bundle, per domain) for speed on 100k records; these tests hold it to the
plain definition — one pass over every ledger row in Python, as it was first written — on the demo store."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import UTC, date, datetime
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from store.demo import DEMO_OFFICER, DEMO_PASSPHRASE, build_demo
from store.jwg.models import Action
from store.jwg.quarter import Quarter
from store.jwg.stats import DeskStats, weighted_median
from store.models import BundleItem, BundleLog, Record
from store.service import Session, Vault


def _plain(session: Session, lo: datetime | None, hi: datetime | None, day: date) -> DeskStats:
    shares: Counter[tuple[str, str, str]] = Counter()
    by_quarter: Counter[tuple[str, str]] = Counter()
    unacked: Counter[tuple[str, str]] = Counter()
    delays: dict[str, list[float]] = defaultdict(list)
    actions: Counter[tuple[str, str]] = Counter()
    overdue: Counter[str] = Counter()
    with session.db.read() as s:
        rows = s.execute(
            select(BundleLog.direction, BundleLog.peer, BundleLog.at, BundleItem.acknowledged_at, Record.domain)
            .join(BundleItem, BundleItem.bundle_id == BundleLog.bundle_id)
            .join(Record, Record.id == BundleItem.record_id)
        ).all()
        for direction, peer, at, acked, domain in rows:
            way = "sent" if direction == "out" else "received"
            q = str(Quarter.of(at))
            by_quarter[(q, way)] += 1
            if (lo is None or at >= lo) and (hi is None or at < hi):
                shares[(domain, way, peer)] += 1
            if direction == "out":
                if acked is None:
                    unacked[(domain, peer)] += 1
                else:
                    delays[q].append((acked - at).total_seconds() / 86400)
        for owner, status, due in s.execute(select(Action.owner, Action.status, Action.due)):
            actions[(owner, status)] += 1
            if status == "open" and due < day:
                overdue[owner] += 1
    medians = {q: round(statistics.median(v), 1) for q, v in sorted(delays.items())}
    return DeskStats(lo, hi, dict(shares), dict(by_quarter), dict(unacked), medians, dict(actions), dict(overdue))


def test_desk_stats_equal_the_plain_definition_on_the_demo(tmp_path: Path) -> None:
    result = build_demo(tmp_path / "demo.db", records=400)
    vault = Vault.open(result.path)
    try:
        session = vault.unlock(DEMO_OFFICER, DEMO_PASSPHRASE)
        day = session.clock().date()
        now = Quarter.of(day)
        periods: list[tuple[datetime | None, datetime | None]] = [(None, None)]
        for back in range(6):
            first, nxt = now.shifted(-back).first_day, now.shifted(-back + 1).first_day
            periods.append((datetime(first.year, first.month, first.day, tzinfo=UTC), None))
            periods.append((
                datetime(first.year, first.month, first.day, tzinfo=UTC),
                datetime(nxt.year, nxt.month, nxt.day, tzinfo=UTC),
            ))  # fmt: skip
        for lo, hi in periods:
            fast = session.desk_stats(since=lo, until=hi, today=day)
            plain = _plain(session, lo, hi, day)
            assert fast == plain, (lo, hi)
        assert plain.shares_by_quarter and plain.median_ack_days and plain.unacknowledged  # a store with data
    finally:
        vault.close()


@given(st.lists(st.tuples(st.floats(-1e6, 1e6), st.integers(1, 5)), min_size=1, max_size=30))
def test_weighted_median_is_the_median_of_the_expanded_values(values: list[tuple[float, int]]) -> None:
    expanded = [v for v, n in values for _ in range(n)]
    assert abs(weighted_median(values) - statistics.median(expanded)) <= 1e-9 * max(1.0, *map(abs, expanded))


def test_a_store_from_before_the_ledger_domain_counts_the_same_after_its_upgrade(tmp_path: Path) -> None:
    """A store at schema 0009 (ledger rows without their domain) is upgraded by migration 0010, which gives each
    row its record's domain: the dashboard's numbers are those of the plain definition, as on a new store."""
    from alembic import command
    from sqlalchemy import create_engine, text

    from store.db import _script_directory

    result = build_demo(tmp_path / "demo.db", records=120)
    engine = create_engine(f"sqlite:///{result.path}")
    config, _ = _script_directory()
    with engine.connect() as conn:
        config.attributes["connection"] = conn
        try:
            command.downgrade(config, "0009")
        finally:
            config.attributes.pop("connection", None)
        conn.commit()
        columns = [row[1] for row in conn.execute(text("PRAGMA table_info(bundle_items)"))]
    engine.dispose()
    assert "domain" not in columns
    vault = Vault.open(result.path)  # upgrades to head
    try:
        session = vault.unlock(DEMO_OFFICER, DEMO_PASSPHRASE)
        day = session.clock().date()
        with session.db.read() as s:
            missing = s.execute(
                select(BundleItem.bundle_id).where(BundleItem.record_id.is_not(None), BundleItem.domain.is_(None))
            ).all()
        assert missing == []
        assert session.desk_stats(today=day) == _plain(session, None, None, day)
        assert _plain(session, None, None, day).shares  # a ledger with shares
    finally:
        vault.close()
