"""Key lifecycle: key status and the age policy, data-key rotation with re-encryption, full revocation of an officer.

Rotation is a job that survives a crash. Its first transaction (the signed `keys-rotate` event) makes a new
data key current and grants it to every active officer (the keyring keeps the old keys, so every token stays
readable); then every ciphertext column listed in `CIPHERTEXT_COLUMNS` is re-encrypted in batches, each batch
one user action (`Session.act("rekey", …)`) that also moves the job's cursor (kept in the store's metadata
under a MAC); the last transaction (`keys-retire`) drops the old keys from the keyring. Freed pages are zeroed
(`secure_delete`) and the file is compacted (`VACUUM`) so no old token survives in it. Running rotation again
resumes an interrupted job.

Every batch re-signs what it rewrote into the audit log, in the same transaction: one `rekey` event per record
whose ciphertexts changed (its new state, and each rewritten revision row's digest before and after, so
`audit verify` can follow the row from the digest its events signed), and one `rekey-details` event for the
events' encrypted details (`audit_log.detail_ct`). A record that was already damaged (it differs from its
last signed event), or a detail that is not the one its event signed, is re-encrypted (it stays readable) but
not re-signed: it stays damaged, and the rotation reports it.

Full revocation (an officer's removal) also replaces the master secret in one transaction: every derived
key changes, so the blind index is rebuilt under the new index key and every officer, policy and contact
MAC re-derived, after checking each under the old key. Its signed `officer-remove` event marks the officer's
signing key revoked at that point of the log, so `audit verify` refuses anything it signs later; every other
officers row it re-grants gets its `officer-regrant` event.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, and_, bindparam, column, delete, func, inspect, select, table, update
from sqlalchemy.orm import Session as OrmSession

from crypto.blind_index import BlindIndexer
from crypto.encoding import canonical_json
from crypto.errors import DecryptionFailed
from crypto.keyring import Keyring
from crypto.slot import OfficerSlot, grant_keyring
from store import policy
from store import sqlite as dialect
from store.audit import log as audit
from store.audit import state as audit_state
from store.errors import NotFound, PolicyError, TamperError, ValidationError
from store.models import AuditRow, Contact, Meta, Officer, Record, Revision
from store.vault import get_meta, officer_mac, set_meta, store_mac
from store.vocab import Role

if TYPE_CHECKING:
    from store.service import Session

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class CiphertextColumn:
    """A column holding Fernet tokens under the data key, walked in the order of its integer key.

    `record` names the column that ties a row to its record (`id` for the records table itself): such rows are
    re-encrypted together with their record, batch by batch of records, so each record changes once per job.
    """

    table: str
    key: str
    column: str
    record: str | None = None


#: Every column that holds a token under the store's data key: what `keys rotate` re-encrypts. The one list;
#: tests/keys/test_columns.py fails when a model gains a `_ct` or binary column that is in neither this list
#: nor `NOT_CIPHERTEXT`. A listed table that does not exist yet (an older schema) is skipped.
CIPHERTEXT_COLUMNS: tuple[CiphertextColumn, ...] = (
    CiphertextColumn("records", "id", "title_ct", record="id"),
    CiphertextColumn("revisions", "id", "title_ct", record="record_id"),
    CiphertextColumn("revisions", "id", "body_ct", record="record_id"),
    CiphertextColumn("review_events", "id", "comment_ct", record="record_id"),
    CiphertextColumn("withdrawals", "id", "reason_ct", record="record_id"),
    CiphertextColumn("jwg_meetings", "id", "venue_ct"),
    CiphertextColumn("jwg_meetings", "id", "minutes_ct"),
    CiphertextColumn("jwg_agenda", "id", "text_ct"),
    CiphertextColumn("jwg_actions", "id", "title_ct"),
    CiphertextColumn("jwg_actions", "id", "note_ct"),
    CiphertextColumn("jwg_packs", "id", "text_ct"),
    CiphertextColumn("audit_log", "seq", "detail_ct"),
)

#: Binary columns that hold no ciphertext, and what they hold instead.
NOT_CIPHERTEXT: dict[tuple[str, str], str] = {
    ("contacts", "signing_public"): "a contact's public signing key",
    ("contacts", "exchange_public"): "a contact's public exchange key",
    ("audit_log", "body"): "an audit event's canonical JSON (tags and hashes, never content)",
    ("audit_log", "signer"): "an officer's public signing key",
    ("officers", "signing_public"): "an officer's public signing key (also in the log's officer events)",
    ("audit_log", "sig"): "an Ed25519 signature",
    ("audit_log", "chain"): "a SHA-256 chain hash",
    ("audit_checkpoints", "root"): "a Merkle tree root",
    ("witness_seen", "root"): "the Merkle root of a counterpart's log, as its bundle showed it",
}

#: Every purpose the store derives a key for from the master secret (`Keyring.derived`), and what replacing the
#: master secret must redo for it. A test fails when `store/` derives a key for a purpose not listed here.
DERIVED_PURPOSES: dict[str, str] = {
    "search-index": "the blind index, rebuilt",
    "officers": "every officers row's MAC, re-derived",
    "policy": "the policy document's MAC, re-derived",
    "contacts": "every contact's MAC, re-derived",
    "key-job": "the MAC of an interrupted rotation's state, re-derived",
    "audit-chain": "unused by stored data (the log is signed, not keyed)",
}

DEFAULT_KEY_MAX_AGE_DAYS = 365
MAX_KEY_MAX_AGE_DAYS = 3650
BATCH_ROWS = 1000
_JOB, _JOB_MAC = "key_job", "key_job_mac"


# ---- status and the age policy -------------------------------------------------------------------------


@dataclass(frozen=True)
class DataKeyInfo:
    """One data key: its version, when it was made (None when unknown), and whether new data is written under it."""

    version: int
    created: datetime | None
    current: bool


@dataclass(frozen=True)
class RotationJob:
    """An unfinished rotation: the column it reached, and its cursor there."""

    table: str
    column: str
    cursor: int
    started: datetime
    officer: str


@dataclass(frozen=True)
class KeyStatus:
    """The store's keys as an admin sees them (no key material)."""

    data_keys: tuple[DataKeyInfo, ...]
    master_version: int
    master_created: datetime | None
    key_max_age_days: int
    job: RotationJob | None
    now: datetime

    @property
    def current(self) -> DataKeyInfo:
        """The key new data is written under."""
        return next(k for k in self.data_keys if k.current)

    def age_days(self, created: datetime | None) -> int | None:
        """Whole days since `created`."""
        return None if created is None else max(0, (self.now - created).days)

    @property
    def overdue(self) -> bool:
        """True when the current data key is older than the policy allows."""
        age = self.age_days(self.current.created)
        return age is not None and age > self.key_max_age_days


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _verified_policy(s: OrmSession, keys: Keyring) -> dict[str, Any]:
    doc, mac = get_meta(s, "policy"), get_meta(s, "policy_mac")
    if doc is None or mac is None or not hmac.compare_digest(mac, store_mac(keys.derived("policy"), doc)):
        raise TamperError("store policy was altered outside Liaison")
    parsed = json.loads(doc)
    if not isinstance(parsed, dict):
        raise TamperError("store policy was altered outside Liaison")
    return parsed


