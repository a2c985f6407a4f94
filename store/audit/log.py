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
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import and_, event, func, insert, select
from sqlalchemy.orm import Session as OrmSession

from crypto.checkpoint import Checkpoint, format_time, sign_checkpoint
from crypto.errors import MalformedData
from crypto.events import CHAIN_START, chain_hash, event_bytes, leaf_input, sign_event
from crypto.keyring import Keyring
from crypto.merkle import Frontier, leaf_hash
from store.errors import TamperError
from store.models import (
    AuditCheckpoint,
    AuditRow,
    Contact,
    Meta,
    Officer,
    Record,
    RecordParty,
    ReviewEvent,
    Revision,
)

#: Where an action's audit transaction lives on its ORM session (`Session.info`).
INFO_KEY = "liaison.audit"
#: Events whose data holds an officer's state (`officer_state`): the log's record of the officers table.
OFFICER_STATE_ACTIONS = frozenset(
    {"officer-add", "officer-remove", "officer-regrant", "officer-key", "officer-role", "passwd", "genesis-officer"}
)
#: Record actions a record's author writes a revision with (four-eyes: the approver's key must differ).
WRITING_ACTIONS = frozenset({"create", "edit"})
EVENT_VERSION = 1
#: How many ids one `IN (…)` query carries.
_CHUNK = 5000


def sha256_hex(data: bytes | None) -> str | None:
    """Hex SHA-256 of a ciphertext, None for none."""
    return None if data is None else hashlib.sha256(data).hexdigest()


def iso(moment: datetime | date | None) -> str | None:
    """RFC 3339 UTC text of a stored time (naive values are UTC, as the store keeps them)."""
    if moment is None:
        return None
    if not isinstance(moment, datetime):
        return moment.isoformat()
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return format_time(moment)


def log_origin(ministry: str, store_id: str) -> str:
    """The checkpoint origin (and signed-note key name) of a store's log: `liaison/<MINISTRY>/<store uuid>`."""
    return f"liaison/{ministry}/{store_id}"


# ---- the queue an action fills -------------------------------------------------------------------------


@dataclass
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
    extra: list[PendingEvent] = field(default_factory=list)
    officers_new: set[str] = field(default_factory=set)
    officers_dirty: set[str] = field(default_factory=set)
    contacts: set[str] = field(default_factory=set)

    def events(self) -> list[PendingEvent]:
        return [self.main, *self.extra]


@dataclass(frozen=True)
class Signer:
    """Who signs an action's events, and the keys its checkpoint and details need."""

    officer: str
    signing_key: bytes  # the officer's Ed25519 private key
    keyring: Keyring  # the ministry identity key (checkpoint) and the data key (details)
    ministry: str
    now: datetime


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
    damage check loaded, with the new status); a record without one is loaded at `finish`."""
    txn = current(s)
    known = states or {}
    for rid in record_ids:
        state = known.get(rid)
        txn.extra.append(
            PendingEvent(action, "", record_id=rid, data=dict(data or {}), state=dict(state) if state else None)
        )


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
    """One record event whose state the caller built from the rows it just wrote (bulk ingest, no query)."""
    current(s).extra.append(
        PendingEvent(
            action,
            state["reference"],
            state=state,
            wrote={k: hashlib.sha256(v).hexdigest() for k, v in (wrote or {}).items()},
            data=dict(data or {}),
        )
    )


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


# ---- state of records and officers -------------------------------------------------------------------------


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def reviews_digest(rows: Iterable[tuple[str, str, datetime, bytes | None]]) -> tuple[int, str]:
    """(count, SHA-256) of a record's review rows in order: officer, step, time and the comment's ciphertext hash."""
    items = [[who, what, iso(at), sha256_hex(ct)] for who, what, at, ct in rows]
    return len(items), hashlib.sha256(event_bytes({"reviews": items})).hexdigest()


#: The revision columns `revision_digest` covers, in its argument order: every query that feeds it selects these.
REVISION_DIGEST_COLUMNS = (
    Revision.number,
    Revision.officer,
    Revision.tlp,
    Revision.releasable_to,
    Revision.created_at,
    Revision.title_ct,
    Revision.body_ct,
)


def revision_digest(
    number: int, officer: str, tlp: str, releasable_to: str, created_at: datetime, title_ct: bytes, body_ct: bytes
) -> str:
    """SHA-256 of a revision row (its plaintext columns and ciphertext hashes)."""
    return hashlib.sha256(
        event_bytes(
            {
                "number": number,
                "officer": officer,
                "tlp": tlp,
                "releasable_to": releasable_to,
                "created_at": iso(created_at),
                "title": sha256_hex(title_ct),
                "body": sha256_hex(body_ct),
            }
        )
    ).hexdigest()


def build_state(
    *,
    uuid: str,
    reference: str,
    domain: str,
    origin: str,
    releasable_to: Iterable[str],
    tlp: str,
    status: str,
    author: str,
    revision: int,
    no_reexport: bool,
    title_ct: bytes,
    current: tuple[int, str, str, str, datetime, bytes, bytes] | None,
    reviews: Iterable[tuple[str, str, datetime, bytes | None]],
    withdrawn: bool,
) -> dict[str, Any]:
    """A record's signed state: what its events carry and what a damage check compares."""
    count, digest = reviews_digest(reviews)
    return {
        "uuid": uuid,
        "reference": reference,
        "domain": domain,
        "origin": origin,
        "releasable_to": sorted(set(releasable_to) - {origin}),
        "tlp": tlp,
        "status": status,
        "author": author,
        "revision": int(revision),
        "no_reexport": bool(no_reexport),
        "title_sha256": sha256_hex(title_ct),
        "body_sha256": sha256_hex(current[6]) if current is not None else None,
        "revision_sha256": revision_digest(*current) if current is not None else None,
        "reviews": count,
        "reviews_sha256": digest,
        "withdrawn": bool(withdrawn),
    }


