"""`keys rotate`: a job that survives a crash. Its first transaction (the signed `keys-rotate` event) makes a new
data key current and grants it to every active officer; then batches (`store.keys.rekey`), each one signed `rekey`
action that also moves the job's cursor; the last transaction (`keys-retire`) drops the old keys from the keyring,
and the file is compacted. Running it again resumes an interrupted job.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from crypto.rekey_pool import RekeyPool
from store import policy
from store import sqlite as dialect
from store.audit import log as audit
from store.errors import PolicyError, ValidationError
from store.keys.ahead import Helpers
from store.keys.columns import BATCH_ROWS, Progress, present_columns
from store.keys.job import RECORDS_STEP, RotationJob, column_table, count_tokens, read_job, write_job
from store.keys.rekey import Batch, run_step
from store.keys.revocation import regrant

if TYPE_CHECKING:
    from store.service import Session


@dataclass(frozen=True)
class RotationReport:
    """What a rotation did: the new current version, the versions retired, the tokens re-encrypted; `damaged`:
    tokens no key opens (left as they were); `unsigned`: what was re-encrypted but not re-signed because it
    already differed from the log, or belongs to nothing the log signs (what, why) — it stays damaged. A record's
    ciphertexts are re-signed as moves (`store.audit.rekeys`), which leave a record damaged before still damaged."""

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
        write_job(s, keys, RotationJob(*RECORDS_STEP, 0, now, session.actor.name))
        audit.note(s, data={"key_version": version, "retiring": sorted(v for v in old.data_keys)})
    session.adopt_keys(keys, own)
    return version


class _NothingLeft(Exception):
    """The job was finished by another process between a batch's check and its action: roll the action back."""


def _pending_job(session: Session) -> RotationJob | None:
    with session.db.read() as s:
        session._follow_key_changes(s)  # another process may have rotated again since
        return read_job(s, session.keys())


def _batches(session: Session, batch_rows: int, helpers: Helpers) -> Iterator[Batch]:
    """Re-encrypt one batch per action (`rekey`, signed) until every step is done; yields what each did."""
    while True:
        job = _pending_job(session)
        if job is None or job.cursor == -1:
            return
        try:
            with session.act("rekey", "data-key") as s:
                job = read_job(s, session.keys())
                if job is None or job.cursor == -1:
                    raise _NothingLeft
                nxt, batch = run_step(session, s, present_columns(s.connection()), job, batch_rows, helpers)
                write_job(s, session.keys(), nxt)
        except _NothingLeft:
            return
        yield batch


def _finish(session: Session) -> tuple[int, ...]:
    """The last transaction (`keys-retire`): the old data keys dropped from every officer's grant, the job cleared."""
    now = session.clock()
    with session.act("keys-retire", "data-key") as s:
        old = session.keys()
        job = read_job(s, old)
        if job is None or job.cursor != -1:
            raise PolicyError("the key rotation is not finished; run it again")
        keys = old.copy()
        retired = tuple(keys.retire_old_keys())
        own = regrant(s, old, keys, session.actor.name, now=now)
        write_job(s, keys, None)
        audit.note(s, data={"key_version": keys.current_version, "retired": list(retired)})
    session.adopt_keys(keys, own)
    return retired


def _progress_base(session: Session) -> tuple[int, int]:
    """(tokens the job has been through, tokens in all) for the progress of a started or resumed job."""
    with session.db.read() as s:
        job = read_job(s, session.keys())
        conn = s.connection()
        columns = present_columns(conn)
        total = sum(
            int(
                conn.execute(
                    select(func.count()).select_from(column_table(c)).where(column_table(c).c[c.column].is_not(None))
                ).scalar_one()
            )
            for c in columns
        )
        if job is None:
            return 0, total
        if job.cursor == -1:
            return total, total
        return min(count_tokens(conn, columns, (job.table, job.column), job.cursor), total), total


#: Set to a number, how many helper processes a rotation uses (0: none); unset, one fewer than the cores this
#: process may run on (at most 3), and none for a job of fewer than `HELPERS_FROM` batches' worth of tokens.
HELPERS_ENV = "LIAISON_REKEY_HELPERS"
HELPERS_FROM = 4


def helper_count(tokens_left: int, batch_rows: int) -> int:
    """How many helper processes (`crypto.rekey_pool`) a rotation with `tokens_left` to go starts."""
    given = os.environ.get(HELPERS_ENV, "").strip()
    if given.isascii() and given.isdigit():
        return min(int(given), 8)
    if tokens_left < HELPERS_FROM * batch_rows:
        return 0  # starting a process costs more than it saves
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(0, min(cores - 1, 3))


def rotate_data_key(
    session: Session, *, progress: Progress | None = None, batch_rows: int = BATCH_ROWS
) -> RotationReport:
    """Rotate the data key and re-encrypt every ciphertext under it (admin); resumes an interrupted rotation.

    `progress(done, total)` is called once at the start and after each committed batch (tokens)."""
    policy.check_rotate_keys(session.actor)
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
    count = helper_count(total - done, batch_rows)
    helpers = Helpers(RekeyPool.start(count))
    try:
        for batch in _batches(session, batch_rows, helpers):
            rewritten += batch.rewritten
            damaged += batch.damaged
            unsigned += batch.unsigned
            if batch.read and progress is not None:
                done = min(done + batch.read, total)
                progress(done, total)
    finally:
        helpers.close()
    retired = _finish(session)
    vacuumed = dialect.compact(session.db.engine)
    return RotationReport(
        session.keys().current_version, retired, rewritten, resumed, tuple(damaged), vacuumed, tuple(unsigned)
    )


__all__ = ["HELPERS_ENV", "RotationReport", "helper_count", "rotate_data_key"]