def _write_policy(s: OrmSession, keys: Keyring, doc: dict[str, Any]) -> None:
    text = canonical_json(doc).decode()
    set_meta(s, "policy", text)
    set_meta(s, "policy_mac", store_mac(keys.derived("policy"), text))


def key_max_age(doc: dict[str, Any]) -> int:
    """The policy's maximum data-key age in days (the default when the policy predates the setting)."""
    value = doc.get("key_max_age_days", DEFAULT_KEY_MAX_AGE_DAYS)
    return value if isinstance(value, int) and not isinstance(value, bool) else DEFAULT_KEY_MAX_AGE_DAYS


def key_status(session: Session) -> KeyStatus:
    """Each data key's version and age, the master secret's, the age policy, and any unfinished rotation."""
    policy.require_role(session.actor, Role.ADMIN, "see key status")
    keys = session.keys()
    with session.db.read() as s:
        doc = _verified_policy(s, keys)
        store_created = _parse_time(get_meta(s, "created_at"))
        job = _read_job(s, keys)
    first = min(keys.data_keys)
    data = tuple(
        DataKeyInfo(
            version,
            _parse_time(keys.created.get(version)) or (store_created if version == 1 == first else None),
            version == keys.current_version,
        )
        for version in sorted(keys.data_keys)
    )
    master_created = _parse_time(keys.master_created) or (store_created if keys.master_version == 1 else None)
    return KeyStatus(data, keys.master_version, master_created, key_max_age(doc), job, session.clock())


