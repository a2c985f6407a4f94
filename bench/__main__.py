"""`make bench` / `python -m bench --records N`: build an N-record store and measure Liaison against raw baselines.

Every figure is printed next to its baseline, measured in the same run on the same machine, and their
ratio; the table is also written as JSON under bench/results/. Large temporary stores live under
bench/work/ (git-ignored) and are deleted at the end unless --keep.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bench.context import Bench
from bench.measure import ROOT, environment, table, write_json

PARTS = ("ingest", "demo", "bundles", "queries", "tui", "keys", "audit")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--records", type=int, default=100_000, metavar="N", help="records in the benchmark store (default 100,000)"
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=PARTS,
        help="run only these parts (repeatable); queries, tui and audit need ingest's store",
    )
    parser.add_argument(
        "--work", type=Path, default=ROOT / "bench" / "work", help="directory for temporary stores (default bench/work)"
    )
    parser.add_argument(
        "--results", type=Path, default=ROOT / "bench" / "results", help="where the JSON goes (default bench/results)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the stores under --work afterwards")
    args = parser.parse_args(argv)
    if args.records < 1000:
        parser.error("--records must be at least 1000")
    parts = args.only or list(PARTS)
    needs_store = {"queries", "tui", "audit"} & set(parts)
    if needs_store and "ingest" not in parts and not (args.work / "store.db").exists():
        parts = ["ingest", *parts]

    os.environ.setdefault("LIAISON_KDF_PROFILE", "minimum")  # throw-away stores: no second of Argon2id per unlock
    # the commands it runs keep their stores' checkpoints (the rollback witness) under the work directory,
    # not in this user's state directory
    os.environ.setdefault("LIAISON_STATE_DIR", str(args.work / "state"))
    b = Bench(records=args.records, work=args.work)
    if "ingest" in parts:
        b.fresh()
    env = environment()
    started = time.perf_counter()
    print(
        f"Liaison benchmark: {args.records:,} records, {env['cpus']} CPUs, Python {env['python']}, SQLite {env['sqlite']}, load {env['loadavg_start'][0]:.2f}",
        flush=True,
    )

    steps: list[tuple[str, Callable[[Bench], None]]] = []
    from bench import part_ingest

    if "ingest" in parts:
        steps.append(("ingest", part_ingest.ingest))
    if "demo" in parts:
        steps.append(("demo", part_ingest.demo))
    if "bundles" in parts:
        from bench import part_bundles

        steps.append(("bundles", part_bundles.run))
    if "queries" in parts:
        from bench import part_queries

        steps.append(("queries", part_queries.run))
    if "tui" in parts:
        from bench import part_tui

        steps.append(("tui", part_tui.run))
    if "keys" in parts:
        from bench import part_keys

        steps.append(("keys", part_keys.run))
    if "audit" in parts:
        from bench import part_audit

        steps.append(("audit", part_audit.run))

    failed = False
    for name, step in steps:
        print(f"[{name}]", flush=True)
        start = time.perf_counter()
        try:
            step(b)
        except Exception as exc:  # a part that breaks is reported, and the others still run
            failed = True
            b.skipped[name] = f"failed: {type(exc).__name__}: {exc}"
            traceback.print_exc()
        b.phase_seconds[name] = time.perf_counter() - start
        if name == ("bundles" if "bundles" in parts else "ingest"):
            b.drop_corpus()  # the bundle sender's records are made from it too
    total = time.perf_counter() - started
    b.phase_seconds["total"] = total
    env["loadavg_end"] = os.getloadavg()

    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    out = args.results / f"bench-{args.records}-{stamp}.json"
    write_json(out, args.records, b.rows, env, b.phase_seconds, b.skipped)
    print()
    print(table(b.rows))
    for name, why in b.skipped.items():
        print(f"\n{name}: {why}")
    phases = ", ".join(f"{k} {v:.0f} s" for k, v in b.phase_seconds.items())
    print(f"\nphases: {phases}\nresults: {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    if not args.keep:
        shutil.rmtree(b.work, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
