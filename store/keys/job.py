"""The rotation job's state and its walk: where an interrupted `keys rotate` stands (kept in `liaison_meta` under a
MAC, so an edit in the file is refused), the steps it walks (every record with the rows tied to it, then each
column's rows tied to no record), and how many tokens a job at a given point has been through.
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Connection, column, delete, func, select, table
from sqlalchemy.orm import Session as OrmSession

from crypto.encoding import canonical_json
from crypto.keyring import Keyring, hkdf_derive
from store.errors import TamperError
from store.keys.columns import CiphertextColumn
from store.models import Meta
from store.vault import get_meta, set_meta, store_mac


@dataclass(frozen=True)
class RotationJob:
    """An unfinished rotation: the column it reached, and its cursor there."""

    table: str
    column: str
    cursor: int
    started: datetime
    officer: str


JOB_KEY, JOB_MAC_KEY = "key_job", "key_job_mac"


def parse_time(value: str | None) -> datetime | None:
    """An ISO time kept in the store, None when absent or unreadable."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def job_mac(keys: Keyring, text: str) -> str:
    """The MAC of the job's state, under a key derived from the master secret (`key-job`) and the rotation's own
    data key (the current one, which the job re-encrypts under): a state written during another rotation, or in a
    copy of the store rotated to another key, does not verify here, so it cannot be written back to skip work."""
    current = keys.data_keys[keys.current_version]
    return store_mac(hkdf_derive(keys.derived("key-job") + current, b"liaison rotation job"), text)


def _unbound_mac(keys: Keyring, text: str) -> str:
    """The MAC a job's state had before it was bound to its rotation's data key (the master secret's key only)."""
    return store_mac(keys.derived("key-job"), text)


def read_job(s: OrmSession, keys: Keyring) -> RotationJob | None:
    """The unfinished rotation, None when there is none; TamperError when its state was altered in the file, or is
    another rotation's written back (`job_mac`).

    A state MACed the way Liaison did before binding it to its rotation's data key (a rotation interrupted before an
    upgrade) cannot say which rotation it belongs to: its job walks again from the start, which is always safe (a
    token already under the current key is left as it is)."""
    text, mac = get_meta(s, JOB_KEY), get_meta(s, JOB_MAC_KEY)
    if text is None and mac is None:
        return None
    bound = text is not None and mac is not None and hmac.compare_digest(mac, job_mac(keys, text))
    if not bound and not (text is not None and mac is not None and hmac.compare_digest(mac, _unbound_mac(keys, text))):
        if stray_job(s):  # no rotation to resume: a state written into the file (`audit verify` names it) is ignored
            return None
        raise TamperError(
            "the state of an interrupted key rotation was altered outside Liaison (or is another rotation's, written "
            "back)"
        )
    assert text is not None
    obj = json.loads(text)
    started = parse_time(obj.get("started"))
    if started is None:
        raise TamperError("the state of an interrupted key rotation is damaged")
    if not bound:
        return RotationJob(*RECORDS_STEP, 0, started, str(obj["officer"]))
    return RotationJob(str(obj["table"]), str(obj["column"]), int(obj["cursor"]), started, str(obj["officer"]))


def write_job(s: OrmSession, keys: Keyring, job: RotationJob | None) -> None:
    """Keep the job's state under its MAC; None clears it (the rotation is over)."""
    if job is None:
        for key in (JOB_KEY, JOB_MAC_KEY):
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
    set_meta(s, JOB_KEY, text)
    set_meta(s, JOB_MAC_KEY, job_mac(keys, text))


def unfinished_rotation(s: OrmSession) -> int | None:
    """The seq of the last signed `keys-rotate` event when no `keys-retire` event follows it (a rotation started and
    not finished), else None. Read through the log's target index (a rotation's events are about `data-key`)."""
    row = (
        s.connection()
        .exec_driver_sql(
            "SELECT max(CASE WHEN action = 'keys-rotate' THEN seq END), max(CASE WHEN action = 'keys-retire' THEN seq"
            " END) FROM audit_log WHERE target = 'data-key'"
        )
        .first()
    )
    started, retired = (row[0], row[1]) if row is not None else (None, None)
    return int(started) if started is not None and (retired is None or int(retired) < int(started)) else None


