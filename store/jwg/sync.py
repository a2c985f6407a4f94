"""Meetings, agenda items and actions in bundles: what goes to a counterpart, and what an import accepts.

Export: every meeting, agenda item and action whose revision the peer does not hold yet travels in the next
bundle to it (entry kinds `jwg-meeting`, `jwg-agenda-item`, `jwg-action`, docs/bundle-format.md §5), and
`jwg_peer_copies` notes what the peer now holds. The desk goes only to the working group's parties
(`desk_parties`): the ministries it names (a meeting's host or planner, an agenda item's author, an
action's owner or recorder), those it was already exchanged with, and the store's contact when it has
only one. A bundle to any other ministry carries none of it, so a third ministry never receives the desk
of a bilateral group, while both members hold the same list.

A meeting pack (`jwg-pack`) travels only when an officer seals one to a party (`store.jwg.pack.seal_pack`),
in a bundle of its own with the desk entries the party does not hold yet and no record; the receiver keeps it
(encrypted, `jwg_packs`) for `meetings pack Q --from ORIGIN`.

Import (inside the bundle's one transaction), the rules of who keeps what:
- a meeting's header and an agenda item are accepted from their origin only (the ministry that made them);
- an action's content (title, due date, owner…) from its origin only; its status (open, done, dropped)
  from its owner ministry only — a status change from anyone else is skipped with a reason;
- an entry naming a ministry or domain unknown here, or a quarter that already has another meeting, is
  skipped with a reason. Text is checked by the text policy: a control character refuses the bundle, as does
  a date outside 2000..2100 or a time (an action's creation or status change, a pack's preparation) before
  2000 or more than a day ahead — the bounds a record's times have (Threat 23).
What arrived is noted as held by the sender, so it is not echoed back.

Integrity (Threat 25): every desk row an import writes is signed in the log with its new state
(`store.jwg.signed`); a row here that differs from its signed event (edited outside Liaison) is never
exported, and an entry that would update it is skipped with a reason, so the tampered state is not signed
as the import's own.
"""

from __future__ import annotations

import uuid as uuidlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, union
from sqlalchemy.orm import Session as OrmSession

from crypto import bundle as fmt
from store import policy
from store.errors import ValidationError
from store.jwg.models import Action, AgendaItem, Meeting, Pack, PeerCopy
from store.jwg.quarter import parse_date
from store.jwg.signed import desk_damage
from store.models import Contact, Domain, Ministry
from store.text import check_block, check_line

if TYPE_CHECKING:
    from store.service import Session


@dataclass
class JwgImport:
    """What the desk entries of one bundle did."""

    meetings: int = 0  # meetings new or updated
    agenda: int = 0  # agenda items new or updated
    actions_new: int = 0
    actions_updated: int = 0
    status_changes: list[tuple[str, str]] = field(default_factory=list)  # (action id, new status)
    packs: list[tuple[str, str]] = field(default_factory=list)  # meeting packs received: (quarter, origin)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (what, why)

    def __bool__(self) -> bool:
        return bool(
            self.meetings
            or self.agenda
            or self.actions_new
            or self.actions_updated
            or self.status_changes
            or self.packs
            or self.skipped
        )


def _held(s: OrmSession, uuid: str, peer: str) -> PeerCopy | None:
    return s.get(PeerCopy, (uuid, peer))


def _note(s: OrmSession, uuid: str, peer: str, content_rev: int, status_rev: int) -> None:
    row = _held(s, uuid, peer)
    if row is None:
        s.add(PeerCopy(uuid=uuid, peer=peer, content_rev=content_rev, status_rev=status_rev))
    else:
        row.content_rev = max(row.content_rev, content_rev)
        row.status_rev = max(row.status_rev, status_rev)


def _stale(s: OrmSession, uuid: str, peer: str, content_rev: int, status_rev: int) -> bool:
    row = _held(s, uuid, peer)
    return row is None or row.content_rev < content_rev or row.status_rev < status_rev


def desk_parties(s: OrmSession) -> set[str]:
    """The working group's parties, who alone receive the desk: the ministries it names (hosts and planners of
    meetings, authors of agenda items, owners and recorders of actions), those it was already exchanged with,
    and the store's one contact when it has exactly one (a bilateral desk before it names its counterpart)."""
    named = union(
        select(Meeting.host),
        select(Meeting.origin),
        select(AgendaItem.origin),
        select(Action.owner),
        select(Action.origin),
        select(PeerCopy.peer),
    )
    parties = set(s.scalars(named))
    contacts = list(s.scalars(select(Contact.code)))
    if len(contacts) == 1:
        parties.add(contacts[0])
    return parties


