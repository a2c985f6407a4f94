"""Writing the records of a STIX or MISP file as received records, all or nothing, in one user action.

Every report becomes a record received from a known ministry, written by the same `BulkWriter` as bundle
import; a re-import is idempotent by id (uuid), and adds only the notes not yet held.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session as OrmSession

from store import policy
from store.audit import log as audit
from store.audit.state import damaged_among
from store.bundles.import_checks import delivered_by, held_from_origin
from store.ingest import BulkWriter, IngestItem
from store.interop.base import MAX_SKEW, REFERENCE, InteropRefused, report_uuids
from store.interop.incoming import Incoming, Vocabulary, check_tlp_option, load_json
from store.models import Record, ReviewEvent, Revision
from store.text import quote
from store.vocab import Role, Status, Tlp
from store.withdrawals import Withdrawal

if TYPE_CHECKING:
    from store.service import Session


@dataclass
class ImportResult:
    """What an import did."""

    path: Path
    format: str
    preview: bool = False
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    notes: int = 0
    origins: Counter[str] = field(default_factory=Counter)
    not_imported: Counter[str] = field(default_factory=Counter)
    #: Reports not written, each with why: a record held here under the reference the file names (from its origin,
    #: or forwarded), or one its origin withdrew: (reference, why).
    skipped: list[tuple[str, str]] = field(default_factory=list)

    @property
    def records(self) -> int:
        return self.new + self.updated + self.unchanged + len(self.skipped)


#: Reads a loaded file: `(session, path, document, vocabulary, as_code=, tlp=, domain=) -> (records, counts so far)`.
Parser = Callable[..., tuple[list[Incoming], ImportResult]]


def run_import(
    session: Session,
    path: Path,
    what: str,
    action: str,
    parse: Parser,
    *,
    as_code: str | None,
    tlp: str | None,
    domain: str | None,
    preview: bool,
) -> ImportResult:
    """Check an import's options against the store, read the file (`what`: "STIX file"), map it and receive it."""
    vocab = Vocabulary.of(session)
    as_checked = vocab.check_as(as_code)
    default_tlp = check_tlp_option(tlp)
    default_domain = vocab.check_domain(domain)
    document: Any = load_json(Path(path), what)
    items, result = parse(
        session, Path(path), document, vocab, as_code=as_checked, tlp=default_tlp, domain=default_domain
    )
    result.preview = preview
    return receive(session, Path(path), items, result, action, preview=preview)


class _Rollback(Exception):
    """Ends a preview: everything the import did in its transaction is rolled back."""


def receive(
    session: Session, path: Path, items: list[Incoming], result: ImportResult, action: str, *, preview: bool = False
) -> ImportResult:
    """Write the records of one file as received records, all or nothing, in one logged user action.

    With `preview`, every check runs and the counts are computed exactly as for the import, then the
    transaction is rolled back: nothing is written, not even the action.
    """
    try:
        return _receive(session, path, items, result, action, preview=preview)
    except _Rollback:
        return result


