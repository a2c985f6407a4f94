"""One walk over the signed log, checking each event as it comes (the first half of `audit verify`).

`LogWalk.event` takes the log's rows in order and checks: no gap in `seq`, each body's own seq, store and the row's
columns, the hash chain, the Merkle tree against every checkpoint (signed by the ministry identity key, or for an
earlier checkpoint a retired identity proven by a key-transition statement), each event's signature by the key
valid for its officer at that point of the log, detail hashes (settled at `finish` against `rekey-details`),
four-eyes by key identity. It keeps, per record, a `RecordTrail` (the latest signed state as a digest, the
revision digests its events signed) for `store.audit.verify` to compare the stored rows with.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from json.encoder import encode_basestring
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session as OrmSession

from crypto.checkpoint import open_checkpoint
from crypto.errors import CryptoError
from crypto.events import CHAIN_START, chain_hash, leaf_input, verify_event
from crypto.merkle import Frontier, leaf_hash
from store.audit import rekeys
from store.audit.checkpoints import log_origin, read_head
from store.audit.events import OFFICER_STATE_ACTIONS, WRITING_ACTIONS
from store.audit.filing import position_problem
from store.audit.snapshot import iso, sha256_hex
from store.audit.state import APPROVED_STATUSES, APPROVER_ROLES, parse_body
from store.audit.timeline import OfficerTimeline
from store.errors import TamperError
from store.models import AuditCheckpoint, AuditRow
from store.text import said
from store.vocab import Role, Status, Tlp

#: Rows fetched per round trip while streaming the log.
BATCH = 4096
#: Problems kept beyond the first (a rewritten log breaks every event after it; the first ones say enough).
MAX_PROBLEMS = 50


@dataclass(frozen=True)
class AuditProblem:
    """One thing that does not hold: about event `seq`, or about record `reference`, and why."""

    seq: int | None
    reference: str | None
    reason: str


@dataclass(slots=True)
class RecordTrail:
    """What the pass keeps of one record's events: the latest signed state (as a digest) and four-eyes facts."""

    latest_seq: int = 0
    latest_digest: bytes = b""  # of its tags (`state_digest`)
    ciphers: tuple[Any, ...] = ()  # its ciphertext hashes (`ciphers`), as key rotations since moved them
    revision: int = 0
    content: bytes = b""  # `content_digest` of its latest signed state
    status: str = ""  # as its latest event signed it, moved by any share batch since
    reviews: Any = None  # as its latest event signed them (`_ABSENT`: its body had none)
    withdrawn: Any = None
    reference: str = ""
    first_revision: int = 0  # revisions before it predate the log (a store signed at its upgrade)
    author: str | None = None  # as its first writing event signed it
    writer_keys: set[bytes] = field(default_factory=set)
    wrote_at: int = 0  # the seq of its latest writing event (`WRITING_ACTIONS`)
    tlp: Any = None  # its TLP and releasable-to list as its latest event signed them (what a share batch may send)
    releasable: Any = None
    approved_at: int = 0  # the seq of its latest approval
    revisions: dict[int, str] = field(default_factory=dict)  # revision number → signed revision-row digest


@dataclass
class Findings:
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


#: The fields of a record's state a key rotation moves (`store.audit.rekeys`), kept apart from the digest.
CIPHERS = ("title_sha256", "body_sha256", "revision_sha256", "reviews_sha256")
#: The record actions that may write a record's text or tags, each held to its rule in `LogWalk._writes`. Every
#: other action (a read, a review step, a share, a withdrawal, an action this version does not know) signs the
#: record's content — its text's hashes and its tags but for status, review steps and withdrawal — as the event
#: before it signed it, moved by any rotation since: an officer with a key and the file cannot swap a record's text
#: in the file and sign it under an action that writes nothing.
CONTENT_WRITERS = frozenset(
    {"create", "edit", "import", "stix-import", "misp-import", "rereference", "genesis", "demo"}
)
#: Writers over other ministries' records only: what arrives by bundle or file (the origin's own copy replacing a
#: forwarded one, whatever their revisions) and a received copy moved aside to its local-only reference.
RECEIVING = frozenset({"import", "stix-import", "misp-import", "rereference"})
#: Writers only a record's first event may be.
FIRST_ONLY = frozenset({"create", "genesis"})
#: The digested fields outside a record's content: what a review step, a share or a withdrawal changes.
_STEPS = ("status", "reviews", "withdrawn")
_NOT_CONTENT = frozenset({"wrote", *_STEPS, *CIPHERS})
_EDITABLE = frozenset({"draft", "returned"})
#: A field a record event's body did not hold (`RecordTrail`; its digest leaves the key out).
_ABSENT: Any = object()


