"""`audit verify`: the whole store proven against its signed log, in one pass over the log.

What is checked, and what each check catches (threats 14, 25, 26):

- **the log itself** — sequence numbers 1, 2, 3… with no gap (a deleted event), each body's own `seq`, store
  and columns matching its row (an edited column, a reordered or inserted row), the hash chain
  (`SHA-256(previous ‖ leaf)`) against each row's stored value, and the Merkle tree recomputed leaf by leaf:
  its root at every checkpoint's size must be that checkpoint's root, and every checkpoint note must be
  signed by the ministry identity key over that size and root (a log rewritten, truncated or extended
  without the key). The newest checkpoint must cover the whole log and match the stored frontier.
- **every event's signature** by the officer's Ed25519 key *valid at that point of the log*, following the
  officer events (added, key upgraded, role changed, removed) as they come: an event signed by a removed
  officer or by a key the log never gave them is refused. A content-revealing detail's ciphertext must hash
  to the `detail_sha256` its event signed, or to the hash the latest `rekey-details` event (a key rotation
  re-encrypted it) signed for it. A `rekey` event (a record re-encrypted) moves the digest of each revision row
  it rewrote, from the one the log held (`was`) to the new one (`now`).
- **four-eyes by key identity** — an approval must be signed by a reviewer or admin (per the log) whose key
  wrote no revision of the record, and who is not its author; a record's author never changes between the
  events that write it.
- **every record's current state** (tags, releasable-to, status, author, revision, ciphertext hashes, current
  revision row, review rows, withdrawal) against its latest signed event; records no event backs; records
  whose events exist but whose row was removed; every revision row against the events that recorded it.
- **the working-group desk** (meetings, agenda items, actions, received packs) against the `desk` state of
  each row's latest event (`store.jwg.signed.desk_problems`): an action's status, owner or due date, a
  minute's ciphertext changed with sqlite3 is named (`action PK-MOI-A3 differs from its signed event #412:
  status`).

Efficient by construction: the log is streamed once in batches (`yield_per`), each record's latest signed
state is kept as a 32-byte digest (the full body is re-read only for a record that differs, to say why), and
the records are loaded in batches through the same `record_states` the log signs with.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session as OrmSession

from store.audit import rekeys
from store.audit.snapshot import REVISION_DIGEST_COLUMNS, record_states, revision_digest
from store.audit.state import compare, contact_backing_problem, identity_public, officer_backing_problem, parse_body
from store.audit.walk import (
    BATCH,
    CIPHERS,
    AuditProblem,
    Findings,
    LogWalk,
    RecordTrail,
    ciphers,
    state_digest,
    stream,
    uuids_digest,
)
from store.errors import TamperError
from store.models import AuditRow, Contact, Meta, Officer, Record, Revision

if TYPE_CHECKING:
    from store.service import Session

Progress = Callable[[int, int], None]
#: Records loaded per batch for the state comparison.
RECORD_BATCH = 5000


@dataclass(frozen=True)
class AuditReport:
    """The outcome of `audit verify`: counts, the newest checkpoint, and every problem (none: intact)."""

    events: int
    records: int
    checkpoint_size: int | None
    checkpoint_time: datetime | None
    problems: tuple[AuditProblem, ...]

    @property
    def ok(self) -> bool:
        """True when nothing was found."""
        return not self.problems


# ---- records against their trails -----------------------------------------------------------------------


def _check_records(s: OrmSession, walk: LogWalk, progress: Progress | None, total: int) -> int:
    """Every records row against its latest signed state; returns how many records there are."""
    ids = list(s.scalars(select(Record.id).order_by(Record.id)))
    seen: dict[str, int] = {}  # uuid → current revision number
    for start in range(0, len(ids), RECORD_BATCH):
        chunk = ids[start : start + RECORD_BATCH]
        states = record_states(s, chunk)
        for rid in chunk:
            state = states.get(rid)
            if state is None:
                continue
            uuid, reference = state["uuid"], state["reference"]
            seen[uuid] = int(state["revision"])
            trail = walk.records.get(uuid)
            if trail is None:
                walk.found.record(reference, "no signed event records it (written outside Liaison)")
                continue
            if state_digest(state) != trail.latest_digest or ciphers(state) != trail.ciphers:
                walk.found.record(reference, _why_differs(s, state, trail))
        if progress is not None:
            progress(walk.count + min(start + RECORD_BATCH, len(ids)), total)
    for uuid, trail in walk.records.items():
        if uuid not in seen:
            walk.found.record(trail.reference, f"its row was removed outside Liaison (last event {trail.latest_seq})")
    _check_revisions(s, walk, seen)
    return len(ids)


def _why_differs(s: OrmSession, state: dict[str, Any], trail: RecordTrail) -> str:
    body = s.execute(select(AuditRow.body).where(AuditRow.seq == trail.latest_seq)).scalar_one_or_none()
    obj = parse_body(bytes(body)) if body is not None else None
    signed = obj.get("record") if obj else None
    if not isinstance(signed, dict):
        return f"its last signed event {trail.latest_seq} is unreadable"
    signed = {**signed, **dict(zip(CIPHERS, trail.ciphers, strict=False))}  # as key rotations since moved them
    return compare(state, signed, trail.latest_seq, str(obj.get("officer") if obj else "?")) or (
        f"its state differs from its last signed event {trail.latest_seq}"
    )


def _check_revisions(s: OrmSession, walk: LogWalk, current: dict[str, int]) -> None:
    """Every earlier revision row against the digest its events signed while it was current (history rewritten or
    deleted); the current one is part of the record's own state, compared already."""
    stmt = (
        select(Record.uuid, Record.reference, *REVISION_DIGEST_COLUMNS)
        .join(Record, Record.id == Revision.record_id)
        .where(Revision.number != Record.revision)
        .order_by(Revision.record_id, Revision.number)
    )
    present: dict[str, set[int]] = {}
    for row in s.execute(stmt.execution_options(yield_per=BATCH)):
        trail = walk.records.get(row.uuid)
        if trail is None:
            continue  # the record itself is already reported
        number = int(row.number)
        present.setdefault(row.uuid, set()).add(number)
        signed = trail.revisions.get(number)
        if signed is None:
            if number >= trail.first_revision:
                walk.found.record(row.reference, f"its revision {number} is not backed by any signed event")
            continue
        have = revision_digest(*row[2:])
        if have != signed:
            walk.found.record(row.reference, f"its revision {number} is not the one its events signed (edited)")
    for uuid, trail in walk.records.items():
        have_numbers = present.get(uuid, set())
        for number in sorted(trail.revisions):
            if number < current.get(uuid, 0) and number not in have_numbers:
                walk.found.record(trail.reference, f"its revision {number} was deleted outside Liaison")


