"""The state one benchmark run shares between its parts."""

from __future__ import annotations

import gc
import shutil
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench import corpus
from bench.measure import Row
from store.ingest import IngestItem
from store.service import Vault

OFFICER = "bench"
PASSPHRASE = "bench passphrase"
MINISTRY = "PK-MOI"


@dataclass
class Bench:
    records: int
    work: Path
    rows: list[Row] = field(default_factory=list)
    phase_seconds: dict[str, float] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    officer: str = OFFICER
    passphrase: str = PASSPHRASE
    now: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))
    _items: list[IngestItem] | None = None

    @property
    def template(self) -> Path:
        """An empty store (schema, officer, keys) that each measured store starts as a copy of."""
        path = self.work / "template.db"
        if not path.exists():
            Vault.create(path, MINISTRY, self.officer, self.passphrase, kdf_profile="minimum").close()
        return path

    @property
    def store(self) -> Path:
        """The N-record store the query and TUI parts read (built by the ingest part)."""
        return self.work / "store.db"

    @property
    def liaison_bin(self) -> Path:
        return Path(sys.executable).with_name("liaison")

    def corpus(self) -> list[IngestItem]:
        """The N benchmark records, generated once and frozen out of the garbage collector's way."""
        if self._items is None:
            start = time.perf_counter()
            self._items = list(corpus.items(self.records, self.now))
            gc.collect()
            gc.freeze()
            self.phase_seconds["corpus generation"] = time.perf_counter() - start
        return self._items

    def drop_corpus(self) -> None:
        self._items = None
        gc.unfreeze()
        gc.collect()

    def add(self, row: Row) -> None:
        self.rows.append(row)
        ratio = f"  ratio {row.ratio:.2f}" if row.ratio is not None else ""
        base = f"  raw {row.baseline:,.1f}" if row.baseline is not None else ""
        value = f"{row.value:,.1f}" if row.value is not None else "—"
        print(
            f"  {row.part:8} {row.name}: {value} {row.unit}{base}{ratio}  {row.goal} {'' if row.met is None else ('met' if row.met else 'NOT MET')}",
            flush=True,
        )

    def fresh(self) -> None:
        if self.work.exists():
            shutil.rmtree(self.work)
        self.work.mkdir(parents=True)
