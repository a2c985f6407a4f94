"""The tuned queries (probed id sets, row-value keyset, one-scan facet cube) return exactly what the plain
definitions return: every page, count and facet count, for many filter combinations, both orders."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Integer, and_, column, func, or_, select

from store import sqlite as dialect
from store.demo import DEMO_OFFICER, DEMO_PASSPHRASE, build_demo
from store.models import Record, RecordParty
from store.records import RecordQuery, ordered
from store.service import Changes, Draft, Session, Vault

DOMAINS = ("narcotics", "coast-guard", "cybercrime", "policing")
MINISTRIES = ("TR-MOI", "PK-ANF", "PK-NDMA", "PK-MOI")
TLPS = ("CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED")
STATUSES = ("draft", "in-review", "approved", "shared", "received", "closed")
SEARCHES = ("", "", "karachi", "heroin consignment", "the", "gwadar", "falcon network", "nosuchwordanywhere")


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    path: Path = tmp_path_factory.mktemp("equiv") / "demo.db"
    fixed = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    build_demo(path, records=400, clock=lambda: fixed)
    vault = Vault.open(path, clock=lambda: fixed)
    session = vault.unlock(DEMO_OFFICER, DEMO_PASSPHRASE)
    # six records at the same instant (ties on created_at exercise the keyset's id tie-break) and an edit
    refs = [
        session.add_record(
            Draft(domain="narcotics", tlp="AMBER", title=f"Tie {i} heroin at Karachi", releasable_to=["TR-MOI"])
        )
        for i in range(6)
    ]
    session.edit_record(refs[0], Changes(title="Tie zero edited gwadar", summary="Falcon network moved through Gwadar"))
    yield session
    vault.close()


def plain_conditions(query: RecordQuery, tokens: list[str] | None) -> list:
    conds = []
    if query.domains:
        conds.append(Record.domain.in_(sorted(query.domains)))
    if query.tlps:
        conds.append(Record.tlp.in_(sorted(query.tlps)))
    if query.statuses:
        conds.append(Record.status.in_(sorted(query.statuses)))
    if query.ministries:
        conds.append(
            Record.id.in_(select(RecordParty.record_id).where(RecordParty.ministry.in_(sorted(query.ministries))))
        )
    if tokens:
        ids = dialect.index_match_clause(tokens).columns(column("rowid", Integer)).subquery()
        conds.append(Record.id.in_(select(ids.c.rowid)))
    return conds


def plain_facets(session: Session, query: RecordQuery) -> dict[str, dict[str, int]]:
    result = {}
    with session.db.read() as s:
        for facet in ("domain", "ministry", "tlp", "status"):
            sub = query.without(facet)
            conds = plain_conditions(sub, session._search_tokens(sub))
            if facet == "ministry":
                stmt = (
                    select(RecordParty.ministry, func.count())
                    .join(Record, Record.id == RecordParty.record_id)
                    .where(*conds, RecordParty.ministry != session.ministry)
                    .group_by(RecordParty.ministry)
                )
            else:
                col = {"domain": Record.domain, "tlp": Record.tlp, "status": Record.status}[facet]
                stmt = select(col, func.count()).where(*conds).group_by(col)
            result[facet] = {str(k): int(v) for k, v in s.execute(stmt)}
    return result


def plain_ids(session: Session, query: RecordQuery) -> list[int]:
    with session.db.read() as s:
        stmt = ordered(select(Record.id).where(*plain_conditions(query, session._search_tokens(query))), query.order)
        return list(s.scalars(stmt))


def queries(n: int) -> Iterator[RecordQuery]:
    rng = random.Random(5)
    yield RecordQuery()
    yield RecordQuery(order="oldest")
    for _ in range(n):

        def some(values: tuple[str, ...]) -> frozenset[str]:
            return frozenset(rng.sample(values, rng.choice((0, 0, 1, 1, 2))))

        yield RecordQuery(
            domains=some(DOMAINS),
            ministries=some(MINISTRIES),
            tlps=some(TLPS),
            statuses=some(STATUSES),
            search=rng.choice(SEARCHES),
            order=rng.choice(("newest", "oldest")),
        )


@pytest.mark.parametrize(
    "query",
    list(queries(60)),
    ids=lambda q: f"{sorted(q.domains)}{sorted(q.ministries)}{sorted(q.tlps)}{sorted(q.statuses)}{q.search!r}{q.order}",
)
def test_pages_counts_and_facets_match_the_plain_queries(session: Session, query: RecordQuery) -> None:
    expected = plain_ids(session, query)
    assert session.count_records(query) == len(expected)
    assert session.facet_counts(query) == plain_facets(session, query)
    # keyset pages of 7, as the browser and `liaison list` walk them
    got, after = [], None
    while True:
        rows = session.list_records(query, limit=7, after=after)
        got.extend(r.id for r in rows)
        if len(rows) < 7:
            break
        after = (rows[-1].created_at, rows[-1].id)
    assert got == expected
    # offset pages, as the browser asks for a page whose predecessor it does not hold
    assert [r.id for r in session.list_records(query, limit=5, offset=11)] == expected[11:16]


def test_keyset_equals_the_or_form_on_ties(session: Session) -> None:
    with session.db.read() as s:
        for order in ("newest", "oldest"):
            all_rows = list(s.execute(ordered(select(Record.created_at, Record.id), order)))
            for created, rid in all_rows[::17]:
                cmp = (Record.created_at > created) if order == "oldest" else (Record.created_at < created)
                tie = Record.id > rid if order == "oldest" else Record.id < rid
                plain = list(
                    s.scalars(
                        ordered(select(Record.id).where(or_(cmp, and_(Record.created_at == created, tie))), order)
                    )
                )
                rows = session.list_records(RecordQuery(order=order), limit=len(plain) + 1, after=(created, rid))
                assert [r.id for r in rows] == plain


def test_page_rows_equal_the_orm_rows(session: Session) -> None:
    """The one-statement page (plain columns, recipients from a subquery) builds the same rows as the ORM path."""
    for query in (
        RecordQuery(),
        RecordQuery(order="oldest"),
        RecordQuery(ministries=frozenset({"PK-ANF"})),
        RecordQuery(search="karachi"),
    ):
        rows = session.list_records(query, limit=40)
        with session.db.read() as s:
            records = {r.id: r for r in s.scalars(select(Record).where(Record.id.in_([r.id for r in rows])))}
            expected = session._rows(s, [records[r.id] for r in rows])
        assert rows == expected
        assert any(r.releasable_to for r in rows) or query.search


def test_cached_counts_follow_every_change(tmp_path: Path) -> None:
    """Counts are cached per store state (the change counter): a write by any session shows at once."""
    fixed = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    path = tmp_path / "demo.db"
    build_demo(path, records=60, clock=lambda: fixed)
    with Vault.open(path, clock=lambda: fixed) as vault, Vault.open(path, clock=lambda: fixed) as other_process:
        session = vault.unlock(DEMO_OFFICER, DEMO_PASSPHRASE)
        writer = other_process.unlock(DEMO_OFFICER, DEMO_PASSPHRASE)
        query = RecordQuery(ministries=frozenset({"PK-NDMA"}))
        before, facets = session.count_records(query), session.facet_counts(query)
        assert session.count_records(query) == before  # served from the cache
        writer.add_record(
            Draft(domain="cybercrime", tlp="GREEN", title="Fresh record for the NDMA", releasable_to=["PK-NDMA"])
        )
        assert session.count_records(query) == before + 1
        after = session.facet_counts(query)
        assert after["domain"].get("cybercrime", 0) == facets["domain"].get("cybercrime", 0) + 1
        assert after["ministry"]["PK-NDMA"] == facets["ministry"]["PK-NDMA"] + 1
        assert after == plain_facets(session, query)


@pytest.mark.parametrize("code", MINISTRIES)
def test_single_counterpart_count_equals_the_plain_count(session: Session, code: str) -> None:
    from store.records import clear_count_cache

    clear_count_cache()  # the index-range count path, not a sum over a cached cube
    query = RecordQuery(ministries=frozenset({code}))
    assert session.count_records(query) == len(plain_ids(session, query))
