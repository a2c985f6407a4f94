"""Record views (rows, details) and the paged, filtered queries behind the browser, the CLI and the review queue.

The filters (`RecordQuery`, WHERE clauses, orders) are in `store.record_filters`, the counts and facet counts in
`store.record_counts`; both are importable from here as before.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Integer, Select, bindparam, func, select, tuple_
from sqlalchemy.sql.elements import ColumnElement

from store.errors import IntegrityError
from store.models import Domain, Record, RecordParty
from store.record_counts import clear_count_cache, count_matching, facet_counts
from store.record_filters import FACETS, Order, RecordQuery, after_cursor, conditions, ordered
from store.text import quote
from store.vocab import Status, Tlp, stored_status, stored_tlp


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


__all__ = [
    "FACETS",
    "Order",
    "RecordDetail",
    "RecordQuery",
    "RecordRow",
    "ReviewInfo",
    "RevisionInfo",
    "after_cursor",
    "check_domains",
    "clear_count_cache",
    "conditions",
    "count_matching",
    "facet_counts",
    "list_page",
    "ordered",
    "page_rows",
    "page_statement",
]
