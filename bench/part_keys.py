"""Part: the key lifecycle on the N-record store — `liaison keys rotate` (every ciphertext re-encrypted) and the
blind-index rebuild of `liaison officers remove` (full revocation) — each against a raw loop doing the same Fernet
decrypt/encrypt (and HMAC tokens) and the same writes with sqlite3 alone, each in its own process for its peak RSS.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import sqlite3
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, MultiFernet

from bench import raw
from bench.context import Bench
from bench.measure import Row, python, run_measured
from store.keys import CIPHERTEXT_COLUMNS
from store.service import Vault

LEAVER = "leaver"
LEAVER_PASSPHRASE = "leaver bench passphrase"
KEYS_ENV = "LIAISON_BENCH_KEYS"
BATCH = 1000
RSS_LIMIT_MB = 250


def _store(b: Bench) -> Path:
    """The N-record store with one more officer to remove (built here, unmeasured, when ingest did not run)."""
    path = b.work / "keys.db"
    if b.store.exists():
        shutil.copy(b.store, path)
    else:
        shutil.copy(b.template, path)
        with Vault.open(path) as vault:
            vault.unlock(b.officer, b.passphrase).ingest(b.corpus())
        b.drop_corpus()
    with Vault.open(path) as vault:
        session = vault.unlock(b.officer, b.passphrase)
        session.add_officer(LEAVER, "officer", LEAVER_PASSPHRASE, kdf_profile="minimum")
        vault.db.checkpoint()
    return path


def _keys(path: Path, officer: str, passphrase: str) -> dict[str, str]:
    """The data key and index key the raw loops need (handed to their process in the environment)."""
    with Vault.open(path) as vault:
        keys = vault.unlock(officer, passphrase).keys()
        return {"data": keys.data_keys[keys.current_version].decode("ascii"), "index": keys.index_key.hex()}


def _workstation(b: Bench, env: dict[str, str], name: str) -> dict[str, str]:
    """`env` with a state directory of its own: each copy of the one store is run as on its own workstation (the
    audit log's witness would otherwise take the second copy for a rollback of the first)."""
    state = b.work / f"state-{name}"
    shutil.rmtree(state, ignore_errors=True)
    return {**env, "LIAISON_STATE_DIR": str(state)}


def _copy(source: Path, target: Path) -> Path:
    shutil.copy(source, target)
    return target


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def raw_rotate_main(args: list[str]) -> None:
    """The raw counterpart of `keys rotate`: every listed ciphertext decrypted and re-encrypted under a new Fernet
    key, written back 1,000 rows a transaction, then VACUUM and the WAL truncated, as Liaison does."""
    path = Path(args[0])
    old = Fernet(json.loads(os.environ[KEYS_ENV])["data"].encode("ascii"))
    multi = MultiFernet([Fernet(Fernet.generate_key()), old])
    con = raw.connect(path)
    tables = {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    for c in CIPHERTEXT_COLUMNS:
        if c.table not in tables:
            continue
        last = 0
        while True:
            con.execute("BEGIN IMMEDIATE")
            rows = con.execute(
                f"SELECT {c.key}, {c.column} FROM {c.table} WHERE {c.key} > ? AND {c.column} IS NOT NULL"
                f" ORDER BY {c.key} LIMIT {BATCH}",
                (last,),
            ).fetchall()
            updates = [
                (base64.urlsafe_b64decode(multi.rotate(base64.urlsafe_b64encode(token))), key) for key, token in rows
            ]
            con.executemany(f"UPDATE {c.table} SET {c.column} = ? WHERE {c.key} = ?", updates)
            con.execute("COMMIT")
            if len(rows) < BATCH:
                break
            last = rows[-1][0]
    con.execute("VACUUM")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()


def raw_reindex_main(args: list[str]) -> None:
    """The raw counterpart of the revocation's index rebuild: in one transaction, the index emptied, then each
    record's current title and body decrypted and its tokens under a new key inserted, 1,000 records at a time."""
    path = Path(args[0])
    fernet = Fernet(json.loads(os.environ[KEYS_ENV])["data"].encode("ascii"))
    tokens = raw.Tokens(os.urandom(32))

    def open_(token: bytes) -> bytes:
        return fernet.decrypt(base64.urlsafe_b64encode(token))

    con = raw.connect(path)
    con.execute("BEGIN IMMEDIATE")
    con.execute("INSERT INTO search_index(search_index) VALUES ('delete-all')")
    last = 0
    while True:
        rows = con.execute(
            "SELECT r.id, r.title_ct, v.body_ct FROM records r LEFT JOIN revisions v"
            " ON v.record_id = r.id AND v.number = r.revision WHERE r.id > ? ORDER BY r.id LIMIT ?",
            (last, BATCH),
        ).fetchall()
        if not rows:
            break
        entries = []
        for rid, title_ct, body_ct in rows:
            summary = json.loads(open_(body_ct)).get("summary", "") if body_ct is not None else ""
            entries.append((rid, tokens.text(open_(title_ct).decode(), summary)))
        con.executemany("INSERT INTO search_index(rowid, tokens) VALUES (?, ?)", entries)
        last = rows[-1][0]
    con.execute("COMMIT")
    con.close()


def _tokens(path: Path) -> int:
    con = sqlite3.connect(path)
    try:
        tables = {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        return sum(
            con.execute(f"SELECT count({c.column}) FROM {c.table}").fetchone()[0]
            for c in CIPHERTEXT_COLUMNS
            if c.table in tables
        )
    finally:
        con.close()


def _row(b: Bench, name: str, unit_count: int, unit: str, liaison: dict[str, Any], baseline: dict[str, Any]) -> None:
    for run, who in ((liaison, "liaison"), (baseline, "raw")):
        if run["returncode"] != 0:
            raise RuntimeError(f"{name} ({who}) failed: {run['stderr'][-500:]}")
    ratio = (unit_count / liaison["wall_s"]) / (unit_count / baseline["wall_s"])
    b.add(
        Row(
            "keys",
            name,
            unit_count / liaison["wall_s"],
            unit,
            unit_count / baseline["wall_s"],
            "≥ 0.5× raw",
            ratio >= 0.5,
            note=f"{liaison['wall_s']:.1f} s vs {baseline['wall_s']:.1f} s",
            extra={"liaison_s": liaison["wall_s"], "raw_s": baseline["wall_s"]},
        )
    )
    b.add(
        Row(
            "keys",
            f"{name}: peak RSS",
            liaison["maxrss_mb"],
            "MB",
            baseline["maxrss_mb"],
            f"≤ {RSS_LIMIT_MB} MB",
            liaison["maxrss_mb"] <= RSS_LIMIT_MB,
            extra={"liaison_mb": liaison["maxrss_mb"], "raw_mb": baseline["maxrss_mb"]},
        )
    )


def run(b: Bench) -> None:
    """`keys rotate` and `officers remove` (index rebuild) against their raw loops, on copies of one store."""
    store = _store(b)
    secrets = {KEYS_ENV: json.dumps(_keys(store, b.officer, b.passphrase))}
    env = {"LIAISON_PASSPHRASE": b.passphrase, "LIAISON_OFFICER": b.officer}
    tokens = _tokens(store)

    mine, theirs = _copy(store, b.work / "rotate.db"), _copy(store, b.work / "raw-rotate.db")
    liaison = run_measured(
        [str(b.liaison_bin), "--store", str(mine), "keys", "rotate"], env=_workstation(b, env, "rotate"), timeout=3600
    )
    baseline = run_measured([python(), "-m", "bench.worker", "raw-rotate", str(theirs)], env=secrets, timeout=3600)
    _row(b, f"`keys rotate`, {tokens:,} ciphertexts of {b.records:,} records", tokens, "tokens/s", liaison, baseline)
    _remove(mine)
    _remove(theirs)

    mine, theirs = _copy(store, b.work / "remove.db"), _copy(store, b.work / "raw-reindex.db")
    liaison = run_measured(
        [str(b.liaison_bin), "--store", str(mine), "officers", "remove", LEAVER],
        env=_workstation(b, env, "remove"),
        timeout=3600,
    )
    baseline = run_measured([python(), "-m", "bench.worker", "raw-reindex", str(theirs)], env=secrets, timeout=3600)
    _row(b, f"`officers remove` (index rebuilt), {b.records:,} records", b.records, "rec/s", liaison, baseline)
    for path in (mine, theirs, store):
        _remove(path)
