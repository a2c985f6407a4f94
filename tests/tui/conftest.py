"""Fixtures for the TUI tests: a small deterministic store (fixed clock, fictional officers) and helpers to drive the app."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("LIAISON_KDF_PROFILE", "minimum")

from store.service import Draft, Session, Vault
from tests.tui.fixed_keys import build_audit_store
from tests.tui.helpers import NOW, OFFICERS, SEARCH_CANARY, fixed_clock
from tui.app import LiaisonApp
from tui.config import Settings

DOMAINS = (
    "counterterrorism",
    "narcotics",
    "human-smuggling",
    "border-management",
    "cybercrime",
    "coast-guard",
    "policing",
)
TLPS = ("GREEN", "AMBER", "RED", "CLEAR", "AMBER+STRICT")
RECIPIENTS = (("TR-MOI",), ("TR-MOI", "PK-ANF"), (), ("PK-NDMA",))
SUBJECTS = (
    "Ferry route near Gwadar used by couriers",
    "Forged visa workshop in Quetta",
    "Container seizure at Port Qasim",
    "Phishing wave against customs staff",
    "Night crossings at Taftan",
    "Fuel smuggling dhow off Pasni",
    "Extortion calls to traders in Lahore",
)
RECORDS = 84


class TickingClock:
    """A clock the fixture moves by hand, so every timestamp in the store is fixed."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def build_store(path: Path) -> None:
    """84 records across every domain and TLP, by two authors, some in review, approved or returned."""
    clock = TickingClock(NOW - timedelta(days=RECORDS * 3))
    vault = Vault.create(
        path, "PK-MOI", "demo", OFFICERS["demo"], clock=clock, kdf_profile="minimum", short_passphrase_ok=True
    )
    admin = vault.unlock("demo", OFFICERS["demo"])
    admin.add_officer("kestrel", "reviewer", OFFICERS["kestrel"])
    admin.add_officer("heron", "officer", OFFICERS["heron"])
    heron = vault.unlock("heron", OFFICERS["heron"])
    kestrel = vault.unlock("kestrel", OFFICERS["kestrel"])
    for i in range(RECORDS):
        clock.now = NOW - timedelta(days=(RECORDS - i) * 3, hours=i % 5)
        author = heron if i % 3 else admin
        subject = SUBJECTS[i % len(SUBJECTS)]
        title = (
            f"{subject} ({i + 1})"
            if i != 40
            else f"{SEARCH_CANARY} network moving heroin through {subject.split()[-1]}"
        )
        summary = (
            f"Reporting indicates **{subject.lower()}**.\n\n"
            "- Two seizures last month share packaging marks.\n"
            "- Payments route through a freight company.\n\n"
            "Assessment: moderate confidence; corroboration requested."
        )
        reference = author.add_record(
            Draft(
                domain=DOMAINS[i % len(DOMAINS)],
                tlp=TLPS[i % len(TLPS)],
                title=title,
                summary=summary,
                source="Partner liaison briefing (B2)",
                notes="",
                releasable_to=RECIPIENTS[i % len(RECIPIENTS)],
            ),
            submit=i % 4 != 3,
        )
        if i % 4 == 0 and i < 60 and author is heron:
            kestrel.approve(reference, "consistent with earlier reporting")
        elif i % 4 == 1 and i < 30:
            kestrel.return_record(reference, "add the source grading")
    for session in (admin, heron, kestrel):
        session.lock()
    vault.db.checkpoint()
    vault.close()


@pytest.fixture(scope="session")
def template_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture store, built once per test session."""
    path = tmp_path_factory.mktemp("template") / "store.db"
    build_store(path)
    return path


@pytest.fixture
def store_path(template_store: Path, tmp_path: Path) -> Path:
    """A private copy of the fixture store for one test."""
    path = tmp_path / "store.db"
    shutil.copyfile(template_store, path)
    return path


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo store (`store/demo.py`: 300 records, colleagues, TR-MOI counterpart and ledger) on the fixed clock."""
    from store.demo import build_demo

    path = tmp_path_factory.mktemp("demo") / "demo.db"
    build_demo(path, records=300, clock=fixed_clock)
    return path


@pytest.fixture
def demo_path(demo_template: Path, tmp_path: Path) -> Path:
    """A private copy of the demo store for one test."""
    path = tmp_path / "demo" / "demo.db"
    path.parent.mkdir()
    shutil.copyfile(demo_template, path)
    return path


@pytest.fixture
def reader(store_path: Path) -> Iterator[Session]:
    """A second session on the test's store (as another process would hold), to check what the app shows and wrote."""
    vault = Vault.open(store_path, kdf_profile="minimum")
    session = vault.unlock("demo", OFFICERS["demo"])
    yield session
    session.lock()
    vault.close()


@pytest.fixture
def make_app(store_path: Path) -> Iterator[Callable[..., LiaisonApp]]:
    """Build the app on the test's store with a fixed clock, no cursor blink and no waits after wrong passphrases."""
    vaults: list[Vault] = []

    def make(officer: str | None = None, *, path: Path | None = None, **settings: object) -> LiaisonApp:
        options: dict[str, object] = {"cursor_blink": False, "unlock_backoff_cap_seconds": 0.0, "poll_seconds": 3600.0}
        options.update(settings)
        vault = Vault.open(path or store_path, clock=fixed_clock, kdf_profile="minimum")
        vaults.append(vault)
        return LiaisonApp(vault, officer=officer, settings=Settings(**options))  # type: ignore[arg-type]

    yield make
    for vault in vaults:
        vault.close()


@pytest.fixture
def snap_app(
    make_app: Callable[..., LiaisonApp], store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., LiaisonApp]:
    """The app on the store opened by a relative path, so the path drawn on screen is the same on every machine."""
    monkeypatch.chdir(store_path.parent)

    def make(officer: str | None = None, **settings: Any) -> LiaisonApp:
        return make_app(officer, path=Path(store_path.name), **settings)

    return make


@pytest.fixture(scope="session")
def audit_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The store whose every key is fixed (`build_audit_store`: same fingerprints on every run), built once."""
    path = tmp_path_factory.mktemp("audit-fixed") / "audit.db"
    build_audit_store(path)
    return path


@pytest.fixture
def audit_store(audit_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy at the relative path `desk/audit.db` (the path drawn is the same on every machine).

    The store's facet counts are cached per process by file URL, store id and change counter — the same for every
    copy here, and a change made with sqlite3 moves no counter — so the cache is emptied for each test."""
    from store.records import clear_count_cache

    clear_count_cache()
    (tmp_path / "desk").mkdir()
    shutil.copyfile(audit_template, tmp_path / "desk" / "audit.db")
    monkeypatch.chdir(tmp_path)
    return tmp_path / "desk" / "audit.db"


@pytest.fixture
def audit_app(make_app: Callable[..., LiaisonApp], audit_store: Path) -> Callable[[], LiaisonApp]:
    """The app on that copy, by its relative path."""
    return lambda: make_app(path=Path("desk") / "audit.db")
