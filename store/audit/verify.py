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

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session as OrmSession

from crypto.checkpoint import open_checkpoint
from crypto.errors import CryptoError
from crypto.events import CHAIN_START, chain_hash, leaf_input, verify_event
from crypto.merkle import Frontier, leaf_hash
from store.audit.checkpoints import log_origin, read_head
from store.audit.events import OFFICER_STATE_ACTIONS, WRITING_ACTIONS
from store.audit.snapshot import REVISION_DIGEST_COLUMNS, iso, record_states, revision_digest, sha256_hex
from store.audit.state import APPROVER_ROLES, OfficerTimeline, compare, identity_public, officer_backing_problem
from store.errors import TamperError
from store.models import AuditCheckpoint, AuditRow, Meta, Officer, Record, Revision

if TYPE_CHECKING:
    from store.service import Session

Progress = Callable[[int, int], None]

#: Rows fetched per round trip while streaming the log.
BATCH = 4096
#: Records loaded per batch for the state comparison.
RECORD_BATCH = 5000
#: Problems kept beyond the first (a rewritten log breaks every event after it; the first ones say enough).
MAX_PROBLEMS = 50


@dataclass(frozen=True)
class AuditProblem:
    """One thing that does not hold: about event `seq`, or about record `reference`, and why."""

    seq: int | None
    reference: str | None
    reason: str


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


@dataclass(slots=True)
class _RecordTrail:
    """What the pass keeps of one record's events: the latest signed state (as a digest) and four-eyes facts."""

    latest_seq: int = 0
    latest_digest: bytes = b""
    reference: str = ""
    first_revision: int = 0  # revisions before it predate the log (a store signed at its upgrade)
    author: str | None = None  # as its first writing event signed it
    writer_keys: set[bytes] = field(default_factory=set)
    revisions: dict[int, str] = field(default_factory=dict)  # revision number → signed revision-row digest


@dataclass
class _Findings:
    """Problems found so far, the log's first (by seq) kept apart from the records'."""

    log: list[AuditProblem] = field(default_factory=list)
    records: list[AuditProblem] = field(default_factory=list)

    def event(self, seq: int | None, reason: str) -> None:
        if len(self.log) < MAX_PROBLEMS:
            self.log.append(AuditProblem(seq, None, reason))

    def record(self, reference: str, reason: str) -> None:
        if len(self.records) < MAX_PROBLEMS:
            self.records.append(AuditProblem(None, reference, reason))

    def sorted(self) -> tuple[AuditProblem, ...]:
        log = sorted(self.log, key=lambda p: (p.seq is None, p.seq or 0))
        return (*log, *sorted(self.records, key=lambda p: p.reference or ""))


_DIGEST_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def state_digest(state: dict[str, Any]) -> bytes:
    """The digest a record's signed state is compared by (the event's `wrote` map left out: it is per event).

    Both sides are plain JSON values (one parsed from a signed body, one built by `record_states`), so sorted
    compact JSON is a faithful key; only equality matters here, not a format anyone else reads.
    """
    return hashlib.sha256(_DIGEST_JSON.encode({k: v for k, v in state.items() if k != "wrote"}).encode()).digest()


def _stream(s: OrmSession) -> Iterator[Any]:
    stmt = select(
        AuditRow.seq,
        AuditRow.at,
        AuditRow.officer,
        AuditRow.action,
        AuditRow.target,
        AuditRow.record_uuid,
        AuditRow.body,
        AuditRow.signer,
        AuditRow.sig,
        AuditRow.detail_ct,
        AuditRow.chain,
    ).order_by(AuditRow.seq)
    yield from s.execute(stmt.execution_options(yield_per=BATCH))


