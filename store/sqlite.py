"""Everything SQLite-specific in one place: pragmas, page size, write locking, the full-text blind index.

A later PostgreSQL backend replaces this module's functions; nothing else in `store/` speaks SQLite.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import (
    Date,
    DateTime,
    Engine,
    Table,
    TypeDecorator,
    create_engine,
    event,
    func,
    literal_column,
    select,
    text,
)
from sqlalchemy.engine import URL, Connection
from sqlalchemy.sql import FromClause

#: ~2 KB rows (a 1.5 KB summary is a ~1.6 KB raw Fernet token) fit four to a page at 8 KiB, one at 4 KiB.
PAGE_SIZE = 8192
BUSY_TIMEOUT_MS = 15_000
SQLITE_MAGIC = b"SQLite format 3\x00"
SEARCH_TABLE = "search_index"

#: Contentless FTS5 over hex HMAC tokens: the index stores only tokens, never words, and no copy of them.
SEARCH_TABLE_DDL = f"CREATE VIRTUAL TABLE {SEARCH_TABLE} USING fts5(tokens, content='', detail=none, tokenize='ascii')"

_CONNECT_PRAGMAS = (
    f"PRAGMA page_size={PAGE_SIZE}",  # only effective before the first table exists
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA secure_delete=ON",
    "PRAGMA temp_store=MEMORY",
    f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}",
    "PRAGMA cache_size=-8192",  # 8 MiB per pooled connection: the app keeps several
)


def make_engine(path: Path) -> Engine:
    """An engine whose every connection carries Liaison's pragmas; writers take the lock up front."""
    engine = create_engine(
        URL.create(
            "sqlite+pysqlite", database=str(path)
        ),  # not a URL string: a '#' or '?' in the name stays in the name
        connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
        pool_pre_ping=False,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (below)
        cursor = dbapi_connection.cursor()
        for pragma in _CONNECT_PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # BEGIN IMMEDIATE for writers so two processes queue on busy_timeout instead of failing on upgrade.
        mode = "IMMEDIATE" if conn.get_execution_options().get("liaison_write") else "DEFERRED"
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


def connection_state(conn: Connection) -> tuple[int, int]:
    """What differs whenever the file may have changed under this connection since it last asked, read in the
    caller's transaction: SQLite's `data_version` (it moves with every commit by any other connection, another
    process's or this one's other pooled connections) and the connection's own `total_changes` (every row it
    inserted, updated or deleted, committed or not)."""
    data_version = int(conn.exec_driver_sql("PRAGMA data_version").scalar_one())
    raw = conn.connection.driver_connection
    assert isinstance(raw, sqlite3.Connection)
    return data_version, raw.total_changes


def compact(engine: Engine) -> bool:
    """VACUUM the file, then fold the WAL into it and truncate the WAL, so neither freed pages nor old page images
    keep deleted or overwritten bytes. False when another connection's open read kept it from completing."""
    raw = engine.raw_connection()
    try:
        conn = raw.driver_connection
        assert isinstance(conn, sqlite3.Connection)
        # VACUUM builds the whole compacted file in its temporary store first: with the connections'
        # temp_store=MEMORY that is the file's size in RAM (715 MB peak for `keys rotate` at 100k records);
        # a temporary file instead (SQLite creates it unlinked, and it holds what the store holds: the same
        # ciphertexts under the current key and plaintext tags, no old token)
        conn.execute("PRAGMA temp_store=FILE")
        try:
            conn.execute("VACUUM")
        finally:
            conn.execute("PRAGMA temp_store=MEMORY")
        busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        return bool(busy) and busy[0] == 0
    except sqlite3.OperationalError:
        return False
    finally:
        raw.close()


def read_only_probe(path: Path) -> sqlite3.Connection:
    """Open the file strictly read-only for pre-flight checks, so a foreign file's bytes stay untouched.

    A plain read-only open of a WAL-mode file creates `-wal` and `-shm` beside it and leaves them there. With
    no `-wal` present no process has the file open, so it is opened `immutable` (main file only, nothing
    created); with one present another process may be writing, and the shared read-only open is the right one.
    """
    immutable = "" if Path(f"{path}-wal").exists() else "&immutable=1"
    uri = f"file:{quote(str(Path(path).absolute()))}?mode=ro{immutable}"
    return sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000)


def has_sqlite_magic(path: Path) -> bool:
    """True when the file starts like an SQLite database."""
    with path.open("rb") as fh:
        return fh.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC


def index_insert(conn: Connection, rows: Sequence[tuple[int, str]]) -> None:
    """Add (record id, space-separated tokens) rows to the blind index."""
    if rows:
        conn.exec_driver_sql(f"INSERT INTO {SEARCH_TABLE}(rowid, tokens) VALUES (?, ?)", list(rows))


def index_clear(conn: Connection) -> None:
    """Empty the blind index (before rebuilding it under a new index key)."""
    conn.exec_driver_sql(f"INSERT INTO {SEARCH_TABLE}({SEARCH_TABLE}) VALUES ('delete-all')")