def key_notice(session: Session) -> str | None:
    """The notice the app shows when the data key is older than the policy or a rotation was interrupted."""
    keys = session.keys()
    with session.db.read() as s:
        doc = _verified_policy(s, keys)
        store_created = _parse_time(get_meta(s, "created_at"))
        job = _read_job(s, keys)
    if job is not None:
        return "A key rotation was interrupted; an admin should run it again to finish re-encrypting the store."
    created = _parse_time(keys.created.get(keys.current_version)) or (
        store_created if keys.current_version == 1 else None
    )
    limit = key_max_age(doc)
    if created is None:
        return None
    age = (session.clock() - created).days
    if age <= limit:
        return None
    return f"The data key is {age} days old, older than this store's policy of {limit} days; an admin should rotate it."


def set_key_max_age(session: Session, days: int) -> None:
    """An admin sets how many days a data key may serve before the app asks for a rotation."""
    policy.require_role(session.actor, Role.ADMIN, "change the store's policy")
    if isinstance(days, bool) or not 1 <= days <= MAX_KEY_MAX_AGE_DAYS:
        raise ValidationError(
            f"key-max-age must be between 1 and {MAX_KEY_MAX_AGE_DAYS} days, not {days}",
            field="key_max_age",
            value=days,
        )
    with session.act("policy-set", "key-max-age") as s:
        keys = session.keys()
        doc = _verified_policy(s, keys)
        doc["key_max_age_days"] = days
        _write_policy(s, keys, doc)


# ---- the rotation job's state ------------------------------------------------------------------------------


def _job_mac(keys: Keyring, text: str) -> str:
    return store_mac(keys.derived("key-job"), text)


def _read_job(s: OrmSession, keys: Keyring) -> RotationJob | None:
    text, mac = get_meta(s, _JOB), get_meta(s, _JOB_MAC)
    if text is None and mac is None:
        return None
    if text is None or mac is None or not hmac.compare_digest(mac, _job_mac(keys, text)):
        raise TamperError("the state of an interrupted key rotation was altered outside Liaison")
    obj = json.loads(text)
    started = _parse_time(obj.get("started"))
    if started is None:
        raise TamperError("the state of an interrupted key rotation is damaged")
    return RotationJob(str(obj["table"]), str(obj["column"]), int(obj["cursor"]), started, str(obj["officer"]))


def _write_job(s: OrmSession, keys: Keyring, job: RotationJob | None) -> None:
    if job is None:
        for key in (_JOB, _JOB_MAC):
            s.execute(delete(Meta).where(Meta.key == key))
        return
    text = canonical_json(
        {
            "table": job.table,
            "column": job.column,
            "cursor": job.cursor,
            "started": job.started.isoformat(),
            "officer": job.officer,
        }
    ).decode()
    set_meta(s, _JOB, text)
    set_meta(s, _JOB_MAC, _job_mac(keys, text))


def present_columns(conn: Connection) -> list[CiphertextColumn]:
    """The listed ciphertext columns whose table exists in this store."""
    tables = set(inspect(conn).get_table_names())
    return [c for c in CIPHERTEXT_COLUMNS if c.table in tables]


#: The job's first step: every record with the rows tied to it; then each column's rows tied to no record.
RECORDS_STEP = ("records", "*")
DONE_STEP = ("", "")


def _steps(columns: list[CiphertextColumn]) -> list[tuple[str, str]]:
    return [RECORDS_STEP] + [(c.table, c.column) for c in columns if c.record != "id"]


@cache
def _t(c: CiphertextColumn) -> Any:
    names = dict.fromkeys([c.key, c.column, *([c.record] if c.record else [])])
    return table(c.table, *(column(name) for name in names))


def _unlinked(c: CiphertextColumn) -> Any:
    """The rows of a column a step walks by itself: all of them, or those tied to no record."""
    t = _t(c)
    cond = t.c[c.column].is_not(None)
    return cond if c.record is None else cond & t.c[c.record].is_(None)