class _Pass:
    """One walk over the log, checking each event as it comes."""

    def __init__(
        self,
        s: OrmSession,
        *,
        store_id: str,
        ministry: str,
        identity: bytes,
        four_eyes: bool,
        findings: _Findings,
    ) -> None:
        self.s = s
        self.store_id = store_id
        self.ministry = ministry
        self.origin = log_origin(ministry, store_id)
        self.identity = identity
        self.four_eyes = four_eyes
        self.found = findings
        self.timeline = OfficerTimeline()
        self.records: dict[str, _RecordTrail] = {}
        self.frontier = Frontier()
        self.chain = CHAIN_START
        self.count = 0
        self.checkpoints: dict[int, tuple[bytes, str]] = {
            int(size): (bytes(root), note)
            for size, root, note in s.execute(select(AuditCheckpoint.size, AuditCheckpoint.root, AuditCheckpoint.note))
        }
        self.newest_size = max(self.checkpoints, default=0)
        self.retired = retired_identities(s, identity)
        self.chain_broken = False
        self.tree_broken = False
        #: seq → hash of a detail that is not the one its event signed (settled at the end: a later
        #: `rekey-details` event may vouch for it) and seq → the hash the latest such event signed.
        self.details_off: dict[int, str | None] = {}
        self.rekeyed_details: dict[int, str] = {}

    # -- one event -------------------------------------------------------------------------------------

    def event(self, row: Any) -> None:
        seq = int(row.seq)
        self.count += 1
        expected = self.count
        if seq != expected:
            self.found.event(
                expected,
                f"missing: the log jumps from event {expected - 1} to {seq} (events deleted)"
                if seq > expected
                else f"out of order: found after event {expected - 1}",
            )
            self.count = seq  # carry on from here, so one gap is one problem
        body, signer, sig = bytes(row.body), bytes(row.signer), bytes(row.sig)
        try:
            leaf = leaf_hash(leaf_input(body, signer, sig))
        except ValueError:
            self.found.event(seq, "malformed: its signer or signature has the wrong length")
            leaf = leaf_hash(body)
        self.chain = chain_hash(self.chain, leaf)
        if bytes(row.chain) != self.chain:
            if not self.chain_broken:
                self.found.event(
                    seq, "breaks the hash chain: the event or one before it was edited, inserted or removed"
                )
            self.chain_broken = True
            self.chain = bytes(row.chain)  # resynchronise: later independent damage is still found
        self.frontier.append(leaf)
        if seq in self.checkpoints:
            self._checkpoint(seq)
        obj = _parse(body)
        if obj is None:
            self.found.event(seq, "its body is not a signed event (edited)")
            return
        why = self._columns(row, obj, seq)
        if why is not None:
            self.found.event(seq, why)
        if not verify_event(signer, body, sig):
            self.found.event(seq, f"its signature by {obj.get('officer')} does not verify (forged or edited)")
            return
        detail_ct = row.detail_ct
        detail = sha256_hex(bytes(detail_ct) if detail_ct is not None else None)
        if detail != obj.get("detail_sha256"):
            self.details_off[seq] = detail
        officer, action = str(obj.get("officer")), str(obj.get("action"))
        data = obj.get("data")
        state = data.get("officer_state") if isinstance(data, dict) else None
        if action in OFFICER_STATE_ACTIONS and isinstance(state, dict) and state.get("officer") == obj.get("target"):
            self.timeline.states.setdefault(str(state["officer"]), []).append((seq, state))
        why = self.timeline.key_problem(officer, signer, seq)
        if why is not None:
            self.found.event(seq, why.replace(f"event #{seq} ", "it ", 1))
        elif action == "rekey-details" and isinstance(data, dict) and isinstance(data.get("details"), dict):
            for key, value in data["details"].items():
                if isinstance(key, str) and key.isdigit() and int(key) < seq:
                    self.rekeyed_details[int(key)] = str(value)
        record = obj.get("record")
        if isinstance(record, dict):
            self._record_event(seq, officer, action, signer, record)
            if action == "rekey" and why is None and isinstance(data, dict):
                self._rekeyed_revisions(str(record.get("uuid")), data.get("revisions"))

    def _columns(self, row: Any, obj: dict[str, Any], seq: int) -> str | None:
        """Why the row's columns (what `audit log` lists) differ from the body they repeat, or None."""
        if obj.get("seq") != seq:
            return f"it holds the signed body of event {obj.get('seq')} (reordered or inserted)"
        if obj.get("store") != self.store_id:
            return "it belongs to another store's log"
        record = obj.get("record")
        uuid = record.get("uuid") if isinstance(record, dict) else None
        for name, have, want in (
            ("officer", row.officer, obj.get("officer")),
            ("action", row.action, str(obj.get("action", ""))[:32]),
            ("target", row.target, str(obj.get("target", ""))[:64]),
            ("time", iso(row.at), obj.get("at")),
            ("record", row.record_uuid, uuid),
        ):
            if have != want:
                return f"its {name} column was edited: it says {have!r}, the signed event {want!r}"
        return None

    def _checkpoint(self, size: int) -> None:
        root, note = self.checkpoints[size]
        if self.frontier.root() != root:
            if not self.tree_broken:
                self.found.event(size, f"checkpoint {size}'s root is not the Merkle root of the first {size} events")
            self.tree_broken = True
            return
        signed = None
        # the newest checkpoint is the current identity's; earlier ones may be a retired identity's (rotated)
        keys = (self.identity,) if size == self.newest_size else (self.identity, *self.retired)
        error: CryptoError | None = None
        for key in keys:
            try:
                signed = open_checkpoint(note, self.origin, key)
                break
            except CryptoError as exc:
                error = error or exc
        if signed is None:
            self.found.event(size, f"checkpoint {size} is not signed by this ministry's identity key ({error})")
            return
        if signed.size != size or signed.root != root or signed.origin != self.origin:
            self.found.event(size, f"checkpoint {size}'s row does not match its signed note")

    def _record_event(self, seq: int, officer: str, action: str, signer: bytes, record: dict[str, Any]) -> None:
        uuid = record.get("uuid")
        if not isinstance(uuid, str):
            self.found.event(seq, "its record has no uuid")
            return
        trail = self.records.get(uuid)
        if trail is None:
            trail = self.records[uuid] = _RecordTrail(first_revision=_int(record.get("revision")))
        trail.latest_seq, trail.latest_digest = seq, state_digest(record)
        trail.reference = str(record.get("reference"))
        revision, digest = _int(record.get("revision")), record.get("revision_sha256")
        if isinstance(digest, str):
            trail.revisions.setdefault(revision, digest)
        own = record.get("origin") == self.ministry
        if action in WRITING_ACTIONS:
            if trail.author is None:
                trail.author = record.get("author")
            elif own and record.get("author") != trail.author:
                self.found.event(
                    seq,
                    f"{trail.reference}'s author is {record.get('author')}, it was created by {trail.author} "
                    "(changed outside Liaison)",
                )
            trail.writer_keys.add(signer)
        elif action == "approve" and own:
            self._approval(seq, officer, signer, record, trail)

    def _rekeyed_revisions(self, uuid: str, revisions: Any) -> None:
        """A key rotation re-encrypted these revision rows: each signed digest it names as the one it found
        (`was`) moves to the new one (`now`); a `was` that is not the digest the log holds moves nothing."""
        trail = self.records.get(uuid)
        if trail is None or not isinstance(revisions, dict):
            return
        for number, change in revisions.items():
            if not (isinstance(number, str) and number.isdigit() and isinstance(change, dict)):
                continue
            was, now = change.get("was"), change.get("now")
            if isinstance(now, str) and trail.revisions.get(int(number)) == was:
                trail.revisions[int(number)] = now

    def _approval(self, seq: int, approver: str, signer: bytes, record: dict[str, Any], trail: _RecordTrail) -> None:
        ref = trail.reference
        if self.timeline.role_at(approver, seq) not in APPROVER_ROLES:
            self.found.event(seq, f"{ref} was approved by {approver}, who did not hold the reviewer or admin role then")
        if not self.four_eyes:
            return
        if trail.author is not None and record.get("author") != trail.author:
            self.found.event(
                seq,
                f"four-eyes: {ref} was approved while its author read {record.get('author')}, "
                f"but {trail.author} wrote it (author changed outside Liaison)",
            )
        elif approver == record.get("author"):
            self.found.event(seq, f"four-eyes: {ref} was approved by its own author {approver}")
        elif signer in trail.writer_keys:
            self.found.event(seq, f"four-eyes: {ref} was approved with a key that wrote it")

    # -- the end of the log ----------------------------------------------------------------------------

    def finish(self) -> tuple[int | None, datetime | None]:
        """Checks of the log's end; returns the newest checkpoint's size and time."""
        for seq, have in sorted(self.details_off.items()):
            if have is None or self.rekeyed_details.get(seq) != have:
                self.found.event(seq, "its encrypted detail is not the one it signed (replaced or removed)")
        size = self.count
        newest = self.s.execute(
            select(AuditCheckpoint.size, AuditCheckpoint.at).order_by(AuditCheckpoint.size.desc()).limit(1)
        ).first()
        if newest is None:
            if size:
                self.found.event(1, "the log has no signed checkpoint")
            return None, None
        cp_size, cp_at = int(newest.size), newest.at
        if cp_size > size:
            self.found.event(
                size + 1,
                f"missing: checkpoint {cp_size} covers {cp_size:,} events but the log ends at {size:,} (truncated)",
            )
        elif cp_size < size:
            self.found.event(cp_size + 1, f"not covered by any signed checkpoint (the newest covers {cp_size:,})")
        try:
            head = read_head(self.s)
        except TamperError as exc:
            self.found.event(None, str(exc))
        else:
            if head.frontier != self.frontier and not self.tree_broken and cp_size == size:
                self.found.event(None, "the stored Merkle frontier is not the tree of the log's events")
        return cp_size, cp_at