def pending_entries(session: Session, s: OrmSession, peer: str) -> list[tuple[str, int, int, dict[str, Any]]]:
    """The desk entries `peer` does not hold yet: (uuid, content rev, status rev, entry), meetings first.

    None unless `peer` is a party to the working group (`desk_parties`). An item that differs from its signed
    event (edited outside Liaison, Threat 25) is left out, and stays pending until it is put right."""
    out: list[tuple[str, int, int, dict[str, Any]]] = []
    if peer not in desk_parties(s):
        return out
    meetings = {m.id: m for m in s.scalars(select(Meeting).order_by(Meeting.quarter))}
    actions_rows = list(s.scalars(select(Action).order_by(Action.id)))
    items = list(s.scalars(select(AgendaItem).order_by(AgendaItem.id)))
    damaged = desk_damage(session, s, [*meetings.values(), *actions_rows, *items])
    for m in meetings.values():
        if m.uuid in damaged:
            continue
        if _stale(s, m.uuid, peer, m.rev, 0):
            out.append((m.uuid, m.rev, 0, {
                "kind": "jwg-meeting", "uuid": m.uuid, "quarter": m.quarter, "date": m.day.isoformat(),
                "venue": session.open_text(m.venue_ct, m.quarter), "host": m.host, "status": m.status,
                "minutes": session.open_text(m.minutes_ct, m.quarter) if m.minutes_ct is not None else "",
                "origin": m.origin, "rev": m.rev,
            }))  # fmt: skip
    for a in actions_rows:
        if a.uuid in damaged:
            continue
        if _stale(s, a.uuid, peer, a.content_rev, a.status_rev):
            out.append((a.uuid, a.content_rev, a.status_rev, {
                "kind": "jwg-action", "uuid": a.uuid, "id": a.code, "title": session.open_text(a.title_ct, a.code),
                "domain": a.domain, "owner": a.owner, "officer": a.officer, "due": a.due.isoformat(),
                "meeting": a.meeting_quarter or "", "records": a.records.split(), "origin": a.origin,
                "created_at": fmt.format_time(a.created_at), "content_rev": a.content_rev, "status": a.status,
                "note": session.open_text(a.note_ct, a.code) if a.note_ct is not None else "",
                "status_at": fmt.format_time(a.status_at) if a.status_at is not None else "",
                "status_by": a.status_by, "status_rev": a.status_rev,
            }))  # fmt: skip
    actions = set(s.scalars(select(Action.uuid)))
    for i in items:
        m = meetings[i.meeting_id]
        if i.uuid in damaged:
            continue
        if _stale(s, i.uuid, peer, i.rev, 0):
            out.append((i.uuid, i.rev, 0, {
                "kind": "jwg-agenda-item", "uuid": i.uuid, "meeting": m.quarter, "domain": i.domain,
                "outcome": i.outcome, "text": session.open_text(i.text_ct, m.quarter),
                "action": i.action_uuid if i.action_uuid in actions else "", "origin": i.origin, "rev": i.rev,
            }))  # fmt: skip
    return out


def record_sent(s: OrmSession, peer: str, sent: list[tuple[str, int, int, dict[str, Any]]]) -> None:
    """Note that `peer` now holds what was sent (a meeting pack is sent once, not kept: nothing to note)."""
    for uuid, content_rev, status_rev, entry in sent:
        if entry["kind"] != "jwg-pack":
            _note(s, uuid, peer, content_rev, status_rev)


