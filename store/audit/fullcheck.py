"""The damage check of many records (an export's selection): the Merkle root recomputed once, then batch by batch.

One pass over every event proves the log (chain, Merkle root, signed checkpoint) and notes, of each selected
record's events, only what the check compares later: the latest event's seq, the last approval's seq, and of each
writing event its seq, officer, signer, author and revision. Once the root holds, the records are compared batch by
batch: their states read from the rows, their latest and approval events read back by seq in the same transaction
(so the very bytes the root was computed over). A 100,000-record export never holds every record's latest event
body, or every record's state, at once.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session as OrmSession

from crypto.events import CHAIN_START, chain_hash, leaf_input
from crypto.keyring import Keyring
from crypto.merkle import Frontier, leaf_hash
from store import sqlite as dialect
from store.audit import rekeys
from store.audit.checkpoints import latest_checkpoint
from store.audit.events import WRITING_ACTIONS
from store.audit.filing import about, filing_problem
from store.audit.snapshot import Contents, record_states
from store.audit.state import _Events, _record_problem, log_problem, parse_body
from store.audit.timeline import OfficerTimeline
from store.models import AuditRow

#: Records compared per batch (their states and latest event bodies held together).
BATCH = 1000
#: A writer's record with no such key (`dict.get` then gives its default, as on the full body).
_MISSING: Any = object()
#: What the canonical body of a share batch holds (`store.audit.rekeys`): the bodies parsed for their records.
_SHARE_BODY = b'"action":"' + rekeys.SHARE.encode() + b'"'


@dataclass(slots=True)
class Seen:
    """What the full pass keeps of one selected record's events (seqs and a writer's few compared fields)."""

    latest: int | None = None
    approval: int | None = None
    #: seq, officer, signer, author, revision of each writing event (`_MISSING` when its body has no such key)
    writers: list[tuple[int, str, bytes, Any, Any]] = field(default_factory=list)
    count: int = 0  # events filed under the record


def _note(seen: Seen, seq: int, action: str, body: bytes, signer: bytes, keys: dict[bytes, bytes]) -> None:
    """`state._collect` keeping only what `_record_problem` reads of a writer, and seqs for the rest."""
    seen.latest = seq
    seen.count += 1
    if action in WRITING_ACTIONS:
        obj = parse_body(body) or {}
        record = obj.get("record") if isinstance(obj.get("record"), dict) else {}
        record = record or {}
        seen.writers.append(
            (
                seq,
                sys.intern(str(obj.get("officer"))),
                keys.setdefault(signer, signer),  # one copy of each officer's key
                record.get("author", _MISSING),
                record.get("revision", _MISSING),
            )
        )
    elif action == "approve":
        seen.approval = seq


def full_root_problem(
    s: OrmSession,
    keyring: Keyring,
    ministry: str,
    *,
    events: dict[str, Seen] | None = None,
    misfiled: dict[str, str] | None = None,
    shares: dict[str, list[int]] | None = None,
) -> str | None:
    """The Merkle root and chain recomputed from every event, compared with the signed checkpoint (None: they hold).

    `events`: record uuid → what a damage check notes of that record's events (`Seen`), filled in the same pass
    over the log (by the rows' `record_uuid`), so the log is read once; use it only when this returns None.
    `misfiled`: when given, an event not filed under the record its body is about damages that record and the
    one it is filed under (uuid → why), not the whole log; without it (or when the body names no record) the
    first such event is the log's problem. The bodies it reads are proven by the root (checked in the same pass:
    use it only when this returns None). `shares`: uuid → the seqs of the share batches naming each record of
    `events`, read from the bodies themselves (`rekey_index`, outside the signatures, may have lost a row)."""
    problem = log_problem(s, keyring, ministry)
    if problem is not None:
        return problem
    cp = latest_checkpoint(s)
    if cp is None:
        return None
    frontier = Frontier()
    chain = CHAIN_START
    wanted = events or {}
    keys: dict[bytes, bytes] = {}
    # through the connection, not the ORM session: the ORM would buffer every row of the log before the first
    rows = s.connection().execute(
        select(
            AuditRow.seq,
            AuditRow.body,
            AuditRow.signer,
            AuditRow.sig,
            AuditRow.chain,
            AuditRow.action,
            AuditRow.record_uuid,
        ).order_by(AuditRow.seq)
    )
    for expected, (seq, body, signer, sig, stored_chain, action, uuid) in enumerate(rows, 1):
        body, signer = bytes(body), bytes(signer)
        why = filing_problem(int(seq), uuid, body)
        if why is not None:
            subject = about(body)
            if misfiled is None or subject is None:
                return why
            for damaged in (subject, uuid):
                if damaged is not None:
                    misfiled.setdefault(damaged, why)
        elif uuid is not None and (found := wanted.get(uuid)) is not None:
            _note(found, int(seq), action, body, signer, keys)
        elif uuid is None and shares is not None and _SHARE_BODY in body:
            obj = parse_body(body)
            named = rekeys.batch_records(obj) if obj is not None and obj.get("action") == rekeys.SHARE else None
            for subject in named or ():
                if subject in wanted:
                    shares.setdefault(subject, []).append(int(seq))
        if seq != expected:
            return f"the audit log skips from event #{expected - 1} to #{seq}"
        try:
            leaf = leaf_hash(leaf_input(body, signer, bytes(sig)))
        except ValueError:
            return f"audit event #{seq} is malformed"
        chain = chain_hash(chain, leaf)
        if bytes(stored_chain) != chain:
            return f"audit event #{seq} breaks the hash chain (edited, inserted or reordered)"
        frontier.append(leaf)
    if frontier.root() != bytes(cp.root):
        return "the audit log's events do not hash to its signed checkpoint (edited, inserted or reordered)"
    return None


def _events_of(seen: Seen, bodies: Mapping[int, tuple[bytes, bytes, bytes]]) -> _Events:
    """`_Events` as `state._collect` would have built it from the same events (bodies read back by seq)."""
    events = _Events(count=seen.count)
    if seen.latest is not None:
        events.latest = (seen.latest, *bodies[seen.latest])
    for seq, officer, signer, author, revision in seen.writers:
        record = {}
        if author is not _MISSING:
            record["author"] = author
        if revision is not _MISSING:
            record["revision"] = revision
        events.writers.append((seq, officer, signer, record))
    if seen.approval is not None:
        events.approvals.append((seen.approval, *bodies[seen.approval]))
    return events


def _bodies(s: OrmSession, seqs: Sequence[int]) -> dict[int, tuple[bytes, bytes, bytes]]:
    """seq → (body, signer, signature) of these events."""
    rows = s.connection().execute(
        select(AuditRow.seq, AuditRow.body, AuditRow.signer, AuditRow.sig).where(dialect.in_values(AuditRow.seq, seqs))
    )
    return {int(seq): (bytes(body), bytes(signer), bytes(sig)) for seq, body, signer, sig in rows}


@dataclass
class FullCheck:
    """A damage check of many records whose log has been proven once (`prove`); `batch` then compares records."""

    s: OrmSession
    own_ministry: str
    four_eyes: bool
    #: why every record is damaged (the log itself does not hold), or None
    problem: str | None
    seen: dict[int, tuple[str, Seen]]
    misfiled: dict[str, str]
    timeline: OfficerTimeline | None
    #: the key rotations' batches read so far (`rekeys.Moves.read`'s cache): consecutive batches of records
    #: mostly share them
    rotations: dict[int, Any] = field(default_factory=dict)
    #: uuid → the seqs of the share batches that name it, as the pass read them from the log
    shares: dict[str, list[int]] = field(default_factory=dict)

    @classmethod
    def prove(
        cls, s: OrmSession, keyring: Keyring, ids: Sequence[int], *, own_ministry: str, four_eyes: bool
    ) -> FullCheck:
        """Recompute the root over every event, noting what the records `ids` need (their uuids read first)."""
        # one query through the driver for every id (bound as one JSON array): an export's 100,000 at once
        rows = s.connection().exec_driver_sql(
            "SELECT uuid, id FROM records WHERE id IN (SELECT value FROM json_each(?))", (json.dumps(list(ids)),)
        )
        by_uuid: dict[str, int] = {str(uuid): int(rid) for uuid, rid in rows}
        events = {uuid: Seen() for uuid in by_uuid}
        misfiled: dict[str, str] = {}
        shares: dict[str, list[int]] = {}
        problem = full_root_problem(s, keyring, own_ministry, events=events, misfiled=misfiled, shares=shares)
        seen = {rid: (uuid, events[uuid]) for uuid, rid in by_uuid.items()}
        timeline = OfficerTimeline.load(s) if problem is None else None
        return cls(s, own_ministry, four_eyes, problem, seen, misfiled, timeline, shares=shares)

    def batch(
        self,
        ids: Sequence[int],
        *,
        revision_digests: Mapping[tuple[int, int], str] | None = None,
        contents: dict[int, Contents] | None = None,
    ) -> tuple[dict[int, dict[str, Any]], dict[int, str]]:
        """The states of `ids` as stored now, and the damaged among them (id → why); `contents` as `record_states`."""
        if self.problem is not None:
            return {}, dict.fromkeys(ids, self.problem)
        states = record_states(self.s, ids, revision_digests=revision_digests, contents=contents)
        wanted = [rid for rid in ids if rid in self.seen and rid in states]
        seqs: list[int] = []
        for rid in wanted:
            found = self.seen[rid][1]
            seqs += [seq for seq in (found.latest, found.approval) if seq is not None]
        bodies = _bodies(self.s, seqs) if seqs else {}
        assert self.timeline is not None
        latest = {uuid: found.latest for uuid, found in (self.seen[rid] for rid in wanted) if found.latest is not None}
        also = {uuid: self.shares[uuid] for uuid in latest if uuid in self.shares}
        moved = rekeys.Moves.read(self.s, latest, self.rotations, also).valid(self.timeline)
        out: dict[int, str] = {}
        for rid in ids:
            if rid not in states:
                out[rid] = "it no longer exists"
                continue
            if rid not in self.seen:  # its uuid changed under this transaction: not the record the pass saw
                out[rid] = "it changed during the check"
                continue
            uuid, found = self.seen[rid]
            if uuid in self.misfiled:
                out[rid] = self.misfiled[uuid]
                continue
            why = _record_problem(
                states[rid],
                _events_of(found, bodies),
                self.timeline,
                own_ministry=self.own_ministry,
                four_eyes=self.four_eyes,
                verify_latest=False,
                moved=moved.get(uuid, ()),
            )
            if why is not None:
                out[rid] = why
        return states, out

    def batches(
        self, ids: Sequence[int], size: int = BATCH
    ) -> Iterator[tuple[list[int], dict[int, dict[str, Any]], dict[int, str]]]:
        """`batch` over `ids`, `size` at a time: (the batch's ids, their states, the damaged among them)."""
        for start in range(0, len(ids), size):
            chunk = list(ids[start : start + size])
            states, damaged = self.batch(chunk)
            yield chunk, states, damaged


def damaged_full(
    s: OrmSession,
    keyring: Keyring,
    ids: Sequence[int],
    *,
    own_ministry: str,
    four_eyes: bool,
    states_out: dict[int, dict[str, Any]] | None = None,
    revision_digests: Mapping[tuple[int, int], str] | None = None,
) -> dict[int, str]:
    """`state.damaged_among(full=True)`: the root proven once, the records compared batch by batch."""
    check = FullCheck.prove(s, keyring, ids, own_ministry=own_ministry, four_eyes=four_eyes)
    if check.problem is not None:
        return dict.fromkeys(ids, check.problem)
    out: dict[int, str] = {}
    for start in range(0, len(ids), BATCH):
        states, damaged = check.batch(ids[start : start + BATCH], revision_digests=revision_digests)
        out.update(damaged)
        if states_out is not None:
            states_out.update(states)
    return out


__all__ = ["BATCH", "FullCheck", "Seen", "damaged_full", "full_root_problem"]
