"""What a STIX or MISP file may carry out of the store: the selection under a TLP ceiling, then the export.

The records a sealed bundle could carry (approved, not closed, never RED, received records only when GREEN
or CLEAR and not marked no re-export — `store.bundles.exclusion`), under a TLP ceiling: GREEN unless asked;
AMBER and AMBER+STRICT only when asked explicitly and by a reviewer. Ids are UUIDv5 of the record's uuid,
so a re-export updates what the other tool holds instead of duplicating it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session as OrmSession

from store import policy
from store.bundles import Candidate, Exclusion, NothingToExport, exclusion, record_objects
from store.bundles.export import CANDIDATE_COLUMNS, damaged_in_selection, selection_conditions
from store.errors import PolicyError
from store.files import atomic_write_bytes, check_target
from store.interop.base import COMMENT_TLPS, DEFAULT_CEILING, RANK, RESTRICTED_CEILINGS
from store.models import Ministry, Record, ReviewEvent
from store.vocab import Role, Tlp, parse_tlp, stored_status, stored_tlp
from store.withdrawals import withdrawn_clause

if TYPE_CHECKING:
    from store.service import Session


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
    #: Every record the filters selected (included or not): reference by id. An export refuses when any is damaged.
    selected: dict[int, str] = field(default_factory=dict)
    #: The damaged records among them (reference → reason), filled by `preview_export`; the export refuses them.
    damaged: dict[str, str] = field(default_factory=dict)

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
    conds = selection_conditions(s, since, domains, refs)
    stmt = select(*CANDIDATE_COLUMNS, withdrawn_clause()).where(*conds).order_by(Record.created_at, Record.id)
    local = session.ministry
    selection = Selection(ceiling)
    for row in s.execute(stmt):
        candidate = Candidate(
            row[0],
            row[1],
            stored_status(row[2], row[1]),
            stored_tlp(row[3], row[1]),
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
        selection.selected[candidate.id] = candidate.reference
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
    file_kind: str = "file",
) -> ExportResult:
    """Select, build (`build(ExportData) -> (bytes, object count)`) and write an export, as one logged user action;
    a damaged record in the selection refuses it (`export to a STIX file refused: …`, `file_kind` naming the file)."""
    ceiling = check_ceiling(session.actor, max_tlp)
    protect = [session.db.path]
    out = check_target(Path(out), overwrite=force, protect=protect)
    with session.act(action, out.name[:64], mutates=False) as s:
        selection = select_records(session, s, ceiling, since=since, domains=domains, refs=refs)
        # the rule of a bundle export: a damaged record anywhere in the selection refuses the whole file
        refuse = f"export to a {file_kind}"
        selection.damaged = damaged_in_selection(session, s, selection.selected, refuse=refuse)
        if not selection.included:
            detail = selection.reasons() or "no record matches the filters"
            raise NothingToExport(f"nothing to export ({detail})")
        data = collect(session, s, selection)
        payload, objects = build(data)
        atomic_write_bytes(out, payload, overwrite=force, protect=protect)
    return ExportResult(out, fmt_name, selection, objects)


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
        selection = select_records(session, s, ceiling, since=since, domains=domains, refs=refs)
        selection.damaged = damaged_in_selection(session, s, selection.selected, refuse=None)
        return selection
