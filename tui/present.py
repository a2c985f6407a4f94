"""Presentation shared by the faces (the CLI and the app): JSON shapes, one-line summaries, safe text, and
each face's hint for a structured store error.

The store returns data and raises structured errors (`store.errors`); what a person reads is decided here:
- `*_json` build the exact `--json` objects (a contract: keys are never renamed). JSON escapes control
  characters itself, so JSON values are never passed through `safe`.
- `safe` / `safe_block` are the one door every human-readable string of the CLI goes through
  (`store.text.visible`: control, C1 and bidi characters drawn visibly, never raw).
- `*_summary` are the one-line outcomes of an export, an import or a receipt, in both faces.
- `cli_error` / `app_error` turn a `LiaisonError` into the words of a face (a flag for the CLI, a field
  of the form for the app), keyed on the error's `field`.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from store.audit.witness import when
from store.errors import LiaisonError, StoreBusy
from store.text import quote, visible

if TYPE_CHECKING:
    from collections.abc import Sequence

    from store.audit.history import AuditEntry
    from store.audit.verify import AuditProblem, AuditReport
    from store.audit.witness import Rollback
    from store.bundles import ExportPlan, ImportResult, ReceiptResult
    from store.contacts import ContactInfo
    from store.history import ActivityEvent, BundleEntry
    from store.identity import KeyChange
    from store.interop.common import ExportResult as InteropExport
    from store.interop.common import ImportResult as InteropImport
    from store.interop.common import Selection
    from store.jwg.sync import JwgImport
    from store.records import RecordDetail, RecordRow, ReviewInfo, RevisionInfo
    from store.service import MinistryInfo, OfficerInfo

__all__ = [
    "APP_HINTS",
    "CLI_BUSY",
    "CLI_HINTS",
    "activity_json",
    "app_error",
    "audit_entry_json",
    "audit_problem_line",
    "audit_report_json",
    "audit_report_line",
    "bundle_entry_json",
    "cli_error",
    "contact_json",
    "export_summary",
    "import_summary",
    "interop_export_summary",
    "interop_import_summary",
    "ministry_json",
    "officer_json",
    "outcome_summary",
    "plural",
    "quote",
    "quote_path",
    "receipt_summary",
    "record_detail_json",
    "record_json",
    "review_json",
    "revision_json",
    "rollback_line",
    "safe",
    "safe_block",
    "when_json",
]


# ---- safe text --------------------------------------------------------------------------------------


def safe(text: object) -> str:
    """One line of any text as a terminal may show it: control, C1 and bidi characters drawn visibly."""
    return visible(text if isinstance(text, str) else str(text))


def safe_block(text: object) -> str:
    """Like `safe`, keeping newlines and tabs (summaries, notes, comments, multi-line outcomes)."""
    return visible(text if isinstance(text, str) else str(text), multiline=True)


#: Paths are quoted whole up to this length (a cut path is no help to find the file).
PATH_QUOTE_LIMIT = 400


def quote_path(path: object) -> str:
    """A file path from the command line or a form, quoted `repr()`-style (control characters escaped)."""
    return quote(str(path), PATH_QUOTE_LIMIT)


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """`1 record`, `2 records`, `1,234 records`."""
    return f"{count:,} {noun if count == 1 else (nouns or noun + 's')}"


# ---- JSON shapes (the `--json` contract) ---------------------------------------------------------------


def when_json(moment: datetime) -> str:
    """A moment as the JSON shapes give it: ISO 8601 in UTC with a `Z`."""
    return moment.isoformat().replace("+00:00", "Z")


def record_json(row: RecordRow) -> dict[str, Any]:
    """The `list --json` object."""
    return {
        "reference": row.reference,
        "uuid": row.uuid,
        "domain": row.domain,
        "origin": row.origin,
        "releasable_to": list(row.releasable_to),
        "tlp": row.tlp.value,
        "status": row.status.value,
        "author": row.author,
        "created_at": when_json(row.created_at),
        "updated_at": when_json(row.updated_at),
        "revision": row.revision,
        "title": row.title,
    }


def revision_json(rev: RevisionInfo) -> dict[str, Any]:
    return {
        "number": rev.number,
        "created_at": when_json(rev.created_at),
        "officer": rev.officer,
        "tlp": rev.tlp,
        "releasable_to": list(rev.releasable_to),
        "title": rev.title,
        "summary": rev.summary,
    }


def review_json(ev: ReviewInfo) -> dict[str, Any]:
    return {"officer": ev.officer, "action": ev.action, "at": when_json(ev.at), "comment": ev.comment}


def record_detail_json(detail: RecordDetail) -> dict[str, Any]:
    """The `show --json` object: everything of `list` plus the decrypted fields and history."""
    return {
        **record_json(detail.row),
        "summary": detail.summary,
        "source": detail.source,
        "notes": detail.notes,
        "revisions": [revision_json(r) for r in detail.revisions],
        "reviews": [review_json(r) for r in detail.reviews],
        **detail.extra,
    }


def officer_json(officer: OfficerInfo) -> dict[str, Any]:
    """The `officers list --json` object."""
    return {
        "name": officer.name,
        "role": officer.role.value,
        "created_at": when_json(officer.created_at),
        "revoked": officer.revoked,
        "backed": officer.backed,
        "not_backed_because": officer.problem,
    }


def officer_state(officer: OfficerInfo) -> str:
    """An officer's state in a list: active, removed, or (whatever the row says) not backed by the signed log."""
    if officer.revoked:
        return "removed"
    return "active" if officer.backed else "refused"


