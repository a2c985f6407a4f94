"""Two ministries' stores (PK-MOI and TR-MOI) that exchanged identity cards, built once and copied per test."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.liaison_helpers import LiaisonStore, init_store, patched_env

#: Distinctive words in every record title and summary, searched for on disk after refused imports.
CANARY_PK = "Zanzibarite"
CANARY_TR = "Quokkaville"


@dataclass
class Pair:
    """The two stores and the directory they and their bundles live in."""

    pk: LiaisonStore
    tr: LiaisonStore
    root: Path
    refs: dict[str, str]

    def path(self, name: str) -> Path:
        """A file beside the stores."""
        return self.root / name


def approved(store: LiaisonStore, title: str, tlp: str, *to: str, domain: str = "narcotics") -> str:
    """Add a record releasable to `to`, submit and approve it (the template stores have four-eyes off)."""
    extra: list[str] = [
        "--summary",
        f"{title} — summary mentioning {CANARY_PK if 'PK' in str(store.path) else CANARY_TR}",
        "--submit",
    ]
    for code in to:
        extra += ["--to", code]
    ref = store.add(f"{title}", *extra, tlp=tlp, domain=domain)
    store.ok("review", ref, "--approve")
    return ref


def _build(root: Path) -> dict[str, str]:
    pk = init_store(root / "PK.db", "--no-four-eyes", ministry="PK-MOI")
    tr = init_store(root / "TR.db", "--no-four-eyes", ministry="TR-MOI")
    pk.ok("identity", "export", "--out", str(root / "pk.card"))
    tr.ok("identity", "export", "--out", str(root / "tr.card"))
    pk.ok("contacts", "add", str(root / "tr.card"))
    tr.ok("contacts", "add", str(root / "pk.card"))
    refs = {}
    for i in range(1, 6):
        refs[f"amber{i}"] = approved(pk, f"{CANARY_PK} heroin route {i}", "amber", "TR-MOI")
    refs["red"] = approved(pk, f"{CANARY_PK} red source report", "red", "TR-MOI")
    refs["not_releasable"] = approved(pk, f"{CANARY_PK} internal only", "green")
    refs["green_shared"] = approved(pk, f"{CANARY_PK} green advisory", "green", "TR-MOI", "PK-ANF")
    refs["strict"] = approved(pk, f"{CANARY_PK} strict handling", "amber+strict", "TR-MOI", "PK-ANF")
    refs["draft"] = pk.add(f"{CANARY_PK} still a draft", "--to", "TR-MOI")
    refs["tr1"] = approved(tr, f"{CANARY_TR} ferry manifest", "amber", "PK-MOI")
    refs["tr2"] = approved(tr, f"{CANARY_TR} port watch", "green", "PK-MOI")
    return refs


@pytest.fixture(scope="session")
def _template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    root = tmp_path_factory.mktemp("bundle-template")
    with patched_env(
        {"LIAISON_KDF_PROFILE": "minimum", "LIAISON_PASSPHRASE": None, "LIAISON_STORE": None, "LIAISON_OFFICER": None}
    ):
        refs = _build(root)
    return root, refs


@pytest.fixture
def pair(_template: tuple[Path, dict[str, str]], tmp_path: Path) -> Iterator[Pair]:
    """A fresh copy of the PK-MOI and TR-MOI stores (contacts exchanged, records approved)."""
    root, refs = _template
    dest = tmp_path / "ministries"
    dest.mkdir()
    for item in root.iterdir():
        shutil.copyfile(item, dest / item.name)
    yield Pair(LiaisonStore(dest / "PK.db"), LiaisonStore(dest / "TR.db"), dest, dict(refs))
