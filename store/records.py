"""Record views (rows, details) and the paged, filtered queries behind the browser, the CLI and the review queue."""

from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict
from collections.abc import Callable, Collection, Hashable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, Literal

from sqlalchemy import Integer, Select, bindparam, column, func, literal, select, tuple_
from sqlalchemy.sql.elements import ColumnElement

from store import sqlite as dialect
from store.errors import IntegrityError
from store.models import Domain, Meta, Record, RecordParty
from store.text import quote
from store.vocab import Status, Tlp, stored_status, stored_tlp

Order = Literal["newest", "oldest"]
FACETS = ("domain", "ministry", "tlp", "status")


@dataclass(frozen=True)
class RecordQuery:
    """Filters of the browser and `liaison list`: values within a facet are OR-ed, facets AND-ed."""

    domains: frozenset[str] = frozenset()
    ministries: frozenset[str] = frozenset()
    tlps: frozenset[str] = frozenset()
    statuses: frozenset[str] = frozenset()
    search: str = ""
    order: Order = "newest"
    #: Created at or after `since` and strictly before `until` (None: unbounded).
    since: datetime | None = None
    until: datetime | None = None

    def without(self, facet: str) -> RecordQuery:
        """The same query with one facet's filter dropped (for that facet's live counts)."""
        attr = {"domain": "domains", "ministry": "ministries", "tlp": "tlps", "status": "statuses"}[facet]
        return RecordQuery(**{**self.__dict__, attr: frozenset()})

    def toggled(self, facet: str, value: str) -> RecordQuery:
        """The same query with `value` added to or removed from a facet."""
        attr = {"domain": "domains", "ministry": "ministries", "tlp": "tlps", "status": "statuses"}[facet]
        current: frozenset[str] = getattr(self, attr)
        return RecordQuery(**{**self.__dict__, attr: current ^ {value}})

    @property
    def is_empty(self) -> bool:
        """True when no filter is set."""
        return not (
            self.domains
            or self.ministries
            or self.tlps
            or self.statuses
            or self.search.strip()
            or self.since
            or self.until
        )


@dataclass(frozen=True)
class RecordRow:
    """What a list shows of a record: plaintext tags and the decrypted title."""

    id: int
    reference: str
    uuid: str
    domain: str
    origin: str
    releasable_to: tuple[str, ...]
    tlp: Tlp
    status: Status
    author: str
    created_at: datetime
    updated_at: datetime
    revision: int
    title: str
    withdrawn: bool = False  # its origin withdrew it (set by list queries)


@dataclass(frozen=True)
class RevisionInfo:
    """One earlier or current version of a record."""

    number: int
    created_at: datetime
    officer: str
    tlp: str
    releasable_to: tuple[str, ...]
    title: str
    summary: str


@dataclass(frozen=True)
class ReviewInfo:
    """A step of the review workflow."""

    officer: str
    action: str
    at: datetime
    comment: str


@dataclass(frozen=True)
class RecordDetail:
    """Everything about one record, decrypted."""

    row: RecordRow
    summary: str
    source: str
    notes: str
    revisions: tuple[RevisionInfo, ...]
    reviews: tuple[ReviewInfo, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)


def search_ids(tokens: list[str]) -> Any:
    """A subquery of the record ids whose blind-index tokens include all of `tokens`."""
    return dialect.index_match_clause(tokens).columns(column("rowid", Integer))


def conditions(query: RecordQuery, search_tokens: list[str] | None, *, paged: bool = True) -> list[ColumnElement[bool]]:
    """The WHERE clauses for a query; `search_tokens` are the blind-index tokens of `query.search`.

    The ministry and search filters are set-membership tests on the record id. For a page (`paged`) they
    must not drive the query: driven from their subquery, SQLite fetches and sorts every match (~95,000
    for a common counterpart or word, 100–170 ms at 100k) to show 50. Probed instead (ministries: one
    EXISTS look-up of the party key per row; search: the FTS matches as an in-memory set), the created_at
    index is walked in display order and the walk stops at the page's last row.
    A count (`paged=False`) may drive from a set, unless a domain, TLP or status filter offers an index
    range to probe from (driving from 95k party rows to count 587 records took 53 ms).
    """
    record_filters = query.domains or query.tlps or query.statuses
    return _conditions(query, search_tokens, drive=() if paged or record_filters else ("ministries", "search"))


