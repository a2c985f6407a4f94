"""Demo data for the desk: meetings for the last six quarters plus the next, alternately hosted by PK-MOI and
TR-MOI, with agenda, outcomes and actions in every state on both sides (called by `store.demo`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from store.jwg.models import Action
from store.jwg.quarter import Quarter
from store.jwg.sync import apply_entries, pending_entries, record_sent

if TYPE_CHECKING:
    from store.service import Session

VENUES = {"PK-MOI": "Ministry of Interior, Islamabad", "TR-MOI": "İçişleri Bakanlığı, Ankara"}
INFORMATION = (
    "Overview of seizures reported since the last meeting",
    "Briefing on the new liaison desk rota",
    "Update on the joint risk indicators for the ferry routes",
)
DECISIONS = (
    "Exchange monthly summaries of high-risk consignments.",
    "Adopt the common template for wanted-person alerts.",
    "Hold a technical workshop on document fraud before the next meeting.",
)
ACTIONS = (
    "Share the updated list of flagged shipping containers",
    "Nominate two analysts for the document-fraud workshop",
    "Send the trend report on migrant-smuggling routes",
    "Confirm points of contact for urgent alerts",
    "Provide training material on precursor chemicals",
    "Review the acknowledgement backlog with the liaison desk",
)


def _sync(src: Session, dst: Session) -> None:
    with src.act("demo", "jwg-sync") as s:
        sent = pending_entries(src, s, dst.ministry)
        record_sent(s, dst.ministry, sent)
    with dst.act("demo", "jwg-sync") as s:
        apply_entries(dst, s, src.ministry, [e for *_r, e in sent], dst.clock())


def fill_desk(pk: Session, tr: Session) -> None:
    """Meetings, agenda, outcomes and actions (open, overdue, done, dropped, carried forward) on both sides."""
    today = pk.clock().date()
    domains = [slug for slug, _label in pk.domains()]
    sides = {"PK-MOI": pk, "TR-MOI": tr}
    now = Quarter.of(today)
    quarters = [now.shifted(i) for i in range(-5, 2)]
    agreed: list[tuple[str, str, int]] = []  # (action id, owner, age index)
    n = 0
    for index, q in enumerate(quarters):
        host = "PK-MOI" if index % 2 == 0 else "TR-MOI"
        session = sides[host]
        day = q.first_day + timedelta(days=45)
        session.add_meeting(str(q), day, VENUES[host], host)
        past = day <= today
        for k in range(2):
            domain = domains[(index * 2 + k) % len(domains)]
            session.add_agenda_item(str(q), domain, INFORMATION[(index + k) % len(INFORMATION)])
        if past:
            session.add_agenda_item(
                str(q), domains[index % len(domains)], DECISIONS[index % len(DECISIONS)], "decision"
            )
            for owner in ("PK-MOI", "TR-MOI"):
                due = day + timedelta(days=60 if n % 3 else 20)
                code = session.add_action(
                    ACTIONS[n % len(ACTIONS)], domains[n % len(domains)], owner, due,
                    officer="demo", meeting=str(q),
                )  # fmt: skip
                agreed.append((code, owner, len(quarters) - index))
                n += 1
        if past:
            session.set_meeting_minutes(
                str(q), f"Minutes of the {q} meeting: all items discussed; actions agreed as listed."
            )
            session.mark_meeting_held(str(q))
    _sync(pk, tr)
    _sync(tr, pk)
    for i, (code, owner, age) in enumerate(agreed):
        side = sides[owner]
        if (age >= 5 and i % 4 != 3) or (age in (3, 4) and i % 2 == 0):
            side.mark_action_done(code, "Completed and reported to the counterpart desk.")
        elif age >= 5:
            side.drop_action(code, "Overtaken by the new joint risk indicators.")
        else:
            continue  # stays open: older ones overdue and carried forward, the newest on time
        with side.act("demo", code) as s:  # closed on a plausible day: a week before it was due (never in the future)
            row = s.execute(select(Action).where(Action.code == code)).scalar_one()
            day = min(row.due - timedelta(days=7), today)
            row.status_at = datetime(day.year, day.month, day.day, 10, 0, tzinfo=UTC)
    _sync(pk, tr)
    _sync(tr, pk)
