"""The log's count of events (`log_size`, the contiguity check of every cheap damage check) is kept per connection
and reused while the file provably did not change under that connection; the browser checks every page it fetches,
and the count walks the whole log. Threat 14: an event deleted from the middle of the log afterwards is still
caught by the next cheap check, whether another process deleted it or a statement on the very connection that kept
the count did."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event

from store.ingest import IngestItem
from tests.liaison_helpers import LiaisonStore

GAP = "events were deleted or inserted"


def _written(session: Any, n: int = 5) -> list[int]:
    now = datetime(2026, 11, 1, tzinfo=UTC)
    items = [
        IngestItem(
            domain="narcotics",
            origin="PK-MOI",
            tlp="AMBER",
            status="draft",
            author="alice",
            created_at=now,
            updated_at=now,
            title=f"Counted {i}",
            summary="a summary",
        )
        for i in range(n)
    ]
    return [rid for rid, _ref in session.ingest(items)]


@contextmanager
def statements(session: Any) -> Iterator[list[str]]:
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" ".join(statement.split()).lower())

    event.listen(session.db.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(session.db.engine, "before_cursor_execute", note)


def _counts_log(seen: list[str]) -> bool:
    return any("count(" in s and "from audit_log" in s for s in seen)


def test_a_second_page_check_does_not_count_the_log_again(store: LiaisonStore) -> None:
    session = store.session("alice")
    try:
        ids = _written(session)
        with statements(session) as seen:
            assert session.damaged_among(ids, full=False) == {}
        assert _counts_log(seen)
        with statements(session) as seen:
            assert session.damaged_among(ids, full=False) == {}
            assert session.damaged_among(ids[:2], full=False) == {}
        assert not _counts_log(seen)
        _written(session, 1)  # the log grew: counted again
        with statements(session) as seen:
            assert session.damaged_among(ids, full=False) == {}
        assert _counts_log(seen)
    finally:
        session.vault.close()


def test_an_event_another_process_deletes_is_caught_after_a_kept_count(store: LiaisonStore) -> None:
    session = store.session("alice")
    try:
        ids = _written(session)
        assert session.damaged_among(ids, full=False) == {}
        store.sql("DELETE FROM audit_log WHERE seq = 2")
        found = session.damaged_among(ids, full=False)
        assert set(found) == set(ids) and all(GAP in why for why in found.values())
    finally:
        session.vault.close()


def test_an_event_deleted_through_the_same_connection_is_caught_after_a_kept_count(store: LiaisonStore) -> None:
    session = store.session("alice")
    try:
        ids = _written(session)
        with session.db.read() as s:
            kept = id(s.connection().connection.driver_connection)
        assert session.damaged_among(ids, full=False) == {}
        with session.db.engine.connect() as conn:
            assert id(conn.connection.driver_connection) == kept  # the connection that keeps the count
            conn.exec_driver_sql("DELETE FROM audit_log WHERE seq = 2")
            conn.commit()
        found = session.damaged_among(ids, full=False)
        assert set(found) == set(ids) and all(GAP in why for why in found.values())
    finally:
        session.vault.close()


def _checked_action(session: Any, *, fail: bool = False) -> None:
    """A write action that checks the log (as a rotation's batch does) and then appends its event."""
    from store.audit import log as audit

    with session.act("note", "count-test") as s:
        count, top = audit.log_size(s)
        assert count == top
        audit.note(s, data={"counted": count})
        if fail:
            raise RuntimeError("the action fails after its append was queued")


def test_a_write_action_that_counted_the_log_keeps_the_count_its_append_left(store: LiaisonStore) -> None:
    """A rotation's batches each check the log, then append: the next check reuses the count the append left
    (no other connection can write meanwhile) instead of walking the log again — and it is the true count."""
    session = store.session("alice")
    try:
        ids = _written(session)
        _checked_action(session)
        with statements(session) as seen:
            assert session.damaged_among(ids, full=False) == {}
            _checked_action(session)  # a write transaction reuses it too
            _checked_action(session)
        assert not _counts_log(seen), seen
        (count,) = store.sql("SELECT count(*) FROM audit_log")[0]
        (top,) = store.sql("SELECT max(seq) FROM audit_log")[0]
        assert count == top
        with session.db.read() as s:
            from store.audit import log as audit

            assert audit.log_size(s) == (count, top)
    finally:
        session.vault.close()


def test_an_event_deleted_after_a_count_an_append_left_is_caught(store: LiaisonStore) -> None:
    """Threat 14: the count a write action's append left is not reused once another process has changed the file:
    an event deleted from the middle of the log is caught by the next check (and by the next action's)."""
    session = store.session("alice")
    try:
        ids = _written(session)
        _checked_action(session)
        store.sql("DELETE FROM audit_log WHERE seq = 2")
        found = session.damaged_among(ids, full=False)
        assert set(found) == set(ids) and all(GAP in why for why in found.values())
    finally:
        session.vault.close()


def test_an_action_whose_commit_fails_after_its_append_leaves_no_count_to_reuse(
    store: LiaisonStore, monkeypatch: Any
) -> None:
    """A write action that counted, appended and kept the count its append left, then failed to commit: its rows
    are rolled back and the kept count names a highest seq the log no longer has, so the next check counts the log
    as it is (and finds it intact)."""
    from store import sqlite as dialect

    session = store.session("alice")
    try:
        ids = _written(session)
        _checked_action(session)
        run = dialect.run_before_commit

        def failing(s: Any, conn: Any) -> None:
            run(s, conn)
            raise RuntimeError("the commit fails")

        monkeypatch.setattr(dialect, "run_before_commit", failing)
        with pytest.raises(RuntimeError, match="the commit fails"):
            _checked_action(session)
        monkeypatch.setattr(dialect, "run_before_commit", run)
        with statements(session) as seen:
            assert session.damaged_among(ids, full=False) == {}
        assert _counts_log(seen)
        _checked_action(session)  # and the store goes on
    finally:
        session.vault.close()
