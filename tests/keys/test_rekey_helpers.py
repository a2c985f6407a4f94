"""`keys rotate`'s helper processes (`crypto.rekey_pool`): the Fernet work of a batch on other cores, with the same
result as in the rotating process, the work taken back when a helper fails, and no helper outliving a kill -9.
Also the signing helper its batches share (`store.audit.log.SigningHelper`)."""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from crypto.errors import DecryptionFailed
from crypto.rekey_pool import RekeyPool
from store import keys as key_lifecycle
from store.keys.rotation import HELPERS_ENV, RotationReport
from tests.keys.conftest import unlock
from tests.keys.tokens import all_tokens, decrypt_all
from tests.liaison_helpers import run_cli

ROOT = Path(__file__).resolve().parents[2]
DEMO = {"LIAISON_PASSPHRASE": "demo", "LIAISON_OFFICER": "demo"}


def _raw(key: bytes, text: bytes, at: int) -> bytes:
    return base64.urlsafe_b64decode(Fernet(key).encrypt_at_time(text, at))


def test_a_helper_reencrypts_as_the_rotating_process_does() -> None:
    """Each token under an older key comes back under the current one with its plaintext and time; one the current
    key opens comes back as None; one no key opens as DecryptionFailed — split between two helpers, in order."""
    old, older, new = Fernet.generate_key(), Fernet.generate_key(), Fernet.generate_key()
    tokens = [
        _raw(old, b"title one", 1_700_000_000),
        _raw(older, b"body two", 1_700_000_001),
        _raw(new, b"already current", 1_700_000_002),
        _raw(Fernet.generate_key(), b"under no key of ours", 1_700_000_003),
        _raw(old, b"", 1_700_000_004),
    ]
    pool = RekeyPool.start(2)
    assert pool is not None and pool.size == 2
    with pool:
        pool.submit([new, old, older], tokens)
        results = pool.collect()
        pool.submit([new], [])  # an empty share is answered too
        assert pool.collect() == []
    assert len(results) == 5
    assert results[2] is None and isinstance(results[3], DecryptionFailed)
    for token, (text, at) in zip(
        [results[0], results[1], results[4]],
        [(b"title one", 1_700_000_000), (b"body two", 1_700_000_001), (b"", 1_700_000_004)],
        strict=True,
    ):
        assert isinstance(token, bytes)
        encoded = base64.urlsafe_b64encode(token)
        assert Fernet(new).decrypt(encoded) == text
        assert Fernet(new).extract_timestamp(encoded) == at


def _rotate(path: Path, helpers: int, monkeypatch: pytest.MonkeyPatch) -> RotationReport:
    monkeypatch.setenv(HELPERS_ENV, str(helpers))
    session = unlock(path)
    try:
        return key_lifecycle.rotate_data_key(session, batch_rows=40)
    finally:
        session.vault.close()


