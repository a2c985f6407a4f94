"""Key rotations' signed ciphertext moves: what lets a record's events keep holding after its ciphertexts change.

`keys rotate` re-encrypts every ciphertext and changes nothing a record says. Each batch of it is one signed `rekey`
event (not one per record) whose data names, by record uuid, the hashes it moved (`entry`):

    "records": {uuid: {"title": [old, new], "reviews": [old, new],
                       "revisions": {"2": [old row digest, new row digest, old body hash, new body hash]}}}

(`title`: the record's title ciphertext; `reviews`: the digest of its review rows; `revisions`: each revision row
the batch rewrote.) A record's state as its latest event signed it is *moved* by the batches after that event, in log
order (`move`): a field takes a batch's new hash only while it holds that batch's old one, so a ciphertext replaced
before the rotation (which the batch then names as the old one) still differs from what was signed, and a move never
reaches a tag. Only a batch signed by an officer who held the admin role then, with the key valid for them at that
point of the log, inside the rotation of the key version it names (after that rotation's `keys-rotate` event and
before its `keys-retire`), moves anything.

`rekey_index` (record uuid → seq) finds a record's batches without reading the log; like the log's `record_uuid`
it is outside the signatures: a row removed leaves the record damaged (its ciphertexts no longer match), a row
added points at a body that does not name the record. `audit verify` reads every batch and names both.

An export's `share` batches are moves too, of a record's status only: one signed `share` event per batch of records
an export carried (not one per record), whose data names each record it moved from approved to shared:

    "records": {uuid: {"status": ["approved", "shared"]}}

signed by an officer who held the reviewer or admin role then, with the key valid for them at that point of the log,
and listed in `rekey_index` as a rotation's batches are. A share row removed from the index, with the record's
status set back to approved, would let the older status pass a check that reads the index only (the browser's page
marks); the check of one record before any action signs it finds the share batches after its latest event by
their bodies too (`shared_after`: a signed `read` over the older status would otherwise launder it), an export
reads every batch from the log itself (`store.audit.fullcheck`), and `audit verify` names the row.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session as OrmSession

from crypto.events import verify_event
from store.audit.timeline import OfficerTimeline
from store.vocab import Role, Status

#: Batches a check of many records keeps parsed between its reads (each ~1.5 MB parsed: an export of 100,000
#: records after a rotation reads 100 of them, in about the order they were written).
CACHED = 4
#: The action of a batch's event (a record's own `rekey` events, before batches, carried its whole state).
ACTION = "rekey"
#: The action of an export's batch (a record's own `share` events, before batches, carried its whole state).
SHARE = "share"
#: The one move a share batch signs for a record.
SHARED = [Status.APPROVED.value, Status.SHARED.value]
#: Who may sign a share batch (those who may export).
SHARE_ROLES = frozenset({Role.REVIEWER.value, Role.ADMIN.value})


def entry(
    title: tuple[str | None, str | None] | None,
    reviews: tuple[str | None, str | None] | None,
    revisions: Mapping[int, tuple[str, str, str | None, str | None]],
) -> dict[str, Any]:
    """One record's moves as a batch signs them (only what changed)."""
    out: dict[str, Any] = {}
    if title is not None and title[0] != title[1]:
        out["title"] = list(title)
    if reviews is not None and reviews[0] != reviews[1]:
        out["reviews"] = list(reviews)
    moved = {str(n): list(v) for n, v in sorted(revisions.items()) if v[0] != v[1] or v[2] != v[3]}
    if moved:
        out["revisions"] = moved
    return out


def _pair(value: Any, size: int = 2) -> list[Any] | None:
    return value if isinstance(value, list) and len(value) == size else None


def share_entry() -> dict[str, Any]:
    """One record's move as a share batch signs it."""
    return {"status": list(SHARED)}


