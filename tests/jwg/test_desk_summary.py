"""The desk summary's meeting line: a meeting whose day passed without being marked held is named, with how to
mark it held, instead of the desk reading "none planned" (the store's `desk_summary` and `meetings list`)."""

from __future__ import annotations

from datetime import date, timedelta

from store.jwg.quarter import Quarter
from tests.liaison_helpers import LiaisonStore


def _today(store: LiaisonStore) -> date:
    session = store.session()
    try:
        return session.clock().date()
    finally:
        session.vault.close()


def test_a_meeting_passed_and_not_marked_held_is_named(store: LiaisonStore) -> None:
    today = _today(store)
    day = today - timedelta(days=5)
    q = Quarter.of(day)
    earlier = q.previous()
    store.ok("meetings", "add", "--quarter", str(earlier), "--date", str(earlier.first_day + timedelta(days=40)), "--venue", "Islamabad", "--host", "PK-MOI")  # fmt: skip
    store.ok("meetings", "add", "--quarter", str(q), "--date", str(day), "--venue", "Ankara", "--host", "TR-MOI")
    line = f"{q} ({day}) passed, not marked held: meetings held {q} (1 earlier meeting not marked held either)"
    session = store.session()
    try:
        summary = session.desk_summary()
        assert summary.next is None and session.next_meeting() is None
        assert [m.quarter for m in summary.not_held] == [str(earlier), str(q)]
        assert summary.not_held_line() == line
    finally:
        session.vault.close()
    listed = store.ok("meetings", "list")
    assert f"meeting {line}" in listed.err
    store.ok("meetings", "held", str(earlier))
    store.ok("meetings", "held", str(q))
    session = store.session()
    try:
        assert session.desk_summary().not_held == () and session.desk_summary().not_held_line() is None
    finally:
        session.vault.close()
    assert "not marked held" not in store.ok("meetings", "list").err
    # a meeting still ahead is the next one; one today is not passed yet
    nxt = q.next()
    store.ok("meetings", "add", "--quarter", str(nxt), "--date", str(nxt.first_day + timedelta(days=30)), "--venue", "Ankara", "--host", "PK-MOI")  # fmt: skip
    session = store.session()
    try:
        summary = session.desk_summary()
        assert summary.next is not None and summary.next.quarter == str(nxt) and summary.not_held == ()
    finally:
        session.vault.close()


def test_a_counterparts_meeting_not_marked_held_is_theirs_to_mark() -> None:
    from store.jwg.meetings import MeetingInfo
    from store.jwg.summary import DeskSummary

    m = MeetingInfo("2026-Q4", date(2026, 11, 30), "Ankara", "TR-MOI", "planned", "TR-MOI", None)
    summary = DeskSummary(date(2026, 12, 5), "PK-MOI", None, (m,))
    assert summary.not_held_line() == "2026-Q4 (2026-11-30) passed, not marked held: TR-MOI planned it, marks it held"