def _count_tokens(conn: Connection, columns: list[CiphertextColumn], step: tuple[str, str], cursor: int) -> int:
    """Tokens a job at (`step`, `cursor`) has already been through."""
    steps = _steps(columns)
    index = steps.index(step) if step in steps else len(steps)
    done = 0
    for c in columns:
        t = _t(c)
        if c.record is not None:  # the records step
            query = select(func.count()).select_from(t).where(t.c[c.column].is_not(None), t.c[c.record].is_not(None))
            if index == 0:
                query = query.where(t.c[c.record] <= cursor)
            done += int(conn.execute(query).scalar_one())
        own = (c.table, c.column)
        if c.record == "id" or own not in steps:
            continue
        if steps.index(own) < index:
            done += int(conn.execute(select(func.count()).select_from(t).where(_unlinked(c))).scalar_one())
        elif own == step:
            query = select(func.count()).select_from(t).where(_unlinked(c), t.c[c.key] <= cursor)
            done += int(conn.execute(query).scalar_one())
    return done


def _reencrypt_rows(
    conn: Connection, keys: Keyring, c: CiphertextColumn, rows: Sequence[Any], damaged: list[tuple[str, int]]
) -> list[tuple[int, bytes, int | None]]:
    """Re-encrypt `rows` (key, token[, record id]) of one column in place; returns (key, new token, record id) of
    each token rewritten (a token already under the current key is left alone)."""
    t = _t(c)
    written: list[tuple[int, bytes, int | None]] = []
    for row in rows:
        try:
            new = keys.reencrypt(bytes(row[1]))
        except DecryptionFailed:
            damaged.append((c.table, int(row[0])))  # unreadable under every key already; left as it is
            continue
        if new is not None:
            written.append((int(row[0]), new, int(row[2]) if len(row) > 2 and row[2] is not None else None))
    if written:
        conn.execute(
            update(t).where(t.c[c.key] == bindparam("k")).values({c.column: bindparam("v")}),
            [{"k": key, "v": new} for key, new, _ in written],
        )
    return written


@dataclass
class _Batch:
    """What one batch did: tokens read and rewritten, tokens no key opens, and what it could not re-sign."""

    read: int = 0
    rewritten: int = 0
    damaged: list[tuple[str, int]] = field(default_factory=list)
    unsigned: list[tuple[str, str]] = field(default_factory=list)


def _revision_digests(conn: Connection, ids: Sequence[int]) -> dict[tuple[int, int], str]:
    """(record id, revision number) → the revision row's digest as the log signs it (`audit.revision_digest`)."""
    out: dict[tuple[int, int], str] = {}
    for start in range(0, len(ids), 900):
        for row in conn.execute(
            select(Revision.record_id, *audit.REVISION_DIGEST_COLUMNS).where(
                Revision.record_id.in_(ids[start : start + 900])
            )
        ):
            out[(int(row[0]), int(row[1]))] = audit.revision_digest(*row[1:])
    return out


def _rekeyed_details(s: OrmSession) -> dict[str, str]:
    """seq → the detail hash the latest `rekey-details` event signed for it (details re-encrypted before)."""
    out: dict[str, str] = {}
    for body in s.scalars(select(AuditRow.body).where(AuditRow.action == "rekey-details").order_by(AuditRow.seq)):
        data = (audit_state.parse_body(bytes(body)) or {}).get("data")
        details = data.get("details") if isinstance(data, dict) else None
        if isinstance(details, dict):
            out.update({str(k): str(v) for k, v in details.items()})
    return out


def _sign_records(session: Session, s: OrmSession, changed: set[int], before: dict[tuple[int, int], str]) -> None:
    """One `rekey` event per record in `changed` (ciphertexts rewritten by this batch, intact before it): its new
    state, and each rewritten revision row's digest before and after."""
    conn = s.connection()
    version = session.keys().current_version
    after = _revision_digests(conn, sorted(changed))
    revised: dict[int, dict[str, dict[str, str]]] = {}
    for (rid, number), digest in after.items():
        was = before.get((rid, number))
        if was is not None and was != digest:
            revised.setdefault(rid, {})[str(number)] = {"was": was, "now": digest}
    plain = [rid for rid in sorted(changed) if rid not in revised]
    audit.note_records(s, plain, action="rekey", data={"key_version": version})
    for rid, revisions in sorted(revised.items()):
        audit.note(s, record_id=rid, action="rekey", data={"key_version": version, "revisions": revisions})


