"""Part 1: bulk ingest against a raw stdlib + cryptography baseline, and `liaison demo --records N` end to end."""

from __future__ import annotations

import gc
import shutil
import sqlite3
import time
from pathlib import Path

from bench import raw
from bench.context import Bench
from bench.measure import Row, python, run_measured
from store.service import Vault

TABLES = ("records", "record_parties", "revisions", "review_events")


def _counts(path: Path) -> dict[str, int]:
    con = sqlite3.connect(path)
    try:
        counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
        counts["search_index"] = (
            con.execute("SELECT count(*) FROM search_index_docsize").fetchone()[0]
            if _has(con, "search_index_docsize")
            else -1
        )
        return counts
    finally:
        con.close()


def _has(con: sqlite3.Connection, table: str) -> bool:
    return con.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (table,)).fetchone() is not None


def ingest(b: Bench) -> None:
    """Session.ingest (the path of `liaison demo` and of bundle imports) vs raw.ingest, same records, same run."""
    items = b.corpus()
    raw_path = b.work / "raw-ingest.db"
    shutil.copy(b.template, raw_path)
    shutil.copy(b.template, b.store)
    vault = Vault.open(b.store)
    session = vault.unlock(b.officer, b.passphrase)
    keys = session.keyring
    assert keys is not None
    fernet_key, index_key = keys.data_keys[keys.current_version], keys.index_key
    tokens = raw.Tokens(index_key)
    for item in items[:200]:  # the baseline computes exactly Liaison's tokens
        assert tokens.text(item.title, item.summary) == session.indexer.tokens_text([item.title, item.summary])

    gc.collect()
    start = time.perf_counter()
    raw.ingest(raw_path, items, fernet_key, index_key)
    raw_s = time.perf_counter() - start
    gc.collect()
    start = time.perf_counter()
    session.ingest(items)
    liaison_s = time.perf_counter() - start
    vault.db.checkpoint()
    vault.close()

    liaison_counts, raw_counts = _counts(b.store), _counts(raw_path)
    assert liaison_counts["records"] == raw_counts["records"] == b.records, (liaison_counts, raw_counts)
    for table in ("record_parties", "revisions", "review_events"):
        assert liaison_counts[table] == raw_counts[table], (table, liaison_counts, raw_counts)
    n = b.records
    ratio = (n / liaison_s) / (n / raw_s)
    b.add(
        Row(
            "ingest",
            f"Session.ingest, {n:,} records (demo and import path)",
            n / liaison_s,
            "rec/s",
            n / raw_s,
            "≥ 0.5× raw",
            ratio >= 0.5,
            extra={
                "liaison_s": liaison_s,
                "raw_s": raw_s,
                "rows": liaison_counts,
                "store_mb": b.store.stat().st_size / 2**20,
            },
        )
    )
    raw_path.unlink()
    for suffix in ("-wal", "-shm"):
        Path(f"{raw_path}{suffix}").unlink(missing_ok=True)


def demo(b: Bench) -> None:
    """`liaison demo --records N --no-tui` as a user runs it, against a raw process generating and writing the same records."""
    n = b.records
    demo_path = b.work / "demo.db"
    liaison = run_measured([str(b.liaison_bin), "demo", "--store", str(demo_path), "--records", str(n), "--no-tui"])
    if liaison["returncode"] != 0:
        raise RuntimeError(f"liaison demo failed: {liaison['stderr'][-500:]}")
    raw_path = b.work / "raw-demo.db"
    shutil.copy(b.template, raw_path)
    baseline = run_measured([python(), "-m", "bench.worker", "raw-demo", str(n), str(raw_path)])
    if baseline["returncode"] != 0:
        raise RuntimeError(f"raw demo failed: {baseline['stderr'][-500:]}")
    demo_counts, raw_counts = _counts(demo_path), _counts(raw_path)
    assert demo_counts["records"] == raw_counts["records"] == n, (demo_counts, raw_counts)
    ratio = (n / liaison["wall_s"]) / (n / baseline["wall_s"])
    b.add(
        Row(
            "ingest",
            f"`liaison demo --records {n:,}` end to end",
            n / liaison["wall_s"],
            "rec/s",
            n / baseline["wall_s"],
            "≥ 0.5× raw",
            ratio >= 0.5,
            note=f"{liaison['wall_s']:.1f} s vs {baseline['wall_s']:.1f} s",
            extra={"liaison_s": liaison["wall_s"], "raw_s": baseline["wall_s"]},
        )
    )
    b.add(
        Row(
            "ingest",
            "`liaison demo` peak RSS",
            liaison["maxrss_mb"],
            "MB",
            baseline["maxrss_mb"],
            "",
            None,
            extra={"liaison_mb": liaison["maxrss_mb"], "raw_mb": baseline["maxrss_mb"]},
        )
    )
    for path in (demo_path, raw_path):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