def test_a_rotation_with_helpers_does_what_one_without_does(
    small_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Threats 6 and 14: with two helpers, every ciphertext is re-encrypted to the same plaintext, a token no key
    opens is named and left as it is (the record whose title it is stays damaged), so does a record whose latest
    event's signature was altered (a rotation's moves start from what that event signed, which no longer holds),
    and `audit verify` finds the rest as signed — the same report as the rotating process alone gives on a copy of
    the same store."""
    conn = sqlite3.connect(small_store)
    rid = conn.execute("SELECT min(id) FROM records").fetchone()[0]
    foreign = _raw(Fernet.generate_key(), b"a title under no key of ours", 1_700_000_000)
    conn.execute("UPDATE records SET title_ct = ? WHERE id = ?", (foreign, rid))
    forged, seq, sig = conn.execute(
        "SELECT r.reference, a.seq, a.sig FROM records r JOIN audit_log a ON a.record_uuid = r.uuid"
        " WHERE r.id = (SELECT max(id) FROM records) ORDER BY a.seq DESC LIMIT 1"
    ).fetchone()
    conn.execute("UPDATE audit_log SET sig = ? WHERE seq = ?", (bytes([sig[0] ^ 1]) + sig[1:], seq))
    conn.commit()
    conn.close()
    alone = tmp_path / "alone" / "pk-moi.db"
    alone.parent.mkdir()
    shutil.copyfile(small_store, alone)
    session = unlock(small_store)
    try:
        plain = decrypt_all({c: t for c, t in all_tokens(small_store).items() if t != foreign}, session.keys())
    finally:
        session.vault.close()

    handed: list[int] = []
    collect = RekeyPool.collect

    def counted(pool: RekeyPool) -> list[object]:
        out = collect(pool)
        handed.append(len(out))
        return list(out)

    monkeypatch.setattr(RekeyPool, "collect", counted)
    with_helpers = _rotate(small_store, 2, monkeypatch)
    assert sum(handed) > 100, "the records' tokens went through the helpers"
    without = _rotate(alone, 0, monkeypatch)
    assert with_helpers.damaged == without.damaged == (("records", rid),)
    assert with_helpers.unsigned == without.unsigned == ()
    assert with_helpers.reencrypted == without.reencrypted
    after = all_tokens(small_store)
    assert after[("records", "title_ct", rid)] == foreign
    session = unlock(small_store)
    try:
        assert decrypt_all({c: t for c, t in after.items() if t != foreign}, session.keys()) == plain
    finally:
        session.vault.close()
    verified = run_cli("--store", str(small_store), "audit", "verify", "--json", env=DEMO)
    assert verified.code == 1  # what was damaged before stays damaged
    problems = json.loads(verified.out)["problems"]
    assert any(p["seq"] == seq and "does not verify" in p["reason"] for p in problems), problems
    first = conn_value(small_store, "SELECT reference FROM records WHERE id = ?", rid)
    assert {p["reference"] for p in problems if p["reference"]} >= {first, forged}, problems


def test_a_helper_that_dies_mid_rotation_leaves_its_work_to_the_rotating_process(
    small_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Threat 6: a helper killed after the first batch: the batch in hand is done by the rotating process, the
    rotation finishes, every ciphertext decrypts to what it held and the log verifies."""
    pools: list[RekeyPool] = []
    start = RekeyPool.start

    def started(workers: int) -> RekeyPool | None:
        pool = start(workers)
        assert pool is not None
        pools.append(pool)
        return pool

    monkeypatch.setattr(RekeyPool, "start", staticmethod(started))
    monkeypatch.setenv(HELPERS_ENV, "1")
    before = all_tokens(small_store)
    session = unlock(small_store)
    killed: list[int] = []

    def progress(done: int, total: int) -> None:
        if done and not killed:
            proc = pools[0]._procs[0]
            proc.kill()
            proc.wait()
            killed.append(proc.pid)

    try:
        plain = decrypt_all(before, session.keys())
        report = key_lifecycle.rotate_data_key(session, progress=progress, batch_rows=40)
        assert killed and report.damaged == () and report.unsigned == ()
        assert report.reencrypted == len(before)
        assert decrypt_all(all_tokens(small_store), session.keys()) == plain
    finally:
        session.vault.close()
    verified = run_cli("--store", str(small_store), "audit", "verify", env=DEMO)
    assert verified.code == 0, verified


def _children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        out += [int(p) for p in text]
    return out


def _gone(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in status


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads the process tree from /proc")
def test_no_helper_outlives_a_kill_9_of_the_rotation(big_store: Path) -> None:
    """Threat 6: the rotating process killed with its helpers at work (two re-encrypting): they find their pipes
    closed and exit."""
    env = dict(os.environ, **DEMO, LIAISON_KDF_PROFILE="minimum", **{HELPERS_ENV: "2"})
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui", "--store", str(big_store), "keys", "rotate"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    helpers: list[int] = []
    for n, _line in enumerate(proc.stderr):
        helpers = _children(proc.pid)
        if n >= 2 and len(helpers) == 2:
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.stderr.close()
    assert proc.wait(timeout=60) == -signal.SIGKILL
    assert len(helpers) == 2, "the rotation ran two helpers"
    deadline = time.monotonic() + 60
    while not all(_gone(pid) for pid in helpers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert all(_gone(pid) for pid in helpers)


def conn_value(path: Path, sql: str, *params: object) -> object:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute(sql, params).fetchone()[0]
    finally:
        conn.close()