def _conditions(
    query: RecordQuery, search_tokens: list[str] | None, *, drive: Collection[str], full_scan: bool = False
) -> list[ColumnElement[bool]]:
    """`conditions`, with the id sets named in `drive` ("ministries", "search") free to drive the query.

    A ministry set that may not drive is probed per row with EXISTS, which needs no set built first (a
    page stops early), or, for a `full_scan` that visits every row anyway, as an in-memory set (44 ms
    instead of 63 ms for the 95k-record counterpart at 100k).
    """
    conds: list[ColumnElement[bool]] = []
    if query.since is not None:
        conds.append(Record.created_at >= query.since)
    if query.until is not None:
        conds.append(Record.created_at < query.until)
    if query.domains:
        conds.append(Record.domain.in_(sorted(query.domains)))
    if query.tlps:
        conds.append(Record.tlp.in_(sorted(query.tlps)))
    if query.statuses:
        conds.append(Record.status.in_(sorted(query.statuses)))
    if query.ministries:
        if "ministries" in drive:
            conds.append(Record.id.in_(party_ids(query.ministries)))
        elif full_scan:
            conds.append(dialect.unindexed(Record.id).in_(party_ids(query.ministries)))
        else:  # one probe of the (record_id, ministry) key per candidate row; no set to build first
            conds.append(party_ids(query.ministries).where(RecordParty.record_id == Record.id).exists())
    if search_tokens:
        record_id = Record.id if "search" in drive else dialect.unindexed(Record.id)
        conds.append(record_id.in_(select(search_ids(search_tokens).subquery().c.rowid)))
    return conds


def party_ids(ministries: frozenset[str]) -> Select[Any]:
    """The ids of records that any of `ministries` is a party to (origin or recipient)."""
    return select(RecordParty.record_id).where(RecordParty.ministry.in_(sorted(ministries)))


def ordered(stmt: Select[*tuple[Any, ...]], order: Order) -> Select[*tuple[Any, ...]]:
    """Newest or oldest first, ties broken by id so keyset paging is stable."""
    if order == "oldest":
        return stmt.order_by(Record.created_at.asc(), Record.id.asc())
    return stmt.order_by(Record.created_at.desc(), Record.id.desc())


def after_cursor(order: Order, cursor: tuple[datetime, int]) -> ColumnElement[bool]:
    """Keyset condition: rows strictly after `cursor` in the chosen order.

    A row-value comparison, which SQLite turns into a range on the (…, created_at, id) indexes; the
    equivalent OR of two comparisons is not (a page halfway through 100k records: 5.8 ms with the OR,
    0.4 ms with the row value).
    """
    key = tuple_(Record.created_at, Record.id)
    bound = tuple_(literal(cursor[0], Record.created_at.type), literal(cursor[1], Integer()))
    return key > bound if order == "oldest" else key < bound


#: What a page of the browser shows of each record, in `page_rows` order.
_PAGE_COLUMNS = (
    Record.id,
    Record.reference,
    Record.uuid,
    Record.domain,
    Record.origin,
    Record.tlp,
    Record.status,
    Record.author,
    Record.created_at,
    Record.updated_at,
    Record.revision,
    Record.title_ct,
)


def page_statement(conds: list[ColumnElement[bool]], order: Order) -> Select[Any]:
    """One statement for a page: the listed columns and each record's recipients (comma-joined).

    Plain columns instead of ORM objects, and the recipients from a correlated subquery instead of a
    second query: 1.6 ms instead of 2.4 ms for a page of 50 at 100k, most of it the 50 title decrypts.
    """
    parties = (
        select(RecordParty.ministry)
        .where(RecordParty.record_id == Record.id, RecordParty.is_origin.is_(False))
        .correlate(Record)
        .subquery()
    )
    recipients = select(func.group_concat(parties.c.ministry, ",")).scalar_subquery()
    from store.withdrawals import withdrawn_clause  # store.withdrawals builds on store.models, not on this module

    return ordered(select(*_PAGE_COLUMNS, recipients, withdrawn_clause()).where(*conds), order)


