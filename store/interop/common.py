"""What STIX and MISP files may carry out of the store and what they may bring in, shared by both formats.

Out: the records a sealed bundle could carry (approved, not closed, never RED, received records only when
GREEN or CLEAR and not marked no re-export — `store.bundles.exclusion`), under a TLP ceiling: GREEN unless
asked; AMBER and AMBER+STRICT only when asked explicitly and by a reviewer. Ids are UUIDv5 of the record's
uuid, so a re-export updates what the other tool holds instead of duplicating it.

In: every report becomes a record received from a known ministry, through the store's text policy, in
one transaction, written by the same `BulkWriter` as bundle import; a re-import is idempotent by id.
"""

from __future__ import annotations

import json
import re
import uuid as uuidlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session as OrmSession

from store import policy
from store.bundles import Candidate, Exclusion, NothingToExport, exclusion, record_objects
from store.errors import LiaisonError, NotFound, PolicyError, ValidationError
from store.files import atomic_write_bytes, check_target, read_limited
from store.ingest import BulkWriter, IngestItem
from store.models import Domain, Ministry, Record, ReviewEvent, Revision
from store.text import check_block, check_line, quote
from store.vocab import Role, Status, Tlp, parse_tlp
from store.withdrawals import withdrawn_clause

if TYPE_CHECKING:
    from store.service import Session

#: Largest STIX or MISP file an import reads (bytes).
MAX_FILE = 32 * 1024 * 1024
#: Most objects (STIX objects, MISP reports and attributes) one file may hold.
MAX_OBJECTS = 200_000
MAX_TITLE = 300
MAX_TEXT = 200_000
MAX_AUTHOR = 64

#: The namespace of every UUIDv5 Liaison derives for the field's formats.
NAMESPACE = uuidlib.uuid5(uuidlib.NAMESPACE_URL, "urn:liaison:interop")

#: TLP labels from most open to most restrictive.
RANK = {Tlp.CLEAR: 0, Tlp.GREEN: 1, Tlp.AMBER: 2, Tlp.AMBER_STRICT: 3, Tlp.RED: 4}
DEFAULT_CEILING = Tlp.GREEN
#: Ceilings above GREEN: only when asked for explicitly, and only by a reviewer.
RESTRICTED_CEILINGS = frozenset({Tlp.AMBER, Tlp.AMBER_STRICT})
#: TLP labels whose records may carry the ministry's review comments out (never CLEAR: comments are not public).
COMMENT_TLPS = frozenset({Tlp.GREEN, Tlp.AMBER, Tlp.AMBER_STRICT})

REFERENCE = re.compile(r"[A-Z]{2}-[A-Z0-9]{2,12}-\d{4}-\d{5,9}", re.ASCII)
#: How far in the future an imported date may lie (clocks differ); anything later is refused.
MAX_SKEW = timedelta(days=1)


class InteropRefused(LiaisonError):
    """A STIX or MISP file that is not imported (or an export not written); the store is unchanged."""


def most_restrictive(labels: Sequence[Tlp]) -> Tlp:
    """The most restrictive of several TLP labels."""
    return max(labels, key=RANK.__getitem__)


def derived_uuid(*parts: str) -> str:
    """A UUIDv5 in Liaison's namespace: the same parts always give the same id."""
    return str(uuidlib.uuid5(NAMESPACE, ":".join(parts)))


def ministry_uuid(code: str) -> str:
    """The stable id of a ministry's identity (STIX identity, MISP organisation)."""
    return derived_uuid("ministry", code)


# ---- what may leave -----------------------------------------------------------------------------------


