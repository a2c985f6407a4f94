"""One batch of a rotation: re-encrypting a step's rows under the current data key, and re-signing what it rewrote
in the same transaction — for records, the batch's own `rekey` event naming each record's ciphertext hashes before
and after (`store.audit.rekeys`: a move applies only to the hash the record's last event signed, so what already
differed from the log stays damaged); the working-group rows with their new state; one `rekey-details` event for
the events' encrypted details (only those that were the ones their events signed). What already differed from the
log is re-encrypted (it stays readable) but never re-signed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session as OrmSession

from crypto.errors import DecryptionFailed
from crypto.keyring import Keyring
from store.audit import log as audit
from store.audit import rekeys
from store.audit import state as audit_state
from store.keys.ahead import Done, Helpers, batch_range, in_range, read_batch
from store.keys.columns import CiphertextColumn
from store.keys.job import DONE_STEP, RECORDS_STEP, RotationJob, column_table, job_steps, unlinked
from store.models import AuditRow, Record, ReviewEvent, Revision

if TYPE_CHECKING:
    from store.service import Session


def _reencrypt_rows(
    conn: Connection,
    keys: Keyring,
    c: CiphertextColumn,
    rows: Sequence[Any],
    damaged: list[tuple[str, int]],
    done: Done | None = None,
) -> list[tuple[int, bytes, int | None]]:
    """Re-encrypt `rows` (key, token[, record id]) of one column in place; returns (key, new token, record id) of
    each token rewritten (a token already under the current key is left alone). `done`: tokens the helper
    processes re-encrypted, used for a row only when its token is still the one they were handed."""
    written: list[tuple[int, bytes, int | None]] = []
    for row in rows:
        token = bytes(row[1])
        hit = done.get(int(row[0])) if done is not None else None
        try:
            new = hit[1] if hit is not None and hit[0] == token else keys.reencrypt(token)
            if isinstance(new, DecryptionFailed):
                raise new
        except DecryptionFailed:
            damaged.append((c.table, int(row[0])))  # unreadable under every key already; left as it is
            continue
        if new is not None:
            written.append((int(row[0]), new, int(row[2]) if len(row) > 2 and row[2] is not None else None))
    if written:  # names from CIPHERTEXT_COLUMNS only; the driver's executemany, without the ORM's parameter work
        conn.exec_driver_sql(
            f'UPDATE "{c.table}" SET "{c.column}" = ? WHERE "{c.key}" = ?', [(new, key) for key, new, _ in written]
        )
    return written


@dataclass
class Batch:
    """What one batch did: tokens read and rewritten, tokens no key opens, and what it could not re-sign."""

    read: int = 0
    rewritten: int = 0
    damaged: list[tuple[str, int]] = field(default_factory=list)
    unsigned: list[tuple[str, str]] = field(default_factory=list)


#: What `_revision_digests` reads of a revision row: its id and record, then `audit.revision_digest`'s columns.
_REVISION_ROW = (Revision.id, Revision.record_id, *audit.REVISION_DIGEST_COLUMNS)


def _revision_rows(conn: Connection, after: int, last: int | None) -> list[Any]:
    """The revision rows of the records with ids in (`after`, `last`] (a batch's range), as `_REVISION_ROW`."""
    return list(conn.execute(select(*_REVISION_ROW).where(in_range(Revision.record_id, after, last))))


def _revision_digests(
    rows: Sequence[Any], titles: dict[int, bytes] | None = None, bodies: dict[int, bytes] | None = None
) -> dict[int, tuple[int, int, str, str | None]]:
    """Revision row id → (its record id, its number, its digest as the log signs it (`audit.revision_digest`), the
    SHA-256 of its body ciphertext), for `rows` (`_revision_rows`) as read, or — given the title and body
    ciphertexts this batch wrote (revision id → token) — as they are after the writes: only the rows that
    changed then. By row, so a move's old and new hashes are always one row's."""
    out: dict[int, tuple[int, int, str, str | None]] = {}
    rewrite = titles is not None or bodies is not None
    titles, bodies = titles or {}, bodies or {}
    for rev, rid, number, officer, tlp, releasable_to, created_at, title_ct, body_ct in rows:
        if rewrite:
            if rev not in titles and rev not in bodies:
                continue
            title_ct, body_ct = titles.get(rev, title_ct), bodies.get(rev, body_ct)
        digest, body = audit.revision_hashes(number, officer, tlp, releasable_to, created_at, title_ct, body_ct)
        out[int(rev)] = (int(rid), int(number), digest, body)
    return out


def _reviews_digests(conn: Connection, ids: Sequence[int]) -> dict[int, tuple[int, str]]:
    """Record id → (count, digest) of its review rows as they are now (`audit.reviews_digest`)."""
    rows: dict[int, list[tuple[str, str, datetime, bytes | None]]] = {rid: [] for rid in ids}
    for start in range(0, len(ids), 900):
        for rid, who, what, at, ct in conn.execute(
            select(
                ReviewEvent.record_id, ReviewEvent.officer, ReviewEvent.action, ReviewEvent.at, ReviewEvent.comment_ct
            )
            .where(ReviewEvent.record_id.in_(ids[start : start + 900]))
            .order_by(ReviewEvent.id)
        ):
            rows[int(rid)].append((who, what, at, ct))
    return {rid: audit.reviews_digest(items) for rid, items in rows.items()}


def _rekeyed_details(s: OrmSession) -> dict[str, str]:
    """seq → the detail hash the latest `rekey-details` event signed for it (details re-encrypted before)."""
    out: dict[str, str] = {}
    for body in s.scalars(select(AuditRow.body).where(AuditRow.action == "rekey-details").order_by(AuditRow.seq)):
        data = (audit_state.parse_body(bytes(body)) or {}).get("data")
        details = data.get("details") if isinstance(data, dict) else None
        if isinstance(details, dict):
            out.update({str(k): str(v) for k, v in details.items()})
    return out


def _moves(
    conn: Connection,
    read: Sequence[tuple[CiphertextColumn, Sequence[Any]]],
    rewritten: dict[tuple[str, str], list[tuple[int, bytes, int | None]]],
    revision_rows: Sequence[Any],
    uuids: Mapping[int, str],
    reviews_before: Mapping[int, tuple[int, str]],
) -> tuple[dict[str, dict[str, Any]], dict[int, str]]:
    """Record uuid → the hashes this batch moved for it (`store.audit.rekeys.entry`): its title ciphertext, the
    digest of its review rows, and each rewritten revision row's digest and body hash, before and after; and the
    records it moves nothing for, with why (two rows with one revision number, written into the file: which of
    them the record's events signed cannot be told, so no move may start from either)."""
    fresh = {column: {key: new for key, new, _rid in rewritten.get(("revisions", column), [])} for column in _REV}
    after = _revision_digests(revision_rows, *fresh.values())
    before = _revision_digests([row for row in revision_rows if int(row[0]) in after])
    numbers = Counter((int(row[1]), int(row[2])) for row in revision_rows)
    refused = {rid: f"it has {k} rows for revision {n}" for (rid, n), k in sorted(numbers.items()) if k > 1}
    old_titles = {
        int(row[0]): bytes(row[1]) for c, rows in read if (c.table, c.column) == ("records", "title_ct") for row in rows
    }
    titles = {
        rid: (old_titles[key], new) for key, new, rid in rewritten.get(("records", "title_ct"), []) if rid is not None
    }
    reviews_after = _reviews_digests(conn, sorted(reviews_before))
    revisions: dict[int, dict[int, tuple[str, str, str | None, str | None]]] = {}
    for rev, (rid, number, digest, body) in after.items():
        was = before[rev]
        revisions.setdefault(rid, {})[number] = (was[2], digest, was[3], body)
    out: dict[str, dict[str, Any]] = {}
    for rid in sorted({*titles, *reviews_before, *revisions} - set(refused)):
        uuid = uuids.get(rid)
        if uuid is None:
            continue  # rows tied to a record id no record has: re-encrypted, named, moved for no one
        title = titles.get(rid)
        reviewed, now = reviews_before.get(rid), reviews_after.get(rid)
        moved = rekeys.entry(
            (audit.sha256_hex(title[0]), audit.sha256_hex(title[1])) if title is not None else None,
            (reviewed[1], now[1]) if reviewed is not None and now is not None and reviewed[0] == now[0] else None,
            revisions.get(rid, {}),
        )
        if moved:
            out[uuid] = moved
    return out, {rid: why for rid, why in refused.items() if rid in uuids}


_REV = ("title_ct", "body_ct")


def run_step(
    session: Session,
    s: OrmSession,
    columns: list[CiphertextColumn],
    job: RotationJob,
    batch_rows: int,
    helpers: Helpers | None = None,
) -> tuple[RotationJob, Batch]:
    """One batch of the job's current step, inside the batch's action; returns the job's next state and what it did.

    `helpers`: processes to hand the records step's Fernet work to (none: this process does it)."""
    helpers = helpers or Helpers(None)
    keys = session.keys()
    conn = s.connection()
    steps = job_steps(columns)
    step = (job.table, job.column)
    index = steps.index(step) if step in steps else 0
    batch = Batch()
    if steps[index] == RECORDS_STEP:
        rec = next(c for c in columns if c.record == "id")
        # the batch's records as a range of ids (bound parameters, no IN list to expand); the last batch's has no
        # end, so a row tied to a record id no record has (edited in the file) is re-encrypted too, and named
        ids, upper = batch_range(conn, rec, job.cursor, batch_rows)
        full = upper is not None
        last = ids[-1] if ids else job.cursor
        read = read_batch(conn, columns, job.cursor, upper)
        batch.read = sum(len(rows) for _, rows in read)
        helpers.start(keys, read)  # the Fernet work on the helpers' cores (handed ahead by the previous batch, or now)
        try:
            revisions = _revision_rows(conn, job.cursor, upper)
            reviewed = sorted(
                {
                    int(row[2])
                    for c, rows in read
                    if (c.table, c.column) == ("review_events", "comment_ct")
                    for row in rows
                }
            )
            reviews_before = _reviews_digests(conn, reviewed)
            uuids = {
                int(rid): str(uuid)
                for rid, uuid in conn.execute(
                    select(Record.id, Record.uuid).where(in_range(Record.id, job.cursor, upper))
                )
            }
        finally:
            helpers.settle()  # read back even on an error: the helpers' pipes left empty
        if full:  # the next batch to the helpers, to work on while this one is written
            helpers.ahead(conn, keys, columns, last, batch_rows)
        rewritten: dict[tuple[str, str], list[tuple[int, bytes, int | None]]] = {}
        for c, rows in read:
            done = helpers.done(keys, c.table, c.column)
            written = _reencrypt_rows(conn, keys, c, rows, batch.damaged, done)
            batch.rewritten += len(written)
            rewritten[(c.table, c.column)] = written
        moves, refused = _moves(conn, read, rewritten, revisions, uuids, reviews_before)
        if moves:  # one signed event for the batch: each record's hashes, old and new
            audit.note(s, data={"records": moves})
            audit.current(s).moved.extend(sorted(moves))
        if refused:
            refs = dict(conn.execute(select(Record.id, Record.reference).where(Record.id.in_(sorted(refused)))).all())
            batch.unsigned += [(f"record {refs.get(rid, rid)}", why) for rid, why in sorted(refused.items())]
        orphans = {rid for written in rewritten.values() for _, _, rid in written if rid is not None} - set(uuids)
        batch.unsigned += [(f"rows tied to record id {rid}", "no record has that id") for rid in sorted(orphans)]
    else:
        c = next(c for c in columns if (c.table, c.column) == steps[index])
        t = column_table(c)
        rows = conn.execute(
            select(t.c[c.key], t.c[c.column])
            .where(unlinked(c), t.c[c.key] > job.cursor)
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
    s: OrmSession, c: CiphertextColumn, desk: tuple[list[Any], dict[str, str]], keys: set[int], batch: Batch
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
    s: OrmSession, old: dict[int, bytes], written: list[tuple[int, bytes, int | None]], batch: Batch
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


__all__ = ["Batch", "run_step"]