def list_page(
    s: Any,
    query: RecordQuery,
    search_tokens: list[str] | None,
    *,
    limit: int,
    offset: int,
    after: tuple[datetime, int] | None,
    open_text: Callable[[bytes, str], str],
) -> list[RecordRow]:
    """One page of the browser: `limit` rows after `offset` rows or after the keyset cursor `after`."""
    stmt = _page_statement(query, tuple(search_tokens) if search_tokens else None, after is not None)
    params: dict[str, Any] = {"page_limit": limit, "page_offset": offset}
    if after is not None:
        params.update(after_created=after[0], after_id=after[1])
    rows = page_rows(s.execute(stmt, params), open_text)
    check_domains(s, rows)
    return rows


def check_domains(s: Any, rows: Iterable[RecordRow]) -> None:
    """Every row's domain is one this store knows; an unknown one (a crafted store) is an integrity error naming the record."""
    rows = list(rows)
    if not rows:
        return
    known = set(s.scalars(select(Domain.slug)))
    for row in rows:
        if row.domain not in known:
            raise IntegrityError(
                f"record {row.reference} has an unknown domain {quote(row.domain)} in the store file",
                reference=row.reference,
                value=row.domain,
            )


def _page_statement(query: RecordQuery, search_tokens: tuple[str, ...] | None, keyset: bool) -> Select[Any]:
    if search_tokens:  # built afresh: no search's tokens are kept in a module-level cache
        return _build_page_statement(query, search_tokens, keyset)
    return _cached_page_statement(dataclasses.replace(query, search=""), keyset)


@lru_cache(maxsize=64)
def _cached_page_statement(query: RecordQuery, keyset: bool) -> Select[Any]:
    """The same statement object for every page of one query: SQLAlchemy memoises its cache key on the
    object, so paging skips building and traversing it again (2.5 → 1.7 ms a page at 100k)."""
    return _build_page_statement(query, None, keyset)


def _build_page_statement(query: RecordQuery, search_tokens: tuple[str, ...] | None, keyset: bool) -> Select[Any]:
    conds = conditions(query, list(search_tokens) if search_tokens else None)
    if keyset:
        key = tuple_(Record.created_at, Record.id)
        bound = tuple_(bindparam("after_created", type_=Record.created_at.type), bindparam("after_id", type_=Integer()))
        conds.append(key > bound if query.order == "oldest" else key < bound)
    return page_statement(conds, query.order).limit(bindparam("page_limit")).offset(bindparam("page_offset"))


def page_rows(result: Iterable[Any], open_text: Callable[[bytes, str], str]) -> list[RecordRow]:
    """The rows of `page_statement`, titles decrypted with `open_text(token, reference)`."""
    return [
        RecordRow(
            id=rid,
            reference=reference,
            uuid=uuid,
            domain=domain,
            origin=origin,
            releasable_to=tuple(sorted(recipients.split(","))) if recipients else (),
            tlp=stored_tlp(tlp, reference),
            status=stored_status(status, reference),
            author=author,
            created_at=created_at,
            updated_at=updated_at,
            revision=revision,
            title=open_text(title_ct, reference),
            withdrawn=bool(withdrawn),
        )
        for rid, reference, uuid, domain, origin, tlp, status, author, created_at, updated_at, revision, title_ct, recipients, withdrawn in result
    ]


def count_statement(conds: list[ColumnElement[bool]]) -> Select[Any]:
    """How many records match."""
    return select(func.count()).select_from(Record).where(*conds)


#: An id set smaller than this fraction of all records drives a count (its rows are looked up); a larger
#: one is probed while an index is scanned. Measured at 100k: driving from 95k party rows 140 ms, probing
#: 47 ms; driving from 4.7k search matches 13 ms, probing 41 ms.
DRIVE_FRACTION = 0.2
Cube = tuple[tuple[str, str, str, int], ...]