def _run_step(
    session: Session, s: OrmSession, columns: list[CiphertextColumn], job: RotationJob, batch_rows: int
) -> tuple[RotationJob, _Batch]:
    """One batch of the job's current step, inside the batch's action; returns the job's next state and what it did."""
    keys = session.keys()
    conn = s.connection()
    steps = _steps(columns)
    step = (job.table, job.column)
    index = steps.index(step) if step in steps else 0
    batch = _Batch()
    if steps[index] == RECORDS_STEP:
        rec = next(c for c in columns if c.record == "id")
        ids = list(
            conn.execute(
                select(_t(rec).c[rec.key]).where(_t(rec).c[rec.key] > job.cursor).order_by(rec.key).limit(batch_rows)
            ).scalars()
        )
        full = len(ids) == batch_rows
        last = ids[-1] if ids else job.cursor
        # checked before anything changes: a damaged record is re-encrypted but never signed as it now stands
        damaged = audit_state.damaged_among(
            s, keys, ids, own_ministry=session.ministry, four_eyes=session.four_eyes, full=False
        )
        before = _revision_digests(conn, ids)
        changed: set[int] = set()
        for c in columns:
            if c.record is None or not ids:
                continue
            t = _t(c)
            rows = conn.execute(
                select(t.c[c.key], t.c[c.column], t.c[c.record]).where(
                    t.c[c.record].in_(ids) if c.record != "id" else t.c[c.key].in_(ids), t.c[c.column].is_not(None)
                )
            ).all()
            batch.read += len(rows)
            written = _reencrypt_rows(conn, keys, c, rows, batch.damaged)
            batch.rewritten += len(written)
            changed.update(rid for _, _, rid in written if rid is not None)
        if damaged:
            refs = dict(conn.execute(select(Record.id, Record.reference).where(Record.id.in_(sorted(damaged)))).all())
            batch.unsigned += [(f"record {refs.get(rid, rid)}", why) for rid, why in sorted(damaged.items())]
        _sign_records(session, s, changed - set(damaged), before)
    else:
        c = next(c for c in columns if (c.table, c.column) == steps[index])
        t = _t(c)
        rows = conn.execute(
            select(t.c[c.key], t.c[c.column])
            .where(_unlinked(c), t.c[c.key] > job.cursor)
            .order_by(t.c[c.key])
            .limit(batch_rows)
        ).all()
        batch.read = len(rows)
        old = {int(key): bytes(token) for key, token in rows}
        desk = _desk_rows(session, s, c, list(old))
        written = _reencrypt_rows(conn, keys, c, rows, batch.damaged)
        batch.rewritten = len(written)
        if c.table == "audit_log" and written:
            _sign_details(s, old, written, batch)
        if desk is not None and written:
            _sign_desk(s, c, desk, {key for key, _, _ in written}, batch)
        full = len(rows) == batch_rows
        last = int(rows[-1][0]) if rows else job.cursor
    audit.note(
        s, data={"key_version": keys.current_version, "step": f"{job.table}.{job.column}", "tokens": batch.rewritten}
    )
    if full:
        nxt = RotationJob(steps[index][0], steps[index][1], int(last), job.started, job.officer)
    elif index + 1 < len(steps):
        nxt = RotationJob(steps[index + 1][0], steps[index + 1][1], 0, job.started, job.officer)
    else:
        nxt = RotationJob(*DONE_STEP, -1, job.started, job.officer)  # every step done: only retiring is left
    return nxt, batch


def _desk_rows(
    session: Session, s: OrmSession, c: CiphertextColumn, keys: list[int]
) -> tuple[list[Any], dict[str, str]] | None:
    """For a working-group column: its rows in this batch and, checked before anything changes, the damaged ones
    among them (uuid → why; `store.jwg.signed.desk_damage`). None for a column of no desk table."""
    from store.jwg import signed as desk_log

    model: Any = next((m for m in desk_log.KINDS if getattr(m, "__tablename__", None) == c.table), None)
    if model is None or not keys:
        return None
    rows: list[Any] = list(s.scalars(select(model).where(model.id.in_(keys))))
    return rows, desk_log.desk_damage(session, s, rows)


