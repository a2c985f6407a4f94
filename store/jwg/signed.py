"""The desk in the signed audit log: every meeting, agenda item, action and received pack as a signed state
(Threat 25: the store file edited with sqlite3, without the keys).

Signing. Every desk row an action writes (inside `Session.act`, so meeting add/held/minutes, agenda items,
action add/done/drop, the demo, and the desk entries a bundle import applies) is seen by an ORM flush hook
(`_track_desk`): its full plaintext state *after* the action (uuid, code, quarter, owner, officer, due date,
status, revisions, linked records, domain…) and the SHA-256 of each of its ciphertexts go into the `desk` data
of an event whose target is the row's key (`desk_key`: the action's code, the meeting's quarter,
`agenda:<uuid>`, `pack:<uuid>`), and the ciphertexts the action wrote into that event's `wrote`. The action's
own event carries it when its target is that key (`action-done PK-MOI-A3`); any other row gets an event of its
own under the same action name. A hook, not a call at each write: a path that forgets to sign cannot exist.

Checking. A desk row is *damaged* when its state differs from the `desk` state of the latest event naming
its key (`desk_damage`, one indexed query for many rows), when no event records it, or (`desk_problems`, the
whole store, for `audit verify`) when a signed row was removed. Damaged items are marked in lists, refused by
`actions show` / `meetings show` and by any change, and never exported to the counterpart.

Upgrade. A store whose desk predates this (rows with no state event) is signed as it stands at the first admin
unlock (`desk_genesis`: one `desk-genesis` event per unsigned row, then a `desk-genesis` marker on target
`desk`, so it happens once). A store whose first desk row is written by this version gets the marker with
that row's event: from then on a row no event records is damaged, never signed as genesis.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, func, inspect, select
from sqlalchemy.orm import InstanceState
from sqlalchemy.orm import Session as OrmSession

from crypto.events import verify_event
from store.audit.log import INFO_KEY, AuditTxn, PendingEvent, iso, sha256_hex
from store.audit.log import current as current_txn
from store.audit.state import log_problem
from store.audit.timeline import OfficerTimeline
from store.errors import IntegrityError
from store.jwg.models import Action, AgendaItem, Meeting, Pack
from store.models import AuditRow

if TYPE_CHECKING:
    from store.service import Session

DeskRow = Meeting | AgendaItem | Action | Pack

#: Where the desk events of the running action are kept on its ORM session (one event per row per action).
_TRACK_KEY = "liaison.jwg.signed"
#: The marker event written once, when a store's existing desk was signed (`desk_genesis`).
GENESIS_ACTION = "desk-genesis"
GENESIS_TARGET = "desk"
#: The kinds of desk rows, as the log and the messages name them.
KINDS: dict[type, str] = {Meeting: "meeting", AgendaItem: "agenda item", Action: "action", Pack: "pack"}
#: Ciphertext columns of each kind (their SHA-256 is part of the state; `wrote` names the ones an action wrote).
_CIPHERTEXTS: dict[type, tuple[str, ...]] = {
    Meeting: ("venue_ct", "minutes_ct"),
    AgendaItem: ("text_ct",),
    Action: ("title_ct", "note_ct"),
    Pack: ("text_ct",),
}
_IN_CHUNK = 900


# ---- states -------------------------------------------------------------------------------------------------


def meeting_state(m: Meeting) -> dict[str, Any]:
    return {
        "kind": "meeting",
        "uuid": m.uuid,
        "quarter": m.quarter,
        "date": iso(m.day),
        "host": m.host,
        "status": m.status,
        "origin": m.origin,
        "rev": m.rev,
        "updated_at": iso(m.updated_at),
        "venue_sha256": sha256_hex(m.venue_ct),
        "minutes_sha256": sha256_hex(m.minutes_ct),
    }


def agenda_state(i: AgendaItem, quarter: str | None) -> dict[str, Any]:
    return {
        "kind": "agenda item",
        "uuid": i.uuid,
        "meeting": quarter,
        "domain": i.domain,
        "outcome": i.outcome,
        "action": i.action_uuid,
        "origin": i.origin,
        "rev": i.rev,
        "text_sha256": sha256_hex(i.text_ct),
    }


def action_state(a: Action) -> dict[str, Any]:
    return {
        "kind": "action",
        "uuid": a.uuid,
        "id": a.code,
        "domain": a.domain,
        "owner": a.owner,
        "officer": a.officer,
        "due": iso(a.due),
        "status": a.status,
        "meeting": a.meeting_quarter,
        "records": a.records.split() if a.records else [],
        "origin": a.origin,
        "created_at": iso(a.created_at),
        "status_at": iso(a.status_at),
        "status_by": a.status_by,
        "content_rev": a.content_rev,
        "status_rev": a.status_rev,
        "title_sha256": sha256_hex(a.title_ct),
        "note_sha256": sha256_hex(a.note_ct),
    }


def pack_state(p: Pack) -> dict[str, Any]:
    return {
        "kind": "pack",
        "uuid": p.uuid,
        "quarter": p.quarter,
        "origin": p.origin,
        "with_titles": bool(p.with_titles),
        "prepared_at": iso(p.prepared_at),
        "prepared_by": p.prepared_by,
        "received_at": iso(p.received_at),
        "text_sha256": sha256_hex(p.text_ct),
    }


def desk_key(row: Meeting | AgendaItem | Action | Pack) -> str:
    """The target of a desk row's events (and its name in messages): code, quarter, `agenda:`/`pack:` uuid."""
    if isinstance(row, Action):
        return row.code
    if isinstance(row, Meeting):
        return row.quarter
    if isinstance(row, AgendaItem):
        return f"agenda:{row.uuid}"
    return f"pack:{row.uuid}"