def _receive(
    session: Session, path: Path, items: list[Incoming], result: ImportResult, action: str, *, preview: bool
) -> ImportResult:
    policy.require_role(session.actor, Role.REVIEWER, "import")
    name = Path(path).name
    if not items:
        raise InteropRefused(
            f"{name}: no report to import"
            + (f" (found only {_kinds(result.not_imported)})" if result.not_imported else "")
        )
    seen: set[str] = set()
    # in the future: ahead of both the store's clock (fixed in tests and demos) and the wall clock, as for bundles
    latest = max(session.clock(), datetime.now(UTC)) + MAX_SKEW
    for item in items:
        _check_item(name, item, latest)
        if item.uuid in seen:
            raise InteropRefused(f"{name}: {item.key} appears twice", reference=item.key)
        seen.add(item.uuid)
        if item.origin == session.ministry:
            raise InteropRefused(
                f"{name}: {item.key} comes from this ministry ({session.ministry}); only records of other ministries come in",
                reference=item.key,
            )
        result.origins[item.origin] += 1
    with session.act(action, name[:64]) as s:
        writer = BulkWriter(session, s)
        existing = {
            row.uuid: row
            for start in range(0, len(items), 500)
            for row in s.execute(
                select(
                    Record.id,
                    Record.uuid,
                    Record.reference,
                    Record.origin,
                    Record.revision,
                    Record.title_ct,
                    Revision.created_at,
                )
                .join(Revision, and_(Revision.record_id == Record.id, Revision.number == Record.revision))
                .where(Record.uuid.in_([i.uuid for i in items[start : start + 500]]))
            )
        }
        _refuse_damaged(session, s, name, existing)
        taken: set[str] = set()
        new_items: list[IngestItem] = []
        later_notes: list[tuple[int, str, Incoming]] = []
        held = _held_already(s, [item for item in items if item.uuid not in existing])
        for item in items:
            old = existing.get(item.uuid)
            if old is None and item.uuid in held:
                result.skipped.append(held[item.uuid])
                continue
            if old is None:
                reference = _reference(s, item, taken)
                new_items.append(_ingest_item(session.ministry, item, reference, 1, with_notes=True))
                result.notes += len(item.notes)
                continue
            if old.origin != item.origin:
                raise InteropRefused(
                    f"{name}: {item.key} would overwrite record {old.reference} of {old.origin}", reference=item.key
                )
            if item.updated_at > old.created_at:
                writer.update(
                    old.id,
                    old.reference,
                    old.title_ct,
                    _ingest_item(session.ministry, item, old.reference, old.revision + 1, with_notes=False),
                )
                result.updated += 1
            else:
                result.unchanged += 1
            later_notes.append((old.id, old.reference, item))
        if new_items:
            writer.write(new_items)
        result.new += len(new_items)
        for record_id, reference, item in later_notes:
            added = _add_new_notes(session, s, record_id, reference, item)
            if added:  # its review rows changed: an event signs the record as it now stands (its digest is signed)
                audit.note(s, record_id=record_id, action=audit.current(s).main.action, target=reference)
            result.notes += added
        writer.finish()
        if preview:
            raise _Rollback
    return result


def _refuse_damaged(session: Session, s: OrmSession, name: str, existing: dict[str, Any]) -> None:
    """A held record this file would update or add notes to must be the one its log signed (as a bundle's import
    refuses, Threat 25): writing over a record tampered with in the file would sign what the tampering left."""
    if not existing:
        return
    damaged = damaged_among(
        s, session.keys(), [row.id for row in existing.values()], own_ministry=session.ministry,
        four_eyes=session.four_eyes, full=False,
    )  # fmt: skip
    if damaged:
        by_id = {row.id: row.reference for row in existing.values()}
        rid, why = min(damaged.items(), key=lambda kv: by_id[kv[0]])
        raise InteropRefused(
            f"{name}: record {by_id[rid]} held here is damaged ({why}); the import would write over it",
            reference=by_id[rid],
        )


def _check_item(name: str, item: Incoming, latest: datetime) -> None:
    """Dates not in the future; a Liaison reference, when the file gives one, the origin's own and well formed."""
    for moment in (item.created_at, item.updated_at, *(at for _who, at, _text in item.notes)):
        if moment > latest:
            raise InteropRefused(
                f"{name}: {item.key} is dated {moment:%Y-%m-%d %H:%M} UTC, in the future", reference=item.key
            )
    ref = item.reference
    if ref is not None and (not REFERENCE.fullmatch(ref) or not ref.startswith(item.origin + "-")):
        raise InteropRefused(
            f"{name}: {item.key} carries the reference {quote(ref)}, which is not one of {item.origin}",
            reference=item.key,
        )