def record_states(s: OrmSession, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """The signed-state dicts of the given records as stored now (a few queries per 5,000 records)."""
    from store.withdrawals import Withdrawal

    out: dict[int, dict[str, Any]] = {}
    for chunk in _chunks(sorted(set(ids))):
        recs = s.execute(
            select(
                Record.id,
                Record.uuid,
                Record.reference,
                Record.domain,
                Record.origin,
                Record.tlp,
                Record.status,
                Record.author,
                Record.revision,
                Record.no_reexport,
                Record.title_ct,
            ).where(Record.id.in_(chunk))
        ).all()
        parties: dict[int, list[str]] = {}
        for rid, code in s.execute(
            select(RecordParty.record_id, RecordParty.ministry).where(
                RecordParty.record_id.in_(chunk), RecordParty.is_origin.is_(False)
            )
        ):
            parties.setdefault(rid, []).append(code)
        origins: dict[int, set[str]] = {}
        for rid, code in s.execute(
            select(RecordParty.record_id, RecordParty.ministry).where(
                RecordParty.record_id.in_(chunk), RecordParty.is_origin.is_(True)
            )
        ):
            origins.setdefault(rid, set()).add(code)
        currents: dict[int, tuple[int, str, str, str, datetime, bytes, bytes]] = {}
        for row in s.execute(
            select(Revision.record_id, *REVISION_DIGEST_COLUMNS)
            .join(Record, and_(Record.id == Revision.record_id, Record.revision == Revision.number))
            .where(Revision.record_id.in_(chunk))
        ):
            currents[row[0]] = tuple(row[1:])  # type: ignore[assignment]
        reviews: dict[int, list[tuple[str, str, datetime, bytes | None]]] = {}
        for rid, who, what, at, ct in s.execute(
            select(
                ReviewEvent.record_id, ReviewEvent.officer, ReviewEvent.action, ReviewEvent.at, ReviewEvent.comment_ct
            )
            .where(ReviewEvent.record_id.in_(chunk))
            .order_by(ReviewEvent.id)
        ):
            reviews.setdefault(rid, []).append((who, what, at, ct))
        uuids = [r.uuid for r in recs]
        withdrawn = set(s.scalars(select(Withdrawal.record_uuid).where(Withdrawal.record_uuid.in_(uuids))))
        for r in recs:
            state = build_state(
                uuid=r.uuid,
                reference=r.reference,
                domain=r.domain,
                origin=r.origin,
                releasable_to=parties.get(r.id, []),
                tlp=r.tlp,
                status=r.status,
                author=r.author,
                revision=r.revision,
                no_reexport=r.no_reexport,
                title_ct=r.title_ct,
                current=currents.get(r.id),
                reviews=reviews.get(r.id, []),
                withdrawn=r.uuid in withdrawn,
            )
            if origins.get(r.id, set()) != {r.origin}:
                state["origin_party"] = sorted(origins.get(r.id, set()))  # never equal to a signed state
            out[r.id] = state
    return out


def officer_state(row: Officer) -> dict[str, Any]:
    """What the log signs of an officers row (a later unlock compares the row with it)."""
    return {
        "officer": row.name,
        "role": row.role,
        "signing_public": row.signing_public.hex() if row.signing_public else None,
        "slot_sha256": hashlib.sha256(row.slot.encode("utf-8")).hexdigest(),
        "grant_sha256": hashlib.sha256(row.grant.encode("utf-8")).hexdigest(),
        "revoked": row.revoked_at is not None,
    }


def contact_state(row: Contact) -> dict[str, Any]:
    """What the log signs of a contact (its keys by hash, its fingerprint)."""
    return {
        "code": row.code,
        "fingerprint": row.fingerprint,
        "signing_public": row.signing_public.hex(),
        "exchange_public": row.exchange_public.hex(),
        "name_sha256": hashlib.sha256(row.name.encode("utf-8")).hexdigest(),
    }


# ---- appending ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Head:
    """The log's end: its size, last chain value and Merkle frontier."""

    size: int
    chain: bytes
    frontier: Frontier


def read_head(s: OrmSession) -> Head:
    """The end of the log as stored; TamperError when the frontier and the rows disagree."""
    last = s.execute(select(AuditRow.seq, AuditRow.chain).order_by(AuditRow.seq.desc()).limit(1)).first()
    raw = s.execute(select(Meta.value).where(Meta.key == "audit_frontier")).scalar_one_or_none()
    if raw is None:
        if last is not None:
            raise TamperError("the audit log's Merkle frontier is missing; it was removed outside Liaison")
        return Head(0, CHAIN_START, Frontier())
    try:
        frontier = Frontier.from_bytes(base64.b64decode(raw.encode("ascii"), validate=True))
    except (MalformedData, ValueError):
        raise TamperError("the audit log's Merkle frontier is damaged") from None
    size = 0 if last is None else int(last.seq)
    if frontier.size != size:
        raise TamperError(
            f"the audit log has {size:,} events but its Merkle frontier {frontier.size:,}; it was edited outside Liaison"
        )
    return Head(size, CHAIN_START if last is None else bytes(last.chain), frontier)


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
    events = txn.events()
    explicit_officers = {ev.officer_name for ev in events if ev.officer_name}
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
    return append(s, signer, events)


def append(s: OrmSession, signer: Signer, events: Sequence[PendingEvent]) -> int:
    """Sign and append `events` (record states loaded in batches), then write one checkpoint."""
    wanted = [ev.record_id for ev in events if ev.record_id is not None and ev.state is None]
    states = record_states(s, wanted) if wanted else {}
    keys = signer.keyring
    store_id = keys.store_id
    head = read_head(s)
    seq, chain, frontier = head.size, head.chain, head.frontier
    rows: list[dict[str, Any]] = []
    for ev in events:
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
        seq += 1
        at = ev.at or signer.now
        body = event_bytes(_body(seq, at, store_id, signer.officer, ev, record, sha256_hex(detail_ct)))
        sig = sign_event(signer.signing_key, body)
        public = _public(signer.signing_key)
        leaf = leaf_hash(leaf_input(body, public, sig))
        chain = chain_hash(chain, leaf)
        frontier.append(leaf)
        rows.append(
            {
                "seq": seq,
                "at": at,
                "officer": signer.officer,
                "action": ev.action[:32],
                "target": ev.target[:64],
                "record_uuid": state["uuid"] if state is not None else None,
                "body": body,
                "signer": public,
                "sig": sig,
                "detail_ct": detail_ct,
                "chain": chain,
            }
        )
    if not rows:
        return head.size
    conn = s.connection()
    for start in range(0, len(rows), _CHUNK):
        conn.execute(insert(AuditRow), rows[start : start + _CHUNK])
    write_checkpoint(s, signer, frontier)
    return seq


_PUBLIC_CACHE: dict[bytes, bytes] = {}


def _public(private: bytes) -> bytes:
    public = _PUBLIC_CACHE.get(private)
    if public is None:
        from crypto.events import signing_public

        public = _PUBLIC_CACHE.setdefault(private, signing_public(private))
        if len(_PUBLIC_CACHE) > 64:
            _PUBLIC_CACHE.clear()
    return public


def write_checkpoint(s: OrmSession, signer: Signer, frontier: Frontier) -> None:
    """Store the frontier and the checkpoint of the tree it describes, signed by the ministry identity key."""
    origin = log_origin(signer.ministry, signer.keyring.store_id)
    root = frontier.root()
    note_text = sign_checkpoint(Checkpoint(origin, frontier.size, root, signer.now), origin, signer.keyring.signing_key)
    s.merge(AuditCheckpoint(size=frontier.size, at=signer.now, root=root, note=note_text))
    encoded = base64.b64encode(frontier.to_bytes()).decode("ascii")
    row = s.get(Meta, "audit_frontier")
    if row is None:
        s.add(Meta(key="audit_frontier", value=encoded))
    else:
        row.value = encoded
    s.flush()


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


def latest_checkpoint(s: OrmSession) -> AuditCheckpoint | None:
    """The newest checkpoint row."""
    return s.execute(select(AuditCheckpoint).order_by(AuditCheckpoint.size.desc()).limit(1)).scalar_one_or_none()


def log_size(s: OrmSession) -> tuple[int, int]:
    """(count of events, highest seq): equal in an intact log."""
    count, top = s.execute(select(func.count(), func.coalesce(func.max(AuditRow.seq), 0))).one()
    return int(count), int(top)


__all__ = [
    "INFO_KEY",
    "OFFICER_STATE_ACTIONS",
    "REVISION_DIGEST_COLUMNS",
    "WRITING_ACTIONS",
    "AuditTxn",
    "Head",
    "PendingEvent",
    "Signer",
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
    "officer_state",
    "read_head",
    "record_states",
    "reviews_digest",
    "revision_digest",
    "sha256_hex",
    "write_checkpoint",
]