def index_delete(conn: Connection, rows: Sequence[tuple[int, str]]) -> None:
    """Remove rows from the contentless index; FTS5 needs the exact tokens that were inserted."""
    if rows:
        conn.exec_driver_sql(
            f"INSERT INTO {SEARCH_TABLE}({SEARCH_TABLE}, rowid, tokens) VALUES ('delete', ?, ?)", list(rows)
        )


def unindexed(column: Any) -> Any:
    """`column + 0`: the same values, but SQLite will not drive the query from an index lookup on it.

    SQLite's documented idiom (a unary `+`) for a large `IN (subquery)` filter: probed as a set while the
    query walks the index that gives the ORDER BY, instead of fetching and sorting every match.
    """
    return column + literal_column("0")


def index_match_clause(tokens: Iterable[str]) -> Any:
    """A SQL fragment selecting record ids whose indexed tokens include every one of `tokens`."""
    query = " AND ".join(f'"{t}"' for t in tokens)
    return text(f"SELECT rowid FROM {SEARCH_TABLE} WHERE {SEARCH_TABLE} MATCH :q").bindparams(q=query)


def in_values(column: Any, values: Sequence[int] | Sequence[str]) -> Any:
    """`column IN (values)` with the values bound as ONE JSON array read by `json_each`, not one parameter each:
    SQLAlchemy's expansion of a 5,000-value IN list costs more than the query (a damage check's record states)."""
    each = func.json_each(json.dumps(list(values))).table_valued("value")
    return column.in_(select(each.c.value))


def stored_time(value: Any) -> Any:
    """A datetime as SQLAlchemy's SQLite DateTime stores it (naive UTC, `YYYY-MM-DD HH:MM:SS.ffffff`); anything
    else unchanged. `insert_rows` writes times this way, so its rows are byte-identical to the ORM's."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat(" ", "microseconds")
    return value


def _is_time(kind: Any) -> bool:
    """A DateTime column (or a decorator over one); any other decorated type is refused, not guessed at."""
    if isinstance(kind, Date):
        raise TypeError("insert_rows cannot write a Date column")
    if isinstance(kind, TypeDecorator):
        if not isinstance(kind.impl_instance, DateTime):
            raise TypeError(f"insert_rows cannot write a {type(kind).__name__} column")
        return True
    return isinstance(kind, DateTime)


def insert_rows(conn: Connection, table: FromClause, rows: Sequence[Mapping[str, Any]]) -> None:
    """`conn.execute(insert(table), rows)` without SQLAlchemy's per-row parameter processing (the hot loops of
    bulk ingest, imports, exports and the audit log): one driver executemany of tuples. Every row has the keys of
    the first; text, integers, booleans, bytes and None go to the driver as they are, datetimes as `stored_time`
    (the column types those tables use; a test holds the rows equal to the ORM's)."""
    assert isinstance(table, Table)
    if not rows:
        return
    names = list(rows[0])
    times = [i for i, name in enumerate(names) if _is_time(table.c[name].type)]
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
    params: list[tuple[Any, ...]] = []
    if times:
        for row in rows:
            values = [row[name] for name in names]
            for i in times:
                values[i] = stored_time(values[i])
            params.append(tuple(values))
    else:
        params = [tuple(row[name] for name in names) for row in rows]
    conn.exec_driver_sql(sql, params)


def reader(conn: Connection, column: Any) -> Callable[[Any], Any]:
    """How SQLAlchemy converts a value of `column` as the driver returns it (a time, a boolean), for rows read with
    `exec_driver_sql`: the column type's own result processor, or the value as it is."""
    dialect = conn.dialect
    process = column.type.dialect_impl(dialect).result_processor(dialect, None)
    return process if process is not None else _as_is


def naive_time_reader(conn: Connection) -> Callable[[Any], Any]:
    """How SQLAlchemy's `DateTime` converts a stored time, without `UTCDateTime`'s `tzinfo=UTC`: a naive UTC
    datetime, for values only ever written out as RFC 3339 UTC text (`store.audit.snapshot.iso`), which reads a
    naive time as UTC — one `datetime.replace` fewer for each of an export's or `audit verify`'s ~300,000 times."""
    from sqlalchemy.types import DateTime

    dialect = conn.dialect
    process = DateTime().dialect_impl(dialect).result_processor(dialect, None) or _as_is

    def read(value: Any) -> Any:
        moment = process(value)
        # an offset written into the file is dropped, as `UTCDateTime` replaces it with UTC: the same wall time
        return moment.replace(tzinfo=None) if isinstance(moment, datetime) and moment.tzinfo is not None else moment

    return read


def _as_is(value: Any) -> Any:
    return value


#: Where a write transaction's session lists what to run just before it commits (`before_commit`).
_BEFORE_COMMIT = "liaison.before_commit"


def before_commit(s: Any, step: Callable[[Connection], None]) -> None:
    """Run `step(connection)` as the last thing of the write transaction `s` (an ORM session of `Database.write`),
    after its last write and just before it commits; not at all if it rolls back."""
    s.info.setdefault(_BEFORE_COMMIT, []).append(step)


def run_before_commit(s: Any, conn: Connection) -> None:
    """The steps `before_commit` listed for `s`, in order (`Database.write`, just before it commits)."""
    for step in s.info.pop(_BEFORE_COMMIT, []):
        step(conn)
