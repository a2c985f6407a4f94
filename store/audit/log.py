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
import time
from collections.abc import Iterator, Sequence
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
    note_officer,
    note_records,
    note_rekeyed_details,
    note_state,
    note_written,
)
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
    sha256_hex,
)
from store.models import AuditRow, Contact, Officer, Record

EVENT_VERSION = 1


def _body(
    seq: int,
    at: datetime,
    store: str,
    officer: str,
    ev: PendingEvent,
    record: dict[str, Any] | None,
    detail: str | None,
) -> dict[str, Any]:
    return {
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
    return _append(s, signer, events)


def append(s: OrmSession, signer: Signer, events: Sequence[PendingEvent | StateEvent]) -> int:
    """Sign and append `events` (record states loaded in batches), then write one checkpoint."""
    return _append(s, signer, list(events))


def _append(s: OrmSession, signer: Signer, events: list[PendingEvent | StateEvent | None]) -> int:
    """`append`, letting go of each event of `events` (a list of the caller's own) once it is signed."""
    wanted = [
        ev.record_id for ev in events if isinstance(ev, PendingEvent) and ev.record_id is not None and ev.state is None
    ]
    states = record_states(s, wanted) if wanted else {}
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
            body = packed.body(seq, ev)
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
            body = event_bytes(_body(seq, at, store_id, signer.officer, ev, record, sha256_hex(detail_ct)))
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
        }

    def seal(built: list[dict[str, Any]], sigs: list[bytes]) -> None:
        """Chain and write signed rows, in order."""
        nonlocal chain, rows
        for row, sig in zip(built, sigs, strict=True):
            leaf = leaf_hash(leaf_input(row["body"], public, sig))
            chain = chain_hash(chain, leaf)
            frontier.append(leaf)
            row["sig"], row["chain"] = sig, chain
            rows.append(row)
            if len(rows) >= CHUNK:
                dialect.insert_rows(conn, AuditRow.__table__, rows)
                rows = []

    with _Signing(signer.signing_key, len(events)) as signing:
        for start in range(0, len(events), SIGN_WINDOW):
            built = []
            for i in range(start, min(start + SIGN_WINDOW, len(events))):
                ev = events[i]
                events[i] = None  # built below: nothing else holds a bulk event, which goes once signed
                assert ev is not None
                built.append(build(ev))
            signing.submit(built)
            for done, sigs in signing.ready():
                seal(done, sigs)
        for done, sigs in signing.drain():
            seal(done, sigs)
    if seq == head.size:
        return head.size
    if rows:
        dialect.insert_rows(conn, AuditRow.__table__, rows)
    write_checkpoint(s, signer, frontier)
    return seq


#: Events built, then signed, together: while a helper process signs one window, the action's process builds the
#: next and chains the one before.
SIGN_WINDOW = 1000
#: An append of fewer events signs them itself (a helper's start, ~0.1 s, is not worth it).
HELPER_FROM = 10_000


class _Signing:
    """An append's signatures: each window's bodies signed by a helper process (`crypto.sign_pool`, large appends)
    or here, handed back in order (`ready`: the windows already signed; `drain`: the rest). The helper only signs
    bytes: the rows, the chain and the database stay with the caller; if it fails, the rest is signed here.

    When this process waits on the helper, it signs the last bodies of the next windows itself, about as many as
    even the two out (fewer again when it no longer waits)."""

    def __init__(self, private: bytes, events: int) -> None:
        self._private = private
        self._sign = event_signer(private)
        self._pool = SignPool.start() if events >= HELPER_FROM else None
        self._done: list[tuple[list[dict[str, Any]], list[bytes]]] = []
        self._out: tuple[list[dict[str, Any]], list[bytes]] | None = None  # the window the helper is signing
        self.keep = 0  # how many of a window's bodies (its last) this process signs itself
        self._each = 40e-6  # seconds one signature takes here (measured as it goes)

    def _all(self, built: list[dict[str, Any]]) -> list[bytes]:
        sign = self._sign
        return [sign(row["body"]) for row in built]

    def _collect(self) -> None:
        if self._out is None:
            return
        (built, mine), self._out = self._out, None
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
                self.keep = min(len(built) // 2, self.keep + int(waited / (2 * self._each) / 2))
            else:
                self.keep = max(0, self.keep - max(1, self.keep // 8))
        self._done.append((built, sigs if sigs is not None else self._all(built)))

    def submit(self, built: list[dict[str, Any]]) -> None:
        """Sign a window (the helper's previous one collected first: one request outstanding at a time)."""
        self._collect()
        if self._pool is not None:
            kept = min(self.keep, len(built) // 2)
            handed = len(built) - kept
            try:
                self._pool.submit(self._private, [row["body"] for row in built[:handed]])
            except PoolBroken:
                self._close()
            else:
                started = time.perf_counter()
                mine = self._all(built[handed:])  # while the helper signs the rest
                if kept:
                    self._each = (time.perf_counter() - started) / kept
                self._out = (built, mine)
                return
        self._done.append((built, self._all(built)))

    def ready(self) -> Iterator[tuple[list[dict[str, Any]], list[bytes]]]:
        while self._done:
            yield self._done.pop(0)

    def drain(self) -> Iterator[tuple[list[dict[str, Any]], list[bytes]]]:
        self._collect()
        yield from self.ready()

    def _close(self) -> None:
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
    "sha256_hex",
    "write_checkpoint",
]
