"""Timing helpers, result rows, the printed table and the JSON file, and subprocess runs with peak RSS."""

from __future__ import annotations

import json
import os
import platform
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Row:
    """One figure: Liaison's value, the raw baseline measured in the same run, their ratio and the goal."""

    part: str
    name: str
    value: float | None
    unit: str
    baseline: float | None = None
    goal: str = ""
    met: bool | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.value is None or not self.baseline:
            return None
        return self.value / self.baseline

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "ratio": self.ratio}


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty sample."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return ordered[rank - 1]


def timings_ms(fn: Callable[[], Any], repeat: int, warmup: int = 2) -> list[float]:
    """Wall-clock milliseconds of `repeat` calls of `fn` after `warmup` untimed ones."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def interleaved_ms(fns: Sequence[Callable[[], Any]], repeat: int, warmup: int = 2) -> list[list[float]]:
    """Like `timings_ms` for several functions called in turn, so a noisy neighbour hurts them alike."""
    for _ in range(warmup):
        for fn in fns:
            fn()
    out: list[list[float]] = [[] for _ in fns]
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            start = time.perf_counter()
            fn()
            out[i].append((time.perf_counter() - start) * 1000)
    return out


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


#: A small launcher between the suite and each measured command. Linux carries a process's RSS high-water
#: mark across fork and exec, so a command started straight from this (large) process would report at least
#: our own peak; started from this ~10 MB launcher, its peak is its own. The launcher reports its child's
#: peak RSS (RUSAGE_CHILDREN: it has only that child) into the file named by its first argument.
_LAUNCHER = (
    "import resource, subprocess, sys\n"
    "rc = subprocess.call(sys.argv[2:])\n"
    "open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))\n"
    "sys.exit(rc)\n"
)


def run_measured(
    argv: Sequence[str], *, env: Mapping[str, str] | None = None, cwd: Path = ROOT, timeout: float = 900
) -> dict[str, Any]:
    """Run a command to completion: wall seconds, its own peak RSS, exit code, output."""
    full_env = {**os.environ, **(env or {})}
    with (
        tempfile.TemporaryFile("w+") as out,
        tempfile.TemporaryFile("w+") as err,
        tempfile.NamedTemporaryFile("r") as rss,
    ):
        start = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-c", _LAUNCHER, rss.name, *argv],
            cwd=cwd,
            env=full_env,
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise RuntimeError(f"{' '.join(argv[:4])} timed out after {timeout:.0f}s") from None
        wall = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        text = rss.read().strip()
        return {
            "wall_s": wall,
            "returncode": proc.returncode,
            "maxrss_mb": int(text) / 1024 if text else float("nan"),
            "stdout": out.read(),
            "stderr": err.read(),
        }


def environment() -> dict[str, Any]:
    """What the figures were measured on."""
    return {
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "loadavg_start": os.getloadavg(),
    }


def fmt_value(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit in ("rec/s",):
        return f"{value:,.0f} {unit}"
    if unit == "MB":
        return f"{value:,.0f} MB"
    if unit == "s":
        return f"{value:.2f} s"
    return f"{value:.1f} {unit}"


def table(rows: Sequence[Row]) -> str:
    """The results as a Markdown table (printed, and pasted into docs/performance.md)."""
    lines = [
        "| part | figure | Liaison | raw baseline | ratio | goal | met |",
        "| --- | --- | ---: | ---: | ---: | --- | --- |",
    ]
    for r in rows:
        ratio = f"{r.ratio:.2f}" if r.ratio is not None else "—"
        met = {True: "yes", False: "**no**", None: "—"}[r.met]
        name = r.name + (f" ({r.note})" if r.note else "")
        lines.append(
            f"| {r.part} | {name} | {fmt_value(r.value, r.unit)} | {fmt_value(r.baseline, r.unit)} | {ratio} | {r.goal} | {met} |"
        )
    return "\n".join(lines)


def write_json(
    path: Path,
    records: int,
    rows: Sequence[Row],
    env: dict[str, Any],
    timings: dict[str, float],
    skipped: dict[str, str],
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "records": records,
        "environment": env,
        "phase_seconds": timings,
        "skipped": skipped,
        "rows": [r.to_json() for r in rows],
    }
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(doc, indent=2, default=str) + "\n")
    tmp.replace(path)


def python() -> str:
    return sys.executable