def label(state: dict[str, Any]) -> str:
    """How a message names a desk item: `action PK-MOI-A3`, `meeting 2026-Q4`, `agenda item of 2026-Q4 (uuid)`."""
    kind = state.get("kind")
    if kind == "action":
        return f"action {state.get('id')}"
    if kind == "meeting":
        return f"meeting {state.get('quarter')}"
    if kind == "agenda item":
        return f"agenda item {state.get('uuid')} of {state.get('meeting')}"
    return f"meeting pack {state.get('uuid')} for {state.get('quarter')}"


def row_state(s: OrmSession, row: Meeting | AgendaItem | Action | Pack) -> dict[str, Any]:
    """A desk row's signed state as it is in the session now."""
    if isinstance(row, Action):
        return action_state(row)
    if isinstance(row, Meeting):
        return meeting_state(row)
    if isinstance(row, Pack):
        return pack_state(row)
    with s.no_autoflush:
        m = s.get(Meeting, row.meeting_id)
    return agenda_state(row, m.quarter if m is not None else None)


# ---- signing: the flush hook --------------------------------------------------------------------------------


@event.listens_for(OrmSession, "before_flush")
def _track_desk(s: OrmSession, _ctx: Any, _instances: Any) -> None:
    """Every desk row written inside an action gets (or updates) its event with its state as flushed."""
    txn = s.info.get(INFO_KEY)
    if not isinstance(txn, AuditTxn):
        return
    rows = [(obj, True) for obj in s.new if type(obj) in KINDS]
    rows += [(obj, False) for obj in s.dirty if type(obj) in KINDS and s.is_modified(obj)]
    _sign(s, txn, rows)
    for obj in s.deleted:
        if type(obj) in KINDS:
            gone = {"kind": KINDS[type(obj)], "uuid": obj.uuid, "removed": True}
            txn.extra.append(PendingEvent(txn.main.action, desk_key(obj), data={"desk": gone}))


def sign_rows(s: OrmSession, rows: Iterable[DeskRow]) -> None:
    """Sign these desk rows' current state in the running action (rows changed with Core statements, which the
    flush hook does not see)."""
    s.flush()
    _sign(s, current_txn(s), [(row, True) for row in rows])