def _check_rotation_index(s: OrmSession, walk: LogWalk) -> None:
    """`rekey_index` against the key-rotation and share batches the log signed: each batch's records listed under
    its seq, and nothing else (a rotation's row removed makes its record read as damaged; a row added points at
    nothing; a share's row removed would hide its move from the cheap check of one record)."""
    listed: dict[int, list[str]] = {}
    conn = s.connection()
    try:
        (count,) = conn.exec_driver_sql("SELECT count(*) FROM rekey_index").one()
    except OperationalError:
        walk.found.event(None, "the key-rotation index (rekey_index) was removed from the file")
        return
    kept = rekeys.index_rows(conn)
    if len(kept) != count:
        walk.found.event(None, "the key-rotation index (rekey_index) holds rows that are no uuid and seq (edited)")
    for uuid, seq in kept:
        listed.setdefault(seq, []).append(uuid)
    for seq in sorted(set(listed) | set(walk.batches)):
        batch = walk.batches.get(seq)
        if batch is None:
            walk.found.event(
                seq, "the key-rotation index lists records under it, but it is no signed rotation or share batch"
            )
        elif uuids_digest(listed.get(seq, ())) != batch[0]:
            kind = "share batch shared" if batch[1] == rekeys.SHARE else "rotation batch moved"
            walk.found.event(
                seq, f"the key-rotation index does not list the records this {kind} (edited outside Liaison)"
            )


def actions_in_log(s: OrmSession) -> list[str]:
    """Every action name the log holds, sorted."""
    return sorted(s.scalars(select(AuditRow.action).distinct()))


# ---- the entry point ----------------------------------------------------------------------------------------


def audit_verify(session: Session, progress: Progress | None = None) -> AuditReport:
    """Check the whole store against its signed log (one read transaction); the report lists every problem."""
    keys = session.keys()
    findings = Findings()
    with session.db.read() as s:
        store_id = s.execute(select(Meta.value).where(Meta.key == "store_id")).scalar_one_or_none()
        if store_id != keys.store_id:
            raise TamperError("the store's id is not its keyring's")
        total_events = int(s.execute(select(AuditRow.seq).order_by(AuditRow.seq.desc()).limit(1)).scalar() or 0)
        total_records = int(s.execute(select(Record.id).order_by(Record.id.desc()).limit(1)).scalar() or 0)
        total = total_events + total_records
        walk = LogWalk(
            s,
            store_id=keys.store_id,
            ministry=session.ministry,
            identity=identity_public(keys),
            four_eyes=session.four_eyes,
            findings=findings,
        )
        for row in stream(s):
            walk.event(row)
            if progress is not None and walk.count % BATCH == 0:
                progress(walk.count, total)
        cp_size, cp_at = walk.finish()
        found = session.vault.rollback  # a store opened for verification although this workstation saw more
        if found is not None:
            findings.event(None if found.forked else found.log_size + 1, found.message())
        for row in s.scalars(select(Officer).order_by(Officer.name)):
            why = officer_backing_problem(s, row)
            if why is not None:
                findings.event(
                    None, f"officer {row.name}'s row is not the one the log last signed: {why} (replayed or edited)"
                )
        for contact_row in s.scalars(select(Contact).order_by(Contact.code)):
            why = contact_backing_problem(s, contact_row)
            if why is not None:
                findings.event(
                    None,
                    f"contact {contact_row.code}'s row is not the one the log last signed: {why} (replayed or edited)",
                )
        from store.identity import key_change_problems, lost_key_changes  # held to their statements and events

        for why in key_change_problems(s) + lost_key_changes(s):
            findings.event(None, why)
        records = _check_records(s, walk, progress, total)
        _check_rotation_index(s, walk)
        from store.jwg.signed import desk_problems  # the working-group desk against its signed events

        for reason in desk_problems(s):
            findings.event(None, reason)
        from store.keys.job import missing_job  # a rotation the log started, neither finished nor pending

        try:
            why = missing_job(s, keys)
        except TamperError as exc:  # the job's state itself was edited
            why = str(exc)
        if why is not None:
            findings.event(None, why)
        from store.withdrawals import Withdrawal, withdrawal_problem, withdrawn_reference  # against their events

        for row in s.scalars(select(Withdrawal).order_by(Withdrawal.id)):
            why = withdrawal_problem(session, s, row)
            if why is not None:
                findings.record(withdrawn_reference(s, row), f"its withdrawal is damaged: {why}")
        if progress is not None:
            progress(total, total)
    return AuditReport(walk.count, records, cp_size, cp_at, findings.sorted())


__all__ = ["AuditProblem", "AuditReport", "actions_in_log", "audit_verify", "state_digest"]
