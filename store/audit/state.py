"""Checking the store's current state against its signed log: damaged records, the log's own end, officers' rows.

A record is *damaged* when what is stored differs from its latest signed event (tags, releasable-to parties,
status, author, revision, no-reexport, withdrawn, the title/body ciphertexts, its current revision row, its
review rows), when no event records it, when that event's signature or signer does not hold, or when its
approval breaks four-eyes by key identity (the approver's key wrote the approved revision, or the approver did
not hold the reviewer or admin role per the log).

Two paths, both cheap:
- one record (`record_damage`): the log's contiguity (count = highest seq = latest checkpoint's size = the
  frontier's size, checkpoint signed by the ministry identity key), the record's events filed under it and
  those about it filed elsewhere (`store.audit.filing.cut_from`), and its latest event, its signature and its
  signer's key as valid for that officer at that point of the log;
- many records (`damaged_among`, an export; `store.audit.fullcheck`): the Merkle root recomputed once from every
  event's body, signer and signature, compared with the signed checkpoint, then each record against its latest
  event, batch by batch.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session as OrmSession

from crypto.checkpoint import open_checkpoint
from crypto.errors import CryptoError
from crypto.events import signing_public, verify_event
from crypto.keyring import Keyring
from store.audit import rekeys
from store.audit.checkpoints import latest_checkpoint, log_origin, log_size, read_head
from store.audit.events import OFFICER_STATE_ACTIONS, WRITING_ACTIONS
from store.audit.filing import SignatureChecks, cut_from, filing_problem, position_problem, read_filed
from store.audit.snapshot import contact_state, officer_state, record_states
from store.audit.timeline import OfficerTimeline, event_data
from store.errors import TamperError
from store.models import AuditRow, Contact, Officer, Record
from store.text import said
from store.vocab import Role, Status

#: Statuses a record reaches only through an approval (four-eyes applies).
APPROVED_STATUSES = frozenset({Status.APPROVED.value, Status.SHARED.value, Status.ACKNOWLEDGED.value})
#: Roles that may approve.
APPROVER_ROLES = frozenset({Role.REVIEWER.value, Role.ADMIN.value})

#: How each signed field is named in a damage reason.
_FIELDS = {
    "reference": "reference",
    "domain": "domain",
    "origin": "origin",
    "releasable_to": "releasable-to list",
    "tlp": "TLP",
    "status": "status",
    "author": "author",
    "revision": "revision",
    "no_reexport": "no-reexport flag",
    "title_sha256": "title ciphertext",
    "body_sha256": "body ciphertext",
    "revision_sha256": "current revision row",
    "reviews": "number of review steps",
    "reviews_sha256": "review steps",
    "withdrawn": "withdrawal",
}
_CIPHER_FIELDS = frozenset({"title_sha256", "body_sha256", "revision_sha256", "reviews_sha256"})


def _shown(name: str, value: Any) -> str:
    if name == "releasable_to":
        return ", ".join(value) if value else "nobody"
    if name == "tlp":
        return f"TLP:{value}" if value else "none"
    if name == "no_reexport" or name == "withdrawn":
        return "set" if value else "not set"
    return str(value)


def compare(current: dict[str, Any], signed: dict[str, Any], seq: int, officer: str) -> str | None:
    """Why a record's stored state differs from its latest signed event (`#seq` by `officer`), or None."""
    if "origin_party" in current:
        return f"its origin party rows ({', '.join(current['origin_party']) or 'none'}) do not match its origin"
    for name, label in _FIELDS.items():
        have, want = current.get(name), signed.get(name)
        if have == want:
            continue
        if name in _CIPHER_FIELDS:
            if name == "reviews_sha256" and current.get("reviews") != signed.get("reviews"):
                continue  # the count's line names it better
            return f"its {label} is not the one its last signed event (#{seq} by {officer}) recorded"
        if name == "reviews":
            steps = "step" if have == 1 else "steps"
            return f"it has {have} review {steps}, its last signed event (#{seq} by {officer}) recorded {want}"
        return f"its {label} is {_shown(name, have)}, its last signed event (#{seq} by {officer}) says {_shown(name, want)}"
    return None


# ---- officers' keys and roles along the log -----------------------------------------------------------------