def _sign(s: OrmSession, txn: AuditTxn, rows: list[tuple[DeskRow, bool]]) -> None:
    tracked = s.info.get(_TRACK_KEY)
    if tracked is None or tracked[0] is not txn:
        tracked = (txn, {})
        s.info[_TRACK_KEY] = tracked
        if rows and not _marked(s) and not _desk_rows(s):
            # the store's first desk rows: signed from the start, so no later unlock signs a row as genesis
            txn.extra.append(PendingEvent(GENESIS_ACTION, GENESIS_TARGET, data={"signed": 0}))
    events: dict[tuple[str, str], PendingEvent] = tracked[1]
    for obj, new in rows:
        state = row_state(s, obj)
        key = desk_key(obj)
        wrote = {}
        inspected: InstanceState[Any] = inspect(obj)
        for column in _CIPHERTEXTS[type(obj)]:
            value = getattr(obj, column)
            if value is not None and (new or inspected.attrs[column].history.has_changes()):
                wrote[column.removesuffix("_ct")] = hashlib.sha256(value).hexdigest()
        ev = events.get((state["kind"], state["uuid"]))
        if ev is None:
            main = txn.main
            if main.target == key and main.record_id is None and "desk" not in main.data:
                ev = main
            else:
                ev = PendingEvent(main.action, key)
                txn.extra.append(ev)
            events[(state["kind"], state["uuid"])] = ev
        elif ev is not txn.main:
            ev.target = key  # its code or quarter changed within the action: the event names it as it now is
        ev.data["desk"] = state
        # how many events naming the row's key the log holds for it: hiding some from the target index while a
        # change is signed leaves this short of the count once they are named again (`_problem`)
        ev.data["desk_position"] = _filed_before(s, key, (str(state["kind"]), str(state["uuid"])))
        ev.wrote.update(wrote)


def _filed_before(s: OrmSession, key: str, ident: tuple[str, str]) -> int:
    """How many events naming `key` (the log's target index) carry the desk state of row `ident` (kind, uuid)."""
    count = 0
    for (body,) in s.execute(select(AuditRow.body).where(AuditRow.target == key)):
        found = _desk_of(bytes(body))
        if found is not None and (str(found[1].get("kind")), found[1]["uuid"]) == ident:
            count += 1
    return count


# ---- checking -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Signed:
    """The latest signed desk state of one row: its event's seq, body, signer and signature."""

    seq: int
    state: dict[str, Any]
    officer: str
    body: bytes
    signer: bytes
    sig: bytes
    #: the events carrying this row's state under the same target before it, and how many it signed there were
    before: int = 0
    position: Any = None
    #: the seq its signed body names (another than `seq`: the body was moved to this row in the file)
    body_seq: Any = None


def _signed(seq: int, obj: dict[str, Any], desk: dict[str, Any], row: Any, counts: dict[Any, int]) -> Signed:
    """The `Signed` of one desk event, counting it among those of its row under its target (`counts`)."""
    place = (str(desk.get("kind")), desk["uuid"], str(obj.get("target")))
    before = counts.get(place, 0)
    counts[place] = before + 1
    data = obj.get("data")
    position = data.get("desk_position") if isinstance(data, dict) else None
    return Signed(
        seq, desk, str(obj.get("officer")), bytes(row[1]), bytes(row[2]), bytes(row[3]), before, position,
        obj.get("seq"),
    )  # fmt: skip


def _desk_of(body: bytes) -> tuple[dict[str, Any], dict[str, Any]] | None:
    try:
        obj = json.loads(body)
    except ValueError:
        return None
    data = obj.get("data") if isinstance(obj, dict) else None
    desk = data.get("desk") if isinstance(data, dict) else None
    if not isinstance(desk, dict) or not isinstance(desk.get("uuid"), str):
        return None
    return obj, desk