def officer_line(officer: OfficerInfo, width: int = 20) -> str:
    """One line of `officers list`: name (padded to `width`, the longest name listed), role, state, and why the log
    does not back the row when it does not."""
    line = f"{safe(officer.name):<{width}}  {officer.role.value:<9} {officer_state(officer)}"
    if not officer.backed:
        line += f"  NOT BACKED BY THE LOG: {safe(officer.problem or 'unknown')}"
    return line


def ministry_json(ministry: MinistryInfo) -> dict[str, Any]:
    """The `ministries list --json` object."""
    return {"code": ministry.code, "name": ministry.name, "self": ministry.is_self}


def contact_json(contact: ContactInfo, key_changes: Sequence[KeyChange] = ()) -> dict[str, Any]:
    """The `contacts list --json` object (`key_changes`: the identity changes received from it, oldest first)."""
    return {
        "code": contact.code,
        "name": contact.name,
        "fingerprint": contact.fingerprint,
        "added_at": when_json(contact.added_at),
        "added_by": contact.added_by,
        "key_changes": [
            {
                "old_fingerprint": k.old_fingerprint,
                "new_fingerprint": k.new_fingerprint,
                "rotated_at": when_json(k.stated_at),
                "received_at": when_json(k.received_at),
                "via": k.via,
            }
            for k in key_changes
        ],
    }


def bundle_entry_json(entry: BundleEntry) -> dict[str, Any]:
    """The `bundles list --json` object."""
    return {
        "bundle_id": entry.bundle_id,
        "direction": entry.direction,
        "at": when_json(entry.at),
        "counterpart": entry.counterpart,
        "seq": entry.seq,
        "records": entry.records,
        "withdrawals": entry.withdrawals,
        "officer": entry.officer,
        "acknowledged": entry.acknowledged,
        "receipt_at": when_json(entry.receipt_at) if entry.receipt_at is not None else None,
        "acknowledged_records": entry.acknowledged_records,
    }


def activity_json(event: ActivityEvent) -> dict[str, Any]:
    """The `activity --json` object."""
    return {
        "at": when_json(event.at),
        "kind": event.kind,
        "officer": event.officer,
        "revision": event.revision,
        "counterpart": event.counterpart,
        "bundle_id": event.bundle_id,
        "comment": event.comment,
    }


def audit_entry_json(entry: AuditEntry) -> dict[str, Any]:
    """The `audit log --json` object (a contract: seq, at, officer, action, target, then signer and record)."""
    return {
        "seq": entry.seq,
        "at": when_json(entry.at),
        "officer": entry.officer,
        "action": entry.action,
        "target": entry.target,
        "signer": entry.signer_fingerprint,
        "record": entry.record_reference,
    }


def audit_report_json(report: AuditReport) -> dict[str, Any]:
    """The `audit verify --json` object: counts, the newest checkpoint, and every problem found (empty when intact)."""
    return {
        "ok": not report.problems,
        "events": report.events,
        "records": report.records,
        "checkpoint": (
            {"size": report.checkpoint_size, "time": when_json(report.checkpoint_time)}
            if report.checkpoint_size is not None and report.checkpoint_time is not None
            else None
        ),
        "problems": [{"seq": p.seq, "reference": p.reference, "reason": p.reason} for p in report.problems],
    }


def audit_problem_line(problem: AuditProblem) -> str:
    """One problem, naming the event (by sequence number) or the record (by reference) first."""
    if problem.seq is not None:
        return f"event {problem.seq}: {problem.reason}"
    if problem.reference is not None:
        return f"record {problem.reference}: {problem.reason}"
    return problem.reason