class _Apply:
    def __init__(
        self, session: Session, s: OrmSession, sender: str, now: datetime, entries: list[dict[str, Any]]
    ) -> None:
        self.session, self.s, self.sender, self.now = session, s, sender, now
        self.ministries = set(s.scalars(select(Ministry.code)))
        self.domains = set(s.scalars(select(Domain.slug)))
        self.result = JwgImport()
        uuids = sorted({e["uuid"] for e in entries if e.get("kind") != "jwg-pack"})
        held: list[Meeting | AgendaItem | Action] = []
        for model in (Meeting, AgendaItem, Action):
            for start in range(0, len(uuids), 900):
                held += s.scalars(select(model).where(model.uuid.in_(uuids[start : start + 900])))
        #: Rows here that differ from their signed events: an entry never updates one (Threat 25).
        self.damaged = desk_damage(session, s, held)

    def intact(self, what: str, uuid: str) -> bool:
        why = self.damaged.get(uuid)
        if why is not None:
            self.skip(what, f"damaged here ({why})")
            return False
        return True

    def time(self, e: dict[str, Any], name: str, what: str) -> datetime:
        """The entry's time `name`, refused (the whole bundle) before 2000 or more than a day ahead of now."""
        moment = fmt.parse_time(e[name], name)
        why = policy.record_time_refusal(moment, max(self.now, datetime.now(UTC)))
        if why is not None:
            raise ValidationError(f"{what} {name} {e[name]} {why}", field=name, value=e[name])
        return moment

    def day(self, e: dict[str, Any], name: str, what: str) -> date:
        """The entry's date `name` (YYYY-MM-DD, years 2000..2100), refused (the whole bundle) otherwise."""
        return parse_date(e[name], field=name, what=f"{what}: ")

    def skip(self, what: str, why: str) -> None:
        self.result.skipped.append((what, why))

    def known(self, what: str, codes: list[str], domain: str | None = None) -> bool:
        for code in codes:
            if code not in self.ministries:
                self.skip(what, f"names ministry {code}, unknown here")
                return False
        if domain is not None and domain not in self.domains:
            self.skip(what, f"has domain {domain}, unknown here")
            return False
        return True

    def meeting(self, e: dict[str, Any]) -> None:
        what = f"meeting {e['quarter']}"
        check_line("venue", e["venue"])
        check_block("minutes", e["minutes"])
        if e["origin"] == self.session.ministry:
            return  # our own meeting coming back
        if e["origin"] != self.sender:
            self.skip(what, f"planned by {e['origin']}, sent by {self.sender}: only its origin updates it")
            return
        if not self.known(what, [e["host"], e["origin"]]):
            return
        seal = self.session.seal
        row = self.s.execute(select(Meeting).where(Meeting.uuid == e["uuid"])).scalar_one_or_none()
        if row is None:
            if self.s.execute(select(Meeting.id).where(Meeting.quarter == e["quarter"])).first():
                self.skip(what, "another meeting is planned for that quarter here")
                return
            row = Meeting(uuid=e["uuid"], quarter=e["quarter"], origin=e["origin"], rev=0)
            self.s.add(row)
        elif row.origin != e["origin"] or row.quarter != e["quarter"]:
            self.skip(what, "does not match the meeting held here under that id")
            return
        elif not self.intact(what, row.uuid):
            return
        if e["rev"] > row.rev:
            row.day = self.day(e, "date", what)
            row.venue_ct = seal(e["venue"])
            row.host, row.status, row.rev, row.updated_at = e["host"], e["status"], e["rev"], self.now
            row.minutes_ct = seal(e["minutes"]) if e["minutes"] else None
            self.result.meetings += 1
        self.s.flush()

    def agenda(self, e: dict[str, Any]) -> None:
        what = f"agenda item of {e['meeting']}"
        check_block("text", e["text"])
        if e["origin"] == self.session.ministry:
            return
        if e["origin"] != self.sender:
            self.skip(what, f"added by {e['origin']}, sent by {self.sender}: only its origin updates it")
            return
        if not self.known(what, [e["origin"]], e["domain"]):
            return
        m = self.s.execute(select(Meeting).where(Meeting.quarter == e["meeting"])).scalar_one_or_none()
        if m is None:
            self.skip(what, "no such meeting here")
            return
        row = self.s.execute(select(AgendaItem).where(AgendaItem.uuid == e["uuid"])).scalar_one_or_none()
        if row is None:
            row = AgendaItem(uuid=e["uuid"], meeting_id=m.id, origin=e["origin"], rev=0)
            self.s.add(row)
        elif row.origin != e["origin"]:
            self.skip(what, "does not match the item held here under that id")
            return
        elif not self.intact(what, row.uuid):
            return
        if e["rev"] > row.rev:
            row.domain, row.outcome, row.rev = e["domain"], e["outcome"], e["rev"]
            row.text_ct = self.session.seal(e["text"])
            row.action_uuid = e["action"] or None
            self.result.agenda += 1

    def action(self, e: dict[str, Any]) -> None:
        code = e["id"]
        what = f"action {code}"
        check_line("title", e["title"])
        check_line("officer", e["officer"])
        check_line("status_by", e["status_by"])
        check_block("note", e["note"])
        if not self.known(what, [e["owner"], e["origin"]], e["domain"]):
            return
        if not code.startswith(e["origin"] + "-A"):
            self.skip(what, f"has an id that is not one of {e['origin']}'s actions")
            return
        row = self.s.execute(select(Action).where(Action.uuid == e["uuid"])).scalar_one_or_none()
        seal = self.session.seal
        if row is None:
            if e["origin"] != self.sender:
                self.skip(what, f"agreed by {e['origin']}, sent by {self.sender}: only its origin shares it")
                return
            if self.s.execute(select(Action.id).where(Action.code == code)).first():
                self.skip(what, "another action has that id here")
                return
            row = Action(
                uuid=e["uuid"],
                code=code,
                origin=e["origin"],
                created_at=self.time(e, "created_at", what),
                status="open",
                note_ct=None,
                status_at=None,
                status_by="",
                content_rev=0,
                status_rev=1,
            )
            self.s.add(row)
            self.result.actions_new += 1
        elif row.origin != e["origin"] or row.code != code:
            self.skip(what, "does not match the action held here under that id")
            return
        elif not self.intact(what, row.uuid):
            return
        if e["content_rev"] > row.content_rev:
            if self.sender == row.origin:
                if row.content_rev > 0:
                    self.result.actions_updated += 1
                row.title_ct = seal(e["title"])
                row.domain, row.owner, row.officer = e["domain"], e["owner"], e["officer"]
                row.due = self.day(e, "due", what)
                row.meeting_quarter = e["meeting"] or None
                row.records = " ".join(e["records"])
                row.content_rev = e["content_rev"]
            else:
                self.skip(what, f"changed by {self.sender}: only its origin {row.origin} changes it")
        if e["status_rev"] > row.status_rev and e["status"] != row.status:
            if self.sender != row.owner:
                self.skip(
                    what, f"marked {e['status']} by {self.sender}: only its owner {row.owner} may change its status"
                )
            else:
                row.status, row.status_rev = e["status"], e["status_rev"]
                row.note_ct = seal(e["note"]) if e["note"] else None
                row.status_at = self.time(e, "status_at", what) if e["status_at"] else self.now
                row.status_by = e["status_by"]
                self.result.status_changes.append((code, e["status"]))
        elif e["status_rev"] > row.status_rev and self.sender == row.owner:
            row.status_rev = e["status_rev"]
        self.s.flush()

    def pack(self, e: dict[str, Any]) -> None:
        """A meeting pack sealed to us by its origin: kept (encrypted) for `meetings pack Q --from ORIGIN`."""
        what = f"meeting pack for {e['meeting']}"
        check_block("text", e["text"])
        check_line("prepared_by", e["prepared_by"])
        if e["origin"] != self.sender:
            self.skip(what, f"prepared by {e['origin']}, sent by {self.sender}: only its author sends it")
            return
        if not self.known(what, [e["origin"]]):
            return
        if self.s.execute(select(Pack.id).where(Pack.uuid == e["uuid"])).first():
            return  # the same pack again
        self.s.add(
            Pack(
                uuid=e["uuid"],
                quarter=e["meeting"],
                origin=e["origin"],
                text_ct=self.session.seal(e["text"]),
                with_titles=e["with_titles"],
                prepared_at=self.time(e, "prepared_at", what),
                prepared_by=e["prepared_by"],
                received_at=self.now,
            )
        )
        self.result.packs.append((e["meeting"], e["origin"]))