def stray_job(s: OrmSession) -> bool:
    """Whether the file holds a rotation job's state (any part of it) although the log has no rotation unfinished:
    Liaison writes the state in the transaction that signs `keys-rotate` and clears it in the one that signs
    `keys-retire`, so such a state was written outside it. It resumes nothing and is ignored (a rotation started
    then writes over it); a state that authenticates is still honoured as it always was."""
    return _job_present(s) and unfinished_rotation(s) is None


def _job_present(s: OrmSession) -> bool:
    """Whether the file holds any part of a rotation job's state."""
    return get_meta(s, JOB_KEY) is not None or get_meta(s, JOB_MAC_KEY) is not None


def missing_job(s: OrmSession, keys: Keyring) -> str | None:
    """Why the store is wrong when a rotation the log says was started is neither finished nor pending (its state
    removed from the file: the rest of its work would be skipped with no word), or when the file holds a rotation
    state although the log started none (`stray_job`), else None."""
    seq = unfinished_rotation(s)
    if seq is None:
        if _job_present(s):
            return (
                "the store holds the state of a key rotation, but the audit log has no rotation unfinished: it was "
                "written outside Liaison (it is ignored; the next key rotation writes over it)"
            )
        return None
    if read_job(s, keys) is not None:
        return None
    return (
        f"the key rotation started by event #{seq} was neither finished nor is pending: its state was removed "
        "outside Liaison; an admin should run liaison keys rotate, which walks the whole store again"
    )


#: The job's first step: every record with the rows tied to it; then each column's rows tied to no record.
RECORDS_STEP = ("records", "*")
DONE_STEP = ("", "")


def job_steps(columns: list[CiphertextColumn]) -> list[tuple[str, str]]:
    """The steps a job walks, in order: the records step, then each column not tied to the records table."""
    return [RECORDS_STEP] + [(c.table, c.column) for c in columns if c.record != "id"]


@cache
def column_table(c: CiphertextColumn) -> Any:
    """A lightweight table of just the columns the job reads of `c` (its key, tokens and record link)."""
    names = dict.fromkeys([c.key, c.column, *([c.record] if c.record else [])])
    return table(c.table, *(column(name) for name in names))


def unlinked(c: CiphertextColumn) -> Any:
    """The rows of a column a step walks by itself: all of them, or those tied to no record."""
    t = column_table(c)
    cond = t.c[c.column].is_not(None)
    return cond if c.record is None else cond & t.c[c.record].is_(None)


def count_tokens(conn: Connection, columns: list[CiphertextColumn], step: tuple[str, str], cursor: int) -> int:
    """Tokens a job at (`step`, `cursor`) has already been through."""
    steps = job_steps(columns)
    index = steps.index(step) if step in steps else len(steps)
    done = 0
    for c in columns:
        t = column_table(c)
        if c.record is not None:  # the records step
            query = select(func.count()).select_from(t).where(t.c[c.column].is_not(None), t.c[c.record].is_not(None))
            if index == 0:
                query = query.where(t.c[c.record] <= cursor)
            done += int(conn.execute(query).scalar_one())
        own = (c.table, c.column)
        if c.record == "id" or own not in steps:
            continue
        if steps.index(own) < index:
            done += int(conn.execute(select(func.count()).select_from(t).where(unlinked(c))).scalar_one())
        elif own == step:
            query = select(func.count()).select_from(t).where(unlinked(c), t.c[c.key] <= cursor)
            done += int(conn.execute(query).scalar_one())
    return done


__all__ = [
    "DONE_STEP",
    "JOB_KEY",
    "JOB_MAC_KEY",
    "RECORDS_STEP",
    "RotationJob",
    "column_table",
    "count_tokens",
    "job_mac",
    "job_steps",
    "missing_job",
    "parse_time",
    "read_job",
    "stray_job",
    "unfinished_rotation",
    "unlinked",
    "write_job",
]