def audit_report_line(report: AuditReport) -> str:
    """`audit verify`'s one line: the counts when intact, else the first problem (and how many more)."""
    if report.problems:
        more = len(report.problems) - 1
        tail = f" (and {plural(more, 'more problem')})" if more else ""
        return audit_problem_line(report.problems[0]) + tail
    head = f"audit: {plural(report.events, 'event')}, {plural(report.records, 'record')}, chain intact"
    if report.checkpoint_size is None or report.checkpoint_time is None:
        return f"{head}, no checkpoint yet"
    return f"{head}, checkpoint {report.checkpoint_size} signed {when(report.checkpoint_time)}"


def rollback_line(found: Rollback) -> str:
    """What was found when a rolled-back store was opened anyway (the same words as the refusal)."""
    return found.message()


# ---- one-line outcomes ----------------------------------------------------------------------------------


def export_summary(plan: ExportPlan | Selection) -> str:
    """`3 included; 2 excluded: 1 TLP:RED never leaves in a bundle, 1 closed`."""
    line = f"{len(plan.included)} included"
    if plan.excluded:
        line += f"; {plan.excluded_count} excluded: {plan.reasons()}"
    if plan.damaged:  # the export itself refuses them all (store.bundles.export.damaged_in_selection)
        shown = list(plan.damaged.items())[:DAMAGED_SHOWN]
        listed = "; ".join(f"{ref}: {why}" for ref, why in shown)
        more = len(plan.damaged) - len(shown)
        listed += f"; and {more} more" if more else ""
        line += (
            f"; the export will be refused: {plural(len(plan.damaged), 'damaged record')} in the selection "
            f"({listed}); name intact records to send them"
        )
    return safe(line)


#: Damaged records an export preview names (the refusal itself names every one).
DAMAGED_SHOWN = 3


def _listed(label: str, pairs: Sequence[tuple[str, str]]) -> str:
    """`; 2 skipped: A why, B why`, or nothing when there is none."""
    return f"; {len(pairs)} {label}: " + ", ".join(f"{a} {b}" for a, b in pairs) if pairs else ""


def import_summary(result: ImportResult) -> str:
    """What an import did, in one line."""
    from crypto.identity import grouped_fingerprint

    if result.already_imported:
        line = f"already imported: bundle {result.bundle_id} from {result.sender} (seq {result.seq}); nothing changed"
    else:
        key = grouped_fingerprint(result.fingerprint)[:19]
        line = (
            f"imported bundle {result.bundle_id} from {result.sender} (seq {result.seq}, key {key}…): "
            f"{plural(result.records, 'record')} ({result.new} new, {result.updated} updated, {result.unchanged} unchanged)"
        )
        # forwards of records held from their origin skipped, replaced by the origin's own; STIX/MISP copies
        line += _listed("skipped", result.skipped) + _listed("replaced", result.replaced)
        line += "".join(f"; {ref} also held as {copy} from a STIX/MISP import" for ref, copy in result.file_copies)
        line += f"; {result.withdrawn} withdrawn by {result.sender}" if result.withdrawn else ""
        line += "".join(f"; {ref} withdrawn with its copy {copy}" for copy, ref in result.withdrawn_copies)
        line += _listed("withdrawal skipped", result.withdrawals_skipped)
        line += "; " + desk_import_summary(result.desk) if result.desk else ""
        line += "".join("; " + change.describe() for change in result.key_changes)
    return safe(line)


def desk_import_summary(desk: JwgImport) -> str:
    """What the working-group entries of a bundle did (meetings, actions, status changes, what was skipped)."""
    parts = []
    if desk.meetings or desk.agenda:
        parts.append(f"{plural(desk.meetings, 'meeting')} and {plural(desk.agenda, 'agenda item')} new or updated")
    if desk.actions_new or desk.actions_updated:
        parts.append(f"actions: {desk.actions_new} new, {desk.actions_updated} updated")
    parts += [f"action {code} now {status}" for code, status in desk.status_changes]
    parts += [
        f"meeting pack for {q} received (meetings pack {q} --from {origin} --out FILE)" for q, origin in desk.packs
    ]
    parts += [f"{what} skipped: {why}" for what, why in desk.skipped]
    return safe("; ".join(parts))


def interop_export_summary(result: InteropExport) -> str:
    """A written STIX or MISP file, in one line."""
    return safe(
        f"wrote {result.path}: {result.format} with {plural(len(result.selection.included), 'record')} "
        f"(ceiling TLP:{result.selection.ceiling.value}); {export_summary(result.selection)}"
    )