class _VersionedCache:
    """Sidebar counts of one store state, keyed by what they depend on and by the store's change counter.

    Every committed change bumps `liaison_meta.changes` in its own transaction (see `Session._act`), and a
    read transaction sees the counter and the records as of the same instant, so an entry keyed by the
    counter can never be stale. Only plaintext tag counts are kept, never anything of a search.
    """

    def __init__(self, size: int = 64) -> None:
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
        value = compute()
        with self._lock:
            self._entries[key] = value
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return value

    def peek(self, key: Hashable) -> Any:
        """The cached value, or None (nothing is computed)."""
        with self._lock:
            return self._entries.get(key)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_COUNTS = _VersionedCache()


def clear_count_cache() -> None:
    """Forget every cached count (the benchmark measures cold counts this way)."""
    _COUNTS.clear()


def _store_version(s: Any) -> tuple[str, str | None, str | None]:
    """Which store, in which state: its file, its id and its change counter, read in the caller's transaction."""
    meta = dict(s.execute(select(Meta.key, Meta.value).where(Meta.key.in_(("store_id", "changes")))).all())
    return str(s.connection().engine.url), meta.get("store_id"), meta.get("changes")


def _cube(
    s: Any, ministries: frozenset[str], search_tokens: list[str] | None, dates: RecordQuery = RecordQuery()
) -> Cube:
    """Record counts per (domain, TLP, status) under a ministry filter and a search.

    One scan of the covering index `ix_records_facets`. The ministry or search id set drives the scan only
    when it is small (its size is an index range count or an FTS doclist count): see DRIVE_FRACTION.
    """
    total = select(func.count()).select_from(Record).scalar_subquery()
    parties = (
        select(func.count()).select_from(party_ids(ministries).subquery()).scalar_subquery()
        if ministries
        else literal(0)
    )
    matches = (
        select(func.count()).select_from(search_ids(search_tokens).subquery()).scalar_subquery()
        if search_tokens
        else literal(0)
    )
    n_records, n_parties, n_matches = s.execute(select(total, parties, matches)).one()
    sizes = [
        (n, name) for n, name, on in ((n_parties, "ministries", ministries), (n_matches, "search", search_tokens)) if on
    ]
    drive = [min(sizes)[1]] if sizes and min(sizes)[0] <= DRIVE_FRACTION * n_records else []
    cols = (Record.domain, Record.tlp, Record.status)
    conds = _conditions(
        RecordQuery(ministries=ministries, since=dates.since, until=dates.until),
        search_tokens,
        drive=drive,
        full_scan=True,
    )
    return tuple(
        (str(d), str(t), str(st), int(n))
        for d, t, st, n in s.execute(select(*cols, func.count()).where(*conds).group_by(*cols))
    )


def _cached_cube(
    s: Any, ministries: frozenset[str], search_tokens: list[str] | None, dates: RecordQuery = RecordQuery()
) -> Cube:
    if search_tokens or dates.since or dates.until:
        return _cube(s, ministries, search_tokens, dates)
    return _COUNTS.get(("cube", _store_version(s), ministries), lambda: _cube(s, ministries, None))  # type: ignore[no-any-return]


def count_matching(s: Any, query: RecordQuery, search_tokens: list[str] | None) -> int:
    """How many records match: a sum over the cached cube when the facet counts of this store state made
    one (a filter toggle), else one COUNT (cheaper than building the cube, and the browser waits on it)."""
    dated = query.since is not None or query.until is not None
    cube = None if search_tokens or dated else _COUNTS.peek(("cube", _store_version(s), query.ministries))
    if cube is None:
        if len(query.ministries) == 1 and not (search_tokens or dated or query.domains or query.tlps or query.statuses):
            # a record has at most one party row per ministry: count that ministry's index range
            # (3 ms for the 95k-record counterpart at 100k, where probing or driving the records took 28 ms)
            return int(s.execute(select(func.count()).select_from(party_ids(query.ministries).subquery())).scalar_one())
        return int(s.execute(count_statement(conditions(query, search_tokens, paged=False))).scalar_one())
    return sum(
        n
        for domain, tlp, status, n in cube
        if (not query.domains or domain in query.domains)
        and (not query.tlps or tlp in query.tlps)
        and (not query.statuses or status in query.statuses)
    )