def _held_already(s: OrmSession, items: list[Incoming]) -> dict[str, tuple[str, str]]:
    """The new reports of a file that are a record this store already holds or its origin withdrew: uuid →
    (reference, why). Only the origin decides what a record says (Threat 24): a file naming a reference held
    here (the origin's own export of a record its bundle brought, a forward) never adds a second copy beside it
    under a local-only reference, where the origin's updates and withdrawal would not reach."""
    found: dict[str, tuple[str, str]] = {}
    named: dict[str, list[Incoming]] = {}
    for item in items:
        if item.reference is not None:
            named.setdefault(item.reference, []).append(item)
    refs = sorted(named)
    for start in range(0, len(refs), 500):
        for row in s.execute(
            select(Record.id, Record.reference, Record.origin).where(Record.reference.in_(refs[start : start + 500]))
        ):
            if held_from_origin(s, row.id, row.origin):
                why = "already held from its origin"
            else:
                why = f"already held from {delivered_by(s, row.id)}"
            found.update({item.uuid: (row.reference, why) for item in named[row.reference]})
    origins = {item.origin for item in items}
    if not origins:
        return found
    # withdrawn by its origin (a notice is kept even for a record never held here), named or by its derived id
    by_id: dict[str, str] = {}
    withdrawn: set[tuple[str, str]] = set()
    for uuid, reference, origin in s.execute(
        select(Withdrawal.record_uuid, Withdrawal.reference, Withdrawal.origin).where(
            Withdrawal.direction == "in", Withdrawal.origin.in_(origins)
        )
    ):
        withdrawn.add((origin, reference))
        for derived in report_uuids(uuid):
            by_id[derived] = reference
    for item in items:
        if item.uuid in found:
            continue
        if item.reference is not None and (item.origin, item.reference) in withdrawn:
            found[item.uuid] = (item.reference, "withdrawn by its origin")
        elif item.uuid in by_id:
            found[item.uuid] = (by_id[item.uuid], "withdrawn by its origin")
    return found


def _kinds(counter: Counter[str]) -> str:
    return ", ".join(f"{n} {kind}" for kind, n in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))


def _reference(s: OrmSession, item: Incoming, taken: set[str]) -> str | None:
    """Always None: the writer allocates a local-only reference (`ORIGIN-YYYY-0NNNNNNNN`, store/ingest.py).

    A STIX/MISP file is not the origin: even when it names the origin's own reference, taking it would block the
    origin's genuine record (its bundle) later. The file's id stays the record's identity (its uuid), so the
    origin's own copy, when it arrives, replaces this one and takes its reference.
    """
    return None


def _ingest_item(local: str, item: Incoming, reference: str | None, revision: int, *, with_notes: bool) -> IngestItem:
    return IngestItem(
        domain=item.domain,
        origin=item.origin,
        tlp=item.tlp.value,
        status=Status.RECEIVED.value,
        author=item.author,
        created_at=item.created_at,
        updated_at=max(item.updated_at, item.created_at),
        title=item.title,
        summary=item.summary,
        source=item.source,
        releasable_to=(local,),
        reference=reference,
        uuid=item.uuid,
        no_reexport=item.tlp is Tlp.AMBER_STRICT,
        revision=revision,
        reviews=tuple((who, "note", at, text) for who, at, text in item.notes) if with_notes else (),
    )


def _add_new_notes(session: Session, s: OrmSession, record_id: int, reference: str, item: Incoming) -> int:
    """Notes of a record already here that it does not hold yet (a re-import adds nothing twice)."""
    if not item.notes:
        return 0
    held = {
        (officer, at, session.open_text(ct, reference) if ct is not None else "")
        for officer, at, ct in s.execute(
            select(ReviewEvent.officer, ReviewEvent.at, ReviewEvent.comment_ct).where(
                ReviewEvent.record_id == record_id, ReviewEvent.action == "note", ReviewEvent.comment_ct.is_not(None)
            )
        )
    }
    added = 0
    for who, at, text in item.notes:
        if (who, at, text) in held:
            continue
        s.add(ReviewEvent(record_id=record_id, officer=who, action="note", at=at, comment_ct=session.seal(text)))
        held.add((who, at, text))
        added += 1
    return added