def _sign_desk(
    s: OrmSession, c: CiphertextColumn, desk: tuple[list[Any], dict[str, str]], keys: set[int], batch: _Batch
) -> None:
    """The desk rows this batch re-encrypted, each signed with its new state (`store.jwg.signed.sign_rows`) unless
    it was damaged before: that one is re-encrypted but not re-signed, and named."""
    from store.jwg import signed as desk_log

    rows, damaged = desk
    model = type(rows[0])
    fresh = list(  # the rows as the Core update left them
        s.scalars(select(model).where(model.id.in_(sorted(keys))).execution_options(populate_existing=True))
    )
    for row in fresh:
        if row.uuid in damaged:
            batch.unsigned.append((f"{desk_log.KINDS[model]} {desk_log.desk_key(row)}", damaged[row.uuid]))
    desk_log.sign_rows(s, [row for row in fresh if row.uuid not in damaged])


def _sign_details(
    s: OrmSession, old: dict[int, bytes], written: list[tuple[int, bytes, int | None]], batch: _Batch
) -> None:
    """The events' details this batch re-encrypted, signed in one `rekey-details` event — each only if the old
    ciphertext was the one its event (or an earlier rotation) signed; a replaced one stays unsigned."""
    seqs = [seq for seq, _, _ in written]
    signed: dict[int, str | None] = {}
    for start in range(0, len(seqs), 900):
        for seq, body in s.execute(
            select(AuditRow.seq, AuditRow.body).where(AuditRow.seq.in_(seqs[start : start + 900]))
        ):
            signed[int(seq)] = (audit_state.parse_body(bytes(body)) or {}).get("detail_sha256")
    rekeyed = _rekeyed_details(s)
    good: dict[int, bytes] = {}
    for seq, new, _ in written:
        have = audit.sha256_hex(old[seq])
        if have is not None and have in (signed.get(seq), rekeyed.get(str(seq))):
            good[seq] = new
        else:
            batch.unsigned.append((f"audit event #{seq}", "its encrypted detail is not the one it signed"))
    audit.note_rekeyed_details(s, good)


# ---- re-granting ------------------------------------------------------------------------------------------


def regrant(s: OrmSession, old: Keyring, new: Keyring, actor: str, *, revoke: str | None = None, now: datetime) -> str:
    """Grant `new` to every active officer (and re-MAC every row under `new`), each row checked under `old` and
    against the audit log first, so a row planted or replayed in the file gets nothing; `revoke` is marked
    removed. Returns the actor's new grant. Run inside an action: each row written gets its signed officer event
    (`officer-regrant`, or the action's own `officer-remove`)."""
    own = ""
    for row in s.scalars(select(Officer).order_by(Officer.name)):
        why = audit_state.officer_backing_problem(s, row)
        if why is not None:
            raise TamperError(
                f"officer record of {row.name} is not backed by the audit log (replayed or edited): {why}"
            )
        if not hmac.compare_digest(
            row.mac, officer_mac(old.officers_key, row.name, row.role, row.slot, row.grant, row.revoked_at)
        ):
            raise TamperError(f"officer record of {row.name} was altered outside Liaison")
        if row.name == revoke:
            row.revoked_at, row.grant = now, "{}"
        elif row.revoked_at is None:
            row.grant = grant_keyring(new, row.name, OfficerSlot.from_json(row.slot).public_key)
        row.mac = officer_mac(new.officers_key, row.name, row.role, row.slot, row.grant, row.revoked_at)
        if row.name == actor:
            own = row.grant
    return own


# ---- rotation -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RotationReport:
    """What a rotation did: the new current version, the versions retired, the tokens re-encrypted; `damaged`:
    tokens no key opens (left as they were); `unsigned`: what was re-encrypted but not re-signed because it
    already differed from the log (what, why) — it stays damaged."""

    version: int
    retired: tuple[int, ...]
    reencrypted: int
    resumed: bool
    damaged: tuple[tuple[str, int], ...]
    vacuumed: bool
    unsigned: tuple[tuple[str, str], ...] = ()


