"""Record views (rows, details) and the paged, filtered queries behind the browser, the CLI and the review queue."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Integer, Select, and_, column, func, or_, select
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


def conditions(query: RecordQuery, search_tokens: list[str] | None) -> list[ColumnElement[bool]]:
    """The WHERE clauses for a query; `search_tokens` are the blind-index tokens of `query.search`."""
    conds: list[ColumnElement[bool]] = []
    if query.domains:
        conds.append(Record.domain.in_(sorted(query.domains)))
    if query.tlps:
        conds.append(Record.tlp.in_(sorted(query.tlps)))
    if query.statuses:
        conds.append(Record.status.in_(sorted(query.statuses)))
    if query.ministries:
        parties = select(RecordParty.record_id).where(RecordParty.ministry.in_(sorted(query.ministries)))
        conds.append(Record.id.in_(parties))
    if search_tokens:
        conds.append(Record.id.in_(select(search_ids(search_tokens).subquery().c.rowid)))
    return conds


def ordered(stmt: Select[Any], order: Order) -> Select[Any]:
    """Newest or oldest first, ties broken by id so keyset paging is stable."""
    if order == "oldest":
        return stmt.order_by(Record.created_at.asc(), Record.id.asc())
    return stmt.order_by(Record.created_at.desc(), Record.id.desc())


def after_cursor(order: Order, cursor: tuple[datetime, int]) -> ColumnElement[bool]:
    """Keyset condition: rows strictly after `cursor` in the chosen order."""
    created, rid = cursor
    if order == "oldest":
        return or_(Record.created_at > created, and_(Record.created_at == created, Record.id > rid))
    return or_(Record.created_at < created, and_(Record.created_at == created, Record.id < rid))


def count_statement(conds: list[ColumnElement[bool]]) -> Select[Any]:
    """How many records match."""
    return select(func.count()).select_from(Record).where(*conds)