def parse_body(body: bytes) -> dict[str, Any] | None:
    """An event body as a dict, None when it is not one."""
    try:
        obj = json.loads(body)
    except ValueError:
        return None
    return obj if isinstance(obj, dict) else None


def identity_public(keyring: Keyring) -> bytes:
    """The ministry identity's public signing key (what checkpoints verify with)."""
    return signing_public(keyring.signing_key)


# ---- the log's end -------------------------------------------------------------------------------------------


def log_problem(s: OrmSession, keyring: Keyring, ministry: str) -> str | None:
    """Why the log's end cannot be trusted (gaps, no or a bad checkpoint, a frontier off the rows), or None.

    Contiguity only: a full check of every event is `audit verify`'s.
    """
    return log_end_problem(s, log_origin(ministry, keyring.store_id), identity_public(keyring))


def log_end_problem(s: OrmSession, origin: str, identity: bytes) -> str | None:
    """`log_problem` with the checkpoint's origin and the identity's public signing key given: without keys, the
    store's own public identity (which the file could have swapped) stands in for the keyring's."""
    count, top = log_size(s)
    if count != top:
        return f"the audit log has {count:,} events but its highest sequence number is {top:,} (events were deleted or inserted)"
    cp = latest_checkpoint(s)
    if cp is None:
        return "the audit log has no signed checkpoint" if count else "the audit log is empty"
    if cp.size != top:
        return f"the audit log has {top:,} events but its latest signed checkpoint covers {cp.size:,}"
    try:
        signed = open_checkpoint(cp.note, origin, identity)
    except CryptoError as exc:
        return f"the audit log's latest checkpoint is not signed by this ministry ({exc})"
    if signed.origin != origin or signed.size != cp.size or signed.root != bytes(cp.root):
        return "the audit log's latest checkpoint row does not match its signed note"
    try:
        head = read_head(s)
    except TamperError as exc:
        return str(exc)
    if head.frontier.root() != signed.root:
        return "the audit log's Merkle frontier does not match its signed checkpoint"
    return None


# ---- records -----------------------------------------------------------------------------------------------


@dataclass
class _Events:
    """What a damage check needs of one record's events."""

    latest: tuple[int, bytes, bytes, bytes] | None = None  # seq, body, signer, sig
    writers: list[tuple[int, str, bytes, dict[str, Any]]] = field(default_factory=list)  # seq, officer, signer, record
    approvals: list[tuple[int, bytes, bytes, bytes]] = field(default_factory=list)  # seq, body, signer, sig
    #: seq → `parse_body` of that event's body, for the bodies parsed so far: one check parses each body once
    #: (a writer's when collected, the latest's and the approvals' when first read). A writer's record dict is
    #: already kept in `writers`, so keeping its whole body costs little.
    parsed: dict[int, dict[str, Any] | None] = field(default_factory=dict)
    count: int = 0  # the events filed under the record (its latest's signed position must be one fewer)

    def body(self, seq: int, body: bytes) -> dict[str, Any] | None:
        """`parse_body(body)` of event `seq` (whose body this is), parsed at most once."""
        try:
            return self.parsed[seq]
        except KeyError:
            obj = self.parsed[seq] = parse_body(body)
            return obj


def _collect(events: _Events, seq: int, action: str, body: bytes, signer: bytes, sig: bytes) -> None:
    events.latest = (seq, body, signer, sig)
    events.count += 1
    if action in WRITING_ACTIONS:
        obj = events.body(seq, body) or {}
        record = obj.get("record") if isinstance(obj.get("record"), dict) else {}
        events.writers.append((seq, str(obj.get("officer")), signer, record or {}))
    elif action == "approve":
        events.approvals.append((seq, body, signer, sig))


def _officers_named(events: Iterable[_Events]) -> set[str]:
    """The officers whose signed states a damage check of these events consults (the latest event's signer, the
    approvers, the writers): loading only theirs reads the log's target index instead of every event (a page of
    the browser checks its records this way). A name taken from an edited body finds no state and is refused."""
    names: set[str] = set()
    for found in events:
        bodies = [found.latest[:2]] if found.latest is not None else []
        bodies += [(seq, body) for seq, body, _signer, _sig in found.approvals]
        for seq, body in bodies:
            obj = found.body(seq, body) or {}
            names.add(str(obj.get("officer")))
        names.update(who for _seq, who, _key, _rec in found.writers)
    return names