def _start(session: Session) -> int:
    """The first transaction (the job's signed `keys-rotate` event): a new current data key, granted to every
    active officer, and the job recorded."""
    now = session.clock()
    with session.act("keys-rotate", "data-key") as s:
        old = session.keys()
        keys = old.copy()
        version = keys.rotate(now.isoformat())
        own = regrant(s, old, keys, session.actor.name, now=now)
        _write_job(s, keys, RotationJob(*RECORDS_STEP, 0, now, session.actor.name))
        audit.note(s, data={"key_version": version, "retiring": sorted(v for v in old.data_keys)})
    session.adopt_keys(keys, own)
    return version


class _NothingLeft(Exception):
    """The job was finished by another process between a batch's check and its action: roll the action back."""


def _pending_job(session: Session) -> RotationJob | None:
    with session.db.read() as s:
        session._follow_key_changes(s)  # another process may have rotated again since
        return _read_job(s, session.keys())


def _batches(session: Session, batch_rows: int) -> Iterator[_Batch]:
    """Re-encrypt one batch per action (`rekey`, signed) until every step is done; yields what each did."""
    while True:
        job = _pending_job(session)
        if job is None or job.cursor == -1:
            return
        try:
            with session.act("rekey", "data-key") as s:
                job = _read_job(s, session.keys())
                if job is None or job.cursor == -1:
                    raise _NothingLeft
                nxt, batch = _run_step(session, s, present_columns(s.connection()), job, batch_rows)
                _write_job(s, session.keys(), nxt)
        except _NothingLeft:
            return
        yield batch


def _finish(session: Session) -> tuple[int, ...]:
    """The last transaction (`keys-retire`): the old data keys dropped from every officer's grant, the job cleared."""
    now = session.clock()
    with session.act("keys-retire", "data-key") as s:
        old = session.keys()
        job = _read_job(s, old)
        if job is None or job.cursor != -1:
            raise PolicyError("the key rotation is not finished; run it again")
        keys = old.copy()
        retired = tuple(keys.retire_old_keys())
        own = regrant(s, old, keys, session.actor.name, now=now)
        _write_job(s, keys, None)
        audit.note(s, data={"key_version": keys.current_version, "retired": list(retired)})
    session.adopt_keys(keys, own)
    return retired


def _progress_base(session: Session) -> tuple[int, int]:
    """(tokens the job has been through, tokens in all) for the progress of a started or resumed job."""
    with session.db.read() as s:
        job = _read_job(s, session.keys())
        conn = s.connection()
        columns = present_columns(conn)
        total = sum(
            int(
                conn.execute(select(func.count()).select_from(_t(c)).where(_t(c).c[c.column].is_not(None))).scalar_one()
            )
            for c in columns
        )
        if job is None:
            return 0, total
        if job.cursor == -1:
            return total, total
        return min(_count_tokens(conn, columns, (job.table, job.column), job.cursor), total), total


def rotate_data_key(
    session: Session, *, progress: Progress | None = None, batch_rows: int = BATCH_ROWS
) -> RotationReport:
    """Rotate the data key and re-encrypt every ciphertext under it (admin); resumes an interrupted rotation.

    `progress(done, total)` is called once at the start and after each committed batch (tokens)."""
    policy.require_role(session.actor, Role.ADMIN, "rotate keys")
    if batch_rows < 1:
        raise ValidationError("batch size must be positive")
    resumed = _pending_job(session) is not None
    if not resumed:
        _start(session)
    done, total = _progress_base(session)
    if progress is not None:
        progress(done, total)
    rewritten = 0
    damaged: list[tuple[str, int]] = []
    unsigned: list[tuple[str, str]] = []
    for batch in _batches(session, batch_rows):
        rewritten += batch.rewritten
        damaged += batch.damaged
        unsigned += batch.unsigned
        if batch.read and progress is not None:
            done = min(done + batch.read, total)
            progress(done, total)
    retired = _finish(session)
    vacuumed = dialect.compact(session.db.engine)
    return RotationReport(
        session.keys().current_version, retired, rewritten, resumed, tuple(damaged), vacuumed, tuple(unsigned)
    )


# ---- full revocation ------------------------------------------------------------------------------------------


