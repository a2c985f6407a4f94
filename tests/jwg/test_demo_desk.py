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