def check_ceiling(actor: policy.Actor, max_tlp: str | None) -> Tlp:
    """The TLP ceiling of an export: GREEN unless asked; AMBER and AMBER+STRICT need a reviewer; RED never."""
    if max_tlp is None:
        return DEFAULT_CEILING
    ceiling = parse_tlp(max_tlp)
    if ceiling is Tlp.RED:
        raise PolicyError(
            "TLP:RED never leaves the store; the highest ceiling is AMBER+STRICT", field="max_tlp", value=max_tlp
        )
    if ceiling in RESTRICTED_CEILINGS and not actor.at_least(Role.REVIEWER):
        raise PolicyError(
            f"role {actor.role.value} may not export TLP:{ceiling.value} records to a file; a reviewer may",
            field="max_tlp",
            value=max_tlp,
        )
    return ceiling


ABOVE_CEILING = "above the TLP ceiling"


def _label(reason: Exclusion) -> str:
    return reason.value.replace(" in a bundle", "")


@dataclass
class Selection:
    """Which records a STIX or MISP export carries, and how many were left out for each reason."""

    ceiling: Tlp
    included: list[int] = field(default_factory=list)
    included_refs: list[str] = field(default_factory=list)
    excluded: dict[str, list[str]] = field(default_factory=dict)

    def reasons(self) -> str:
        """`3 above the TLP ceiling (GREEN), 1 TLP:RED (never leaves)`, most frequent first."""
        ordered = sorted(self.excluded.items(), key=lambda kv: (-len(kv[1]), kv[0]))
        return ", ".join(f"{len(refs)} {reason}" for reason, refs in ordered)

    @property
    def excluded_count(self) -> int:
        """How many candidates were left out."""
        return sum(len(refs) for refs in self.excluded.values())

    def label(self, reason: str) -> str:
        """A reason's text (the same call as on a bundle's `ExportPlan`)."""
        return reason


def select_records(
    session: Session,
    s: OrmSession,
    ceiling: Tlp,
    *,
    since: datetime | None = None,
    domains: Sequence[str] = (),
    refs: Sequence[str] = (),
) -> Selection:
    """Apply the bundle export rules (for a file kept by this ministry's own tools) and the TLP ceiling."""
    for slug in domains:
        if s.get(Domain, slug.strip().lower()) is None:
            valid = ", ".join(s.scalars(select(Domain.slug).order_by(Domain.slug)))
            raise ValidationError(f"unknown domain {quote(slug)}; valid: {valid}", field="domain", value=slug)
    conds: list[Any] = []
    if since is not None:
        conds.append(Record.updated_at >= since)
    if domains:
        conds.append(Record.domain.in_(sorted({d.strip().lower() for d in domains})))
    if refs:
        wanted = sorted({r.strip().upper() for r in refs})
        found = set(s.scalars(select(Record.reference).where(Record.reference.in_(wanted))))
        missing = [r for r in wanted if r not in found]
        if missing:
            raise NotFound(f"no record {missing[0]}", reference=missing[0])
        conds.append(Record.reference.in_(wanted))
    stmt = (
        select(
            Record.id,
            Record.reference,
            Record.status,
            Record.tlp,
            Record.origin,
            Record.no_reexport,
            Record.revision,
            withdrawn_clause(),
        )
        .where(*conds)
        .order_by(Record.created_at, Record.id)
    )
    local = session.ministry
    selection = Selection(ceiling)
    for row in s.execute(stmt):
        candidate = Candidate(
            row[0],
            row[1],
            Status(row[2]),
            Tlp(row[3]),
            row[4],
            bool(row[5]),
            row[6],
            True,
            None,
            withdrawn=bool(row[7]),
        )
        # the file stays with this ministry's own tools: no recipient ministry, so the releasability and
        # already-sent rules do not apply; status, RED and the re-export rules of received records do
        reason = exclusion(candidate, local, local)
        if reason is not None:
            selection.excluded.setdefault(_label(reason), []).append(candidate.reference)
        elif RANK[candidate.tlp] > RANK[ceiling]:
            selection.excluded.setdefault(f"{ABOVE_CEILING} ({ceiling.value})", []).append(candidate.reference)
        else:
            selection.included.append(candidate.id)
            selection.included_refs.append(candidate.reference)
    return selection