def move(state: dict[str, Any], entries: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """`state` (a record's signed state) as the batches' `entries` moved it, in order (a copy when anything moved).
    A share batch's entry moves the status only (`Moves.valid` keeps nothing else of it, nor a status of a
    rotation's)."""
    out = state
    for moved in entries:
        changes: dict[str, Any] = {}
        if moved.get("status") == SHARED and out.get("status") == SHARED[0]:
            changes["status"] = SHARED[1]
        title, reviews = _pair(moved.get("title")), _pair(moved.get("reviews"))
        if title is not None and out.get("title_sha256") == title[0]:
            changes["title_sha256"] = title[1]
        if reviews is not None and out.get("reviews_sha256") == reviews[0]:
            changes["reviews_sha256"] = reviews[1]
        revisions = moved.get("revisions")
        row = _pair(revisions.get(str(out.get("revision"))), 4) if isinstance(revisions, dict) else None
        if row is not None:
            if out.get("revision_sha256") == row[0]:
                changes["revision_sha256"] = row[1]
            if out.get("body_sha256") == row[2]:
                changes["body_sha256"] = row[3]
        if changes:
            out = {**out, **changes}
    return out


def move_revisions(signed: dict[int, str], entries: Iterable[dict[str, Any]]) -> None:
    """Revision number → signed row digest (`audit verify`'s earlier revisions), moved in place by `entries`."""
    for moved in entries:
        revisions = moved.get("revisions")
        if not isinstance(revisions, dict):
            continue
        for number, row in revisions.items():
            pair = _pair(row, 4)
            if pair is not None and isinstance(number, str) and number.isdigit() and signed.get(int(number)) == pair[0]:
                signed[int(number)] = pair[1]


def batch_records(obj: dict[str, Any]) -> dict[str, Any] | None:
    """The `records` a signed body moves (uuid → entry), None when it is no batch's body (a rotation's or a
    share's: `obj["action"]` says which)."""
    data = obj.get("data")
    if obj.get("action") not in (ACTION, SHARE) or obj.get("record") is not None or not isinstance(data, dict):
        return None
    records = data.get("records")
    return records if isinstance(records, dict) else None


def may_move(timeline: OfficerTimeline, officer: str, signer: bytes, seq: int) -> bool:
    """Whether a batch signed at `seq` by `officer` with `signer` may move anything (an admin's valid key)."""
    return timeline.key_problem(officer, signer, seq) is None and timeline.role_at(officer, seq) == Role.ADMIN.value


def may_share(timeline: OfficerTimeline, officer: str, signer: bytes, seq: int) -> bool:
    """Whether a share batch signed at `seq` by `officer` with `signer` moves anything (a reviewer's or an admin's
    valid key: who may export)."""
    return timeline.key_problem(officer, signer, seq) is None and timeline.role_at(officer, seq) in SHARE_ROLES


def kept_entry(kind: Any, entry: Any) -> dict[str, Any] | None:
    """What a batch of `kind` may move of a record (`entry` as signed): a rotation its ciphertext hashes, never a
    status; a share batch the status from approved to shared, nothing else. None: nothing."""
    if not isinstance(entry, dict):
        return None
    if kind == SHARE:
        return share_entry() if entry == share_entry() else None
    kept = {k: v for k, v in entry.items() if k != "status"}
    return kept or None


def key_version(obj: dict[str, Any]) -> Any:
    """The data-key version a `keys-rotate`, `keys-retire` or batch body names (None when it names none)."""
    data = obj.get("data")
    return data.get("key_version") if isinstance(data, dict) else None


class Rotations:
    """The log's rotations as their signed bodies say: each admin's `keys-rotate` event opens one (its new key
    version), an admin's `keys-retire` closes it. A batch moves nothing outside the rotation of its key version (an
    admin's key signing one at any other time would change a record's ciphertexts unseen)."""

    def __init__(self) -> None:
        self.windows: list[tuple[int, int | None, Any]] = []  # (keys-rotate seq, keys-retire seq or None, version)
        #: the rotation events read (`read`), not yet held to their signers: (seq, action, officer, signer, version)
        self.events: list[tuple[int, str, str, bytes, Any]] = []

    def see(self, seq: int, action: str, version: Any) -> None:
        """A `keys-rotate` or `keys-retire` event an admin signed with their valid key, in log order."""
        if action == "keys-rotate":
            self.windows.append((seq, None, version))
        elif action == "keys-retire" and self.windows and self.windows[-1][1] is None:
            start, _end, opened = self.windows[-1]
            self.windows[-1] = (start, seq, opened)

    def holds(self, seq: int, version: Any) -> bool:
        """Whether a batch at `seq` naming `version` lies inside that version's rotation."""
        return version is not None and any(
            start < seq and (end is None or seq < end) and version == v for start, end, v in self.windows
        )

    def within(self, seq: int) -> bool:
        """Whether `seq` lies inside any rotation (a `rekey-details` event names no key version)."""
        return any(start < seq and (end is None or seq < end) for start, end, _v in self.windows)

    def officers(self) -> set[str]:
        """Who signed the rotation events read (whose keys and roles `settle` needs)."""
        return {officer for _seq, _action, officer, _signer, _version in self.events}

    def settle(self, timeline: OfficerTimeline) -> None:
        """The windows, from the events read that an admin signed with their valid key."""
        self.windows = []
        for seq, action, officer, signer, version in self.events:
            if may_move(timeline, officer, signer, seq):
                self.see(seq, action, version)

    @classmethod
    def read(cls, conn: Connection) -> Rotations:
        """Every rotation event, from the events about the data key (their signed bodies, each verified); `settle`
        then keeps an admin's."""
        from store.audit.state import parse_body  # it builds on this module

        found = cls()
        # the small events about the data key, whatever their unsigned action column says (the batches are large,
        # and skipped unread: SQLite's `length()` of a blob reads no content); which they are, their bodies say
        rows = conn.exec_driver_sql(
            "SELECT seq, body, signer, sig FROM audit_log WHERE target = 'data-key' AND length(body) <= 65536"
            " ORDER BY seq"
        )
        for seq, body, signer, sig in rows:
            obj = parse_body(bytes(body))
            action = obj.get("action") if obj is not None else None
            if obj is None or obj.get("seq") != seq or action not in ("keys-rotate", "keys-retire"):
                continue
            if obj.get("record") is None and verify_event(bytes(signer), bytes(body), bytes(sig)):
                found.events.append((int(seq), str(action), str(obj.get("officer")), bytes(signer), key_version(obj)))
        return found


class Moves:
    """The signed moves of some records after their latest events, read through `rekey_index` (`read`), then
    held to their signers (`valid`)."""

    def __init__(self) -> None:
        #: seq → (officer, signer, key version, the uuid → entry it signs, its action) of each batch read, whose
        #: signature verified
        self.batches: dict[int, tuple[str, bytes, Any, dict[str, Any], str]] = {}
        self.rotations = Rotations()
        #: uuid → the seqs of its batches after its latest event, in order
        self.seqs: dict[str, list[int]] = {}

    @classmethod
    def read(
        cls,
        s: OrmSession,
        latest: Mapping[str, int],
        cache: dict[int, Any] | None = None,
        also: Mapping[str, Iterable[int]] | None = None,
    ) -> Moves:
        """The batches after each record's latest event (uuid → its seq). `cache`: batches read before (seq →
        what `batches` holds, or None for a body that moves nothing), shared by a check that reads many records.
        `also`: uuid → seqs of batches found naming it by reading the log itself (an export's full pass), read as
        if `rekey_index` listed them (it may not: it is outside the signatures)."""
        moves = cls()
        if not latest:
            return moves
        conn = s.connection()
        uuids = sorted(latest)
        listed: dict[str, set[int]] = {}
        for i in range(0, len(uuids), 5000):  # through the driver, the uuids bound as one JSON array
            for uuid, seq in index_rows(
                conn, "WHERE record_uuid IN (SELECT value FROM json_each(?))", (json.dumps(uuids[i : i + 5000]),)
            ):
                listed.setdefault(uuid, set()).add(seq)
        for uuid, seqs in (also or {}).items():
            if uuid in latest:
                listed.setdefault(uuid, set()).update(seqs)
        for uuid, seqs in listed.items():
            after = [seq for seq in seqs if seq > latest.get(uuid, seq)]
            if after:
                moves.seqs[uuid] = after
        wanted = sorted({seq for seqs in moves.seqs.values() for seq in seqs})
        known = cache if cache is not None else {}
        missing = [seq for seq in wanted if seq not in known]
        if missing:
            rows = conn.exec_driver_sql(
                "SELECT seq, body, signer, sig FROM audit_log WHERE seq IN (SELECT value FROM json_each(?))",
                (json.dumps(missing),),
            )
            for seq, body, signer, sig in rows:
                known[int(seq)] = _batch(int(seq), bytes(body), bytes(signer), bytes(sig))
        for seq in wanted:
            found = known.get(seq)
            if found is not None:
                moves.batches[seq] = found
        if moves.batches:
            moves.rotations = Rotations.read(conn)
        while cache is not None and len(cache) > CACHED:  # the oldest read first: batches follow the records' order
            del cache[next(iter(cache))]
        for seqs in moves.seqs.values():
            seqs.sort()
        return moves

    def officers(self) -> set[str]:
        """The officers who signed the batches read (whose keys and roles `valid` needs)."""
        return {batch[0] for batch in self.batches.values()} | self.rotations.officers()

    def valid(self, timeline: OfficerTimeline) -> dict[str, list[dict[str, Any]]]:
        """uuid → its entries, in order, from the batches that name it and may move it: a rotation's that an
        admin's valid key signed inside its rotation, a share batch a reviewer's or an admin's valid key signed
        (each entry kept to what its kind may move: `kept_entry`)."""
        self.rotations.settle(timeline)
        allowed = {
            seq
            for seq, (officer, signer, version, _records, kind) in self.batches.items()
            if (
                may_share(timeline, officer, signer, seq) if kind == SHARE else may_move(timeline, officer, signer, seq)
            )
            and (kind == SHARE or self.rotations.holds(seq, version))
        }
        out: dict[str, list[dict[str, Any]]] = {}
        for uuid, seqs in self.seqs.items():
            entries = [
                kept_entry(self.batches[seq][4], self.batches[seq][3].get(uuid)) for seq in seqs if seq in allowed
            ]
            kept = [e for e in entries if e is not None]
            if kept:
                out[uuid] = kept
        return out


def shared_after(s: OrmSession, uuid: str, latest: Mapping[str, int]) -> list[int]:
    """The seqs of the events after the record's latest event (`latest[uuid]`) filed under no record whose body
    names it as a share batch does (`"<uuid>":{"status":`), found by the bodies themselves, not through
    `rekey_index`: the check of one record before an action signs it (`state.record_damage`). The bodies a share
    batch can be (at most `filing.MAX_RECORD_BODY`; a rotation's batches are larger and skipped unread) are few."""
    from store.audit.filing import MAX_RECORD_BODY  # it builds on this module

    needle = b'"' + uuid.encode("ascii", "replace") + b'":{"status":'
    rows = s.connection().exec_driver_sql(
        "SELECT seq FROM audit_log WHERE seq > ? AND record_uuid IS NULL AND length(body) <= ? AND instr(body, ?) > 0",
        (latest[uuid], MAX_RECORD_BODY, needle),
    )
    return [int(seq) for (seq,) in rows]


def index_rows(conn: Connection, where: str = "", params: tuple[Any, ...] = ()) -> list[tuple[str, int]]:
    """(record uuid, seq) rows of `rekey_index` (`where` on its columns), those of the types it holds only: the
    table is outside the signatures, so a row of other types (or the table dropped) is edited, and moves nothing."""
    try:
        rows = conn.exec_driver_sql(f"SELECT record_uuid, seq FROM rekey_index {where}", params).fetchall()
    except OperationalError:  # no such table: dropped in the file
        return []
    return [(uuid, seq) for uuid, seq in rows if type(uuid) is str and type(seq) is int]


def _batch(seq: int, body: bytes, signer: bytes, sig: bytes) -> tuple[str, bytes, Any, dict[str, Any], str] | None:
    """A batch's (officer, signer, key version, records, action) when its body is a signed batch at its own seq,
    else None."""
    from store.audit.state import parse_body  # it builds on this module

    obj = parse_body(body)
    if obj is None or obj.get("seq") != seq:
        return None
    records = batch_records(obj)
    if records is None or not verify_event(signer, body, sig):
        return None
    return str(obj.get("officer")), signer, key_version(obj), records, str(obj.get("action"))


__all__ = [
    "ACTION",
    "CACHED",
    "SHARE",
    "SHARED",
    "SHARE_ROLES",
    "Moves",
    "batch_records",
    "entry",
    "index_rows",
    "kept_entry",
    "may_move",
    "may_share",
    "move",
    "move_revisions",
    "share_entry",
    "shared_after",
]
