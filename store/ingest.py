"""Bulk ingest with Core executemany (not the ORM unit of work): demo stores, imports and benchmarks."""

from __future__ import annotations

import uuid as uuidlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session as OrmSession

from store import sqlite as dialect
from store.audit import log as audit
from store.errors import ValidationError
from store.models import Meta, Record, RecordParty, ReviewEvent, Revision
from store.record_writer import index_tokens, party_rows, revision_row, write_revision
from store.vocab import Status

if TYPE_CHECKING:
    from store.service import Session

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class IngestItem:
    """A complete record to write as is (already validated by the caller)."""

    domain: str
    origin: str
    tlp: str
    status: str
    author: str
    created_at: datetime
    updated_at: datetime
    title: str
    summary: str
    source: str = ""
    notes: str = ""
    releasable_to: tuple[str, ...] = ()
    reference: str | None = None
    uuid: str | None = None
    no_reexport: bool = False
    revision: int = 1
    reviews: tuple[tuple[str, str, datetime, str], ...] = ()
    #: Number a record of another origin in that origin's own series (the demo's stand-in for records that
    #: came from their origin); otherwise such a record gets a local-only reference that can never collide.
    origin_numbering: bool = False


#: Local-only numbers are nine digits with a leading zero: 1 to 99,999,999.
LOCAL_ONLY_LIMIT = 100_000_000


def is_local_only(reference: str) -> bool:
    """A reference allocated here for a record that did not come from its origin (see `local_only_reference`)."""
    number = reference.rsplit("-", 1)[-1]
    return len(number) == 9 and number.startswith("0") and number.isascii() and number.isdigit()


def _batches(items: Iterable[IngestItem], size: int) -> Iterator[list[IngestItem]]:
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


