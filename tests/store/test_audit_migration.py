"""A store made before the signed audit log (schema 0004, v1 key slots) is upgraded: the first admin who unlocks
signs its state as genesis events; other officers are refused until then, and get a signing key at their next unlock."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from store.errors import AuthError
from store.service import Vault
from tests.liaison_helpers import PASSPHRASES, LiaisonStore

FIXTURE = Path(__file__).parent.parent / "fixtures" / "pre_audit_store.db"
REFS = ["PK-MOI-2026-00001", "PK-MOI-2026-00002", "PK-MOI-2026-00003", "PK-MOI-2026-00004"]


@pytest.fixture
def old_store(tmp_path: Path) -> LiaisonStore:
    path = tmp_path / "old" / "pk-moi.db"
    path.parent.mkdir()
    shutil.copyfile(FIXTURE, path)
    path.chmod(0o600)
    return LiaisonStore(path)


def slot_versions(store: LiaisonStore) -> dict[str, int]:
    return {name: json.loads(slot)["v"] for name, slot in store.sql("SELECT name, slot FROM officers")}


def test_the_fixture_is_a_store_from_before_the_log(old_store: LiaisonStore) -> None:
    assert old_store.sql("SELECT version_num FROM alembic_version") == [("0004",)]
    assert slot_versions(old_store) == {"alice": 1, "bob": 1, "carol": 1}


def test_only_an_admin_signs_the_genesis(old_store: LiaisonStore) -> None:
    with Vault.open(old_store.path) as vault, pytest.raises(AuthError, match="an admin must unlock it once"):
        vault.unlock("carol", PASSPHRASES["carol"])
    assert old_store.sql("SELECT count(*) FROM audit_log") == [(0,)]
    session = old_store.session("alice")
    try:
        actions = [e.action for e in session.audit_log()]
        assert actions[0] == "genesis-officer" and actions[-1] == "unlock"
        assert actions.count("genesis-officer") == 3
        assert actions.count("genesis-contact") == 1
        assert actions.count("genesis") == len(REFS)
        for ref in REFS:
            assert session.record_damage(ref) is None
            assert [e.action for e in session.record_history(ref)] == ["genesis"]
    finally:
        session.vault.close()
    assert slot_versions(old_store) == {"alice": 2, "bob": 1, "carol": 1}  # alice's key was made at her unlock
    assert old_store.sql("SELECT value FROM liaison_meta WHERE key = 'audit_genesis'") == []


def test_every_officer_works_after_the_upgrade(old_store: LiaisonStore, tmp_path: Path) -> None:
    old_store.ok("list", officer="alice")
    draft, red, green, returned = REFS
    old_store.ok("edit", returned, "--summary", "agent removed", officer="carol")  # carol's first unlock: a key
    assert slot_versions(old_store) == {"alice": 2, "bob": 1, "carol": 2}
    old_store.ok("submit", returned, officer="carol")
    old_store.ok("review", returned, "--approve", officer="bob")
    assert old_store.show(red, officer="bob")["tlp"] == "RED"
    keys = [r[0] for r in old_store.sql("SELECT action FROM audit_log WHERE action = 'officer-key' ORDER BY seq")]
    assert keys == ["officer-key", "officer-key"]  # carol's and bob's
    old_store.ok("export", "--to", "TR-MOI", "--out", str(tmp_path / "out.bundle"))
    # the upgrade signed what the store held, and tampering after it is caught like any other
    old_store.sql("UPDATE records SET tlp = 'GREEN' WHERE reference = ?", (red,))
    assert old_store.cli("show", red).code == 1
    assert old_store.cli("show", draft).code == 0
    assert old_store.cli("show", green).code == 0


def test_an_emptied_log_is_not_a_fresh_upgrade(old_store: LiaisonStore) -> None:
    old_store.ok("list", officer="alice")
    old_store.sql("DELETE FROM audit_log")
    old_store.sql("DELETE FROM audit_checkpoints")
    old_store.sql("DELETE FROM liaison_meta WHERE key = 'audit_frontier'")
    # This workstation saw the log and calls it a rollback; another one (no witness) finds the officers unbacked.
    here = old_store.cli("show", REFS[0], officer="alice")
    assert here.code == 1 and "store rolled back: log has 0 events" in here.err
    other = {"LIAISON_STATE_DIR": str(old_store.path.parent / "another-workstation")}
    result = old_store.cli("show", REFS[0], officer="alice", env=other)
    assert result.code == 1 and "audit log" in result.err