def digests(state: dict[str, Any]) -> tuple[bytes, bytes]:
    """A record state's content digest (what an event outside `CONTENT_WRITERS` must sign as the event before it
    did: its tags but for status, review steps and withdrawal; its text's hashes are compared apart, as moved:
    `RecordTrail.ciphers`) and its state digest (`state_digest`), in one encoding of the content: `audit verify`
    computes both for every record event.

    Both sides are plain JSON values (one parsed from a signed body, one built by `record_states`), so sorted
    compact JSON is a faithful key; only equality matters here, not a format anyone else reads.
    """
    content = hashlib.sha256(
        _DIGEST_JSON.encode({k: v for k, v in state.items() if k not in _NOT_CONTENT}).encode()
    ).digest()
    return content, with_steps(content, state)


def with_steps(content: bytes, state: dict[str, Any]) -> bytes:
    """The state digest of a state whose content digest is `content`, with the `_STEPS` fields `state` holds."""
    return hashlib.sha256(content + _steps_json(state).encode()).digest()


def _steps_json(state: dict[str, Any]) -> str:
    """`_DIGEST_JSON` of the state's `_STEPS` fields, written out directly for their usual types (the same text:
    a test holds them equal)."""
    status, reviews, withdrawn = state.get("status"), state.get("reviews"), state.get("withdrawn")
    if type(status) is str and type(reviews) is int and type(withdrawn) is bool:
        flag = "true" if withdrawn else "false"
        return f'{{"reviews":{reviews},"status":{encode_basestring(status)},"withdrawn":{flag}}}'
    return _DIGEST_JSON.encode({k: state[k] for k in _STEPS if k in state})


def state_digest(state: dict[str, Any]) -> bytes:
    """The digest a record's signed state is compared by, but for its ciphertext hashes (`ciphers`) and the event's
    `wrote` map (per event)."""
    return digests(state)[1]


def ciphers(state: dict[str, Any]) -> tuple[Any, ...]:
    """A record state's ciphertext hashes, in `CIPHERS` order."""
    get = state.get  # spelled out: `audit verify` asks it of every record event and every record
    return (get("title_sha256"), get("body_sha256"), get("revision_sha256"), get("reviews_sha256"))


def stream(s: OrmSession) -> Iterator[Any]:
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