def _record_problem(
    current: dict[str, Any],
    events: _Events,
    timeline: OfficerTimeline,
    *,
    own_ministry: str,
    four_eyes: bool,
    verify_latest: bool,
    verified: Mapping[int, bool] | None = None,
    moved: Sequence[dict[str, Any]] = (),
) -> str | None:
    """Why a record is damaged, or None. `moved`: the key rotations' signed moves of its ciphertext hashes after its
    latest event (`store.audit.rekeys.Moves.valid`), applied to the state that event signed before comparing."""
    if events.latest is None:
        return "no signed event records it (it was written outside Liaison)"
    seq, body, signer, sig = events.latest
    obj = events.body(seq, body)
    record = obj.get("record") if obj else None
    if obj is None or not isinstance(record, dict) or obj.get("seq") != seq:
        return f"its last audit event #{seq} is malformed or out of place"
    if record.get("uuid") != current["uuid"]:
        return f"its last audit event #{seq} is about another record"
    officer = str(obj.get("officer"))
    if verify_latest:
        if not (verified[seq] if verified is not None and seq in verified else verify_event(signer, body, sig)):
            return f"its last audit event #{seq} does not verify (forged or edited)"
        why = timeline.key_problem(officer, signer, seq)
        if why is not None:
            return why
    why = position_problem(seq, obj.get("position"), events.count - 1)
    if why is not None:
        return why
    why = compare(current, rekeys.move(record, moved) if moved else record, seq, officer)
    if why is not None:
        return why
    if current["origin"] != own_ministry:
        return None
    writers = [w for w in events.writers if w[3].get("revision", 0) <= current["revision"]]
    if writers:
        creator = writers[0]
        for wseq, _who, _key, wrec in writers:
            if wrec.get("author") != creator[3].get("author"):
                return (
                    f"its author was changed: event #{wseq} says {said(wrec.get('author'), 'no one')}, "
                    f"it was created by {said(creator[3].get('author'), 'no one')}"
                )
    if current["status"] not in APPROVED_STATUSES:
        return None
    wrote = writers[-1][0] if writers else 0  # the revision's writing event (none: a record signed at an upgrade)
    if not events.approvals or events.approvals[-1][0] < wrote:
        if not wrote:
            return None
        return f"it is {current['status']}, but no approval follows the revision event #{wrote} wrote"
    aseq, abody, akey, asig = events.approvals[-1]
    aobj = events.body(aseq, abody) or {}
    approver = str(aobj.get("officer"))
    if not (verified[aseq] if verified is not None and aseq in verified else verify_event(akey, abody, asig)):
        return f"its approval (event #{aseq}) does not verify (forged or edited)"
    why = timeline.key_problem(approver, akey, aseq)
    if why is not None:
        return f"its approval: {why}"
    if timeline.role_at(approver, aseq) not in APPROVER_ROLES:
        return f"it was approved (event #{aseq}) by {approver}, who did not hold the reviewer or admin role then"
    if four_eyes:
        arec = aobj.get("record") if isinstance(aobj.get("record"), dict) else {}
        if approver == (arec or {}).get("author") or approver == current["author"]:
            return f"four-eyes: it was approved (event #{aseq}) by its own author {approver}"
        for wseq, who, wkey, _wrec in writers:
            if wseq < aseq and bytes(wkey) == bytes(akey):
                return f"four-eyes: it was approved (event #{aseq}) with the key that wrote it (event #{wseq} as {who})"
    return None


def record_damage(s: OrmSession, keyring: Keyring, rec: Record, *, own_ministry: str, four_eyes: bool) -> str | None:
    """Why one record is damaged (its reason), or None: the cheap path (log contiguity, latest event verified)."""
    problem = log_problem(s, keyring, own_ministry)
    if problem is not None:
        return problem
    events = _Events()
    for seq, action, body, signer, sig in s.execute(
        select(AuditRow.seq, AuditRow.action, AuditRow.body, AuditRow.signer, AuditRow.sig)
        .where(AuditRow.record_uuid == rec.uuid)
        .order_by(AuditRow.seq)
    ):
        why = filing_problem(int(seq), rec.uuid, bytes(body))
        if why is not None:
            return why
        _collect(events, int(seq), action, bytes(body), bytes(signer), bytes(sig))
    cut = cut_from(s, {rec.uuid: rec.reference}).get(rec.uuid)
    if cut is not None:
        return cut
    current = record_states(s, [rec.id])[rec.id]
    latest = {rec.uuid: events.latest[0]} if events.latest is not None else {}
    # the share batches after its latest event, found by their bodies too (`rekey_index` is outside the signatures:
    # a row deleted there would let an older status pass, and an action signed over it launder it)
    moves = rekeys.Moves.read(s, latest, also={rec.uuid: rekeys.shared_after(s, rec.uuid, latest)} if latest else None)
    timeline = OfficerTimeline.load(s, _officers_named([events]) | moves.officers(), keyring)
    return _record_problem(
        current,
        events,
        timeline,
        own_ministry=own_ministry,
        four_eyes=four_eyes,
        verify_latest=True,
        moved=moves.valid(timeline).get(rec.uuid, ()),
    )


