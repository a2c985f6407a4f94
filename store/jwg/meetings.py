"""Meetings and their agenda: plan, hold, minutes, agenda items with outcomes, carry-forward, unplanned quarters."""

from __future__ import annotations

import uuid as uuidlib
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session as OrmSession

from crypto.bundle.limits import MAX_TEXT, MAX_TITLE
from store.errors import NotFound, ValidationError
from store.jwg.models import Action, AgendaItem, Meeting, Pack
from store.jwg.quarter import Quarter, parse_date
from store.jwg.rules import OUTCOMES, check_meeting_update
from store.jwg.signed import desk_damage, require_intact
from store.models import Domain, Ministry
from store.text import check_block, check_line, quote

if TYPE_CHECKING:
    from store.jwg.actions import ActionInfo
    from store.service import Session


@dataclass(frozen=True)
class AgendaInfo:
    """One agenda item: its domain, outcome (`information`, `decision`, `action`), text, linked action code."""

    id: str
    domain: str
    outcome: str
    text: str
    action: str | None
    origin: str
    damaged: str | None = None  # why it differs from its signed event (Threat 25), None when intact


@dataclass(frozen=True)
class MeetingInfo:
    """A meeting (decrypted). `agenda` and `carried` are filled by `meeting()`, empty in `meetings()`.

    `carried`: actions agreed at earlier meetings that were still open on this meeting's day (carried forward).
    `packs`: the meeting packs counterparts sealed to us for it (`meetings pack Q --from ORIGIN` writes one).
    `damaged`: why its row differs from its latest signed event (edited outside Liaison); `meeting()` refuses one.
    """

    quarter: str
    day: date
    venue: str
    host: str
    status: str
    origin: str
    minutes: str | None
    agenda: tuple[AgendaInfo, ...] = ()
    carried: tuple[ActionInfo, ...] = ()
    packs: tuple[tuple[str, str, datetime], ...] = ()  # packs received for it: (origin, prepared by, prepared at)
    damaged: str | None = None  # why it differs from its signed event (Threat 25), None when intact


def check_host(s: OrmSession, code: str, field: str = "host") -> str:
    """A known ministry code (upper-cased)."""
    value = code.strip().upper() if isinstance(code, str) else ""
    if not value or s.get(Ministry, value) is None:
        valid = ", ".join(s.scalars(select(Ministry.code).order_by(Ministry.code)))
        raise ValidationError(f"unknown ministry {quote(code)}; valid: {valid}", field=field, value=code)
    return value


def check_domain(s: OrmSession, slug: str) -> str:
    value = slug.strip().lower() if isinstance(slug, str) else ""
    if s.get(Domain, value) is None:
        valid = ", ".join(s.scalars(select(Domain.slug).order_by(Domain.slug)))
        raise ValidationError(f"unknown domain {quote(slug)}; valid: {valid}", field="domain", value=slug)
    return value


def line(field: str, text: str, *, limit: int = MAX_TITLE) -> str:
    check_line(field, text)
    value = " ".join(text.split())
    if not value:
        raise ValidationError(f"the {field} is empty", field=field)
    if len(value) > limit:
        raise ValidationError(f"the {field} is longer than {limit} characters", field=field)
    return value


def block(field: str, text: str) -> str:
    value = check_block(field, text)
    if len(value) > MAX_TEXT:
        raise ValidationError(f"the {field} is longer than {MAX_TEXT} characters", field=field)
    return value


def find_meeting(s: OrmSession, quarter: str | Quarter) -> Meeting:
    q = quarter if isinstance(quarter, Quarter) else Quarter.parse(quarter)
    row = s.execute(select(Meeting).where(Meeting.quarter == str(q))).scalar_one_or_none()
    if row is None:
        raise NotFound(f"no meeting planned for {q}", field="quarter", value=str(q))
    return row


def add_meeting(session: Session, quarter: str, day: str | date, venue: str, host: str) -> MeetingInfo:
    q = Quarter.parse(quarter)
    when = day if isinstance(day, date) else parse_date(day)
    if not q.contains(when):
        raise ValidationError(
            f"date {when} is not in {q} ({q.first_day} to {q.last_day})", field="date", value=str(when)
        )
    place = line("venue", venue)
    with session.act("meeting-add", str(q)) as s:
        code = check_host(s, host)
        if s.execute(select(Meeting.id).where(Meeting.quarter == str(q))).first():
            raise ValidationError(f"a meeting for {q} is already planned", field="quarter", value=str(q))
        s.add(
            Meeting(
                uuid=str(uuidlib.uuid4()),
                quarter=str(q),
                day=when,
                venue_ct=session.seal(place),
                host=code,
                status="planned",
                minutes_ct=None,
                origin=session.ministry,
                rev=1,
                updated_at=session.clock(),
            )
        )
    return MeetingInfo(str(q), when, place, code, "planned", session.ministry, None)


def _bump(session: Session, m: Meeting) -> None:
    m.rev += 1
    m.updated_at = session.clock()


