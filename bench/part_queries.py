"""Part 3: the records browser's queries on the N-record store, against the same SQL replayed through raw sqlite3.

For every case Liaison's call is timed (p50, p95) interleaved with its baseline: the exact statements
Liaison sent (captured from SQLAlchemy's cursor events, parameters included) replayed with the stdlib
sqlite3 module, plus a raw Fernet decrypt of every encrypted value they return. The ratio is therefore
what Liaison's layers (SQLAlchemy, the ORM, validation, MultiFernet, row objects) add to the raw limit of
the same query plan. The plans themselves are judged by the absolute goal (p95 ≤ 50 ms at 100k).
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from cryptography.fernet import Fernet, MultiFernet
from sqlalchemy import event

from bench import corpus, raw
from bench.context import Bench
from bench.measure import Row, interleaved_ms, percentile
from store.records import RecordQuery, clear_count_cache
from store.service import Session, Vault

F = frozenset
PAGE = 50
GOAL_MS = 50.0
REPEAT = 60
REPEAT_COUNTS = 20


def cases() -> dict[str, RecordQuery]:
    """Each sidebar facet alone, two together, all four, newest and oldest first, and blind-index searches."""
    words = corpus.vocabulary()
    return {
        "no filter, newest first": RecordQuery(),
        "no filter, oldest first": RecordQuery(order="oldest"),
        "domain = narcotics": RecordQuery(domains=F({"narcotics"})),
        "counterpart = TR-MOI (95% of records)": RecordQuery(ministries=F({"TR-MOI"})),
        "counterpart = PK-NDMA (11%)": RecordQuery(ministries=F({"PK-NDMA"})),
        "TLP = AMBER": RecordQuery(tlps=F({"AMBER"})),
        "status = in-review": RecordQuery(statuses=F({"in-review"})),
        "two TLPs (AMBER, RED)": RecordQuery(tlps=F({"AMBER", "RED"})),
        "domain + TLP": RecordQuery(domains=F({"narcotics"}), tlps=F({"RED"})),
        "domain + counterpart": RecordQuery(domains=F({"cybercrime"}), ministries=F({"PK-ANF"})),
        "all four facets, newest first": RecordQuery(
            domains=F({"narcotics"}), ministries=F({"TR-MOI"}), tlps=F({"AMBER"}), statuses=F({"received"})
        ),
        "all four facets, oldest first": RecordQuery(
            domains=F({"narcotics"}),
            ministries=F({"TR-MOI"}),
            tlps=F({"AMBER"}),
            statuses=F({"received"}),
            order="oldest",
        ),
        "all four facets, rare values": RecordQuery(
            domains=F({"coast-guard"}), ministries=F({"PK-NDMA"}), tlps=F({"RED"}), statuses=F({"returned"})
        ),
        "search: a word in every record": RecordQuery(search=words[0]),
        "search: a word in ~5% of records": RecordQuery(search=words[500]),
        "search: a rare word (~0.15%)": RecordQuery(search=words[15000]),
        "search: two words": RecordQuery(search=f"{words[3]} {words[40]}"),
        "search + domain, oldest first": RecordQuery(search=words[300], domains=F({"narcotics"}), order="oldest"),
    }


@contextmanager
def captured(session: Session) -> Iterator[list[tuple[str, Any]]]:
    """The statements (and parameters) Liaison sends to SQLite inside the block."""
    statements: list[tuple[str, Any]] = []

    def listener(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            statements.append((statement, parameters))

    event.listen(session.db.engine, "before_cursor_execute", listener)
    try:
        yield statements
    finally:
        event.remove(session.db.engine, "before_cursor_execute", listener)


class Raw:
    """The raw limit of a call: its captured statements through sqlite3, each encrypted value Fernet-decrypted."""

    def __init__(self, path: Any, fernet: MultiFernet | Fernet) -> None:
        self.con = raw.connect(path)
        self.fernet = fernet

    def replay(self, statements: list[tuple[str, Any]]) -> Callable[[], None]:
        con, fernet = self.con, self.fernet

        def run() -> None:
            con.execute("BEGIN")
            for sql, params in statements:
                for row in con.execute(sql, params).fetchall():
                    for value in row:
                        if isinstance(value, bytes):
                            fernet.decrypt(base64.urlsafe_b64encode(value)).decode()
            con.execute("COMMIT")

        return run


def _measure(
    b: Bench,
    raw: Raw,
    session: Session,
    label: str,
    call: Callable[[], Any],
    repeat: int,
    goal: str,
    goal_ms: float | None,
    *,
    ratio_goal: float | None = None,
    part: str = "queries",
) -> None:
    with captured(session) as statements:
        call()
    liaison_ms, raw_ms = interleaved_ms([call, raw.replay(statements)], repeat)
    p50, p95, r50, r95 = (
        percentile(liaison_ms, 50),
        percentile(liaison_ms, 95),
        percentile(raw_ms, 50),
        percentile(raw_ms, 95),
    )
    if ratio_goal is not None:
        met = p50 / r50 <= ratio_goal
        b.add(
            Row(
                part,
                label,
                p50,
                "ms",
                r50,
                goal,
                met,
                note="p50",
                extra={"p95": p95, "raw_p95": r95, "samples": repeat},
            )
        )
    else:
        met = p95 <= goal_ms if goal_ms is not None else None
        b.add(
            Row(
                part,
                label,
                p95,
                "ms",
                r95,
                goal,
                met,
                note=f"p95; p50 {p50:.1f} vs {r50:.1f}",
                extra={"p50": p50, "raw_p50": r50, "samples": repeat},
            )
        )


def _measure_prepared(
    b: Bench, raw: Raw, session: Session, label: str, call: Callable[[], Any], prepare: Callable[[], Any], repeat: int
) -> None:
    """Like `_measure`, with `prepare()` (untimed) before every timed call of Liaison and of its baseline."""
    prepare()
    with captured(session) as statements:
        call()
    replay = raw.replay(statements)
    liaison_ms, raw_ms = [], []
    for _ in range(repeat):
        for fn, out in ((call, liaison_ms), (replay, raw_ms)):
            prepare()
            start = time.perf_counter()
            fn()
            out.append((time.perf_counter() - start) * 1000)
    p50, p95, r50, r95 = (
        percentile(liaison_ms, 50),
        percentile(liaison_ms, 95),
        percentile(raw_ms, 50),
        percentile(raw_ms, 95),
    )
    b.add(
        Row(
            "counts",
            label,
            p95,
            "ms",
            r95,
            f"p95 ≤ {GOAL_MS:.0f} ms*",
            p95 <= GOAL_MS,
            note=f"p95; p50 {p50:.1f} vs {r50:.1f}",
            extra={"p50": p50, "raw_p50": r50, "samples": repeat},
        )
    )


def run(b: Bench) -> None:
    vault = Vault.open(b.store)
    session = vault.unlock(b.officer, b.passphrase)
    keys = session.keyring
    assert keys is not None
    raw = Raw(b.store, Fernet(keys.data_keys[keys.current_version]))
    all_cases = cases()
    for label, query in all_cases.items():
        _measure(
            b,
            raw,
            session,
            f"first page: {label}",
            lambda q=query: session.list_records(q, limit=PAGE),
            REPEAT,
            f"p95 ≤ {GOAL_MS:.0f} ms",
            GOAL_MS,
        )

    # the browser's page-down: the next 50 by keyset cursor, from the middle of the store
    middle = session.list_records(RecordQuery(), limit=1, offset=b.records // 2)[0]
    cursor = (middle.created_at, middle.id)
    _measure(
        b,
        raw,
        session,
        "page-down mid-store (keyset cursor)",
        lambda: session.list_records(RecordQuery(), limit=PAGE, after=cursor),
        REPEAT,
        f"p95 ≤ {GOAL_MS:.0f} ms",
        GOAL_MS,
    )
    _measure(
        b,
        raw,
        session,
        "jump to the middle page (offset)",
        lambda: session.list_records(RecordQuery(), limit=PAGE, offset=b.records // 2),
        REPEAT,
        f"p95 ≤ {GOAL_MS:.0f} ms",
        GOAL_MS,
    )
    # page decrypt: 50 titles decrypted, against raw sqlite3 + Fernet running the same statements
    _measure(
        b,
        raw,
        session,
        "page decrypt, 50 rows",
        lambda: session.list_records(RecordQuery(), limit=PAGE),
        REPEAT,
        "≤ 3× raw",
        None,
        ratio_goal=3.0,
    )

    # the sidebar: the match count and the live facet counts, refreshed on each filter change. Counts are
    # cached per store state, so two figures: cold (the first counts after any store change: nothing
    # cached) and a filter toggle (the cube for the same counterpart filter cached by the query before).
    for label, query in all_cases.items():
        if label.endswith("oldest first") and "facets" in label:
            continue  # same counts as newest first

        def sidebar(q: RecordQuery = query) -> None:
            session.count_records(q)
            session.facet_counts(q)

        def before_toggle(q: RecordQuery = query) -> None:
            clear_count_cache()
            session.facet_counts(RecordQuery(ministries=q.ministries))

        _measure_prepared(b, raw, session, f"sidebar counts, cold: {label}", sidebar, clear_count_cache, REPEAT_COUNTS)
        if not query.search and (query.domains or query.tlps or query.statuses):
            _measure_prepared(
                b, raw, session, f"sidebar counts, filter toggled: {label}", sidebar, before_toggle, REPEAT_COUNTS
            )
    raw.con.close()
    vault.close()
