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