def retired_identities(s: OrmSession, current: bytes) -> tuple[bytes, ...]:
    """The signing keys this ministry rotated away from, each proven by a key-transition statement signed by it
    and by the key that replaced it, back from the current one (a statement not chained to it proves nothing)."""
    from crypto.bundle import BundleError, parse_transition
    from store.identity import IdentityTransition

    statements = []
    for text in s.scalars(select(IdentityTransition.statement)):
        try:
            statements.append(parse_transition(json.loads(text), "key transition"))
        except (BundleError, ValueError):
            continue  # not a valid statement: it vouches for nothing
    accepted, retired = {current}, []
    changed = True
    while changed:
        changed = False
        for statement in statements:
            old, new = statement.old.signing_public, statement.new.signing_public
            if new in accepted and old not in accepted:
                accepted.add(old)
                retired.append(old)
                changed = True
    return tuple(retired)


def _parse(body: bytes) -> dict[str, Any] | None:
    try:
        obj = json.loads(body)
    except ValueError:
        return None
    return obj if isinstance(obj, dict) else None


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


# ---- records against their trails -----------------------------------------------------------------------


def _check_records(s: OrmSession, walk: _Pass, progress: Progress | None, total: int) -> int:
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
            if state_digest(state) != trail.latest_digest:
                walk.found.record(reference, _why_differs(s, state, trail))
        if progress is not None:
            progress(walk.count + min(start + RECORD_BATCH, len(ids)), total)
    for uuid, trail in walk.records.items():
        if uuid not in seen:
            walk.found.record(trail.reference, f"its row was removed outside Liaison (last event {trail.latest_seq})")
    _check_revisions(s, walk, seen)
    return len(ids)