def damaged_among(
    s: OrmSession,
    keyring: Keyring,
    ids: Sequence[int],
    *,
    own_ministry: str,
    four_eyes: bool,
    full: bool = True,
    states_out: dict[int, dict[str, Any]] | None = None,
    revision_digests: Mapping[tuple[int, int], str] | None = None,
    checks: SignatureChecks | None = None,
) -> dict[int, str]:
    """The damaged records among `ids` with their reasons: the Merkle root is recomputed once for all of them.

    `states_out`, when given, receives each record's signed-state dict as compared (an export reuses them for
    the events it signs in the same transaction instead of loading them again); `revision_digests`, the revision
    rows' digests the caller computed in this transaction (`record_states`).

    `full=False` (a few records checked inside another action, e.g. those an import is about to update) skips
    the root and verifies each record's latest event signature instead, reading only those records' events;
    `checks` verifies those signatures (and the approvals') while the records' states are read.
    """
    if not ids:
        return {}
    if full:  # the root recomputed once over every event, then the records compared batch by batch
        from store.audit.fullcheck import damaged_full  # it builds on this module

        return damaged_full(
            s,
            keyring,
            ids,
            own_ministry=own_ministry,
            four_eyes=four_eyes,
            states_out=states_out,
            revision_digests=revision_digests,
        )
    # an event cut from its record damages that record (and the one it was filed under), by name, not every record
    misfiled: dict[str, str] = {}
    # a few records: their events read first, `checks` verifies their signatures while their states are read
    by_uuid: dict[str, int] = {}
    for i in range(0, len(ids), 900):
        query = select(Record.uuid, Record.id).where(Record.id.in_(ids[i : i + 900]))
        by_uuid.update((str(uuid), int(rid)) for uuid, rid in s.execute(query))
    events = {uuid: _Events() for uuid in by_uuid}
    problem = log_problem(s, keyring, own_ministry)

    def each(seq: int, action: str, uuid: str, body: bytes, signer: bytes, sig: bytes) -> None:
        _collect(events[uuid], seq, action, body, signer, sig)

    read_filed(s, by_uuid if problem is None else [], each, misfiled)
    checked = None
    if checks is not None and problem is None:
        latest = [found.latest for found in events.values() if found.latest is not None]
        checked = checks([*latest, *(found.approvals[-1] for found in events.values() if found.approvals)])
    states = record_states(s, ids, revision_digests=revision_digests)
    verified: dict[int, bool] | None = checked() if checked is not None else None
    references = {uuid: states[rid]["reference"] for uuid, rid in by_uuid.items() if rid in states}
    for uuid, cut in (cut_from(s, references) if problem is None else {}).items():
        misfiled.setdefault(uuid, cut)
    if problem is not None:
        return dict.fromkeys(ids, problem)
    if states_out is not None:
        states_out.update(states)
    moves = rekeys.Moves.read(s, {uuid: found.latest[0] for uuid, found in events.items() if found.latest is not None})
    # only these records' officers' events (the target index), not the whole log
    timeline = OfficerTimeline.load(s, _officers_named(events.values()) | moves.officers(), keyring)
    moved = moves.valid(timeline)
    out: dict[int, str] = {}
    for uuid, rid in by_uuid.items():
        if rid not in states:
            continue
        if uuid in misfiled:
            out[rid] = misfiled[uuid]
            continue
        why = _record_problem(
            states[rid],
            events[uuid],
            timeline,
            own_ministry=own_ministry,
            four_eyes=four_eyes,
            verify_latest=True,
            verified=verified,
            moved=moved.get(uuid, ()),
        )
        if why is not None:
            out[rid] = why
    for rid in ids:
        if rid not in states:
            out[rid] = "it no longer exists"
    return out