def pack_entry(session: Session, quarter: str, text: str, *, with_titles: bool) -> dict[str, Any]:
    """The bundle entry (`jwg-pack`) carrying a meeting pack to a counterpart."""
    return {
        "kind": "jwg-pack",
        "uuid": str(uuidlib.uuid4()),
        "meeting": quarter,
        "text": text,
        "with_titles": with_titles,
        "origin": session.ministry,
        "prepared_at": fmt.format_time(session.clock()),
        "prepared_by": session.actor.name,
    }


def apply_entries(
    session: Session, s: OrmSession, sender: str, entries: list[dict[str, Any]], now: datetime
) -> JwgImport:
    """Apply the desk entries of one verified bundle from `sender` (meetings, actions, agenda items, packs)."""
    job = _Apply(session, s, sender, now, entries)
    order = {"jwg-meeting": 0, "jwg-action": 1, "jwg-agenda-item": 2, "jwg-pack": 3}
    for e in sorted(entries, key=lambda e: order[e["kind"]]):
        if e["kind"] == "jwg-meeting":
            job.meeting(e)
        elif e["kind"] == "jwg-action":
            job.action(e)
        elif e["kind"] == "jwg-pack":
            job.pack(e)
            continue  # not a revisioned desk entry: nothing to note as held
        else:
            job.agenda(e)
        _note_held(s, e, sender)
    return job.result


def _note_held(s: OrmSession, e: dict[str, Any], sender: str) -> None:
    """Note what `sender` holds of an entry it sent: never newer than the row kept here (Threat 24). A skipped
    entry's claimed revisions would otherwise make this store believe the sender holds changes it never
    accepted from it, and this store's own later changes would never be sent."""
    uuid = e["uuid"]
    if e["kind"] == "jwg-action":
        action = s.scalars(select(Action).where(Action.uuid == uuid)).first()
        if action is not None:  # nothing kept here: nothing to send it later either
            _note(s, uuid, sender, min(e["content_rev"], action.content_rev), min(e["status_rev"], action.status_rev))
        return
    if e["kind"] == "jwg-meeting":
        kept = s.scalars(select(Meeting.rev).where(Meeting.uuid == uuid)).first()
    else:
        kept = s.scalars(select(AgendaItem.rev).where(AgendaItem.uuid == uuid)).first()
    if kept is not None:
        _note(s, uuid, sender, min(e["rev"], kept), 0)


def is_desk_entry(entry: Any) -> bool:
    """True for a payload entry of the working-group desk."""
    return fmt.entry_kind(entry).startswith("jwg-")
