"""The one record writer: a revision's row, a record's parties and its search-index tokens.

Every path that writes record content — a local add or edit (`store.authoring`), bulk ingest and the
demo (`store.ingest`), a bundle import's newer revision (`store.bundles.import_`) — builds its rows here,
so the shape of a revision, the origin-plus-recipients party rows and the index update exist once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, delete, insert

from store import sqlite as dialect
from store.models import RecordParty, Revision

if TYPE_CHECKING:
    from store.service import Session


def party_rows(record_id: int, origin: str, recipients: Sequence[str]) -> list[dict[str, Any]]:
    """The `record_parties` rows of a record: its origin, then every recipient that is not the origin."""
    rows: list[dict[str, Any]] = [{"record_id": record_id, "ministry": origin, "is_origin": True}]
    rows += [{"record_id": record_id, "ministry": code, "is_origin": False} for code in recipients if code != origin]
    return rows


def revision_row(
    session: Session,
    *,
    record_id: int,
    number: int,
    created_at: datetime,
    officer: str,
    tlp: str,
    recipients: Sequence[str],
    title_ct: bytes,
    summary: str,
    source: str,
    notes: str,
) -> dict[str, Any]:
    """One `revisions` row: tags in plaintext, the title (already sealed) and the body sealed together."""
    return {
        "record_id": record_id,
        "number": number,
        "created_at": created_at,
        "officer": officer,
        "tlp": tlp,
        "releasable_to": ",".join(recipients),
        "title_ct": title_ct,
        "body_ct": session.seal_body(summary, source, notes),
    }


def index_tokens(session: Session, title: str, summary: str) -> str:
    """The search-index tokens of a record's current title and summary."""
    return session.indexer.tokens_text([title, summary])


def write_revision(
    session: Session,
    conn: Connection,
    *,
    record_id: int,
    origin: str,
    number: int,
    created_at: datetime,
    officer: str,
    tlp: str,
    recipients: Sequence[str],
    title: str,
    summary: str,
    source: str,
    notes: str,
    title_ct: bytes | None = None,
    previous: tuple[str, str] | None = None,
) -> tuple[bytes, bytes]:
    """Write revision `number` of a record: the revision row, the parties (replaced) and the index tokens
    (those of `previous` (title, summary) removed). Returns the sealed title (for the record's own row) and body
    (their hashes go in the action's audit event)."""
    title_ct = title_ct if title_ct is not None else session.seal(title)
    row = revision_row(
        session,
        record_id=record_id,
        number=number,
        created_at=created_at,
        officer=officer,
        tlp=tlp,
        recipients=recipients,
        title_ct=title_ct,
        summary=summary,
        source=source,
        notes=notes,
    )
    conn.execute(insert(Revision), [row])
    conn.execute(delete(RecordParty).where(RecordParty.record_id == record_id))
    conn.execute(insert(RecordParty), party_rows(record_id, origin, recipients))
    if previous is not None:
        dialect.index_delete(conn, [(record_id, index_tokens(session, *previous))])
    dialect.index_insert(conn, [(record_id, index_tokens(session, title, summary))])
    return title_ct, row["body_ct"]


__all__ = ["index_tokens", "party_rows", "revision_row", "write_revision"]