@dataclass(frozen=True)
class Comment:
    """A review comment of this ministry on a record."""

    officer: str
    action: str
    at: datetime
    text: str


@dataclass(frozen=True)
class Outgoing:
    """One record as an export carries it (current revision, decrypted)."""

    uuid: str
    reference: str
    domain: str
    origin: str
    tlp: Tlp
    author: str
    created_at: datetime
    updated_at: datetime
    title: str
    summary: str
    comments: tuple[Comment, ...]


@dataclass(frozen=True)
class ExportData:
    """Everything an export writes: the records, the ministries involved (code → name) and the selection."""

    ministry: str
    records: list[Outgoing]
    ministries: dict[str, str]
    selection: Selection


def collect(session: Session, s: OrmSession, selection: Selection) -> ExportData:
    """Decrypt the selected records (the same record objects a bundle carries) and their review comments."""
    comments: dict[int, list[Comment]] = {rid: [] for rid in selection.included}
    for batch_start in range(0, len(selection.included), 500):
        ids = selection.included[batch_start : batch_start + 500]
        for rid, reference, officer, action, at, comment_ct in s.execute(
            select(
                ReviewEvent.record_id,
                Record.reference,
                ReviewEvent.officer,
                ReviewEvent.action,
                ReviewEvent.at,
                ReviewEvent.comment_ct,
            )
            .join(Record, Record.id == ReviewEvent.record_id)
            .where(ReviewEvent.record_id.in_(ids), ReviewEvent.comment_ct.is_not(None))
            .order_by(ReviewEvent.id)
        ):
            text = session.open_text(comment_ct, reference) if comment_ct is not None else ""
            if text:
                comments[rid].append(Comment(officer, action, at, text))
    records: list[Outgoing] = []
    for batch_start in range(0, len(selection.included), 500):
        ids = selection.included[batch_start : batch_start + 500]
        for rid, obj in record_objects(session, s, ids):
            tlp = Tlp(obj["tlp"])
            records.append(
                Outgoing(
                    uuid=obj["uuid"],
                    reference=obj["reference"],
                    domain=obj["domain"],
                    origin=obj["origin"],
                    tlp=tlp,
                    author=obj["author"],
                    created_at=_parse_canonical(obj["created_at"]),
                    updated_at=_parse_canonical(obj["updated_at"]),
                    title=obj["title"],
                    summary=obj["summary"],
                    comments=tuple(comments[rid]) if tlp in COMMENT_TLPS else (),
                )
            )
    involved = {session.ministry} | {r.origin for r in records}
    names = {
        code: name
        for code, name in s.execute(select(Ministry.code, Ministry.name).where(Ministry.code.in_(sorted(involved))))
    }
    return ExportData(session.ministry, records, names, selection)


