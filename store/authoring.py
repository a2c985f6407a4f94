"""Records as this ministry writes them: the draft, its edits (each a new revision) and the audited read of one record.

The text policy (`store.text`) and the field limits are applied here on the way in; the rows themselves are
written by `store.record_writer`, the one writer of revisions, parties and the search index.
"""

from __future__ import annotations

import uuid as uuidlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session as OrmSession

from crypto.bundle.limits import MAX_TEXT, MAX_TITLE
from store import policy
from store.audit import log as audit
from store.errors import NotFound, ValidationError
from store.models import Record, RecordParty, ReviewEvent, Revision
from store.record_writer import write_revision
from store.records import RecordDetail, RecordRow, ReviewInfo, RevisionInfo, check_domains
from store.reference import check_domain, check_recipients
from store.text import check_block, check_line, shown
from store.vault import get_meta, set_meta
from store.vocab import REFERENCE, Status, parse_tlp, stored_status, stored_tlp

if TYPE_CHECKING:
    from store.service import Session


@dataclass(frozen=True)
class Draft:
    """A new record as the officer typed it (before validation)."""

    domain: str
    tlp: str
    title: str
    summary: str = ""
    source: str = ""
    notes: str = ""
    releasable_to: Sequence[str] = ()


@dataclass(frozen=True)
class Changes:
    """An edit: only the fields that are not None change."""

    title: str | None = None
    summary: str | None = None
    source: str | None = None
    notes: str | None = None
    tlp: str | None = None
    domain: str | None = None
    releasable_to: Sequence[str] | None = None

    @property
    def is_empty(self) -> bool:
        return all(getattr(self, f) is None for f in self.__dataclass_fields__)


def check_title(title: str) -> str:
    """One line of printable text, runs of white space collapsed, not empty, at most `MAX_TITLE` characters."""
    if isinstance(title, str) and not title.strip():
        raise ValidationError("the title is empty", field="title")
    title = " ".join(check_line("title", title).split())
    if len(title) > MAX_TITLE:
        raise ValidationError(f"the title is longer than {MAX_TITLE} characters", field="title")
    return title


def check_text(name: str, value: str) -> str:
    """A summary, source or notes: printable text with newlines and tabs, at most `MAX_TEXT` characters."""
    if len(value) > MAX_TEXT:
        raise ValidationError(f"the {name} is longer than {MAX_TEXT} characters", field=name)
    if "\x00" in value:
        raise ValidationError(f"the {name} contains a NUL character", field=name)
    return check_block(name, value)


def find_record(s: OrmSession, reference: str) -> Record:
    """The record with `reference` (case-insensitive), or NotFound."""
    rec = s.execute(select(Record).where(Record.reference == reference.strip().upper())).scalar_one_or_none()
    if rec is None:
        raise NotFound(
            f"no record {shown(reference)}",
            reference=reference if REFERENCE.fullmatch(reference) else None,
            value=reference,
        )
    return rec


def next_reference(s: OrmSession, origin: str, year: int) -> str:
    """The next free reference of `origin` in `year`: numbers already taken (by an imported record) are skipped."""
    key = f"seq:{origin}:{year}"
    value = int(get_meta(s, key) or 0)
    while True:
        value += 1
        reference = f"{origin}-{year}-{value:05d}"
        if s.execute(select(Record.id).where(Record.reference == reference)).first() is None:
            break
    set_meta(s, key, str(value))
    return reference


def add_record(session: Session, draft: Draft, *, submit: bool = False) -> str:
    """Create a draft (optionally straight into review); returns its reference."""
    title = check_title(draft.title)
    summary = check_text("summary", draft.summary)
    source = check_text("source", draft.source)
    notes = check_text("notes", draft.notes)
    tlp = parse_tlp(draft.tlp)
    now = session.clock()
    with session.db.read() as s:
        domain = check_domain(s, draft.domain)
        recipients = check_recipients(s, draft.releasable_to, session.ministry)
    with session.act("create", "record") as s:
        reference = next_reference(s, session.ministry, now.year)
        status = Status.DRAFT
        title_ct = session.seal(title)
        rec = Record(
            reference=reference,
            uuid=str(uuidlib.uuid4()),
            domain=domain,
            origin=session.ministry,
            tlp=tlp.value,
            status=status.value,
            author=session.actor.name,
            created_at=now,
            updated_at=now,
            revision=1,
            no_reexport=False,
            title_ct=title_ct,
        )
        s.add(rec)
        s.flush()
        _title_ct, body_ct = write_revision(
            session,
            s.connection(),
            record_id=rec.id,
            origin=session.ministry,
            number=1,
            created_at=now,
            officer=session.actor.name,
            tlp=tlp.value,
            recipients=recipients,
            title=title,
            summary=summary,
            source=source,
            notes=notes,
            title_ct=title_ct,
        )
        audit.note(s, record_id=rec.id, wrote={"title": title_ct, "body": body_ct})
        if submit:
            policy.check_submit(
                session.actor, rec.author, status, reference, origin=rec.origin, own_ministry=session.ministry
            )
            rec.status = Status.IN_REVIEW.value
            s.add(ReviewEvent(record_id=rec.id, officer=session.actor.name, action="submit", at=now))
            audit.note(s, record_id=rec.id, action="submit")
    return reference


def current_revision(s: OrmSession, record_id: int) -> Revision:
    """A record's latest revision row."""
    return s.execute(
        select(Revision).where(Revision.record_id == record_id).order_by(Revision.number.desc()).limit(1)
    ).scalar_one()


