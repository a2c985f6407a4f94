"""The working-group desk of the benchmark store: 500 actions, nine meetings and the sharing ledger.

The dashboard reads the sharing ledger (one row per record per bundle), the meetings and the actions. The
ingested benchmark store has none of them, so before the TUI part measures `D` this fills them the way a
desk of that size would hold them (in one transaction, idempotent):
- the ledger: every own record that is shared or acknowledged went to TR-MOI in bundles of 50, two hours
  after the last one's update, acknowledged ones with a receipt 1–9 days later; every received record came
  from its origin in bundles of 50 (~60k outbound and ~30k inbound rows at 100k records). A row's
  `content_sha256` is the SHA-256 of the record's uuid and revision, not of its content: nothing the
  dashboard reads (or anything measured here) looks at it, and decrypting 60k records only to hash them
  would add minutes to the suite;
- meetings for the last eight quarters, this one and the next, and `ACTIONS` actions agreed at them, owned by either
  side, in every state (open, overdue, done, dropped), with encrypted titles like the app writes.
"""

from __future__ import annotations

import hashlib
import uuid as uuidlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

ACTIONS = 500
BUNDLE_RECORDS = 50
RECEIPT_DAYS = (1, 3, 2, 6, 4, 9, 2, 5)
COUNTERPART = "TR-MOI"


def seed_desk(store: Path, officer: str, passphrase: str) -> dict[str, int]:
    """Fill the desk of `store` once; returns what it holds (actions, meetings, ledger rows each way)."""
    from store.jwg.models import Action, AgendaItem, Meeting
    from store.jwg.quarter import Quarter
    from store.models import BundleItem, BundleLog, Record
    from store.service import Vault
    from store.vocab import Status

    vault = Vault.open(store)
    try:
        session = vault.unlock(officer, passphrase)
        own = session.ministry
        with session.db.read() as s:
            seeded = s.execute(select(func.count()).select_from(Action)).scalar_one() >= ACTIONS
        if not seeded:
            now = session.clock()
            with session.act("bench", "desk") as s:
                conn = s.connection()
                rows = s.execute(
                    select(Record.id, Record.uuid, Record.reference, Record.revision, Record.status, Record.origin)
                    .add_columns(Record.updated_at, Record.domain)
                    .order_by(Record.updated_at, Record.id)
                ).all()
                shared = (Status.SHARED.value, Status.ACKNOWLEDGED.value)
                ways: dict[tuple[str, str], list[Any]] = {}
                for row in rows:
                    if row[5] == own and row[4] in shared:
                        ways.setdefault(("out", COUNTERPART), []).append(row)
                    elif row[5] != own:
                        ways.setdefault(("in", row[5]), []).append(row)
                for (direction, peer), found in sorted(ways.items()):
                    for seq, start in enumerate(range(0, len(found), BUNDLE_RECORDS), start=1):
                        group = found[start : start + BUNDLE_RECORDS]
                        at = min(group[-1][6] + timedelta(hours=2), now)
                        acked_at = min(at + timedelta(days=RECEIPT_DAYS[seq % len(RECEIPT_DAYS)]), now)
                        bundle_id = hashlib.sha256(f"bench/{direction}/{peer}/{seq}".encode()).hexdigest()[:32]
                        s.add(
                            BundleLog(
                                bundle_id=bundle_id,
                                direction=direction,
                                peer=peer,
                                seq=seq,
                                header_sha256="0" * 64,
                                at=at,
                                officer=officer,
                                records=len(group),
                                receipt_at=acked_at,
                            )
                        )
                        s.flush()
                        items = [
                            {
                                "bundle_id": bundle_id,
                                "record_uuid": ruuid,
                                "record_id": rid,
                                "reference": ref,
                                "revision": rev,
                                "content_sha256": hashlib.sha256(f"{ruuid}/{rev}".encode()).hexdigest(),
                                "acknowledged_at": acked_at
                                if direction == "in" or status == Status.ACKNOWLEDGED.value
                                else None,
                                "domain": domain,
                            }
                            for rid, ruuid, ref, rev, status, _origin, _updated, domain in group
                        ]
                        conn.execute(insert(BundleItem), items)
                today = now.date()
                domains = [slug for slug, _label in session.domains()]
                this = Quarter.of(today)
                meetings = []
                for i, q in enumerate(this.shifted(k) for k in range(-8, 2)):
                    day = q.first_day + timedelta(days=45)
                    host = own if i % 2 == 0 else COUNTERPART
                    m = Meeting(
                        uuid=str(uuidlib.uuid4()),
                        quarter=str(q),
                        day=day,
                        venue_ct=session.seal(f"Ministry of Interior, meeting {q}"),
                        host=host,
                        status="held" if day <= today else "planned",
                        minutes_ct=None,
                        origin=own,
                        rev=1,
                        updated_at=now,
                    )
                    s.add(m)
                    meetings.append(m)
                s.flush()
                held = [m for m in meetings if m.status == "held"]
                for n in range(ACTIONS):
                    m = held[n % len(held)]
                    due = m.day + timedelta(days=20 + (n * 7) % 90)
                    open_ = due >= today or n % 5 == 0  # the recent ones open, one in five older ones overdue
                    status = "open" if open_ else ("dropped" if n % 11 == 0 else "done")
                    closed = min(due - timedelta(days=3), today)
                    code = f"{own}-A{n + 1}"
                    uid = str(uuidlib.uuid4())
                    s.add(
                        Action(
                            uuid=uid,
                            code=code,
                            title_ct=session.seal(f"Benchmark action {n + 1}: share the follow-up report"),
                            domain=domains[n % len(domains)],
                            owner=own if n % 2 else COUNTERPART,
                            officer="",
                            due=due,
                            status=status,
                            note_ct=None,
                            meeting_quarter=m.quarter,
                            origin=own,
                            created_at=datetime(m.day.year, m.day.month, m.day.day, 12, tzinfo=UTC),
                            status_at=None
                            if status == "open"
                            else datetime(closed.year, closed.month, closed.day, 10, tzinfo=UTC),
                            status_by="" if status == "open" else officer,
                            content_rev=1,
                            status_rev=1 if status == "open" else 2,
                            records="",
                        )
                    )
                    s.add(
                        AgendaItem(
                            uuid=str(uuidlib.uuid4()),
                            meeting_id=m.id,
                            domain=domains[n % len(domains)],
                            outcome="action",
                            text_ct=session.seal(f"Benchmark action {n + 1}"),
                            action_uuid=uid,
                            origin=own,
                            rev=1,
                        )
                    )
        with session.db.read() as s:
            counts = {
                "actions": s.execute(select(func.count()).select_from(Action)).scalar_one(),
                "meetings": s.execute(select(func.count()).select_from(Meeting)).scalar_one(),
            }
            for direction, n in s.execute(
                select(BundleLog.direction, func.count())
                .join(BundleItem, BundleItem.bundle_id == BundleLog.bundle_id)
                .group_by(BundleLog.direction)
            ):
                counts[f"ledger_{direction}"] = int(n)
        vault.db.checkpoint()
        return counts
    finally:
        vault.close()