def _why_differs(s: OrmSession, state: dict[str, Any], trail: _RecordTrail) -> str:
    body = s.execute(select(AuditRow.body).where(AuditRow.seq == trail.latest_seq)).scalar_one_or_none()
    obj = _parse(bytes(body)) if body is not None else None
    signed = obj.get("record") if obj else None
    if not isinstance(signed, dict):
        return f"its last signed event {trail.latest_seq} is unreadable"
    return compare(state, signed, trail.latest_seq, str(obj.get("officer") if obj else "?")) or (
        f"its state differs from its last signed event {trail.latest_seq}"
    )


def _check_revisions(s: OrmSession, walk: _Pass, current: dict[str, int]) -> None:
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


def actions_in_log(s: OrmSession) -> list[str]:
    """Every action name the log holds, sorted."""
    return sorted(s.scalars(select(AuditRow.action).distinct()))


# ---- the entry point ----------------------------------------------------------------------------------------


def audit_verify(session: Session, progress: Progress | None = None) -> AuditReport:
    """Check the whole store against its signed log (one read transaction); the report lists every problem."""
    keys = session.keys()
    findings = _Findings()
    with session.db.read() as s:
        store_id = s.execute(select(Meta.value).where(Meta.key == "store_id")).scalar_one_or_none()
        if store_id != keys.store_id:
            raise TamperError("the store's id is not its keyring's")
        total_events = int(s.execute(select(AuditRow.seq).order_by(AuditRow.seq.desc()).limit(1)).scalar() or 0)
        total_records = int(s.execute(select(Record.id).order_by(Record.id.desc()).limit(1)).scalar() or 0)
        total = total_events + total_records
        walk = _Pass(
            s,
            store_id=keys.store_id,
            ministry=session.ministry,
            identity=identity_public(keys),
            four_eyes=session.four_eyes,
            findings=findings,
        )
        for row in _stream(s):
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
        records = _check_records(s, walk, progress, total)
        from store.jwg.signed import desk_problems  # the working-group desk against its signed events

        for reason in desk_problems(s):
            findings.event(None, reason)
        if progress is not None:
            progress(total, total)
    return AuditReport(walk.count, records, cp_size, cp_at, findings.sorted())


__all__ = ["AuditProblem", "AuditReport", "actions_in_log", "audit_verify", "state_digest"]