class LogWalk:
    """One walk over the log, checking each event as it comes."""

    def __init__(
        self,
        s: OrmSession,
        *,
        store_id: str,
        ministry: str,
        identity: bytes,
        four_eyes: bool,
        findings: Findings,
    ) -> None:
        self.s = s
        self.store_id = store_id
        self.ministry = ministry
        self.origin = log_origin(ministry, store_id)
        self.identity = identity
        self.four_eyes = four_eyes
        self.found = findings
        self.timeline = OfficerTimeline()
        self.records: dict[str, RecordTrail] = {}
        self.filed: dict[str, int] = {}  # record uuid → the events about it so far (a record event's position)
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
        #: seq → SHA-256 of the sorted uuids each key-rotation or share batch moved (what `rekey_index` must
        #: list), and the batch's action
        self.batches: dict[int, tuple[bytes, str]] = {}
        #: the data of the latest `export` event (a share batch is one of that export's, in its transaction)
        self.exported: dict[str, Any] = {}
        self.rotations = rekeys.Rotations()

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
        obj = parse_body(body)
        if obj is None:
            self.found.event(seq, "its body is not a signed event (edited)")
            return
        why = self._columns(row, obj, seq)
        if why is not None:
            self.found.event(seq, why)
        record = obj.get("record")
        uuid = record.get("uuid") if isinstance(record, dict) else None
        before = self.filed.get(uuid, 0) if isinstance(uuid, str) else 0
        if isinstance(uuid, str):
            self.filed[uuid] = before + 1
        if not verify_event(signer, body, sig):
            self.found.event(
                seq, f"its signature by {said(obj.get('officer'), 'no officer')} does not verify (forged or edited)"
            )
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
        elif action == "rekey-details" and (
            self.timeline.role_at(officer, seq) != Role.ADMIN.value or not self.rotations.within(seq)
        ):
            self.found.event(
                seq, f"a key rotation's rekey-details event signed by {officer} outside an admin's rotation"
            )
        elif action == "rekey-details" and isinstance(data, dict) and isinstance(data.get("details"), dict):
            for key, value in data["details"].items():
                if isinstance(key, str) and key.isdigit() and int(key) < seq:
                    self.rekeyed_details[int(key)] = str(value)
        elif action in ("keys-rotate", "keys-retire") and record is None:
            if self.timeline.role_at(officer, seq) != Role.ADMIN.value:
                self.found.event(seq, f"a key rotation's {action} event signed by {officer}, who is no admin")
            else:
                self.rotations.see(seq, action, rekeys.key_version(obj))
        elif action == "export" and record is None:
            self.exported = data if isinstance(data, dict) else {}
        elif record is None and (moved := rekeys.batch_records(obj)) is not None:
            if action == rekeys.SHARE:
                self._share(seq, officer, moved, data)
            else:
                self._batch(seq, officer, moved, rekeys.key_version(obj))
        if isinstance(record, dict):
            self._record_event(seq, officer, action, signer, record)
            why = position_problem(seq, obj.get("position"), before)
            if why is not None:
                self.found.record(self.records[str(uuid)].reference if isinstance(uuid, str) else "", why)
            if action == "rekey" and why is None and isinstance(data, dict):  # a record's own, before batches
                if self.timeline.role_at(officer, seq) == Role.ADMIN.value and self.rotations.holds(
                    seq, rekeys.key_version(obj)
                ):
                    self._rekeyed_revisions(str(record.get("uuid")), data.get("revisions"))
                else:
                    self.found.event(
                        seq, f"a key rotation's rekey event signed by {officer} outside an admin's rotation"
                    )

    def _columns(self, row: Any, obj: dict[str, Any], seq: int) -> str | None:
        """Why the row's columns (what `audit log` lists) differ from the body they repeat, or None."""
        if obj.get("seq") != seq:
            return f"it holds the signed body of event {said(obj.get('seq'), 'no number')} (reordered or inserted)"
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
                if name == "record":
                    return f"its record column was edited: {_filed(have, record)}"
                return f"its {name} column was edited: it says {said(have)}, the signed event says {said(want)}"
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
        content, digest_of_state = digests(record)
        hashes = ciphers(record)
        revision, digest = int_or_zero(record.get("revision")), record.get("revision_sha256")
        if trail is None:
            trail = self.records[uuid] = RecordTrail(first_revision=revision)
        else:
            why = self._writes(officer, action, record, trail, content, hashes)
            if why is None and action not in CONTENT_WRITERS:
                why = _steps_problem(action, record, trail)
            # a revision of ours, once signed, never changes (a received one is the origin's to replace)
            if why is None and action != "rekey" and record.get("origin") == self.ministry and isinstance(digest, str):
                signed = trail.revisions.get(revision)
                if signed is not None and signed != digest:
                    why = f"signs revision {revision} with other text or tags than it was written with"
            if why is not None:
                self.found.event(seq, f"{trail.reference}'s {action} event by {officer} {why} (edited outside Liaison)")
        trail.latest_seq, trail.latest_digest, trail.content = seq, digest_of_state, content
        trail.ciphers, trail.revision = hashes, revision
        trail.status = str(record.get("status"))
        trail.reviews, trail.withdrawn = record.get("reviews", _ABSENT), record.get("withdrawn", _ABSENT)
        trail.tlp, trail.releasable = record.get("tlp"), record.get("releasable_to")
        trail.reference = said(record.get("reference"), f"record {uuid}")
        if isinstance(digest, str):
            trail.revisions.setdefault(revision, digest)
        own = record.get("origin") == self.ministry
        if action in WRITING_ACTIONS:
            if trail.author is None:
                trail.author = record.get("author")
            elif own and record.get("author") != trail.author:
                self.found.event(
                    seq,
                    f"{trail.reference}'s author is {said(record.get('author'), 'no one')}, it was created by {trail.author} "
                    "(changed outside Liaison)",
                )
            trail.writer_keys.add(signer)
            trail.wrote_at = seq
        elif action == "approve" and own:
            self._approval(seq, officer, signer, record, trail)
            trail.approved_at = seq
        if own and trail.status in APPROVED_STATUSES and trail.wrote_at > trail.approved_at:
            self.found.event(
                seq,
                f"{trail.reference}'s {action} event by {officer} signs it {trail.status}, but no approval follows the "
                f"revision event #{trail.wrote_at} wrote (approved outside Liaison)",
            )

    def _writes(
        self,
        officer: str,
        action: str,
        record: dict[str, Any],
        trail: RecordTrail,
        content: bytes,
        hashes: tuple[Any, ...],
    ) -> str | None:
        """Why this event, after the record's earlier ones, writes text or tags its action may not (None: it may).
        The store's rules (`store.policy`), held to what the log signed: only the author edits, a draft or returned
        record of this ministry, as its next revision; only another ministry's record is received."""
        if action not in CONTENT_WRITERS:
            # a record's own `rekey` (a rotation before batches) moves its text: only its tags must stay
            kept = content == trail.content and (action == "rekey" or hashes[:3] == trail.ciphers[:3])
            return (
                None if kept else f"signs other text or tags than event #{trail.latest_seq} did: its action writes none"
            )
        if action in FIRST_ONLY:
            return f"comes after event #{trail.latest_seq} about it (a record's {action} event is its first)"
        own = record.get("origin") == self.ministry
        if action in RECEIVING:
            return f"writes {self.ministry}'s own record, which only comes in from other ministries" if own else None
        if action != "edit":  # demo: a demo store's builder signs each step of its records
            return None
        if not own:
            return "writes another ministry's record (edited here only as its own)"
        if trail.author is not None and officer != trail.author:
            return f"writes a record {trail.author} wrote (only its author edits it)"
        if trail.status not in _EDITABLE:
            return f"writes a record that was {trail.status} (only a draft or returned record is edited)"
        if int_or_zero(record.get("revision")) != trail.revision + 1:
            return f"signs revision {said(record.get('revision'))} after revision {trail.revision} (not the next)"
        return None

    def _batch(self, seq: int, officer: str, moved: dict[str, Any], version: Any) -> None:
        """A key rotation's batch (`store.audit.rekeys`): each named record's ciphertext hashes move, if an admin
        signed it inside the rotation of its key version."""
        if self.timeline.role_at(officer, seq) != Role.ADMIN.value:
            self.found.event(seq, f"a key rotation's batch signed by {officer}, who did not hold the admin role then")
            return
        if not self.rotations.holds(seq, version):
            self.found.event(
                seq, f"a key rotation's batch signed by {officer} outside any rotation to its key version ({version})"
            )
            return
        self.batches[seq] = (uuids_digest(moved), rekeys.ACTION)
        for uuid, entry in moved.items():
            trail = self.records.get(uuid)
            if trail is None or not isinstance(entry, dict):
                continue
            state = {**dict(zip(CIPHERS, trail.ciphers, strict=False)), "revision": trail.revision}
            trail.ciphers = ciphers(rekeys.move(state, [entry]))
            rekeys.move_revisions(trail.revisions, [entry])

    def _share(self, seq: int, officer: str, moved: dict[str, Any], data: Any) -> None:
        """An export's share batch (`store.audit.rekeys`): each named record's status moves from approved to
        shared, if a reviewer or an admin signed it, as one of the export event's before it (its bundle and
        recipient); it names only records the log holds, each approved then, not TLP:RED, not withdrawn, and
        releasable to that recipient (what the export itself allows: `store.policy.exclusion`)."""
        if self.timeline.role_at(officer, seq) not in rekeys.SHARE_ROLES:
            self.found.event(
                seq, f"a share batch signed by {officer}, who did not hold the reviewer or admin role then"
            )
            return
        self.batches[seq] = (uuids_digest(moved), rekeys.SHARE)
        recipient = data.get("recipient") if isinstance(data, dict) else None
        if (
            not isinstance(data, dict)
            or data.get("bundle_id") != self.exported.get("bundle_id")
            or recipient != self.exported.get("recipient")
        ):
            self.found.event(seq, "its share batch is not one of the export event's before it (bundle or recipient)")
        for uuid, entry in moved.items():
            trail = self.records.get(uuid)
            if trail is None:
                self.found.event(seq, f"its share batch names record {said(uuid)}, which no event before it is about")
            elif rekeys.kept_entry(rekeys.SHARE, entry) is None:
                self.found.event(seq, f"its share batch moves {trail.reference} otherwise than from approved to shared")
            elif trail.status != rekeys.SHARED[0]:
                self.found.event(
                    seq, f"its share batch names {trail.reference}, which was {trail.status}, not approved"
                )
            elif (
                trail.tlp == Tlp.RED.value
                or trail.withdrawn is True
                or not (isinstance(trail.releasable, list) and recipient in trail.releasable)
            ):
                self.found.event(
                    seq,
                    f"its share batch names {trail.reference}, which no export to {said(recipient)} may carry "
                    f"(TLP:{said(trail.tlp)}, releasable to {said(trail.releasable)}, withdrawn or not: "
                    f"{'withdrawn' if trail.withdrawn is True else 'not withdrawn'})",
                )
            else:
                trail.status = rekeys.SHARED[1]
                steps = {"status": trail.status, "reviews": trail.reviews, "withdrawn": trail.withdrawn}
                trail.latest_digest = with_steps(trail.content, {k: v for k, v in steps.items() if v is not _ABSENT})

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

    def _approval(self, seq: int, approver: str, signer: bytes, record: dict[str, Any], trail: RecordTrail) -> None:
        ref = trail.reference
        if self.timeline.role_at(approver, seq) not in APPROVER_ROLES:
            self.found.event(seq, f"{ref} was approved by {approver}, who did not hold the reviewer or admin role then")
        if not self.four_eyes:
            return
        if trail.author is not None and record.get("author") != trail.author:
            self.found.event(
                seq,
                f"four-eyes: {ref} was approved while its author read {said(record.get('author'), 'no one')}, "
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


#: The status each review step (and a receipt's acknowledgement, a record's own share event before batches) leaves a
#: record in. Every other action outside `CONTENT_WRITERS` but a withdrawal changes no status, review count or
#: withdrawal: a read signed over a status set in the file (an officer's own record set to approved, a shared one set
#: back) is named.
STEP_STATUS = {
    "submit": Status.IN_REVIEW.value,
    "approve": Status.APPROVED.value,
    "return": Status.RETURNED.value,
    "actioned": Status.ACTIONED.value,
    "close": Status.CLOSED.value,
    "acknowledge": Status.ACKNOWLEDGED.value,
    "share": Status.SHARED.value,
}


def _steps_problem(action: str, record: dict[str, Any], trail: RecordTrail) -> str | None:
    """Why a record event outside `CONTENT_WRITERS` signs a status, review count or withdrawal its action does not
    leave (None: it may)."""
    status = record.get("status")
    step = STEP_STATUS.get(action)
    if step is not None:
        return None if status == step else f"signs it {said(status)}, where a {action} leaves a record {step}"
    if action == "withdraw":
        return None
    if status != trail.status:
        return f"signs it {said(status)}, where the log left it {trail.status}: a {action} changes no status"
    if record.get("reviews", _ABSENT) != trail.reviews:
        return f"signs {said(record.get('reviews'))} review steps, where the log holds {said(trail.reviews)}"
    if record.get("withdrawn", _ABSENT) != trail.withdrawn:
        return f"signs its withdrawal otherwise than the log left it: a {action} withdraws nothing"
    return None


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


def _filed(column: str | None, record: Any) -> str:
    """What a record column edit did, in words: the record the signed event is about, by its reference."""
    about = "no record"
    if isinstance(record, dict):
        about = said(record.get("reference"), f"record {said(record.get('uuid'), 'with no uuid')}")
    if column is None or column == "":
        return f"it is empty, the signed event is about {about}"
    return f"it names record {said(column)}, the signed event is about {about}"


def uuids_digest(uuids: Any) -> bytes:
    """SHA-256 of record uuids, sorted (a batch's, or `rekey_index`'s rows under one seq)."""
    return hashlib.sha256("\n".join(sorted(str(u) for u in uuids)).encode()).digest()


def int_or_zero(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
