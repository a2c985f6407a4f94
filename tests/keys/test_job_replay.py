"""Threats 6 and 26: an interrupted key rotation (threat 6) whose job state is replaced by an old one written back
(threat 26's move, on the rotation's job): its state (where an interrupted `keys rotate` stands) kept
in the file under a MAC, written back by someone with the file and no keys. A state taken from an earlier rotation,
or from a copy of the store rotated separately, verified before (its MAC keyed by the master secret only, which a
rotation keeps): written over an interrupted rotation, the next `keys rotate` skipped the rest of the work and
retired the only key that opened it, and `audit verify` still passed. Now the state's MAC is keyed by the rotation's
own data key too, so such a state is refused, and nothing is retired."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from store import keys as key_lifecycle
from store.errors import TamperError
from store.keys.job import JOB_KEY, JOB_MAC_KEY, RECORDS_STEP, _unbound_mac, read_job
from store.service import Session
from tests.keys.conftest import unlock
from tests.keys.tokens import all_tokens, decrypt_all
from tests.liaison_helpers import CliResult, attack, run_cli

BATCH = 40  # the 120-record store in three batches


class Stop(Exception):
    """Stands for a kill part-way: the batch that just committed stays committed."""


def job_rows(path: Path) -> tuple[str, str] | None:
    conn = sqlite3.connect(path)
    try:
        rows = dict(conn.execute("SELECT key, value FROM liaison_meta WHERE key IN (?, ?)", (JOB_KEY, JOB_MAC_KEY)))
    finally:
        conn.close()
    return (rows[JOB_KEY], rows[JOB_MAC_KEY]) if rows else None


def write_back(path: Path, job: tuple[str, str]) -> None:
    """What the attacker does: the captured state and its MAC written over the store's own."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("DELETE FROM liaison_meta WHERE key IN (?, ?)", (JOB_KEY, JOB_MAC_KEY))
        conn.execute(
            "INSERT INTO liaison_meta(key, value) VALUES (?, ?), (?, ?)", (JOB_KEY, job[0], JOB_MAC_KEY, job[1])
        )
        conn.commit()
    finally:
        conn.close()


def demo_cli(path: Path, *argv: str) -> CliResult:
    """`liaison --store PATH ARGV…` as the demo admin."""
    return run_cli("--store", str(path), *argv, env={"LIAISON_OFFICER": "demo", "LIAISON_PASSPHRASE": "demo"})


def rotate(path: Path, *, stop_after: int | None = None, seen: list[tuple[str, str]] | None = None) -> None:
    """`keys rotate` in batches of `BATCH`, stopped after `stop_after` batches; `seen`: the job's states as it ran."""
    session = unlock(path)
    calls = 0

    def progress(done: int, total: int) -> None:
        nonlocal calls
        calls += 1
        if seen is not None and (job := job_rows(path)) is not None:
            seen.append(job)
        if stop_after is not None and calls > stop_after:
            raise Stop

    try:
        key_lifecycle.rotate_data_key(session, progress=progress, batch_rows=BATCH)
    except Stop:
        pass
    finally:
        session.vault.close()


def assert_refused_and_nothing_lost(path: Path) -> None:
    session = unlock(path)
    try:
        with pytest.raises(TamperError, match="another rotation's, written back"):
            key_lifecycle.rotate_data_key(session, batch_rows=BATCH)
        assert len(session.keys().data_keys) == 2  # nothing retired: the interrupted rotation's old key is kept
        decrypt_all(all_tokens(path), session.keys())  # every ciphertext still opens
    finally:
        session.vault.close()


def finish_rotation(session: Session, path: Path) -> None:
    """Run the interrupted rotation to its end: only the new key (version 2) is left, and it opens every ciphertext."""
    key_lifecycle.rotate_data_key(session, batch_rows=BATCH)
    assert list(session.keys().data_keys) == [2]
    decrypt_all(all_tokens(path), session.keys())


def test_a_finished_state_of_an_earlier_rotation_is_refused(small_store: Path) -> None:
    seen: list[tuple[str, str]] = []
    rotate(small_store, seen=seen)  # rotation 1, to data key 2, watched
    done = next(job for job in reversed(seen) if '"cursor":-1' in job[0])
    rotate(small_store, stop_after=1)  # rotation 2, to data key 3, interrupted after one batch
    assert job_rows(small_store) is not None
    write_back(small_store, done)
    assert_refused_and_nothing_lost(small_store)