def interop_import_summary(result: InteropImport) -> str:
    """What a STIX or MISP import did (or, for a dry run, would do), in one line."""
    origins = ", ".join(f"{n} from {code}" for code, n in sorted(result.origins.items()))
    verb = "would import" if result.preview else "imported"
    line = (
        f"{verb} {result.path.name} ({result.format}): {plural(result.records, 'record')} ({result.new} new, "
        f"{result.updated} updated, {result.unchanged} unchanged{'; ' + origins if origins else ''}), "
        f"{plural(result.notes, 'note')}"
    )
    if result.not_imported:
        kinds = sorted(result.not_imported.items(), key=lambda kv: (-kv[1], kv[0]))
        line += "; not imported: " + ", ".join(f"{n} {kind}" for kind, n in kinds)
    return safe(line + _listed("skipped", result.skipped))  # held here already, or withdrawn by their origin


def receipt_summary(result: ReceiptResult) -> str:
    """What processing a receipt did, in one line."""
    if result.already_processed:
        return safe(
            f"receipt already processed: bundle {result.bundle_id} acknowledged by {result.peer}; nothing changed"
        )
    line = (
        f"receipt from {result.peer} for bundle {result.bundle_id}: {plural(result.acknowledged, 'record')} acknowledged "
        f"(received {result.received_at:%Y-%m-%d %H:%M} UTC)"
    )
    if result.mismatched or result.missing:
        line += f"; {result.mismatched} did not match what was sent, {result.missing} missing"
    for change in result.key_changes:
        line += "; " + change.describe()
    if result.damaged:
        first, why = result.damaged[0]
        more = f" (and {len(result.damaged) - 1} more)" if len(result.damaged) > 1 else ""
        line += f"; record {first} is damaged here and keeps its status: {why}{more} — run `liaison audit verify`"
    return safe(line)


def outcome_summary(result: ImportResult | ReceiptResult) -> str:
    """The one line of an import or of a processed receipt."""
    from store.bundles import ImportResult

    return import_summary(result) if isinstance(result, ImportResult) else receipt_summary(result)


# ---- each face's words for a structured store error --------------------------------------------------

#: The CLI's hint after a store error about `field` (store messages name no flag and no command).
CLI_HINTS: dict[str, str] = {
    "store": "; create one with `liaison init` or `liaison demo`",
    "officer_choice": "; choose one with --officer or LIAISON_OFFICER",
    "changes": "; give at least one of --title, --summary, --source, --tlp, --to",
    "ministry_name_needed": " (or give --ministry-name to add it)",
    "contact": "; add one with `liaison contacts add CARD`",
    "recipient_key": (
        "; add one with `liaison contacts add CARD` (or give --passphrase-file to protect the bundle with a passphrase)"
    ),
    "sender": "; add it with `liaison contacts add CARD` and compare the fingerprint",
    "bundle_passphrase": "; give it with --passphrase-file",
    "passphrase_file": "; give --passphrase-file",
    "ministries": "; add it with `liaison ministries add`",
    "domains": "; add it with `liaison domains add`",
    "replace": "; to replace its key give --replace with --fingerprint of the new card",
}

#: The app's hint after a store error about `field`: the same advice in the app's own words.
APP_HINTS: dict[str, str] = {
    "store": "; create one with `liaison init` or try `make demo`",
    "officer_choice": "; choose an officer first",
    "changes": "; change at least one field",
    "contact": "; add its identity card on the contacts screen",
    "recipient_key": "; add its identity card on the contacts screen, or protect the bundle with a passphrase",
    "sender": "; add its identity card on the contacts screen and compare the fingerprint",
    "bundle_passphrase": "; enter the bundle passphrase",
    "passphrase_file": "; choose a passphrase file",
    "ministries": "; an admin can add the ministry",
    "domains": "; an admin can add the domain",
}

#: What the CLI says of a busy store, whatever the store's wording.
CLI_BUSY = "the store is busy (another process holds a write lock); try again"


def _with_hint(exc: LiaisonError, hints: dict[str, str]) -> str:
    return safe(str(exc) + hints.get(exc.field or "", ""))


def cli_error(exc: LiaisonError) -> str:
    """The CLI's one line for a refusal (without the `error: ` prefix)."""
    if isinstance(exc, StoreBusy):
        return CLI_BUSY
    return _with_hint(exc, CLI_HINTS)


def app_error(exc: LiaisonError) -> str:
    """The app's one line for a refusal."""
    return _with_hint(exc, APP_HINTS)
