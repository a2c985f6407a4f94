"""Actions agreed by the working group: add, list, done and drop (owner ministry only)."""

from __future__ import annotations

import uuid as uuidlib
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session as OrmSession

from store.audit import log as audit
from store.errors import NotFound, ValidationError
from store.jwg.meetings import block, check_domain, check_host, find_meeting, line
from store.jwg.models import Action, AgendaItem
from store.jwg.quarter import Quarter, parse_date
from store.jwg.rules import check_status_change
from store.jwg.signed import desk_damage, require_intact
from store.models import Meta, Record
from store.text import check_line, quote

if TYPE_CHECKING:
    from store.service import Session


@dataclass(frozen=True)
class ActionInfo:
    """An action (decrypted). `id` is its code (`PK-MOI-A7`), the same in both ministries' stores.

    `damaged`: why the row differs from its latest signed event (edited outside Liaison), None when intact.

    `note` is the done comment or the drop reason; `overdue` is open with its due date passed (UTC today).
    """

    id: str
    title: str
    domain: str
    owner: str
    officer: str
    due: date
    status: str
    meeting: str | None
    records: tuple[str, ...]
    origin: str
    note: str
    status_at: datetime | None
    overdue: bool
    damaged: str | None = None  # why it differs from its signed event (Threat 25), None when intact


def action_info(session: Session, a: Action, today: date, damaged: str | None = None) -> ActionInfo:
    return ActionInfo(
        a.code,
        session.open_text(a.title_ct, a.code),
        a.domain,
        a.owner,
        a.officer,
        a.due,
        a.status,
        a.meeting_quarter,
        tuple(a.records.split()),
        a.origin,
        session.open_text(a.note_ct, a.code) if a.note_ct is not None else "",
        a.status_at,
        a.status == "open" and a.due < today,
        damaged,
    )


def find_action(s: OrmSession, code: str) -> Action:
    row = s.execute(select(Action).where(Action.code == code.strip().upper())).scalar_one_or_none()
    if row is None:
        raise NotFound(f"no action {quote(code)}", field="id", value=code)
    return row


def _next_code(s: OrmSession, ministry: str) -> str:
    key = f"jwg-action-seq:{ministry}"
    row = s.get(Meta, key)
    value = int(row.value) + 1 if row is not None else 1
    if row is None:
        s.add(Meta(key=key, value=str(value)))
    else:
        row.value = str(value)
    return f"{ministry}-A{value}"


def add_action(
    session: Session,
    title: str,
    domain: str,
    owner: str,
    due: str | date,
    *,
    officer: str | None = None,
    meeting: str | None = None,
    records: tuple[str, ...] = (),
) -> str:
    text = line("title", title)
    when = due if isinstance(due, date) else parse_date(due, field="due")
    who = ""
    if officer:
        check_line("officer", officer)
        who = " ".join(officer.split())
        if len(who) > 64:
            raise ValidationError("the officer is longer than 64 characters", field="officer")
    quarter = Quarter.parse(meeting, field="meeting") if meeting else None
    with session.act("action-add", "action") as s:
        slug = check_domain(s, domain)
        code_owner = check_host(s, owner, field="owner")
        if quarter is not None:
            m = find_meeting(s, quarter)
            require_intact(session, s, m)  # its new agenda item would sit under a meeting edited outside Liaison
            if when < m.day:
                raise ValidationError(
                    f"due date {when} is before the meeting of {quarter} ({m.day})", field="due", value=str(when)
                )
        refs: list[str] = []
        for ref in records:
            r = ref.strip().upper()
            if s.execute(select(Record.id).where(Record.reference == r)).first() is None:
                raise NotFound(f"no record {quote(ref)}", field="record", value=ref)
            if r not in refs:
                refs.append(r)
        code = _next_code(s, session.ministry)
        audit.note(s, target=code)  # the action's own event carries its signed state (store.jwg.signed)
        uid = str(uuidlib.uuid4())
        s.add(
            Action(
                uuid=uid,
                code=code,
                title_ct=session.seal(text),
                domain=slug,
                owner=code_owner,
                officer=who,
                due=when,
                status="open",
                note_ct=None,
                meeting_quarter=str(quarter) if quarter else None,
                origin=session.ministry,
                created_at=session.clock(),
                status_at=None,
                status_by="",
                content_rev=1,
                status_rev=1,
                records=" ".join(refs),
            )
        )
        if quarter is not None:
            s.add(
                AgendaItem(
                    uuid=str(uuidlib.uuid4()),
                    meeting_id=m.id,
                    domain=slug,
                    outcome="action",
                    text_ct=session.seal(text),
                    action_uuid=uid,
                    origin=session.ministry,
                    rev=1,
                )
            )
    return code


def _close(session: Session, code: str, status: str, note: str, verb: str) -> None:
    with session.act(f"action-{verb}", code.strip().upper()) as s:
        a = find_action(s, code)
        require_intact(session, s, a)
        check_status_change(session.ministry, a.owner, a.code, a.status)
        a.status = status
        a.note_ct = session.seal(note) if note else None
        a.status_at = session.clock()
        a.status_by = session.actor.name
        a.status_rev += 1


def mark_done(session: Session, code: str, comment: str = "") -> None:
    _close(session, code, "done", block("comment", comment) if comment else "", "done")


def drop(session: Session, code: str, reason: str) -> None:
    text = block("reason", reason) if reason else ""
    if not text.strip():
        raise ValidationError("dropping an action needs a reason", field="reason")
    _close(session, code, "dropped", text, "drop")


def list_actions(
    session: Session, *, overdue: bool = False, meeting: str | None = None, owner: str | None = None
) -> list[ActionInfo]:
    quarter = Quarter.parse(meeting, field="meeting") if meeting else None
    today = session.clock().date()
    with session.act("actions-list", "actions", mutates=False) as s:
        stmt = select(Action).order_by(Action.due, Action.code)
        if owner:
            stmt = stmt.where(Action.owner == check_host(s, owner, field="owner"))
        if quarter is not None:
            stmt = stmt.where(Action.meeting_quarter == str(quarter))
        if overdue:
            stmt = stmt.where(Action.status == "open", Action.due < today)
        rows = list(s.scalars(stmt))
        damaged = desk_damage(session, s, rows)
        return [action_info(session, a, today, damaged.get(a.uuid)) for a in rows]


def get_action(session: Session, code: str) -> ActionInfo:
    """One action; IntegrityError when it differs from its signed event (Threat 25)."""
    with session.act("action-show", code.strip().upper(), mutates=False) as s:
        a = find_action(s, code)
        require_intact(session, s, a)
        return action_info(session, a, session.clock().date())