def signed_states(s: OrmSession, keys: Iterable[str]) -> dict[tuple[str, str], Signed]:
    """The latest signed desk state of each (kind, uuid) among the events targeting `keys` (indexed lookup)."""
    wanted = sorted(set(keys))
    out: dict[tuple[str, str], Signed] = {}
    counts: dict[Any, int] = {}
    for start in range(0, len(wanted), _IN_CHUNK):
        stmt = (
            select(AuditRow.seq, AuditRow.body, AuditRow.signer, AuditRow.sig)
            .where(AuditRow.target.in_(wanted[start : start + _IN_CHUNK]))
            .order_by(AuditRow.seq)
        )
        for row in s.execute(stmt):
            found = _desk_of(bytes(row[1]))
            if found is not None:
                obj, desk = found
                out[(str(desk.get("kind")), desk["uuid"])] = _signed(int(row[0]), obj, desk, row, counts)
    return out


def all_signed_states(s: OrmSession) -> dict[tuple[str, str], Signed]:
    """The latest signed desk state of every desk item the log ever named (a scan: `audit verify` only)."""
    out: dict[tuple[str, str], Signed] = {}
    counts: dict[Any, int] = {}
    stmt = (
        select(AuditRow.seq, AuditRow.body, AuditRow.signer, AuditRow.sig)
        .where(func.instr(AuditRow.body, b'"desk":{') > 0)
        .order_by(AuditRow.seq)
    )
    for row in s.execute(stmt.execution_options(yield_per=4096)):
        found = _desk_of(bytes(row[1]))
        if found is not None:
            obj, desk = found
            out[(str(desk.get("kind")), desk["uuid"])] = _signed(int(row[0]), obj, desk, row, counts)
    return out


def _compare(current: dict[str, Any], signed: Signed) -> str | None:
    if signed.state.get("removed"):
        return (
            f"{label(current)} was removed by its signed event #{signed.seq}, yet it is here (written outside Liaison)"
        )
    fields = sorted(k for k in set(current) | set(signed.state) if current.get(k) != signed.state.get(k))
    if not fields:
        return None
    names = ", ".join(f.removesuffix("_sha256") + (" (ciphertext)" if f.endswith("_sha256") else "") for f in fields)
    return f"{label(current)} differs from its signed event #{signed.seq}: {names}"


def current_states(
    s: OrmSession, rows: Sequence[DeskRow] | None = None
) -> dict[tuple[str, str], tuple[str, dict[str, Any]]]:
    """(kind, uuid) → (key, state) of the given desk rows, or of every desk row."""
    quarters: dict[int, str] = {int(i): str(q) for i, q in s.execute(select(Meeting.id, Meeting.quarter))}
    if rows is None:
        rows = [
            *s.scalars(select(Meeting)),
            *s.scalars(select(AgendaItem)),
            *s.scalars(select(Action)),
            *s.scalars(select(Pack)),
        ]
    out: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}
    for row in rows:
        state = agenda_state(row, quarters.get(row.meeting_id)) if isinstance(row, AgendaItem) else row_state(s, row)
        out[(state["kind"], state["uuid"])] = (desk_key(row), state)
    return out


def desk_damage(session: Session, s: OrmSession, rows: Sequence[DeskRow]) -> dict[str, str]:
    """uuid → why, for the damaged rows among `rows` (Threat 25). The cheap path, as for one record: the log's
    end must hold (contiguous, under this ministry's signed checkpoint), the latest event naming the row must
    verify under its officer's key at that point of the log, and the row's state must be the one it signed."""
    if not rows:
        return {}
    current = current_states(s, rows)
    problem = log_problem(s, session.keys(), session.ministry)
    if problem is not None:
        return {uuid: f"the audit log is damaged ({problem})" for (_kind, uuid) in current}
    signed = signed_states(s, (key for key, _state in current.values()))
    # only the officers who signed these rows' latest events, read through the log's target index: a scan of the
    # whole log for officer events costs ~100 ms at 100k records, on every dashboard and meetings visit
    timeline: OfficerTimeline | None = None
    signers = {found.officer for found in signed.values() if found is not None}
    out: dict[str, str] = {}
    for ident, (_key, state) in current.items():
        found = signed.get(ident)
        why = _problem(state, found)
        if why is None and found is not None:
            if not verify_event(found.signer, found.body, found.sig):
                why = f"{label(state)}: its signed event #{found.seq} does not verify (forged or edited)"
            else:
                timeline = timeline or OfficerTimeline.load(s, signers, session.keys())
                key_why = timeline.key_problem(found.officer, found.signer, found.seq)
                why = f"{label(state)}: {key_why}" if key_why is not None else None
        if why is not None:
            out[ident[1]] = why
    return out


