"""`keys rotate`'s helper processes (`crypto.rekey_pool`): the Fernet work of a batch on other cores, with the same
result as in the rotating process, the work taken back when a helper fails, and no helper outliving a kill -9.
Also the signing helper its batches share (`store.audit.log.SigningHelper`)."""

from __future__ import annotations

import base64
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
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from crypto.errors import DecryptionFailed
from crypto.events import sign_event, verify_event
from crypto.rekey_pool import RekeyPool
from crypto.sign_pool import SignPool
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


def test_a_helper_verifies_event_signatures_as_the_rotating_process_does() -> None:
    """Threat 6: a signature of the body verifies; the same signature over an edited body, or under another
    signer's key, does not — and a verification request and a Fernet request answered in the order sent."""
    key, other = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes_raw()
    body = b'{"seq":1}'
    sig = sign_event(key.private_bytes_raw(), body)
    signed = [(public, body, sig), (public, b'{"seq":2}', sig), (other.public_key().public_bytes_raw(), body, sig)]
    new = Fernet.generate_key()
    pool = RekeyPool.start(2)
    assert pool is not None
    with pool:
        pool.submit_signed(signed * 3)
        pool.submit([new], [_raw(new, b"x", 1_700_000_000)])
        assert pool.collect_signed() == [True, False, False] * 3
        assert pool.collect() == [None]
        assert [verify_event(*triple) for triple in signed] == [True, False, False]


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
    opens is named and left as it is, the record whose title it is stays unsigned (damaged), so does a record
    whose latest event's signature was altered (the helpers verify it), and `audit verify` finds the rest as
    signed — the same report as the rotating process alone gives on a copy of the same store."""
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
    checked: list[int] = []
    collect, collect_signed = RekeyPool.collect, RekeyPool.collect_signed

    def counted(pool: RekeyPool) -> list[object]:
        out = collect(pool)
        handed.append(len(out))
        return list(out)

    def counted_signed(pool: RekeyPool) -> list[bool]:
        out = collect_signed(pool)
        checked.append(len(out))
        return out

    monkeypatch.setattr(RekeyPool, "collect", counted)
    monkeypatch.setattr(RekeyPool, "collect_signed", counted_signed)
    with_helpers = _rotate(small_store, 2, monkeypatch)
    assert sum(handed) > 100, "the records' tokens went through the helpers"
    assert sum(checked) >= 100, "the records' latest events were verified by the helpers"
    without = _rotate(alone, 0, monkeypatch)
    assert with_helpers.damaged == without.damaged == (("records", rid),)
    assert with_helpers.unsigned == without.unsigned and len(with_helpers.unsigned) == 2
    assert any(what == f"record {forged}" and "does not verify" in why for what, why in with_helpers.unsigned)
    assert with_helpers.reencrypted == without.reencrypted
    after = all_tokens(small_store)
    assert after[("records", "title_ct", rid)] == foreign
    session = unlock(small_store)
    try:
        assert decrypt_all({c: t for c, t in after.items() if t != foreign}, session.keys()) == plain
    finally:
        session.vault.close()
    verified = run_cli("--store", str(small_store), "audit", "verify", env=DEMO)
    assert verified.code != 0  # what was damaged before stays damaged


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


@pytest.fixture
def shared_signing(monkeypatch: pytest.MonkeyPatch) -> list[SignPool]:
    """Any append of a rotation with helpers signs through its shared signing helper, in windows of seven; the
    helpers started are listed."""
    import store.audit.log

    monkeypatch.setattr(store.audit.log, "SHARED_FROM", 1)
    monkeypatch.setattr(store.audit.log, "SHARED_WINDOW", 7)
    monkeypatch.setenv(HELPERS_ENV, "1")
    pools: list[SignPool] = []
    start = SignPool.start

    def started() -> SignPool | None:
        pool = start()
        assert pool is not None
        pools.append(pool)
        return pool

    monkeypatch.setattr(SignPool, "start", staticmethod(started))
    return pools


def test_a_rotations_batches_share_one_signing_helper(
    small_store: Path, shared_signing: list[SignPool], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Threat 6: the `rekey` events of every batch are signed by one helper process kept for the whole rotation,
    window after window (its signatures are those this process makes: the log verifies), ended with the job."""
    signed: list[int] = []
    collect = SignPool.collect

    def counted(pool: SignPool) -> list[bytes]:
        out = collect(pool)
        signed.append(len(out))
        return out

    monkeypatch.setattr(SignPool, "collect", counted)
    session = unlock(small_store)
    try:
        report = key_lifecycle.rotate_data_key(session, batch_rows=40)
        assert report.damaged == () and report.unsigned == ()
        assert session._signing_helper is None  # the job's helper is let go with the job
    finally:
        session.vault.close()
    assert len(shared_signing) == 1, "one helper for the whole rotation"
    assert len(signed) > 10 and sum(signed) > 100, signed
    proc = shared_signing[0]._proc
    assert proc is None  # ended
    verified = run_cli("--store", str(small_store), "audit", "verify", env=DEMO)
    assert verified.code == 0, verified


def test_a_signing_helper_that_dies_mid_rotation_leaves_the_signing_to_the_rotating_process(
    small_store: Path, shared_signing: list[SignPool]
) -> None:
    """Threat 6: the shared signing helper killed after the first batch: the rotation signs the rest itself,
    finishes, and the log verifies; no helper is started again for the later batches."""
    session = unlock(small_store)
    killed: list[int] = []

    def progress(done: int, total: int) -> None:
        if done and not killed:
            proc = shared_signing[0]._proc
            assert proc is not None
            proc.kill()
            proc.wait()
            killed.append(proc.pid)

    try:
        report = key_lifecycle.rotate_data_key(session, progress=progress, batch_rows=40)
        assert killed and report.damaged == () and report.unsigned == ()
    finally:
        session.vault.close()
    assert len(shared_signing) == 1
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
    """Threat 6: the rotating process killed with its helpers at work (two re-encrypting, one signing its batches'
    events): they find their pipes closed and exit."""
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
        if n >= 2 and len(helpers) == 3:
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.stderr.close()
    assert proc.wait(timeout=60) == -signal.SIGKILL
    assert len(helpers) == 3, "the rotation ran two helpers and a signing helper"
    deadline = time.monotonic() + 60
    while not all(_gone(pid) for pid in helpers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert all(_gone(pid) for pid in helpers)