def _remac_contacts(s: OrmSession, old: Keyring, new: Keyring) -> None:
    """Every contact checked under the old contacts key, then its MAC re-derived under the new one."""
    from store.contacts import _contact_mac, _info

    for row in s.scalars(select(Contact).order_by(Contact.code)):
        info = _info(old, row)  # TamperError for a row planted or edited in the file
        row.mac = _contact_mac(new, row.code, row.name, info.identity)


def rebuild_index(
    conn: Connection, old: Keyring, new: Keyring, progress: Progress | None = None, *, batch_rows: int = BATCH_ROWS
) -> list[str]:
    """The blind index emptied and rebuilt under `new`'s index key: each record's current title and summary
    decrypted once (with `old`), in batches. Returns the references of records whose text does not decrypt
    (left out of the index, as they cannot be shown either)."""
    indexer = BlindIndexer(new.index_key)
    total = int(conn.execute(select(func.count()).select_from(Record)).scalar_one())
    dialect.index_clear(conn)
    done, last = 0, 0
    damaged: list[str] = []
    if progress is not None:
        progress(0, total)
    while True:
        rows = conn.execute(
            select(Record.id, Record.reference, Record.title_ct, Revision.body_ct)
            .outerjoin(Revision, and_(Revision.record_id == Record.id, Revision.number == Record.revision))
            .where(Record.id > last)
            .order_by(Record.id)
            .limit(batch_rows)
        ).all()
        if not rows:
            break
        entries: list[tuple[int, str]] = []
        for rid, reference, title_ct, body_ct in rows:
            try:
                title = old.decrypt(title_ct).decode("utf-8")
                body = json.loads(old.decrypt(body_ct)) if body_ct is not None else {}
            except (DecryptionFailed, ValueError):
                damaged.append(reference)
                continue
            summary = str(body.get("summary", "")) if isinstance(body, dict) else ""
            entries.append((rid, indexer.tokens_text([title, summary])))
        dialect.index_insert(conn, entries)
        done, last = done + len(rows), rows[-1][0]
        if progress is not None:
            progress(done, total)
    return damaged


def revoke_officer(session: Session, name: str, *, progress: Progress | None = None) -> int:
    """Remove an officer for good (admin), in one transaction: a new data key and a new master secret, so every
    derived key changes — the blind index rebuilt under the new index key, the officer, policy and contact MACs
    re-derived (each checked under the old key first), the keyring granted to the remaining officers only. The
    signed `officer-remove` event carries the officer's state as revoked: from that point of the log their signing
    key is refused (`audit verify`). Returns the new data key version."""
    policy.require_role(session.actor, Role.ADMIN, "manage officers")
    if name == session.actor.name:
        raise PolicyError("an admin cannot remove themselves")
    now = session.clock()
    with session.act("officer-remove", name) as s:
        row = s.get(Officer, name)
        if row is None or row.revoked_at is not None:
            raise NotFound(f"no active officer {name}")
        old = session.keys()
        keys = old.copy()
        version = keys.rotate(now.isoformat())
        keys.rotate_master(now.isoformat())
        _write_policy(s, keys, _verified_policy(s, old))
        _remac_contacts(s, old, keys)
        job = _read_job(s, old)
        if job is not None:  # a rotation under way walks again: what it re-encrypted is no longer under the current key
            _write_job(s, keys, RotationJob(*RECORDS_STEP, 0, job.started, job.officer))
        own = regrant(s, old, keys, session.actor.name, revoke=name, now=now)
        rebuild_index(s.connection(), old, keys, progress)
        audit.note(s, data={"key_version": version, "master_version": keys.master_version})
    session.adopt_keys(keys, own)
    return version


__all__ = [
    "CIPHERTEXT_COLUMNS",
    "DEFAULT_KEY_MAX_AGE_DAYS",
    "DERIVED_PURPOSES",
    "NOT_CIPHERTEXT",
    "CiphertextColumn",
    "DataKeyInfo",
    "KeyStatus",
    "RotationJob",
    "RotationReport",
    "key_max_age",
    "key_notice",
    "key_status",
    "present_columns",
    "rebuild_index",
    "regrant",
    "revoke_officer",
    "rotate_data_key",
    "set_key_max_age",
]
