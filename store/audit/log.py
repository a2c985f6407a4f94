"""The signed audit log: every user action's events, chained, in a Merkle tree, under one signed checkpoint.

Each user action (`Session.act`) opens an audit transaction on its ORM session (`begin`); code inside the action
queues what the log must say with `note` (or `note_records` for many records); `finish` then, in the same
database transaction:

1. takes the state of every record an event names *after* the action (`record_states`: all plaintext tags, the
   SHA-256 of its title and current body ciphertexts, its current revision row, its review rows, withdrawn or not);
2. adds an officer-state event for every officers row the action wrote (role, signing key, slot and grant hashes,
   revoked) and a contact event for every contact row it wrote;
3. signs each event body (canonical JSON, `crypto.events`) with the acting officer's Ed25519 key, appends it
   (`seq` 1, 2, 3… with no gaps; `chain` = SHA-256(previous chain ‖ leaf hash); the Merkle frontier in meta
   `audit_frontier`), and
4. writes ONE checkpoint (C2SP signed note of tree size, root and time) signed by the ministry identity key.

Content never enters a body: a comment or a reason goes in `detail_ct`, encrypted under the data key, and only
its ciphertext's SHA-256 is signed.

Bulk paths (ingest, import) queue one event per record, with the state computed from the rows they wrote in
memory (`note_state`) or loaded in batches at `finish`: never one query per record.

This module appends; the rest of the log's writing side is beside it and importable from here as before:
`store.audit.events` (the queue an action fills: `begin`, `note`…), `store.audit.snapshot` (what an event signs
of a record, an officer, a contact) and `store.audit.checkpoints` (the log's head and its signed checkpoints).
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session as OrmSession

from crypto.events import chain_hash, event_bytes, event_signer, leaf_input
from crypto.helper_process import PoolBroken
from crypto.merkle import leaf_hash
from crypto.sign_pool import SignPool
from store import sqlite as dialect
from store.audit.bulk import BodyWriter, StateEvent
from store.audit.checkpoints import (
    Head,
    Signer,
    grew_to,
    latest_checkpoint,
    log_origin,
    log_size,
    read_head,
    write_checkpoint,
)
from store.audit.events import (
    INFO_KEY,
    OFFICER_STATE_ACTIONS,
    WRITING_ACTIONS,
    AuditTxn,
    PendingEvent,
    begin,
    current,
    note,
    note_batch,
    note_officer,
    note_records,
    note_rekeyed_details,
    note_state,
    note_written,
)
from store.audit.filing import MAX_RECORD_BODY
from store.audit.snapshot import (
    CHUNK,
    REVISION_DIGEST_COLUMNS,
    build_state,
    contact_state,
    iso,
    officer_state,
    record_states,
    reviews_digest,
    revision_digest,
    revision_hashes,
    sha256_hex,
)
from store.errors import ValidationError
from store.models import AuditRow, Contact, Officer, Record, RekeyIndex

EVENT_VERSION = 1


def _body(
    seq: int,
    at: datetime,
    store: str,
    officer: str,
    ev: PendingEvent,
    record: dict[str, Any] | None,
    detail: str | None,
    position: int | None,
) -> dict[str, Any]:
    extra = {"position": position} if position is not None else {}
    return {
        **extra,
        "v": EVENT_VERSION,
        "seq": seq,
        "at": iso(at),
        "store": store,
        "officer": officer,
        "action": ev.action,
        "target": ev.target,
        "record": record,
        "data": ev.data,
        "detail_sha256": detail,
    }


def finish(s: OrmSession, signer: Signer) -> int:
    """Append the action's events and one signed checkpoint in the action's transaction; returns the new size."""
    s.flush()
    txn = current(s)
    s.info.pop(INFO_KEY, None)
    events: list[PendingEvent | StateEvent | None] = [txn.main, *txn.extra]
    txn.extra = []  # the list above holds them now: `_append` lets go of each as it is signed
    explicit_officers = {ev.officer_name for ev in events if isinstance(ev, PendingEvent) and ev.officer_name}
    for name in sorted((txn.officers_new | txn.officers_dirty) - explicit_officers):
        if txn.main.action in OFFICER_STATE_ACTIONS and txn.main.target == name and txn.main.officer_name is None:
            txn.main.officer_name = name
        else:
            events.append(
                PendingEvent("officer-add" if name in txn.officers_new else "officer-regrant", name, officer_name=name)
            )
    for code in sorted(txn.contacts):
        row = s.get(Contact, code)
        if row is None:
            continue
        if txn.main.target == code and "contact" not in txn.main.data:
            txn.main.data["contact"] = contact_state(row)
        else:
            events.append(PendingEvent("contact-update", code, data={"contact": contact_state(row)}))
    place = {id(ev): i for i, ev in enumerate(events)} if txn.batches else {}
    size = _append(s, signer, events)
    first = size - len(events) + 1  # the action's own event is the first appended, the rest in queue order
    index = [{"record_uuid": uuid, "seq": first} for uuid in txn.moved]
    index += [{"record_uuid": uuid, "seq": first + place[id(ev)]} for ev, uuids in txn.batches for uuid in uuids]
    dialect.insert_rows(s.connection(), RekeyIndex.__table__, index)
    return size


def append(s: OrmSession, signer: Signer, events: Sequence[PendingEvent | StateEvent]) -> int:
    """Sign and append `events` (record states loaded in batches), then write one checkpoint."""
    return _append(s, signer, list(events))


def _append(
    s: OrmSession,
    signer: Signer,
    events: list[PendingEvent | StateEvent | None],
) -> int:
    """`append`, letting go of each event of `events` (a list of the caller's own) once it is signed."""
    wanted = [
        ev.record_id for ev in events if isinstance(ev, PendingEvent) and ev.record_id is not None and ev.state is None
    ]
    states = record_states(s, wanted) if wanted else {}
    positions = Positions(s)
    positions.count(uuid for ev in events if (uuid := _uuid_of(ev, states)) is not None)
    keys = signer.keyring
    store_id = keys.store_id
    head = read_head(s)
    seq, chain, frontier = head.size, head.chain, head.frontier
    public = _public(signer.signing_key)
    now = iso(signer.now)
    assert now is not None
    packed = BodyWriter(EVENT_VERSION, now, store_id, signer.officer)
    # rows go to SQLite a chunk at a time as they are signed: an action of 100,000 records never holds every
    # event body at once (same rows, same order, same transaction: only the peak memory differs)
    conn = s.connection()
    rows: list[dict[str, Any]] = []

    def build(ev: PendingEvent | StateEvent) -> dict[str, Any]:
        """The row of the next event, all but its signature and chain hash."""
        nonlocal seq
        seq += 1
        detail_ct: bytes | None = None
        uuid: str | None
        if type(ev) is StateEvent:  # a bulk record event: its body written straight from the compact form
            at, target, uuid = signer.now, ev.reference, ev.uuid
            position = positions.next(uuid)
            body = packed.body(seq, ev, position)
        else:
            assert isinstance(ev, PendingEvent)
            record: dict[str, Any] | None = None
            state = ev.state if ev.state is not None else states.get(ev.record_id) if ev.record_id is not None else None
            if state is not None:
                record = {**state, "wrote": dict(sorted(ev.wrote.items()))}
                ev.target = state["reference"]
            elif ev.wrote:
                ev.data["wrote"] = dict(sorted(ev.wrote.items()))
            if ev.officer_name is not None:
                row = s.get(Officer, ev.officer_name)
                if row is not None:
                    ev.data["officer_state"] = officer_state(row)
            detail_ct = keys.encrypt(ev.detail.encode("utf-8")) if ev.detail else None
            at, target, uuid = ev.at or signer.now, ev.target, state["uuid"] if state is not None else None
            place = positions.next(uuid) if uuid is not None else None
            body = event_bytes(_body(seq, at, store_id, signer.officer, ev, record, sha256_hex(detail_ct), place))
            if uuid is not None and len(body) > MAX_RECORD_BODY:  # what `filing.cut_from` relies on
                raise ValidationError(
                    f"the audit event about record {target} would be {len(body):,} bytes, more than an event about "
                    f"a record may be ({MAX_RECORD_BODY:,})"
                )
        return {
            "seq": seq,
            "at": at,
            "officer": signer.officer,
            "action": ev.action[:32],
            "target": target[:64],
            "record_uuid": uuid,
            "body": body,
            "signer": public,
            "detail_ct": detail_ct,
            "sig": None,
        }

    def seal(built: list[dict[str, Any]]) -> None:
        """Chain and write signed rows, in order."""
        nonlocal chain, rows
        for row in built:
            leaf = leaf_hash(leaf_input(row["body"], public, row["sig"]))
            chain = chain_hash(chain, leaf)
            frontier.append(leaf)
            row["chain"] = chain
            rows.append(row)
            if len(rows) >= CHUNK:
                dialect.insert_rows(conn, AuditRow.__table__, rows)
                rows = []

    with _Signing(signer.signing_key, len(events)) as signing:
        for start in range(0, len(events), signing.window):
            built = []
            for i in range(start, min(start + signing.window, len(events))):
                ev = events[i]
                events[i] = None  # built below: nothing else holds a bulk event, which goes once signed
                assert ev is not None
                built.append(build(ev))
            signing.submit(built)
            for done in signing.ready():
                seal(done)
        for done in signing.drain():
            seal(done)
    if seq == head.size:
        return head.size
    if rows:
        dialect.insert_rows(conn, AuditRow.__table__, rows)
    write_checkpoint(s, signer, frontier)
    grew_to(s, head.size, seq)  # the next action's check need not count the log again
    return seq


def _uuid_of(ev: PendingEvent | StateEvent | None, states: Mapping[int, dict[str, Any]]) -> str | None:
    """The uuid of the record an event to append is about (None: about none), as `_append` will find it."""
    if type(ev) is StateEvent:
        return ev.uuid
    if not isinstance(ev, PendingEvent):
        return None
    state = ev.state if ev.state is not None else states.get(ev.record_id) if ev.record_id is not None else None
    return str(state["uuid"]) if state is not None else None


class Positions:
    """Each record event's `position`: how many events about its record the log holds before it (those filed
    under the record's uuid, then this append's own). Signed into the body, it makes a record's later events
    hidden from the log's record index when an event was signed show afterwards: the record's latest event then
    names fewer events before it than the index holds (`state._record_problem`, `walk`)."""

    def __init__(self, s: OrmSession) -> None:
        raw = s.connection().connection.driver_connection  # the caller's transaction, read without the ORM's rows
        assert isinstance(raw, sqlite3.Connection)
        self._raw = raw
        #: record uuid → events the log files under it, plus the positions handed out since
        self.counted: dict[str, int] = {}

    def count(self, uuids: Iterable[str]) -> None:
        """Read how many events the log files under each of `uuids` (those not counted yet)."""
        wanted = list({u for u in uuids if u not in self.counted})
        for i in range(0, len(wanted), 900):
            chunk = wanted[i : i + 900]
            self.counted.update(dict.fromkeys(chunk, 0))
            marks = ",".join("?" * len(chunk))
            self.counted.update(
                self._raw.execute(
                    f"SELECT record_uuid, count(*) FROM audit_log WHERE record_uuid IN ({marks}) GROUP BY record_uuid",
                    chunk,
                ).fetchall()
            )

    def next(self, uuid: str) -> int:
        """The position of the next event about `uuid` (counted first if it was not)."""
        if uuid not in self.counted:
            self.count([uuid])
        position = self.counted[uuid]
        self.counted[uuid] = position + 1
        return position


#: Events built, then signed, together: while a helper process signs one window, the action's process builds the
#: next and chains the one before.
SIGN_WINDOW = 1000
#: An append of fewer events signs them itself (a helper's start, ~0.1 s, is not worth it).
HELPER_FROM = 10_000


class _Signing:
    """An append's signatures: each window's rows signed (`row["sig"]` set, unless a row already has one) by a helper
    process (`crypto.sign_pool`, large appends) or here, the windows handed back in order (`ready`: those already
    signed; `drain`: the rest). The helper only signs bytes: the rows, the chain and the database stay with the
    caller; if it fails, the rest is signed here.

    When this process waits on the helper, it signs the last bodies of the next windows itself, about as many as
    even the two out (fewer again when it no longer waits)."""

    def __init__(self, private: bytes, events: int) -> None:
        self._private = private
        self._sign = event_signer(private)
        self._pool = SignPool.start() if events >= HELPER_FROM else None
        self.window = SIGN_WINDOW
        self._done: list[list[dict[str, Any]]] = []
        #: the window the helper is signing: all its rows, those to sign, and the signatures this process made
        self._out: tuple[list[dict[str, Any]], list[dict[str, Any]], list[bytes]] | None = None
        self.keep = 0  # how many of a window's bodies (its last) this process signs itself
        self._each = 40e-6  # seconds one signature takes here (measured as it goes)

    def _all(self, rows: list[dict[str, Any]]) -> list[bytes]:
        sign = self._sign
        return [sign(row["body"]) for row in rows]

    def _collect(self) -> None:
        if self._out is None:
            return
        (built, todo, mine), self._out = self._out, None
        sigs: list[bytes] | None = None
        if self._pool is not None:
            waited = time.perf_counter()
            try:
                sigs = self._pool.collect() + mine
            except PoolBroken:
                self._close()
            waited = time.perf_counter() - waited
            # a body moved from the helper to this process shortens the wait by about two signatures' time
            if waited > 0.001:
                self.keep = min(len(todo) // 2, self.keep + int(waited / (2 * self._each) / 2))
            else:
                self.keep = max(0, self.keep - max(1, self.keep // 8))
        for row, sig in zip(todo, sigs if sigs is not None else self._all(todo), strict=True):
            row["sig"] = sig
        self._done.append(built)

    def submit(self, built: list[dict[str, Any]]) -> None:
        """Sign a window (the helper's previous one collected first: one request outstanding at a time)."""
        self._collect()
        todo = [row for row in built if row["sig"] is None]
        if self._pool is not None and todo:
            kept = min(self.keep, len(todo) // 2)
            handed = len(todo) - kept
            try:
                self._pool.submit(self._private, [row["body"] for row in todo[:handed]])
            except PoolBroken:
                self._close()
            else:
                started = time.perf_counter()
                mine = self._all(todo[handed:])  # while the helper signs the rest
                if kept:
                    self._each = (time.perf_counter() - started) / kept
                self._out = (built, todo, mine)
                return
        for row, sig in zip(todo, self._all(todo), strict=True):
            row["sig"] = sig
        self._done.append(built)

    def ready(self) -> Iterator[list[dict[str, Any]]]:
        while self._done:
            yield self._done.pop(0)

    def drain(self) -> Iterator[list[dict[str, Any]]]:
        self._collect()
        yield from self.ready()

    def _close(self) -> None:
        """End the helper."""
        if self._pool is not None:
            self._pool.close()
        self._pool = None

    def __enter__(self) -> _Signing:
        return self

    def __exit__(self, *exc: object) -> None:
        self._close()


_PUBLIC_CACHE: dict[bytes, bytes] = {}


def _public(private: bytes) -> bytes:
    public = _PUBLIC_CACHE.get(private)
    if public is None:
        from crypto.events import signing_public

        public = _PUBLIC_CACHE.setdefault(private, signing_public(private))
        if len(_PUBLIC_CACHE) > 64:
            _PUBLIC_CACHE.clear()
    return public


def genesis_events(s: OrmSession, admin: str, policy_doc: str) -> list[PendingEvent]:
    """The events that sign a store upgraded from before the log as it stands: every officer (the signing admin
    first), every contact, the policy, every record."""
    events = [PendingEvent("genesis-officer", admin, officer_name=admin)]
    for name in s.scalars(select(Officer.name).order_by(Officer.name)):
        if name != admin:
            events.append(PendingEvent("genesis-officer", name, officer_name=name))
    for row in s.scalars(select(Contact).order_by(Contact.code)):
        events.append(PendingEvent("genesis-contact", row.code, data={"contact": contact_state(row)}))
    events.append(
        PendingEvent(
            "genesis-policy", "policy", data={"policy_sha256": hashlib.sha256(policy_doc.encode()).hexdigest()}
        )
    )
    for rid in s.scalars(select(Record.id).order_by(Record.id)):
        events.append(PendingEvent("genesis", "", record_id=rid))
    return events


__all__ = [
    "INFO_KEY",
    "OFFICER_STATE_ACTIONS",
    "REVISION_DIGEST_COLUMNS",
    "WRITING_ACTIONS",
    "AuditTxn",
    "Head",
    "PendingEvent",
    "Signer",
    "StateEvent",
    "append",
    "begin",
    "build_state",
    "contact_state",
    "current",
    "finish",
    "genesis_events",
    "iso",
    "latest_checkpoint",
    "log_origin",
    "log_size",
    "note",
    "note_batch",
    "note_officer",
    "note_records",
    "note_rekeyed_details",
    "note_state",
    "note_written",
    "officer_state",
    "read_head",
    "record_states",
    "reviews_digest",
    "revision_digest",
    "revision_hashes",
    "sha256_hex",
    "write_checkpoint",
]
