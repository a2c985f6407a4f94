"""Threat 6: kill -9 at several points of `keys rotate` on a 20,000-record store; the signed log holds throughout."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from store.keys import key_status
from tests.keys.conftest import unlock
from tests.keys.tokens import Cell, all_tokens
from tests.liaison_helpers import run_cli

ROOT = Path(__file__).resolve().parents[2]


def _digests(path: Path) -> dict[Cell, str]:
    """SHA-256 of every ciphertext's plaintext, decrypted with a fresh unlock (raises if any does not decrypt)."""
    session = unlock(path)
    try:
        keys = session.keys()
        rows = session.list_records(limit=20)
        assert len(rows) == 20 and all(r.title for r in rows)
        assert session.get_record(rows[-1].reference).summary
        return {cell: hashlib.sha256(keys.decrypt(token)).hexdigest() for cell, token in all_tokens(path).items()}
    finally:
        session.vault.close()


def _pending(path: Path) -> bool:
    session = unlock(path)
    try:
        return key_status(session).job is not None
    finally:
        session.vault.close()


def _verified(path: Path) -> None:
    """`liaison audit verify` finds the log, every record and every revision row as signed (exit 0)."""
    result = run_cli(
        "--store", str(path), "audit", "verify", env={"LIAISON_PASSPHRASE": "demo", "LIAISON_OFFICER": "demo"}
    )
    assert result.code == 0 and result.err == "", result


def _rotate(path: Path, kill_when: Callable[[int, str], bool] | None) -> tuple[int, list[str]]:
    """Run `liaison keys rotate` as a process; kill -9 it at the first stderr line `kill_when(n, line)` accepts."""
    env = dict(os.environ, LIAISON_PASSPHRASE="demo", LIAISON_OFFICER="demo", LIAISON_KDF_PROFILE="minimum")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui", "--store", str(path), "keys", "rotate"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    lines: list[str] = []
    for n, line in enumerate(proc.stderr):
        lines.append(line.rstrip("\n"))
        if kill_when is not None and kill_when(n, line):
            os.kill(proc.pid, signal.SIGKILL)
            break
    proc.stderr.close()
    return proc.wait(timeout=300), lines


def test_kill_9_at_any_point_of_a_rotation_leaves_every_record_readable_and_a_rerun_finishes(big_store: Path) -> None:
    """Threat 6: after each kill the store opens, every ciphertext decrypts to what it held and `audit verify`
    passes (each batch re-signs its records in its own transaction); the next run resumes."""
    expected = _digests(big_store)
    assert len(expected) > 60_000
    kill_points: list[Callable[[int, str], bool]] = [
        lambda n, line: n == 0,  # the new key granted and the job recorded; no batch yet
        lambda n, line: n == 12,  # in the middle of the records' and revisions' batches
        lambda n, line: line.rstrip().endswith("(100%)"),  # every batch done: retiring the old key, compacting
    ]
    for index, kill_when in enumerate(kill_points):
        code, lines = _rotate(big_store, kill_when)
        assert code == -signal.SIGKILL, lines
        assert _digests(big_store) == expected
        _verified(big_store)
        if index < 2:
            assert _pending(big_store), "the kill came before the job's end: it must be recorded as pending"
    code, lines = _rotate(big_store, None)
    assert code == 0, lines
    assert "Traceback" not in "\n".join(lines)
    assert "data key rotated to version" in lines[-1]
    assert _digests(big_store) == expected
    _verified(big_store)
    session = unlock(big_store)
    try:
        assert len(session.keys().data_keys) == 1  # the job finished: only the current key is left
    finally:
        session.vault.close()
