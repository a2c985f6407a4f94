"""`liaison audit verify|log|accept-rollback`: prove the store's signed log, read it, accept a rollback."""

from __future__ import annotations

import sys
from datetime import date

from store.text import quote, visible
from tui.cli.common import (
    EXIT_OK,
    EXIT_REFUSED,
    Commands,
    Context,
    Refused,
    emit_json,
    officer_name,
    passphrase,
    progress_printer,
)
from tui.cli.table import Column, print_table
from tui.config import STATE_DIR_ENV
from tui.present import audit_entry_json, audit_report_json, audit_report_line, rollback_line, safe

#: The columns of `liaison audit log` (as wide as the widest value shown: `contact-key-rotated` is 19).
AUDIT_COLUMNS = (
    Column("SEQ", right=True),
    Column("WHEN (UTC)"),
    Column("OFFICER"),
    Column("ACTION"),
    Column("TARGET"),
    Column("KEY"),
)


def cmd_audit_verify(ctx: Context) -> int:
    report = ctx.session(allow_rollback=True).audit_verify(progress=progress_printer("verifying the audit log"))
    if ctx.args.json:
        emit_json(audit_report_json(report))
    if report.problems:
        print(f"error: {safe(audit_report_line(report))}", file=sys.stderr)
        return EXIT_REFUSED
    if not ctx.args.json:
        print(audit_report_line(report))
    return EXIT_OK


def _since(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Refused(f"--since {visible(quote(text))} is not a date; expected YYYY-MM-DD", value=text) from None


def cmd_audit_log(ctx: Context) -> int:
    from store.audit.history import AuditQuery

    args = ctx.args
    if args.limit is not None and args.limit < 0:
        raise Refused("--limit must not be negative")
    query = AuditQuery(
        record=args.record,
        officer=getattr(args, "log_officer", None),
        action=args.action,
        since=_since(args.since),
        limit=args.limit,
    )
    session = ctx.session()
    entries = session.audit_log(query)
    if not entries and args.action is not None:
        actions = session.audit_actions()
        if args.action not in actions:
            raise Refused(
                f"no event has the action {visible(repr(args.action))}; actions in this log: {', '.join(actions)}"
            )
    if not entries and query.officer:  # a name no officer of this store has (removed ones included): a typo
        names = sorted(o.name for o in session.officers())
        if query.officer.strip() not in names:
            raise Refused(f"unknown officer {visible(repr(query.officer))}; officers: {', '.join(names)}")
    if not entries and query.record:
        session.record_history(query.record)  # a reference this store does not hold: `no record …`, as `show` says
    if args.json:
        emit_json([audit_entry_json(e) for e in entries])
        return EXIT_OK
    if not entries:
        print("no events match", file=sys.stderr)
        return EXIT_OK
    print_table(
        AUDIT_COLUMNS,
        (
            (
                str(e.seq),
                f"{e.at:%Y-%m-%d %H:%M}",
                visible(e.officer),
                visible(e.action),
                visible(e.target),
                visible(e.signer_fingerprint),
            )
            for e in entries
        ),
    )
    return EXIT_OK


def _confirm(question: str) -> bool:
    try:
        answer = input(f"{question} Type yes to accept: ")
    except EOFError:
        return False
    return answer.strip().lower() == "yes"


def cmd_audit_accept_rollback(ctx: Context) -> int:
    vault = ctx.vault(allow_rollback=True)
    found = vault.rollback
    if found is None:
        raise Refused("the store is not rolled back: its log extends the checkpoint this workstation has seen")
    if not ctx.args.yes and (not sys.stdin or not sys.stdin.isatty()):
        raise Refused("accepting a rollback needs a confirmation: run it on a terminal, or add --yes")
    if not ctx.args.yes:
        print(safe(rollback_line(found)), file=sys.stderr)
        if not _confirm("Accept the store as it is now? What this workstation saw after it will not come back."):
            raise Refused("not accepted; nothing was changed")
    name = officer_name(ctx.args) or vault.default_officer()
    session = vault.unlock(name, passphrase(ctx.args, f"Passphrase for {name}: "))
    accepted = session.accept_rollback()
    if ctx.args.yes:
        print(safe(rollback_line(found)), file=sys.stderr)
    print(
        f"accepted and logged: this workstation now trusts the store's log at "
        f"{accepted.now_trusted.size:,} events (checkpoint {accepted.now_trusted.size})",
        file=sys.stderr,
    )
    return EXIT_OK


#: The actions most asked about, for `--action`'s help (the log's own list is given when a filter matches nothing).
COMMON_ACTIONS = (
    "create",
    "edit",
    "read",
    "submit",
    "approve",
    "return",
    "actioned",
    "close",
    "withdraw",
    "export",
    "share",
    "import",
    "receipt",
    "acknowledge",
    "unlock",
    "unlock-failed",
    "officer-add",
    "officer-remove",
    "passwd",
    "contact-add",
    "accept-rollback",
)


def register(commands: Commands) -> None:
    audit = commands.group("audit", "the store's signed audit log: verify it, read it, accept a rollback")
    p = audit.add(
        "verify",
        cmd_audit_verify,
        "check the whole log (chain, Merkle root, checkpoint signature, every officer's signature, four-eyes) "
        "and every record against its last signed event; exit 1 naming the first problem",
    )
    p.add_argument("--json", action="store_true", help="the report as JSON (events, records, checkpoint, problems)")

    p = audit.add(
        "log",
        cmd_audit_log,
        "the log's events, oldest first (filters combine)",
        officer_dest="log_officer",
        officer_help="only events by this officer (the acting officer: --officer before the command, "
        "or $LIAISON_OFFICER)",
    )
    p.add_argument("--record", metavar="REF", help="only events about this record")
    p.add_argument(
        "--action",
        metavar="A",
        help=f"only this action: {', '.join(COMMON_ACTIONS)}, … (a value no event has is refused, listing the log's actions)",
    )
    p.add_argument("--since", metavar="YYYY-MM-DD", help="only events on or after this day (UTC)")
    p.add_argument("--limit", type=int, metavar="N", help="at most N events (the newest N)")
    p.add_argument("--json", action="store_true", help="JSON objects: seq, at, officer, action, target, signer, record")

    p = audit.add(
        "accept-rollback",
        cmd_audit_accept_rollback,
        "accept a store whose log is behind (or not an extension of) what this workstation has seen, e.g. "
        f"after restoring an older copy (admin; logged). The workstation's checkpoints are kept in ${STATE_DIR_ENV} "
        "or the user state dir",
    )
    p.add_argument("--yes", action="store_true", help="accept without asking (needed when not on a terminal)")