def mark_held(session: Session, quarter: str) -> None:
    q = Quarter.parse(quarter)
    with session.act("meeting-held", str(q)) as s:
        m = find_meeting(s, q)
        require_intact(session, s, m)
        check_meeting_update(session.ministry, m.origin, str(q))
        if m.status == "held":
            raise ValidationError(f"the meeting of {q} is already marked held", field="quarter", value=str(q))
        today = session.clock().date()
        if m.day > today:
            raise ValidationError(f"the meeting of {q} is on {m.day}, still to come", field="quarter", value=str(q))
        m.status = "held"
        _bump(session, m)


def set_minutes(session: Session, quarter: str, minutes: str) -> None:
    q = Quarter.parse(quarter)
    text = block("minutes", minutes)
    with session.act("meeting-minutes", str(q)) as s:
        m = find_meeting(s, q)
        require_intact(session, s, m)
        check_meeting_update(session.ministry, m.origin, str(q))
        m.minutes_ct = session.seal(text)
        _bump(session, m)


def add_agenda_item(
    session: Session, quarter: str, domain: str, text: str, outcome: str = "information", action: str | None = None
) -> str:
    q = Quarter.parse(quarter)
    if outcome not in OUTCOMES:
        raise ValidationError(
            f"outcome {quote(outcome)} is not one of {', '.join(OUTCOMES)}", field="outcome", value=outcome
        )
    body = line("text", text, limit=MAX_TEXT) if outcome != "decision" else block("text", text)
    with session.act("agenda-add", str(q)) as s:
        m = find_meeting(s, q)
        slug = check_domain(s, domain)
        action_uuid = None
        if outcome == "action":
            if not action:
                raise ValidationError("an action outcome names its action", field="action")
            row = s.execute(select(Action).where(Action.code == action.strip().upper())).scalar_one_or_none()
            if row is None:
                raise NotFound(f"no action {quote(action)}", field="action", value=action)
            action_uuid = row.uuid
        uid = str(uuidlib.uuid4())
        s.add(
            AgendaItem(
                uuid=uid,
                meeting_id=m.id,
                domain=slug,
                outcome=outcome,
                text_ct=session.seal(body),
                action_uuid=action_uuid,
                origin=session.ministry,
                rev=1,
            )
        )
    return uid


def _info(session: Session, m: Meeting, damaged: str | None = None) -> MeetingInfo:
    return MeetingInfo(
        m.quarter,
        m.day,
        session.open_text(m.venue_ct, m.quarter),
        m.host,
        m.status,
        m.origin,
        session.open_text(m.minutes_ct, m.quarter) if m.minutes_ct is not None else None,
        damaged=damaged,
    )


def list_meetings(session: Session) -> list[MeetingInfo]:
    with session.act("meetings-list", "meetings", mutates=False) as s:
        rows = list(s.scalars(select(Meeting).order_by(Meeting.quarter)))
        damaged = desk_damage(session, s, rows)
        return [_info(session, m, damaged.get(m.uuid)) for m in rows]


def carried_rows(s: OrmSession, m: Meeting) -> list[Action]:
    """Actions agreed at earlier meetings still open on this meeting's day (closed later, or not at all)."""
    start = datetime(m.day.year, m.day.month, m.day.day)
    rows = s.scalars(select(Action).where(Action.meeting_quarter < m.quarter).order_by(Action.due, Action.code))
    out = []
    for a in rows:
        closed = a.status_at.replace(tzinfo=None) if a.status_at is not None else None
        if a.status == "open" or (closed is not None and closed >= start):
            out.append(a)
    return out


def meeting_detail(session: Session, quarter: str) -> MeetingInfo:
    from store.jwg.actions import action_info

    q = Quarter.parse(quarter)
    with session.act("meeting-show", str(q), mutates=False) as s:
        m = find_meeting(s, q)
        require_intact(session, s, m)
        codes: dict[str, str] = {u: c for u, c in s.execute(select(Action.uuid, Action.code))}
        items = list(
            s.scalars(
                select(AgendaItem).where(AgendaItem.meeting_id == m.id).order_by(AgendaItem.domain, AgendaItem.id)
            )
        )
        carried_actions = carried_rows(s, m)
        damaged = desk_damage(session, s, [*items, *carried_actions])
        agenda = tuple(
            AgendaInfo(
                i.uuid,
                i.domain,
                i.outcome,
                session.open_text(i.text_ct, m.quarter),
                codes.get(i.action_uuid or ""),
                i.origin,
                damaged.get(i.uuid),
            )
            for i in items
        )
        today = session.clock().date()
        carried = tuple(action_info(session, a, today, damaged.get(a.uuid)) for a in carried_actions)
        packs = tuple(
            (origin, by, at)
            for origin, by, at in s.execute(
                select(Pack.origin, Pack.prepared_by, Pack.prepared_at)
                .where(Pack.quarter == m.quarter)
                .order_by(Pack.received_at, Pack.id)
            )
        )
        base = _info(session, m)
    return MeetingInfo(**{**base.__dict__, "agenda": agenda, "carried": carried, "packs": packs})


def unplanned_quarters(session: Session, ahead: int = 4) -> list[str]:
    """The quarters from the current one to `ahead - 1` quarters later that have no meeting planned."""
    now = Quarter.of(session.clock())
    with session.db.read() as s:
        planned = set(s.scalars(select(Meeting.quarter)))
    return [str(now.shifted(i)) for i in range(ahead) if str(now.shifted(i)) not in planned]
