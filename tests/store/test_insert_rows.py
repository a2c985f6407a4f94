"""`store.sqlite.insert_rows` (the bulk paths' executemany without SQLAlchemy's per-row processing) writes exactly
the bytes the ORM's `insert(table)` writes: times, booleans, bytes and NULLs alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, literal_column, select, text

from store import sqlite as dialect
from store.jwg.models import Meeting
from store.models import AuditRow, Base, Domain, Ministry, Record

TIMES = [
    datetime(2026, 12, 6, 1, 2, 3, 456789, tzinfo=UTC),
    datetime(2026, 12, 6, 1, 2, 3, tzinfo=UTC),  # no microseconds: still written with six digits
    datetime(2026, 12, 6, 4, 2, 3, 5, tzinfo=timezone(timedelta(hours=3))),  # another zone: stored as UTC
    datetime(999, 1, 2, 3, 4, 5, 6),  # naive (UTC, as the store keeps them), a three-digit year
]


def _rows(engine: Any, table: str, order: str) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.exec_driver_sql(f"SELECT * FROM {table} ORDER BY {order}")]


def test_rows_are_the_orm_rows(tmp_path: Path) -> None:
    engine = dialect.make_engine(tmp_path / "rows.db")
    Base.metadata.create_all(engine)
    audit = [
        {
            "seq": i,
            "at": at,
            "officer": "ayşe",
            "action": "create",
            "target": "PK-MOI-2026-00001",
            "record_uuid": None if i % 2 else f"uuid-{i}",
            "body": b'{"v":1}',
            "signer": bytes(32),
            "sig": bytes(range(64)),
            "detail_ct": None if i % 2 else b"\x00ct",
            "chain": bytes([i]) * 32,
        }
        for i, at in enumerate(TIMES, 1)
    ]
    records = [
        {
            "id": i,
            "reference": f"PK-MOI-2026-{i:05d}",
            "uuid": f"u{i}",
            "domain": "narcotics",
            "origin": "PK-MOI",
            "tlp": "AMBER",
            "status": "draft",
            "author": "bob",
            "created_at": at,
            "updated_at": at,
            "revision": 1,
            "no_reexport": bool(i % 2),
            "title_ct": b"t" * i,
        }
        for i, at in enumerate(TIMES, 1)
    ]
    with engine.begin() as conn:
        conn.execute(insert(Ministry), [{"code": "PK-MOI", "name": "PK"}])
        conn.execute(insert(Domain), [{"slug": "narcotics", "label": "Narcotics"}])
    with engine.begin() as conn:
        conn.execute(insert(AuditRow), audit)
        conn.execute(insert(Record), records)
    orm_audit, orm_records = _rows(engine, "audit_log", "seq"), _rows(engine, "records", "id")
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log"))
        conn.execute(text("DELETE FROM records"))
    with engine.begin() as conn:
        dialect.insert_rows(conn, AuditRow.__table__, audit)
        dialect.insert_rows(conn, Record.__table__, records)
        dialect.insert_rows(conn, Record.__table__, [])  # nothing to write: no statement
    assert _rows(engine, "audit_log", "seq") == orm_audit
    assert _rows(engine, "records", "id") == orm_records
    assert orm_audit[1][1] == "2026-12-06 01:02:03.000000" and orm_audit[2][1] == "2026-12-06 01:02:03.000005"
    engine.dispose()


def test_a_date_column_is_refused_not_guessed(tmp_path: Path) -> None:
    engine = dialect.make_engine(tmp_path / "rows.db")
    Base.metadata.create_all(engine)
    with engine.begin() as conn, pytest.raises(TypeError):
        dialect.insert_rows(conn, Meeting.__table__, [{"day": datetime(2026, 1, 1).date()}])
    engine.dispose()


def test_in_values_selects_what_in_selects(tmp_path: Path) -> None:
    """`in_values` (one JSON parameter) selects exactly the rows `IN (…)` selects, for ids and for text, and none
    for an empty list."""
    engine = dialect.make_engine(tmp_path / "rows.db")
    Base.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(Ministry), [{"code": f"M{i}", "name": f'name "{i}" ş'} for i in range(50)])
    with engine.connect() as conn:
        for values in ([], ["M1", "M7", "nobody", 'x"y'], [f"M{i}" for i in range(0, 50, 3)]):
            got = set(conn.scalars(select(Ministry.code).where(dialect.in_values(Ministry.code, values))))
            assert got == set(conn.scalars(select(Ministry.code).where(Ministry.code.in_(values))))
        ids = [2, 4, 99]
        rowid = literal_column("rowid")
        got_ids = set(conn.scalars(select(rowid).select_from(Ministry).where(dialect.in_values(rowid, ids))))
        assert got_ids == {2, 4}
    engine.dispose()