def _ministry_facet(s: Any, query: RecordQuery, search_tokens: list[str] | None, own_ministry: str) -> dict[str, int]:
    """Records per counterpart ministry under the domain, TLP, status and search filters: the party index
    alone when no domain, TLP or status filter needs the records joined (10 ms instead of 45 ms at 100k)."""
    stmt = select(RecordParty.ministry, func.count()).where(RecordParty.ministry != own_ministry)
    if search_tokens:
        n_records, n_matches = s.execute(
            select(
                select(func.count()).select_from(Record).scalar_subquery(),
                select(func.count()).select_from(search_ids(search_tokens).subquery()).scalar_subquery(),
            )
        ).one()
        party_record = (
            RecordParty.record_id
            if n_matches <= DRIVE_FRACTION * n_records
            else dialect.unindexed(RecordParty.record_id)
        )
        stmt = stmt.where(party_record.in_(select(search_ids(search_tokens).subquery().c.rowid)))
    record_conds = _conditions(
        RecordQuery(
            domains=query.domains, tlps=query.tlps, statuses=query.statuses, since=query.since, until=query.until
        ),
        None,
        drive=(),
    )
    if record_conds:
        stmt = stmt.join(Record, Record.id == RecordParty.record_id).where(*record_conds)
    return {str(k): int(v) for k, v in s.execute(stmt.group_by(RecordParty.ministry))}


def facet_counts(
    s: Any, query: RecordQuery, search_tokens: list[str] | None, own_ministry: str
) -> dict[str, dict[str, int]]:
    """Live counts for each sidebar facet, each with the other facets' filters applied.

    The domain, TLP and status facets are sums over one cube of counts per (domain, TLP, status) under
    the ministry and search filters (at most 7 × 5 × 9 cells), where three GROUP BY queries each rebuilt
    the same id sets; the ministry facet is one GROUP BY over the party index. Without a search both are
    cached per store state, so toggling a domain, TLP or status filter re-reads only what it changes.
    """
    cube = facets_from_cube(_cached_cube(s, query.ministries, search_tokens, query), query)
    if search_tokens or query.since is not None or query.until is not None:
        ministries = _ministry_facet(s, query, search_tokens, own_ministry)
    else:
        key = ("ministry", _store_version(s), own_ministry, query.domains, query.tlps, query.statuses)
        ministries = dict(_COUNTS.get(key, lambda: _ministry_facet(s, query, None, own_ministry)))
    return {"domain": cube["domain"], "ministry": ministries, "tlp": cube["tlp"], "status": cube["status"]}


def facets_from_cube(cells: Iterable[Any], query: RecordQuery) -> dict[str, dict[str, int]]:
    """The domain, TLP and status facet counts, each with the other facets' filters applied, from the cube."""
    counts: dict[str, dict[str, int]] = {"domain": {}, "tlp": {}, "status": {}}
    domain_counts, tlp_counts, status_counts = counts["domain"], counts["tlp"], counts["status"]
    for domain, tlp, status, n in cells:
        domain_ok = not query.domains or domain in query.domains
        tlp_ok = not query.tlps or tlp in query.tlps
        status_ok = not query.statuses or status in query.statuses
        if tlp_ok and status_ok:
            domain_counts[domain] = domain_counts.get(domain, 0) + int(n)
        if domain_ok and status_ok:
            tlp_counts[tlp] = tlp_counts.get(tlp, 0) + int(n)
        if domain_ok and tlp_ok:
            status_counts[status] = status_counts.get(status, 0) + int(n)
    return {facet: dict(sorted(values.items())) for facet, values in counts.items()}
