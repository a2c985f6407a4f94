"""Record views (rows, details) and the paged, filtered queries behind the browser, the CLI and the review queue."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Integer, Select, column, func, literal, select, tuple_
from sqlalchemy.sql.elements import ColumnElement

from store import sqlite as dialect
from store.models import Record, RecordParty
from store.vocab import Status, Tlp

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
        return not (self.domains or self.ministries or self.tlps or self.statuses or self.search.strip())


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

    def to_json(self) -> dict[str, Any]:
        """The `list --json` object."""
        return {
            "reference": self.reference,
            "uuid": self.uuid,
            "domain": self.domain,
            "origin": self.origin,
            "releasable_to": list(self.releasable_to),
            "tlp": self.tlp.value,
            "status": self.status.value,
            "author": self.author,
            "created_at": self.created_at.isoformat().replace("+00:00", "Z"),
            "updated_at": self.updated_at.isoformat().replace("+00:00", "Z"),
            "revision": self.revision,
            "title": self.title,
        }


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

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "created_at": self.created_at.isoformat().replace("+00:00", "Z"),
            "officer": self.officer,
            "tlp": self.tlp,
            "releasable_to": list(self.releasable_to),
            "title": self.title,
            "summary": self.summary,
        }


@dataclass(frozen=True)
class ReviewInfo:
    """A step of the review workflow."""

    officer: str
    action: str
    at: datetime
    comment: str

    def to_json(self) -> dict[str, Any]:
        return {"officer": self.officer, "action": self.action, "at": self.at.isoformat().replace("+00:00", "Z"), "comment": self.comment}


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

    def to_json(self) -> dict[str, Any]:
        """The `show --json` object: everything of `list` plus the decrypted fields and history."""
        return {
            **self.row.to_json(),
            "summary": self.summary,
            "source": self.source,
            "notes": self.notes,
            "revisions": [r.to_json() for r in self.revisions],
            "reviews": [r.to_json() for r in self.reviews],
            **self.extra,
        }


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


def _conditions(query: RecordQuery, search_tokens: list[str] | None, *, drive: Collection[str]) -> list[ColumnElement[bool]]:
    """`conditions`, with the id sets named in `drive` ("ministries", "search") free to drive the query."""
    conds: list[ColumnElement[bool]] = []
    if query.domains:
        conds.append(Record.domain.in_(sorted(query.domains)))
    if query.tlps:
        conds.append(Record.tlp.in_(sorted(query.tlps)))
    if query.statuses:
        conds.append(Record.status.in_(sorted(query.statuses)))
    if query.ministries:
        if "ministries" in drive:
            conds.append(Record.id.in_(party_ids(query.ministries)))
        else:  # one probe of the (record_id, ministry) key per candidate row; no set to build first
            conds.append(party_ids(query.ministries).where(RecordParty.record_id == Record.id).exists())
    if search_tokens:
        record_id = Record.id if "search" in drive else dialect.unindexed(Record.id)
        conds.append(record_id.in_(select(search_ids(search_tokens).subquery().c.rowid)))
    return conds


def party_ids(ministries: frozenset[str]) -> Select[Any]:
    """The ids of records that any of `ministries` is a party to (origin or recipient)."""
    return select(RecordParty.record_id).where(RecordParty.ministry.in_(sorted(ministries)))


def ordered(stmt: Select[Any], order: Order) -> Select[Any]:
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


def count_statement(conds: list[ColumnElement[bool]]) -> Select[Any]:
    """How many records match."""
    return select(func.count()).select_from(Record).where(*conds)


#: An id set smaller than this fraction of all records drives a count (its rows are looked up); a larger
#: one is probed while an index is scanned. Measured at 100k: driving from 95k party rows 140 ms, probing
#: 47 ms; driving from 4.7k search matches 13 ms, probing 41 ms.
DRIVE_FRACTION = 0.2


def facet_counts(s: Any, query: RecordQuery, search_tokens: list[str] | None, own_ministry: str) -> dict[str, dict[str, int]]:
    """Live counts for each sidebar facet, each with the other facets' filters applied, in three queries.

    1. the sizes of the ministry and search id sets (an index range count and an FTS doclist count),
       to choose which set, if any, may drive the counting queries;
    2. a cube of record counts per (domain, TLP, status) under the ministry and search filters, one
       scan of the covering index `ix_records_facets`: the domain, TLP and status facets are all sums
       over its cells (at most 7 × 5 × 9), where three GROUP BY queries each rebuilt the same id sets;
    3. the ministry facet from the party index, joined to the records only when a domain, TLP or
       status filter needs them.
    """
    total = select(func.count()).select_from(Record).scalar_subquery()
    parties = select(func.count()).select_from(party_ids(query.ministries).subquery()).scalar_subquery() if query.ministries else literal(0)
    matches = select(func.count()).select_from(search_ids(search_tokens).subquery()).scalar_subquery() if search_tokens else literal(0)
    n_records, n_parties, n_matches = s.execute(select(total, parties, matches)).one()
    small = DRIVE_FRACTION * n_records
    sizes = [(n, name) for n, name, on in ((n_parties, "ministries", query.ministries), (n_matches, "search", search_tokens)) if on]
    drive = [min(sizes)[1]] if sizes and min(sizes)[0] <= small else []

    cols = (Record.domain, Record.tlp, Record.status)
    cube_conds = _conditions(RecordQuery(ministries=query.ministries), search_tokens, drive=drive)
    result = facets_from_cube(s.execute(select(*cols, func.count()).where(*cube_conds).group_by(*cols)), query)

    stmt = select(RecordParty.ministry, func.count()).where(RecordParty.ministry != own_ministry)
    if search_tokens:
        party_record = RecordParty.record_id if n_matches <= small else dialect.unindexed(RecordParty.record_id)
        stmt = stmt.where(party_record.in_(select(search_ids(search_tokens).subquery().c.rowid)))
    record_conds = _conditions(RecordQuery(domains=query.domains, tlps=query.tlps, statuses=query.statuses), None, drive=())
    if record_conds:
        stmt = stmt.join(Record, Record.id == RecordParty.record_id).where(*record_conds)
    ministries = {str(k): int(v) for k, v in s.execute(stmt.group_by(RecordParty.ministry))}
    return {"domain": result["domain"], "ministry": ministries, "tlp": result["tlp"], "status": result["status"]}


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