def edit_record(session: Session, reference: str, changes: Changes) -> int:
    """Write a new revision of a draft or returned record; earlier revisions stay, encrypted. Returns its number."""
    if changes.is_empty:
        raise ValidationError("nothing to change", field="changes")
    with session.act("edit", reference.upper()) as s:
        rec = find_record(s, reference)
        policy.check_edit(
            session.actor,
            rec.author,
            stored_status(rec.status, rec.reference),
            rec.reference,
            origin=rec.origin,
            own_ministry=session.ministry,
        )
        current = current_revision(s, rec.id)
        old_title = session.open_text(current.title_ct, rec.reference)
        old_body = session.open_body(current.body_ct, rec.reference)
        session.require_intact(s, rec)  # before anything is written: an edit never signs a tampered record
        title = check_title(changes.title) if changes.title is not None else old_title
        summary = check_text("summary", changes.summary) if changes.summary is not None else old_body["summary"]
        source = check_text("source", changes.source) if changes.source is not None else old_body["source"]
        notes = check_text("notes", changes.notes) if changes.notes is not None else old_body["notes"]
        tlp = parse_tlp(changes.tlp).value if changes.tlp is not None else stored_tlp(rec.tlp, rec.reference).value
        if changes.domain is not None:
            rec.domain = check_domain(s, changes.domain)
        recipients = (
            check_recipients(s, changes.releasable_to, session.ministry)
            if changes.releasable_to is not None
            else [c for c in current.releasable_to.split(",") if c]
        )
        now = session.clock()
        number = rec.revision + 1
        s.flush()
        title_ct, body_ct = write_revision(
            session,
            s.connection(),
            record_id=rec.id,
            origin=rec.origin,
            number=number,
            created_at=now,
            officer=session.actor.name,
            tlp=tlp,
            recipients=recipients,
            title=title,
            summary=summary,
            source=source,
            notes=notes,
            previous=(old_title, old_body["summary"]),
        )
        rec.revision, rec.tlp, rec.updated_at, rec.title_ct = number, tlp, now, title_ct
        audit.note(s, record_id=rec.id, wrote={"title": title_ct, "body": body_ct})
        return number


def record_rows(session: Session, s: OrmSession, records: Sequence[Record]) -> list[RecordRow]:
    """Rows of the given records, titles decrypted (stored tags checked: an unknown TLP or status is an integrity error)."""
    ids = [r.id for r in records]
    recipients: dict[int, list[str]] = {i: [] for i in ids}
    if ids:
        for rid, code in s.execute(
            select(RecordParty.record_id, RecordParty.ministry)
            .where(RecordParty.record_id.in_(ids), RecordParty.is_origin.is_(False))
            .order_by(RecordParty.ministry)
        ):
            recipients[rid].append(code)
    return [
        RecordRow(
            id=r.id,
            reference=r.reference,
            uuid=r.uuid,
            domain=r.domain,
            origin=r.origin,
            releasable_to=tuple(recipients[r.id]),
            tlp=stored_tlp(r.tlp, r.reference),
            status=stored_status(r.status, r.reference),
            author=r.author,
            created_at=r.created_at,
            updated_at=r.updated_at,
            revision=r.revision,
            title=session.open_text(r.title_ct, r.reference),
        )
        for r in records
    ]


def get_record(session: Session, reference: str) -> RecordDetail:
    """Everything about one record, decrypted (an audited read)."""
    with session.act("read", reference.upper(), mutates=False) as s:
        rec = find_record(s, reference)
        row = record_rows(session, s, [rec])[0]
        check_domains(s, [row])  # a value this version cannot accept is named first, then a token that does not open
        revisions = s.scalars(select(Revision).where(Revision.record_id == rec.id).order_by(Revision.number)).all()
        infos = []
        body: dict[str, str] = {"summary": "", "source": "", "notes": ""}
        for rev in revisions:
            body = session.open_body(rev.body_ct, rec.reference)
            infos.append(
                RevisionInfo(
                    number=rev.number,
                    created_at=rev.created_at,
                    officer=rev.officer,
                    tlp=rev.tlp,
                    releasable_to=tuple(c for c in rev.releasable_to.split(",") if c),
                    title=session.open_text(rev.title_ct, rec.reference),
                    summary=body["summary"],
                )
            )
        reviews = [
            ReviewInfo(
                e.officer, e.action, e.at, session.open_text(e.comment_ct, rec.reference) if e.comment_ct else ""
            )
            for e in s.scalars(select(ReviewEvent).where(ReviewEvent.record_id == rec.id).order_by(ReviewEvent.id))
        ]
        from store.withdrawals import withdrawal_in  # the record's withdrawal, if its origin withdrew it

        withdrawal = withdrawal_in(session, s, rec.uuid)
        session.require_intact(s, rec)  # a record that differs from its latest signed event is refused, naming why
        audit.note(s, record_id=rec.id)
        return RecordDetail(
            row=row,
            summary=body["summary"],
            source=body["source"],
            notes=body["notes"],
            revisions=tuple(infos),
            reviews=tuple(reviews),
            extra={"withdrawal": withdrawal.to_json() if withdrawal else None},
        )


__all__ = [
    "Changes",
    "Draft",
    "add_record",
    "check_text",
    "check_title",
    "edit_record",
    "find_record",
    "get_record",
    "next_reference",
    "record_rows",
]