def _parse_canonical(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


@dataclass(frozen=True)
class ExportResult:
    """A written STIX or MISP file."""

    path: Path
    format: str
    selection: Selection
    objects: int


def run_export(
    session: Session,
    action: str,
    fmt_name: str,
    out: Path,
    build: Any,
    *,
    max_tlp: str | None,
    since: datetime | None,
    domains: Sequence[str],
    refs: Sequence[str],
    force: bool,
) -> ExportResult:
    """Select, build (`build(ExportData) -> (bytes, object count)`) and write an export, as one logged user action."""
    ceiling = check_ceiling(session.actor, max_tlp)
    protect = [session.db.path]
    out = check_target(Path(out), overwrite=force, protect=protect)
    with session.act(action, out.name[:64], mutates=False) as s:
        selection = select_records(session, s, ceiling, since=since, domains=domains, refs=refs)
        if not selection.included:
            detail = selection.reasons() or "no record matches the filters"
            raise NothingToExport(f"nothing to export ({detail})")
        data = collect(session, s, selection)
        payload, objects = build(data)
        atomic_write_bytes(out, payload, overwrite=force, protect=protect)
    return ExportResult(out, fmt_name, selection, objects)


# ---- what may come in ---------------------------------------------------------------------------------


def load_json(path: Path, what: str) -> Any:
    """A whole JSON file of bounded size: strict (no duplicate keys, no NaN), UTF-8, one-line errors."""
    path = Path(path).expanduser()
    data = read_limited(path, MAX_FILE, what)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InteropRefused(f"{path.name}: not UTF-8 text (byte {exc.start + 1})") from None

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        obj: dict[str, Any] = {}
        for key, value in items:
            if key in obj:
                raise InteropRefused(f"{path.name}: duplicate key {quote(key)} in a JSON object")
            obj[key] = value
        return obj

    def constant(name: str) -> Any:
        raise InteropRefused(f"{path.name}: {name} is not valid JSON")

    try:
        return json.loads(text, object_pairs_hook=pairs, parse_constant=constant)
    except json.JSONDecodeError as exc:
        raise InteropRefused(
            f"{path.name}: not valid JSON (line {exc.lineno} column {exc.colno}: {exc.msg.removesuffix(' at')})"
        ) from None
    except RecursionError:
        raise InteropRefused(f"{path.name}: JSON nested too deeply") from None


@dataclass
class Incoming:
    """One record an import brings in (every text already through the text policy)."""

    key: str  # the id in the file (for messages)
    uuid: str
    origin: str
    tlp: Tlp
    domain: str
    title: str
    summary: str
    source: str
    author: str
    created_at: datetime
    updated_at: datetime
    reference: str | None = None
    notes: list[tuple[str, datetime, str]] = field(default_factory=list)


@dataclass
class Vocabulary:
    """What the store knows, for mapping a file's parties and labels: ministries (code → name), domains."""

    local: str
    ministries: dict[str, str]
    domains: set[str]

    @classmethod
    def of(cls, session: Session) -> Vocabulary:
        with session.db.read() as s:
            return cls(
                session.ministry,
                {code: label for code, label in s.execute(select(Ministry.code, Ministry.name))},
                set(s.scalars(select(Domain.slug))),
            )

    def ministry_by_name(self, name: str) -> str | None:
        """The code of the ministry whose code or name is `name` (case and spacing ignored)."""
        wanted = " ".join(name.split()).casefold()
        for code, known in self.ministries.items():
            if wanted in (code.casefold(), " ".join(known.split()).casefold()):
                return code
        return None

    def ministry_by_uuid(self, value: str) -> str | None:
        """The code whose derived identity uuid is `value`."""
        for code in self.ministries:
            if ministry_uuid(code) == value:
                return code
        return None

    def check_as(self, code: str | None) -> str | None:
        """The `as` ministry of an import: known, and not this store's own."""
        if code is None:
            return None
        wanted = code.strip().upper()
        if wanted not in self.ministries:
            raise ValidationError(
                f"unknown ministry {quote(code)}; valid: {', '.join(sorted(self.ministries))}", field="as", value=code
            )
        if wanted == self.local:
            raise ValidationError(
                f"{wanted} is this store's own ministry; an import brings records received from another",
                field="as",
                value=code,
            )
        return wanted

    def check_domain(self, slug: str | None) -> str | None:
        """A fallback domain given for an import: known."""
        if slug is None:
            return None
        wanted = slug.strip().lower()
        if wanted not in self.domains:
            raise ValidationError(
                f"unknown domain {quote(slug)}; valid: {', '.join(sorted(self.domains))}", field="domain", value=slug
            )
        return wanted


def check_tlp_option(tlp: str | None) -> Tlp | None:
    """The TLP given for unmarked items of an import (never RED)."""
    if tlp is None:
        return None
    parsed = parse_tlp(tlp)
    if parsed is Tlp.RED:
        raise ValidationError("TLP:RED records never come in through a file", field="tlp", value=tlp)
    return parsed


def clean_title(name: str, text: Any, key: str) -> str:
    """A title from a file: text, through the line policy, spaces collapsed, not empty, not too long."""
    if not isinstance(text, str):
        raise InteropRefused(f"{name}: {key} has no {'title' if text is None else 'text title'}", reference=key)
    try:
        title = " ".join(check_line("title", text, reference=key).split())
    except ValidationError as exc:
        raise InteropRefused(f"{name}: {exc}", field=exc.field, reference=key, value=exc.value) from None
    if not title:
        raise InteropRefused(f"{name}: {key} has an empty title", reference=key)
    if len(title) > MAX_TITLE:
        raise InteropRefused(f"{name}: {key} has a title longer than {MAX_TITLE} characters", reference=key)
    return title


def clean_block(name: str, field_name: str, text: Any, key: str) -> str:
    """A long text from a file (summary, note) through the block policy."""
    if text is None:
        return ""
    if not isinstance(text, str):
        raise InteropRefused(f"{name}: {key} {field_name} is not text", field=field_name, reference=key)
    try:
        value = check_block(field_name, text, reference=key)
    except ValidationError as exc:
        raise InteropRefused(f"{name}: {exc}", field=exc.field, reference=key, value=exc.value) from None
    if len(value) > MAX_TEXT:
        raise InteropRefused(
            f"{name}: {key} {field_name} is longer than {MAX_TEXT} characters", field=field_name, reference=key
        )
    return value


def clean_line(name: str, field_name: str, text: Any, key: str, limit: int = MAX_AUTHOR) -> str:
    """A short name from a file (author, identity name) through the line policy, cut to `limit`."""
    if not isinstance(text, str):
        return ""
    try:
        value = " ".join(check_line(field_name, text, reference=key).split())
    except ValidationError as exc:
        raise InteropRefused(f"{name}: {exc}", field=exc.field, reference=key, value=exc.value) from None
    return value[:limit]


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

    @property
    def records(self) -> int:
        return self.new + self.updated + self.unchanged


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
        taken: set[str] = set()
        new_items: list[IngestItem] = []
        later_notes: list[tuple[int, str, Incoming]] = []
        for item in items:
            old = existing.get(item.uuid)
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
            result.notes += _add_new_notes(session, s, record_id, reference, item)
        writer.finish()
        if preview:
            raise _Rollback
    return result


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


def _kinds(counter: Counter[str]) -> str:
    return ", ".join(f"{n} {kind}" for kind, n in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))