class BulkWriter:
    """Writes many records inside one open write transaction, allocating ids and references in memory."""

    def __init__(self, session: Session, s: OrmSession) -> None:
        self.session = session
        self.s = s
        self.conn = s.connection()
        self.next_id = int(s.execute(select(func.coalesce(func.max(Record.id), 0))).scalar_one()) + 1
        self._sequences: dict[str, int] = {}
        self._taken: dict[str, set[int]] = {}
        self._local_only: dict[str, set[int]] = {}  # per ORIGIN-YYYY-: the local-only numbers taken
        self._local_only_next: dict[str, int] = {}
        #: The per-record events' action: the running action's own (ingest, demo, import).
        self.action = audit.current(s).main.action

    def local_only_reference(self, origin: str, year: int) -> str:
        """A reference for a record of `origin` that did not come from `origin` itself (a STIX/MISP import, a
        forwarded copy moved aside): `ORIGIN-YYYY-0NNNNNNNN`, nine digits with a leading zero. It matches the
        reference pattern but no origin ever allocates it (origins number 00001-99999, then 100000 upwards with
        no leading zero), so the origin's genuine records can never collide with it."""
        key = f"{origin}-{year}-"
        if key not in self._local_only:
            held = self.s.scalars(
                select(Record.reference).where(Record.reference.startswith(key + "0", autoescape=True))
            )
            # every number held, not the highest: a relayed record may carry another store's local-only number
            # (099999999, say), and counting on from it would leave the form and collide with the origin's own
            self._local_only[key] = {int(ref[len(key) :]) for ref in held if is_local_only(ref)}
            self._local_only_next[key] = 1
        taken, number = self._local_only[key], self._local_only_next[key]
        while number in taken:
            number += 1
        if number >= LOCAL_ONLY_LIMIT:
            raise ValidationError(f"no local-only reference is left for {origin} in {year}", field="reference")
        taken.add(number)
        self._local_only_next[key] = number + 1
        return f"{key}{number:09d}"

    def _reference(self, origin: str, year: int) -> str:
        """The next free reference of `origin` in `year`; numbers already taken (by imported records) are skipped."""
        key = f"seq:{origin}:{year}"
        if key not in self._sequences:
            counter = int(self.s.execute(select(Meta.value).where(Meta.key == key)).scalar_one_or_none() or 0)
            prefix = f"{origin}-{year}-"
            held = self.s.scalars(select(Record.reference).where(Record.reference.startswith(prefix, autoescape=True)))
            self._sequences[key] = counter
            numbers = (ref[len(prefix) :] for ref in held)
            self._taken[key] = {int(n) for n in numbers if n.isascii() and n.isdigit() and int(n) > counter}
        value = self._sequences[key] + 1
        while value in self._taken[key]:
            value += 1
        self._sequences[key] = value
        return f"{origin}-{year}-{value:05d}"

    def write(self, batch: list[IngestItem]) -> list[tuple[int, str]]:
        """Insert one batch of records with their parties, revision, review steps and index tokens."""
        session = self.session
        records: list[dict[str, Any]] = []
        parties: list[dict[str, Any]] = []
        revisions: list[dict[str, Any]] = []
        reviews: list[dict[str, Any]] = []
        index: list[tuple[int, str]] = []
        written: list[tuple[int, str]] = []
        from store.withdrawals import Withdrawal

        uuids = [item.uuid for item in batch if item.uuid]
        withdrawn = (
            set(self.s.scalars(select(Withdrawal.record_uuid).where(Withdrawal.record_uuid.in_(uuids))))
            if uuids
            else set()
        )
        for item in batch:
            rid = self.next_id
            self.next_id += 1
            if item.reference:
                reference = item.reference
            elif item.origin == self.session.ministry or item.origin_numbering:
                reference = self._reference(item.origin, item.created_at.year)
            else:  # never in another ministry's own numbering: its genuine records must always find their reference free
                reference = self.local_only_reference(item.origin, item.created_at.year)
            title_ct = session.seal(item.title)
            records.append(
                {
                    "id": rid,
                    "reference": reference,
                    "uuid": item.uuid or str(uuidlib.uuid4()),
                    "domain": item.domain,
                    "origin": item.origin,
                    "tlp": item.tlp,
                    "status": item.status,
                    "author": item.author,
                    "created_at": item.created_at,
                    "updated_at": item.updated_at,
                    "revision": item.revision,
                    "no_reexport": item.no_reexport,
                    "title_ct": title_ct,
                }
            )
            parties.extend(party_rows(rid, item.origin, item.releasable_to))
            revisions.append(
                revision_row(
                    session,
                    record_id=rid,
                    number=item.revision,
                    created_at=item.updated_at,
                    officer=item.author,
                    tlp=item.tlp,
                    recipients=item.releasable_to,
                    title_ct=title_ct,
                    summary=item.summary,
                    source=item.source,
                    notes=item.notes,
                )
            )
            steps: list[dict[str, Any]] = [
                {
                    "record_id": rid,
                    "officer": who,
                    "action": action,
                    "at": at,
                    "comment_ct": session.seal(comment) if comment else None,
                }
                for who, action, at, comment in item.reviews
            ]
            reviews.extend(steps)
            rec, rev = records[-1], revisions[-1]
            wrote = {"title": title_ct, "body": rev["body_ct"]}
            wrote.update({f"comment{i}": st["comment_ct"] for i, st in enumerate(steps, 1) if st["comment_ct"]})
            audit.note_written(
                self.s,
                action=self.action,
                wrote=wrote,
                uuid=rec["uuid"],
                reference=reference,
                domain=item.domain,
                origin=item.origin,
                releasable_to=item.releasable_to,
                tlp=item.tlp,
                status=item.status,
                author=item.author,
                revision=item.revision,
                no_reexport=item.no_reexport,
                title_ct=title_ct,
                current=(
                    rev["number"],
                    rev["officer"],
                    rev["tlp"],
                    rev["releasable_to"],
                    rev["created_at"],
                    title_ct,
                    rev["body_ct"],
                ),
                reviews=[(st["officer"], st["action"], st["at"], st["comment_ct"]) for st in steps],
                withdrawn=rec["uuid"] in withdrawn,
            )
            index.append((rid, index_tokens(session, item.title, item.summary)))
            written.append((rid, reference))
        dialect.insert_rows(self.conn, Record.__table__, records)
        dialect.insert_rows(self.conn, RecordParty.__table__, parties)
        dialect.insert_rows(self.conn, Revision.__table__, revisions)
        dialect.insert_rows(self.conn, ReviewEvent.__table__, reviews)
        dialect.index_insert(self.conn, index)
        return written

    def update(self, record_id: int, reference: str, old_title_ct: bytes, item: IngestItem) -> None:
        """A newer revision of a received record: a new revision row, the record's tags, parties and index updated."""
        self._write(record_id, item, self._previous(record_id, reference, old_title_ct), replacing=False)

    def replace(self, record_id: int, reference: str, old_title_ct: bytes, item: IngestItem) -> None:
        """The origin's own copy of a record held until now only from a non-origin sender (a forward or a STIX/MISP
        import): every revision of that copy is dropped and the origin's revision written, under the origin's reference."""
        assert item.reference is not None
        previous = self._previous(record_id, reference, old_title_ct)
        self.conn.execute(delete(Revision).where(Revision.record_id == record_id))
        if item.reference != reference:
            self.conn.execute(update(Record).where(Record.id == record_id).values(reference=item.reference))
        self._write(record_id, item, previous, replacing=True)

    def rereference(self, record_id: int, reference: str) -> None:
        """Give a record a new reference (a squatter moved aside for the origin's genuine record)."""
        self.conn.execute(update(Record).where(Record.id == record_id).values(reference=reference))
        audit.note(self.s, record_id=record_id, action="rereference", data={"moved_to": reference})

    def _previous(self, record_id: int, reference: str, old_title_ct: bytes) -> tuple[str, str]:
        """The held copy's title and current summary (their index tokens are removed when it is rewritten)."""
        current = self.s.execute(
            select(Revision.body_ct).where(Revision.record_id == record_id).order_by(Revision.number.desc()).limit(1)
        ).scalar_one()
        return self.session.open_text(old_title_ct, reference), self.session.open_body(current, reference)["summary"]

    def _write(self, record_id: int, item: IngestItem, previous: tuple[str, str], *, replacing: bool) -> None:
        """Write `item` as the record's current revision through the one record writer, then the record's tags (its
        author and creation time too when `replacing` a copy by the origin's own)."""
        title_ct, body_ct = write_revision(
            self.session,
            self.conn,
            record_id=record_id,
            origin=item.origin,
            number=item.revision,
            created_at=item.updated_at,
            officer=item.author,
            tlp=item.tlp,
            recipients=item.releasable_to,
            title=item.title,
            summary=item.summary,
            source=item.source,
            notes=item.notes,
            previous=previous,
        )
        values: dict[str, Any] = {
            "domain": item.domain,
            "tlp": item.tlp,
            "status": Status.RECEIVED.value,
            "updated_at": item.updated_at,
            "revision": item.revision,
            "no_reexport": item.no_reexport,
            "title_ct": title_ct,
        }
        if replacing:
            values.update(author=item.author, created_at=item.created_at)
        self.conn.execute(update(Record).where(Record.id == record_id).values(**values))
        audit.note(self.s, record_id=record_id, action=self.action, wrote={"title": title_ct, "body": body_ct})

    def finish(self) -> None:
        """Store the reference counters advanced in memory."""
        for key, value in self._sequences.items():
            row = self.s.get(Meta, key)
            if row is None:
                self.s.add(Meta(key=key, value=str(value)))
            else:
                row.value = str(value)


def bulk_ingest(
    session: Session,
    s: OrmSession,
    items: Iterable[IngestItem],
    *,
    total: int = 0,
    progress: Progress | None = None,
    batch_size: int = 1000,
) -> list[tuple[int, str]]:
    """Write every item in the caller's transaction; returns (id, reference) pairs in order."""
    writer = BulkWriter(session, s)
    written: list[tuple[int, str]] = []
    for batch in _batches(items, batch_size):
        written.extend(writer.write(batch))
        if progress:
            progress(len(written), max(total, len(written)))
    writer.finish()
    return written