def test_a_state_of_the_same_rotation_run_on_a_copy_is_refused(small_store: Path, tmp_path: Path) -> None:
    """An admin rotated a copy of the store too: its job's states carry the copy's new key, not this one's."""
    copy = tmp_path / "copy.db"
    shutil.copyfile(small_store, copy)
    seen: list[tuple[str, str]] = []
    rotate(copy, seen=seen)
    done = next(job for job in reversed(seen) if '"cursor":-1' in job[0])
    rotate(small_store, stop_after=1)
    write_back(small_store, done)
    assert_refused_and_nothing_lost(small_store)


def test_its_own_state_resumes(small_store: Path) -> None:
    rotate(small_store, stop_after=1)
    session = unlock(small_store)
    try:
        finish_rotation(session, small_store)
    finally:
        session.vault.close()


def test_a_state_macd_before_jobs_were_bound_walks_again_from_the_start(small_store: Path) -> None:
    """A rotation interrupted under an earlier Liaison (its state MACed by the master secret's key only) cannot be
    told from a replayed one: it walks again from the first record, so even a finished state finishes nothing
    early, and every ciphertext ends under the new key."""
    rotate(small_store, stop_after=1)
    session = unlock(small_store)
    try:
        text = '{"column":"","cursor":-1,"officer":"demo","started":"2026-01-01T00:00:00+00:00","table":""}'
        write_back(small_store, (text, _unbound_mac(session.keys(), text)))
        with session.db.read() as s:
            job = read_job(s, session.keys())
        assert job is not None and (job.table, job.column, job.cursor) == (*RECORDS_STEP, 0)
        finish_rotation(session, small_store)
    finally:
        session.vault.close()


def test_a_rotations_state_removed_part_way_is_named_and_a_rerun_finishes_everything(small_store: Path) -> None:
    """Found by a second hostile pass: the job's rows deleted after a kill left the rotation ended with no word
    (`keys status` quiet, `audit verify` intact) and part of the store under the old key. The log says a rotation
    was started and not retired, so both now say the store is damaged; `keys rotate` then walks everything."""
    rotate(small_store, stop_after=1)
    attack(small_store, "DELETE FROM liaison_meta WHERE key IN (?, ?)", JOB_KEY, JOB_MAC_KEY)
    status = demo_cli(small_store, "keys", "status")
    assert status.code == 0 and "notice: The store is damaged: the key rotation started by event #" in status.err
    verify = demo_cli(small_store, "audit", "verify")
    assert verify.code == 1 and "was neither finished nor is pending" in verify.err, verify
    assert demo_cli(small_store, "keys", "rotate").code == 0
    assert demo_cli(small_store, "audit", "verify").code == 0
    session = unlock(small_store)
    try:
        assert len(session.keys().data_keys) == 1
        decrypt_all(all_tokens(small_store), session.keys())
    finally:
        session.vault.close()


@pytest.mark.parametrize("rows", [("garbage", "not a mac"), ("garbage", None), (None, "not a mac")])
def test_a_state_written_in_with_no_rotation_started_is_named_and_ignored(
    small_store: Path, rows: tuple[str | None, str | None]
) -> None:
    """Found by a new officer's pass: garbage written into the job's rows (or half of them) with no rotation started
    made `keys status` and `keys rotate` refuse with no way out, and `audit verify` said nothing. The log has no
    rotation unfinished, so the state resumes nothing: `audit verify` names it, `keys status` says the store is
    damaged and why, and `keys rotate` runs (writing over it), after which the store verifies."""
    for key, value in zip((JOB_KEY, JOB_MAC_KEY), rows, strict=True):
        if value is not None:
            attack(small_store, "INSERT INTO liaison_meta(key, value) VALUES (?, ?)", key, value)
    verify = demo_cli(small_store, "audit", "verify")
    assert verify.code == 1 and "holds the state of a key rotation, but the audit log has no rotation" in verify.err
    status = demo_cli(small_store, "keys", "status")
    assert status.code == 0 and "notice: The store is damaged: the store holds the state of a key rotation" in (
        status.err
    ), status
    rotated = demo_cli(small_store, "keys", "rotate")
    assert rotated.code == 0, rotated
    assert job_rows(small_store) is None
    assert demo_cli(small_store, "audit", "verify").code == 0