def _reference(s: OrmSession, item: Incoming, taken: set[str]) -> str | None:
    """The origin's own reference when the file names one that is well formed, the origin's, and free here."""
    ref = item.reference
    if ref is None or ref in taken:
        return None
    if s.execute(select(Record.id).where(Record.reference == ref)).first() is not None:
        return None
    taken.add(ref)
    return ref


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


def parse_timestamp(name: str, value: Any, what: str, key: str) -> datetime:
    """An RFC 3339 timestamp from a file (UTC when it names no zone)."""
    if not isinstance(value, str) or len(value) > 40:
        raise InteropRefused(f"{name}: {key} has no valid {what}", reference=key)
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InteropRefused(f"{name}: {key} {what} {quote(value)} is not a date and time", reference=key) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def preview_export(
    session: Session,
    *,
    max_tlp: str | None = None,
    since: datetime | None = None,
    domains: Sequence[str] = (),
    refs: Sequence[str] = (),
) -> Selection:
    """What a STIX or MISP export would carry and, per reason, what it would leave out (nothing written)."""
    ceiling = check_ceiling(session.actor, max_tlp)
    session.indexer  # noqa: B018 - refuses a locked session
    with session.db.read() as s:
        return select_records(session, s, ceiling, since=since, domains=domains, refs=refs)
