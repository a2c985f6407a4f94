"""Two ministries' stores for the attacker suite: PK-MOI (four-eyes on: alice admin, bob reviewer, carol officer,
dave a second admin) and TR-MOI, identity cards exchanged, records in every state an attack needs. Built once
through the CLI, copied per test."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.bundles.conftest import Pair
from tests.liaison_helpers import PASSPHRASES, CliResult, LiaisonStore, init_store, patched_env, run_cli

#: Titles of the PK-MOI records, by role in the attacks (the revised one's first revision named the agent).
TITLES = {
    "red": "Red source: the courier's handler",
    "green": "Green advisory on the ferry route",
    "amber": "Amber watch list for the port",
    "internal": "Internal only: staffing of the desk",
    "revised": "Agent NIGHTJAR met the courier",
    "draft": "Draft on the new smuggling lane",
    "bobs": "Reviewer's own note on the lane",
}
REVISED_TITLE = "A source met the courier"
RETURN_COMMENT = "Remove the agent's name before this goes anywhere"


@dataclass
class Ministries(Pair):
    """The two stores, where their files live, and the PK-MOI references by role; with the attacker's tools."""

    def attack(self, *statements: str | tuple[str, tuple[Any, ...]]) -> None:
        """What an attacker with the file and no keys does: raw SQL on PK-MOI's store, committed."""
        conn = sqlite3.connect(self.pk.path)
        try:
            for statement in statements:
                sql, params = (statement, ()) if isinstance(statement, str) else statement
                conn.execute(sql, params)
            conn.commit()
        finally:
            conn.close()

    def record_id(self, role: str) -> int:
        """The row id of a PK-MOI record."""
        return int(self.pk.sql("SELECT id FROM records WHERE reference = ?", (self.refs[role],))[0][0])

    def verify(self, store: LiaisonStore | None = None, officer: str = "alice") -> CliResult:
        """`liaison audit verify` as an admin."""
        return (store or self.pk).cli("audit", "verify", officer=officer)


def _approved(pk: LiaisonStore, role: str, tlp: str, *to: str, author: str = "carol") -> str:
    extra = ["--summary", f"Summary of: {TITLES[role]}", "--submit"]
    for code in to:
        extra += ["--to", code]
    ref = pk.add(TITLES[role], *extra, tlp=tlp, officer=author)
    pk.ok("review", ref, "--approve", officer="bob")
    return ref


def _build(root: Path) -> dict[str, str]:
    pk = init_store(root / "PK.db", ministry="PK-MOI")
    for name, role in (("bob", "reviewer"), ("carol", "officer"), ("dave", "admin")):
        pk.ok("officers", "add", name, "--role", role, env={"LIAISON_NEW_PASSPHRASE": PASSPHRASES[name]})
    tr = init_store(root / "TR.db", "--no-four-eyes", ministry="TR-MOI")  # one officer, who approves alone
    pk.ok("identity", "export", "--out", str(root / "pk.card"))
    tr.ok("identity", "export", "--out", str(root / "tr.card"))
    pk.ok("contacts", "add", str(root / "tr.card"))
    tr.ok("contacts", "add", str(root / "pk.card"))
    refs = {
        "red": _approved(pk, "red", "red", "TR-MOI"),
        "green": _approved(pk, "green", "green", "TR-MOI"),
        "amber": _approved(pk, "amber", "amber", "TR-MOI"),
        "internal": _approved(pk, "internal", "green"),
    }
    revised = pk.add(TITLES["revised"], "--to", "TR-MOI", "--submit", tlp="amber", officer="carol")
    pk.ok("review", revised, "--return", "--comment", RETURN_COMMENT, officer="bob")
    pk.ok("edit", revised, "--title", REVISED_TITLE, officer="carol")
    pk.ok("submit", revised, officer="carol")
    pk.ok("review", revised, "--approve", officer="bob")
    refs["revised"] = revised
    refs["draft"] = pk.add(TITLES["draft"], "--to", "TR-MOI", tlp="green", officer="carol")
    refs["bobs"] = pk.add(TITLES["bobs"], "--to", "TR-MOI", "--submit", tlp="green", officer="bob")
    return refs


@pytest.fixture(scope="session")
def _ministries_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    root = tmp_path_factory.mktemp("integrity-template")
    with patched_env({"LIAISON_KDF_PROFILE": "minimum", "LIAISON_PASSPHRASE": None, "LIAISON_STORE": None}):
        refs = _build(root)
    assert sorted(p.name for p in root.iterdir()) == ["PK.db", "TR.db", "pk.card", "tr.card"], "checkpointed"
    return root, refs


@pytest.fixture
def ministries(_ministries_template: tuple[Path, dict[str, str]], tmp_path: Path) -> Iterator[Ministries]:
    """A fresh copy of both stores; this test's workstation has seen them as they are (first open)."""
    root, refs = _ministries_template
    dest = tmp_path / "ministries"
    dest.mkdir()
    for item in root.iterdir():
        shutil.copyfile(item, dest / item.name)
        (dest / item.name).chmod(0o600)
    found = Ministries(LiaisonStore(dest / "PK.db"), LiaisonStore(dest / "TR.db"), dest, dict(refs))
    yield found


__all__ = ["RETURN_COMMENT", "REVISED_TITLE", "TITLES", "Ministries", "run_cli"]