def require_intact(session: Session, s: OrmSession, row: DeskRow) -> None:
    """Refuse to show or change a damaged desk item (IntegrityError naming why): a change would sign the state
    someone wrote outside Liaison as this officer's own."""
    why = desk_damage(session, s, [row]).get(row.uuid)
    if why is not None:
        raise IntegrityError(why, field="id", value=desk_key(row))


def _problem(state: dict[str, Any], signed: Signed | None) -> str | None:
    if signed is None:
        return f"{label(state)}: no signed event records it (written outside Liaison)"
    if signed.body_seq != signed.seq:
        return f"{label(state)}: its signed event #{signed.seq} holds the body of event {signed.body_seq} (moved)"
    position = signed.position
    if position is not None and (type(position) is not int or position != signed.before):
        return (
            f"{label(state)}: its signed event #{signed.seq} was signed after {position} events about it, but "
            f"{signed.before} come before it in the log: the log's target index was edited to hide events about it"
        )
    return _compare(state, signed)


def desk_problems(s: OrmSession) -> list[str]:
    """Every desk row against its latest signed event, and every signed row still there (`audit verify`, whose
    walk over the log has already verified each event's signature and signer)."""
    current = current_states(s)
    signed = all_signed_states(s)
    out = []
    for ident, (_key, state) in sorted(current.items(), key=lambda kv: (kv[0][0], kv[1][0])):
        why = _problem(state, signed.get(ident))
        if why is not None:
            out.append(why)
    for ident, found in sorted(signed.items(), key=lambda kv: kv[1].seq):
        if ident not in current and not found.state.get("removed"):
            out.append(f"{label(found.state)} was removed outside Liaison (its last signed event is #{found.seq})")
    return out


def _marked(s: OrmSession) -> bool:
    """True when the log says the desk is signed (the `desk-genesis` marker; an indexed lookup)."""
    with s.no_autoflush:
        return (
            s.execute(
                select(AuditRow.seq)
                .where(AuditRow.target == GENESIS_TARGET, AuditRow.action == GENESIS_ACTION)
                .limit(1)
            ).first()
            is not None
        )


def _desk_rows(s: OrmSession) -> bool:
    """True when the file holds any desk row (rows pending in the session not counted)."""
    with s.no_autoflush:
        return any(s.execute(select(model.id).limit(1)).first() for model in (Meeting, AgendaItem, Action, Pack))


def desk_genesis(s: OrmSession) -> list[PendingEvent]:
    """At an admin's unlock, once: events signing the desk rows that no event records yet (a store whose desk
    predates desk signing), and the marker saying it was done. Nothing when the marker is in the log, nor while
    the desk is empty (a new store: its rows will be signed as they are written)."""
    if not _desk_rows(s) or _marked(s):
        return []
    current = current_states(s)
    signed = signed_states(s, (key for key, _state in current.values()))
    events = [
        PendingEvent(GENESIS_ACTION, key, data={"desk": state})
        for ident, (key, state) in sorted(current.items(), key=lambda kv: (kv[0][0], kv[1][0]))
        if ident not in signed
    ]
    events.append(PendingEvent(GENESIS_ACTION, GENESIS_TARGET, data={"signed": len(events)}))
    return events


__all__ = [
    "GENESIS_ACTION",
    "KINDS",
    "Signed",
    "action_state",
    "agenda_state",
    "current_states",
    "desk_damage",
    "desk_genesis",
    "desk_key",
    "desk_problems",
    "label",
    "meeting_state",
    "pack_state",
    "require_intact",
    "sign_rows",
    "signed_states",
]
