"""A PK-MOI store with records at every TLP (RED among them) and a TR-MOI store to import into, built once."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.liaison_helpers import PASSPHRASES, LiaisonStore, init_store, patched_env
from tests.tui.conftest import make_app, reader, store_path, template_store  # noqa: F401 - the app tests' fixtures

FIXTURES = Path(__file__).parent / "fixtures"
#: A word only the RED record holds (title and summary): it must never appear in any export.
CANARY_RED = "Crimsonfalcon"


@dataclass
class Stores:
    """The exporting store, the importing store, a directory for files, and the references by name."""

    pk: LiaisonStore
    tr: LiaisonStore
    root: Path
    refs: dict[str, str]

    def path(self, name: str) -> Path:
        return self.root / name

    def tr_ref(self, key: str) -> str:
        """The reference TR-MOI holds PK-MOI's record `key` under after a STIX/MISP import: a local-only one
        (`PK-MOI-YYYY-0NNNNNNNN`), never PK-MOI's own numbering; the STIX id (the uuid) is the identity."""
        title = self.pk.show(self.refs[key])["title"]
        rows = [r["reference"] for r in self.tr.list_json() if r["origin"] == "PK-MOI" and r["title"] == title]
        assert len(rows) == 1, f"TR-MOI holds no single copy of {self.refs[key]}: {rows}"
        return str(rows[0])


def _approved(store: LiaisonStore, title: str, tlp: str, domain: str, summary: str, comment: str = "") -> str:
    ref = store.add(title, "--summary", summary, "--submit", "--to", "TR-MOI", tlp=tlp, domain=domain)
    store.ok("review", ref, "--approve", *(["--comment", comment] if comment else []))
    return ref


def _build(root: Path) -> dict[str, str]:
    pk = init_store(root / "PK.db", "--no-four-eyes", ministry="PK-MOI")
    init_store(root / "TR.db", "--no-four-eyes", ministry="TR-MOI")
    pk.ok("officers", "add", "carol", "--role", "officer", env={"LIAISON_NEW_PASSPHRASE": PASSPHRASES["carol"]})
    return {
        "green": _approved(
            pk,
            "Heroin route via Gwadar",
            "green",
            "narcotics",
            "Trawlers carry it.\nSecond line.",
            "Desk confirmed the route",
        ),
        "clear": _approved(
            pk,
            "Public advisory on fake visa agents",
            "clear",
            "policing",
            "Published on the ministry site.",
            "fine to publish",
        ),
        "amber": _approved(pk, "Smuggling cell in Quetta", "amber", "human-smuggling", "Three facilitators named."),
        "strict": _approved(pk, "Informant network map", "amber+strict", "counterterrorism", "Only for the CT wing."),
        "red": _approved(
            pk, f"{CANARY_RED} source identity", "red", "counterterrorism", f"{CANARY_RED} is the source."
        ),
        "draft": pk.add("Unfinished draft", "--to", "TR-MOI", tlp="green"),
    }


@pytest.fixture(scope="session")
def _interop_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    root = tmp_path_factory.mktemp("interop-template")
    env = {"LIAISON_KDF_PROFILE": "minimum", "LIAISON_PASSPHRASE": None, "LIAISON_STORE": None, "LIAISON_OFFICER": None}
    with patched_env(env):
        refs = _build(root)
    return root, refs


@pytest.fixture
def stores(_interop_template: tuple[Path, dict[str, str]], tmp_path: Path) -> Stores:
    """Fresh copies of the PK-MOI (exporting) and TR-MOI (importing) stores."""
    root, refs = _interop_template
    dest = tmp_path / "interop"
    dest.mkdir()
    for item in root.iterdir():
        shutil.copyfile(item, dest / item.name)
    return Stores(LiaisonStore(dest / "PK.db"), LiaisonStore(dest / "TR.db"), dest, dict(refs))
