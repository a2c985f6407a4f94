"""Threat 25 on the receiving side: a held record tampered with in the file is not written over (and so not
signed again as it stands) by the next bundle that updates it; an intact one is, and the result is intact."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.liaison_helpers import LiaisonStore, assert_refused, init_store


@pytest.fixture
def pair(tmp_path: Path) -> tuple[LiaisonStore, LiaisonStore, str]:
    pk = init_store(tmp_path / "pk" / "pk-moi.db", "--no-four-eyes", ministry="PK-MOI")
    tr = init_store(tmp_path / "tr" / "tr-moi.db", "--no-four-eyes", ministry="TR-MOI")
    pk.ok("identity", "export", "--out", str(tmp_path / "pk.card"))
    tr.ok("identity", "export", "--out", str(tmp_path / "tr.card"))
    pk.ok("contacts", "add", str(tmp_path / "tr.card"))
    tr.ok("contacts", "add", str(tmp_path / "pk.card"))
    ref = pk.add("Route report", "--summary", "first", "--to", "TR-MOI", "--submit")
    pk.ok("review", ref, "--approve")
    pk.ok("export", "--to", "TR-MOI", "--out", str(tmp_path / "r1.bundle"))
    tr.ok("import", str(tmp_path / "r1.bundle"))
    # revision 2 at the origin (a shared record reopened: a state no command reaches yet, signed as a feature would)
    pk.signed_sql("UPDATE records SET status = 'returned' WHERE reference = ?", (ref,), reference=ref)
    pk.ok("edit", ref, "--summary", "second")
    pk.ok("submit", ref)
    pk.ok("review", ref, "--approve")
    pk.ok("export", "--to", "TR-MOI", "--out", str(tmp_path / "r2.bundle"))
    return pk, tr, ref


def test_an_update_over_a_tampered_held_record_is_refused(pair: tuple[LiaisonStore, LiaisonStore, str]) -> None:
    _pk, tr, ref = pair
    bundle = tr.path.parent.parent / "r2.bundle"
    tr.sql("UPDATE records SET no_reexport = 0, tlp = 'CLEAR' WHERE reference = ?", (ref,))
    assert_refused(tr.cli("import", str(bundle)), f"record {ref} held here is damaged", exact=False)
    tr.sql("UPDATE records SET no_reexport = 0, tlp = 'AMBER' WHERE reference = ?", (ref,))  # put back
    tr.ok("import", str(bundle))
    assert tr.show(ref)["summary"] == "second"
    session = tr.session("alice")
    try:
        assert session.record_damage(ref) is None
        assert [e.action for e in session.record_history(ref)][-2:] == ["import", "read"]
    finally:
        session.vault.close()
