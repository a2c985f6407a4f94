"""RFC 5545 calendars of the desk (through `icalendar`): meetings as all-day events, open actions as to-dos.

Titles and venues are sensitive: without `with_titles` an action is "Action PK-MOI-A7 (narcotics, owner
TR-MOI)" and a meeting "Joint Working Group 2026-Q4 (host TR-MOI)". Files are written atomically through
`store.files` (never over a store, a database or an existing file unless asked).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from icalendar import Calendar, Event, Todo

from store.files import atomic_write_bytes, check_target

if TYPE_CHECKING:
    from store.service import Session

PRODID = "-//Liaison//Joint Working Group desk//EN"


def _calendar() -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    return cal


def meetings_ics(session: Session, *, with_titles: bool = False) -> bytes:
    """Every meeting as an all-day VEVENT (UID: the meeting's quarter and ministry-neutral id)."""
    cal = _calendar()
    stamp = session.clock()
    for m in session.meetings():
        ev = Event()
        ev.add("uid", f"jwg-meeting-{m.quarter}@liaison")
        ev.add("dtstamp", stamp)
        ev.add("dtstart", m.day)
        ev.add("dtend", m.day + timedelta(days=1))
        ev.add("summary", f"Joint Working Group {m.quarter} (host {m.host})")
        if with_titles:
            ev.add("location", m.venue)
        ev.add("status", "CONFIRMED")
        cal.add_component(ev)
    return bytes(cal.to_ical())


def actions_ics(session: Session, *, with_titles: bool = False) -> bytes:
    """Every action as a VTODO due on its due date (completed or cancelled when done or dropped)."""
    cal = _calendar()
    stamp = session.clock()
    for a in session.actions():
        todo = Todo()
        todo.add("uid", f"jwg-action-{a.id}@liaison")
        todo.add("dtstamp", stamp)
        todo.add("due", a.due)
        label = f"{a.id}: {a.title}" if with_titles else f"Action {a.id} ({a.domain}, owner {a.owner})"
        todo.add("summary", label)
        todo.add("status", {"open": "NEEDS-ACTION", "done": "COMPLETED", "dropped": "CANCELLED"}[a.status])
        if a.status == "done" and a.status_at is not None:
            todo.add("completed", a.status_at)
        cal.add_component(todo)
    return bytes(cal.to_ical())


def write_ics(
    session: Session, what: str, out: Path | str, *, with_titles: bool = False, overwrite: bool = False
) -> Path:
    """Write the meetings (`what="meetings"`) or actions calendar to `out`, atomically; returns the path."""
    target = check_target(Path(out), overwrite=overwrite, protect=(session.db.path,))
    data = (
        meetings_ics(session, with_titles=with_titles)
        if what == "meetings"
        else actions_ics(session, with_titles=with_titles)
    )
    atomic_write_bytes(target, data, overwrite=overwrite, protect=(session.db.path,))
    return target
