"""`liaison demo` fills the desk on both sides: seven meetings, actions in every state, the same list at both."""

from __future__ import annotations

from pathlib import Path

from store.demo import DEMO_OFFICER, DEMO_PASSPHRASE, build_demo, counterpart_path
from store.jwg.quarter import Quarter
from store.service import Vault


def test_demo_desk(tmp_path: Path) -> None:
    result = build_demo(tmp_path / "demo.db", records=40)
    lists = {}
    for path in (result.path, counterpart_path(result.path)):
        vault = Vault.open(path)
        try:
            session = vault.unlock(DEMO_OFFICER, DEMO_PASSPHRASE)
            meetings = session.meetings()
            now = Quarter.of(session.clock())
            assert [m.quarter for m in meetings] == [str(now.shifted(i)) for i in range(-5, 2)]
            assert meetings[-1].status == "planned" and meetings[0].status == "held"
            assert {m.host for m in meetings} == {"PK-MOI", "TR-MOI"}
            assert session.meeting(meetings[0].quarter).agenda
            actions = session.actions()
            lists[path] = sorted((a.id, a.status) for a in actions)
            assert {a.status for a in actions} == {"open", "done", "dropped"}
            assert any(a.overdue for a in actions) and any(a.status == "open" and not a.overdue for a in actions)
            assert {a.owner for a in actions if a.status == "done"} == {"PK-MOI", "TR-MOI"}
            assert {a.origin for a in actions} == {"PK-MOI", "TR-MOI"}
        finally:
            vault.close()
    first, second = lists.values()
    assert first == second


def test_demo_ledger_has_what_pk_moi_received(tmp_path: Path) -> None:
    """The dashboard's "received" counts come from the ledger's inbound rows: the demo records the bundles that
    brought PK-MOI its TR-MOI records (and TR-MOI's side of them), so they are not all 0; the pending bundle
    from TR-MOI still imports after them (its sequence number follows theirs)."""
    from sqlalchemy import func, select

    from store.bundles import import_bundle
    from store.demo import PENDING_BUNDLE
    from store.models import BundleLog, Record

    result = build_demo(tmp_path / "demo.db", records=120)
    vault = Vault.open(result.path)
    tr_vault = Vault.open(counterpart_path(result.path))
    try:
        pk = vault.unlock(DEMO_OFFICER, DEMO_PASSPHRASE)
        tr = tr_vault.unlock(DEMO_OFFICER, DEMO_PASSPHRASE)
        with pk.db.read() as s:
            held = s.execute(select(func.count()).where(Record.origin == "TR-MOI")).scalar_one()
        stats = pk.desk_stats()
        assert held > 0
        assert stats.shared("received") == held
        assert {c for (_d, way, c) in stats.shares if way == "received"} == {"TR-MOI"}
        assert sum(n for (_q, way), n in stats.shares_by_quarter.items() if way == "received") == held
        with pk.db.read() as s, tr.db.read() as t:
            inbound = s.execute(select(BundleLog.bundle_id, BundleLog.seq).where(BundleLog.direction == "in")).all()
            outbound = t.execute(
                select(BundleLog.bundle_id, BundleLog.seq).where(
                    BundleLog.direction == "out", BundleLog.peer == "PK-MOI"
                )
            ).all()
        assert inbound and set(inbound) < set(outbound) and len(outbound) == len(inbound) + 1  # + the pending one
        imported = import_bundle(pk, result.path.parent / PENDING_BUNDLE)
        assert imported.seq == len(inbound) + 1 and not imported.already_imported
    finally:
        tr_vault.close()
        vault.close()