# ---- officers ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignedOfficer:
    """An officer's latest officer-state event: what the log last signed for them, and by whom."""

    seq: int
    by: str
    signer: bytes
    verifies: bool
    state: dict[str, Any] | None


def last_officer_event(s: OrmSession, name: str) -> SignedOfficer | None:
    """Officer `name`'s latest officer-state event (None: the log has none)."""
    found = s.execute(
        select(AuditRow.seq, AuditRow.body, AuditRow.signer, AuditRow.sig)
        .where(AuditRow.target == name, AuditRow.action.in_(sorted(OFFICER_STATE_ACTIONS)))
        .order_by(AuditRow.seq.desc())
        .limit(1)
    ).first()
    if found is None:
        return None
    seq, body, signer, sig = int(found[0]), bytes(found[1]), bytes(found[2]), bytes(found[3])
    obj = parse_body(body) or {}
    state = event_data(body).get("officer_state")
    return SignedOfficer(
        seq,
        str(obj.get("officer")),
        signer,
        verify_event(signer, body, sig),
        state if isinstance(state, dict) and state.get("officer") == name else None,
    )


def row_against(row: Officer, signed: SignedOfficer | None) -> str | None:
    """Why an officers row is not the state `signed` (its latest event) holds, or None."""
    if signed is None:
        return "the audit log has no event for it"
    seq = signed.seq
    if not signed.verifies:
        return f"its last audit event #{seq} does not verify"
    if signed.state is None:
        return f"its last audit event #{seq} carries no officer state"
    have = officer_state(row)
    for key, label in (
        ("revoked", "removal"),
        ("role", "role"),
        ("signing_public", "signing key"),
        ("slot_sha256", "key slot"),
        ("grant_sha256", "keyring grant"),
    ):
        if have.get(key) != signed.state.get(key):
            return f"its {label} differs from the audit log's event #{seq}"
    return None


def officer_backing_problem(s: OrmSession, row: Officer) -> str | None:
    """Why an officers row is not the one the log last signed for that officer (a replayed or edited row), or None."""
    return row_against(row, last_officer_event(s, row.name))


# ---- contacts ----------------------------------------------------------------------------------------------


def contact_backing_problem(s: OrmSession, row: Contact) -> str | None:
    """Why a contacts row is not the state the log last signed for that contact (a row written back from an older
    copy of the file, say from before the contact's identity rotation, whose MAC still holds), or None.

    Every change to a contacts row signs its state (`snapshot.contact_state`) into an event's data. The latest
    such event is found by what the signed bodies say, not by the log's unsigned target and action columns
    (editing those would hide the newest and let an older one pass for it): one scan of the bodies, from the end."""
    needle = b'"contact":{"code":' + json.dumps(row.code).encode("ascii", "replace")
    found = s.execute(
        select(AuditRow.seq, AuditRow.body, AuditRow.signer, AuditRow.sig)
        .where(func.instr(AuditRow.body, needle) > 0)
        .order_by(AuditRow.seq.desc())
        .limit(1)
    ).first()
    if found is None:
        count, _top = log_size(s)
        return "the audit log has no event for it" if count else None  # an upgrade not yet signed has no log
    seq, body, signer, sig = int(found[0]), bytes(found[1]), bytes(found[2]), bytes(found[3])
    if not verify_event(signer, body, sig):
        return f"its last audit event #{seq} does not verify"
    obj = parse_body(body) or {}
    data = obj.get("data")
    signed = data.get("contact") if isinstance(data, dict) else None
    if obj.get("seq") != seq or not isinstance(signed, dict) or signed.get("code") != row.code:
        return f"its last audit event #{seq} is malformed"
    if signed != contact_state(row):
        return f"its keys or name differ from the audit log's event #{seq}"
    return None


__all__ = [
    "APPROVED_STATUSES",
    "OfficerTimeline",
    "SignedOfficer",
    "compare",
    "contact_backing_problem",
    "damaged_among",
    "identity_public",
    "last_officer_event",
    "log_end_problem",
    "log_problem",
    "officer_backing_problem",
    "parse_body",
    "record_damage",
    "row_against",
]
