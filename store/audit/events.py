"""The queue one user action fills: the events the audit log will append when the action ends (`log.finish`).

`Session.act` opens an `AuditTxn` on its ORM session (`begin`); code inside the action tells the log more with
`note` (its own event, or one more), `note_records` (one event per record, state loaded in batches at `finish`),
`note_state` (a state the caller built from rows it wrote), `note_officer` and `note_rekeyed_details`. A
`before_flush` hook remembers every officers and contacts row the action writes through the ORM, so each gets an
event of its own.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session as OrmSession

from store.audit.bulk import StateEvent, encode_data, pack, pack_written
from store.audit.snapshot import build_state
from store.models import Contact, Officer

#: Where an action's audit transaction lives on its ORM session (`Session.info`).
INFO_KEY = "liaison.audit"
#: Events whose data holds an officer's state (`officer_state`): the log's record of the officers table.
OFFICER_STATE_ACTIONS = frozenset(
    {"officer-add", "officer-remove", "officer-regrant", "officer-key", "officer-role", "passwd", "genesis-officer"}
)
#: Record actions a record's author writes a revision with (four-eyes: the approver's key must differ).
WRITING_ACTIONS = frozenset({"create", "edit"})


@dataclass(slots=True)  # no per-event __dict__: an import or export queues one per record
class PendingEvent:
    """One event queued by an action; its record and officer state are taken at `finish`."""

    action: str
    target: str
    record_id: int | None = None
    state: dict[str, Any] | None = None
    data: dict[str, Any] = field(default_factory=dict)
    wrote: dict[str, str] = field(default_factory=dict)
    detail: str | None = None
    officer_name: str | None = None  # an officer whose row's state the event carries (`officer_state`)
    at: datetime | None = None  # when it happened, if not now (a failed unlock folded in later)


@dataclass
class AuditTxn:
    """The events one user action will append."""

    main: PendingEvent
    #: The action's further events; a bulk path's record events in their compact form (`StateEvent`).
    extra: list[PendingEvent | StateEvent] = field(default_factory=list)
    officers_new: set[str] = field(default_factory=set)
    officers_dirty: set[str] = field(default_factory=set)
    contacts: set[str] = field(default_factory=set)
    #: Record uuids the action's own event moves the ciphertexts of (`store.audit.rekeys`): filed in
    #: `rekey_index` under that event's seq once it has one.
    moved: list[str] = field(default_factory=list)
    #: Further events that move records (`note_batch`: an export's share batches), each with the uuids it names:
    #: filed in `rekey_index` under each event's seq once it has one.
    batches: list[tuple[PendingEvent, list[str]]] = field(default_factory=list)

    def events(self) -> list[PendingEvent | StateEvent]:
        return [self.main, *self.extra]


def begin(s: OrmSession, action: str, target: str) -> AuditTxn:
    """Open the audit transaction of one user action on its ORM session."""
    txn = AuditTxn(PendingEvent(action, target))
    s.info[INFO_KEY] = txn
    return txn


def current(s: OrmSession) -> AuditTxn:
    """The audit transaction of the action running on `s` (an error outside `Session.act`)."""
    txn = s.info.get(INFO_KEY)
    if not isinstance(txn, AuditTxn):
        raise RuntimeError("no audit transaction: record changes run inside Session.act")
    return txn


def note(
    s: OrmSession,
    *,
    record_id: int | None = None,
    data: Mapping[str, Any] | None = None,
    wrote: Mapping[str, bytes | str] | None = None,
    detail: str | None = None,
    action: str | None = None,
    target: str | None = None,
) -> None:
    """Tell the log more about the running action.

    Without `action`, the detail goes on the action's own event (and `record_id` makes it a record event; a
    second, different record gets an event of its own under the same action). With `action`, a separate event.
    `wrote` maps a name (`title`, `body`, `comment`) to the ciphertext written (or its hex SHA-256); `detail` is
    content-revealing text (a comment, a reason) stored encrypted; `data` holds plaintext facts only.
    """
    txn = current(s)
    ev: PendingEvent
    if action is None and (txn.main.record_id is None or record_id is None or txn.main.record_id == record_id):
        ev = txn.main
    else:
        ev = PendingEvent(action or txn.main.action, target or txn.main.target)
        txn.extra.append(ev)
    if target is not None:
        ev.target = target
    if record_id is not None:
        ev.record_id = record_id
    if data:
        ev.data.update(data)
    for name, value in (wrote or {}).items():
        ev.wrote[name] = value if isinstance(value, str) else hashlib.sha256(value).hexdigest()
    if detail:
        ev.detail = detail if ev.detail is None else f"{ev.detail}\n{detail}"


def note_records(
    s: OrmSession,
    record_ids: Iterable[int],
    *,
    action: str,
    data: Mapping[str, Any] | None = None,
    states: Mapping[int, dict[str, Any]] | None = None,
) -> None:
    """One event per record (its state loaded in batches at `finish`): a status many records changed at once.

    `states`: the records' states after the change when the caller already holds them (an export: the states its
    damage check loaded, with the new status), queued in the compact form (`store.audit.bulk.pack`: the same signed
    bytes); a record without one is loaded at `finish`."""
    txn = current(s)
    known = states or {}
    data_json = encode_data(data or {})  # one shared copy for the compact form of every event below
    for rid in record_ids:
        state = known.get(rid)
        packed = pack(action, state, {}, None, data_json=data_json) if state else None
        txn.extra.append(
            packed
            if packed is not None
            else PendingEvent(action, "", record_id=rid, data=dict(data or {}), state=dict(state) if state else None)
        )


def note_batch(s: OrmSession, action: str, target: str, data: Mapping[str, Any], uuids: Iterable[str]) -> None:
    """One more event about many records at once (an export's `share` batch, `store.audit.rekeys`): its `data`
    names them, and it is filed in `rekey_index` under each of `uuids` once appended."""
    txn = current(s)
    ev = PendingEvent(action, target, data=dict(data))
    txn.extra.append(ev)
    txn.batches.append((ev, list(uuids)))


def note_rekeyed_details(s: OrmSession, written: Mapping[int, bytes]) -> None:
    """Events' details re-encrypted under a new data key (`keys rotate`): the log's bodies are immutable, so one
    `rekey-details` event signs each event's new detail hash (seq → SHA-256 of the new `detail_ct`)."""
    if written:
        current(s).extra.append(
            PendingEvent(
                "rekey-details",
                "audit_log",
                data={"details": {str(seq): hashlib.sha256(ct).hexdigest() for seq, ct in sorted(written.items())}},
            )
        )


def note_state(
    s: OrmSession,
    state: dict[str, Any],
    *,
    action: str,
    wrote: Mapping[str, bytes] | None = None,
    data: Mapping[str, Any] | None = None,
) -> None:
    """One record event whose state the caller built from the rows it just wrote (bulk ingest, no query).

    Queued in its compact form (`store.audit.bulk.pack`: the same signed bytes), or as a dict if it has none."""
    packed = pack(action, state, wrote or {}, data)
    current(s).extra.append(
        packed
        if packed is not None
        else PendingEvent(
            action,
            state["reference"],
            state=state,
            wrote={k: hashlib.sha256(v).hexdigest() for k, v in (wrote or {}).items()},
            data=dict(data or {}),
        )
    )


def note_written(s: OrmSession, *, action: str, wrote: Mapping[str, bytes], **state: Any) -> None:
    """`note_state(s, build_state(**state), action=action, wrote=wrote)` for a record a bulk path has just written
    (ingest, demo, import), packed straight from its rows (`store.audit.bulk.pack_written`: the same event)."""
    packed = pack_written(action, wrote=wrote, **state)
    if packed is None:
        note_state(s, build_state(**state), action=action, wrote=wrote)
    else:
        current(s).extra.append(packed)


def note_officer(s: OrmSession, name: str, *, action: str, data: Mapping[str, Any] | None = None) -> None:
    """An event carrying officer `name`'s row state as it is at the end of the action."""
    current(s).extra.append(PendingEvent(action, name, officer_name=name, data=dict(data or {})))


@event.listens_for(OrmSession, "before_flush")
def _track_rows(s: OrmSession, _ctx: Any, _instances: Any) -> None:
    """Remember every officers and contacts row an action writes through the ORM: each gets its own event."""
    txn = s.info.get(INFO_KEY)
    if not isinstance(txn, AuditTxn):
        return
    for obj in s.new:
        if isinstance(obj, Officer):
            txn.officers_new.add(obj.name)
        elif isinstance(obj, Contact):
            txn.contacts.add(obj.code)
    for obj in s.dirty:
        if isinstance(obj, Officer) and s.is_modified(obj):
            txn.officers_dirty.add(obj.name)
        elif isinstance(obj, Contact) and s.is_modified(obj):
            txn.contacts.add(obj.code)
