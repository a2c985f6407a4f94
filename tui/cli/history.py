"""`liaison bundles list` (every bundle sent and received) and `liaison withdraw` (the origin withdraws a shared record)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from store.text import visible
from tui.cli.common import EXIT_OK, Commands, Context, emit_json, read_text_arg
from tui.cli.table import Column, print_table
from tui.present import activity_json, bundle_entry_json

if TYPE_CHECKING:
    from store.history import ActivityEvent, BundleEntry

#: The columns of `liaison bundles list`.
BUNDLE_COLUMNS = (
    Column("WHEN (UTC)"),
    Column("DIRECTION"),
    Column("TO/FROM"),
    Column("SEQ", right=True),
    Column("RECORDS", right=True),
    Column("ACKNOWLEDGED"),
    Column("BUNDLE"),
)


def _bundle_row(e: BundleEntry) -> tuple[str, ...]:
    ack = f"yes {e.receipt_at:%Y-%m-%d}" if e.acknowledged and e.receipt_at is not None else "no"
    records = f"{e.records}" + (f" +{e.withdrawals}w" if e.withdrawals else "")
    return (f"{e.at:%Y-%m-%d %H:%M}", e.direction, visible(e.counterpart), str(e.seq), records, ack, e.bundle_id)


def cmd_bundles_list(ctx: Context) -> int:
    args = ctx.args
    entries = ctx.session().bundle_history(direction=args.direction, counterpart=args.counterpart)
    if args.json:
        emit_json([bundle_entry_json(e) for e in entries])
        return EXIT_OK
    if not entries:
        print("no bundles sent or received yet", file=sys.stderr)
        return EXIT_OK
    print_table(BUNDLE_COLUMNS, (_bundle_row(e) for e in entries))
    if any(e.withdrawals for e in entries):
        print("+Nw: withdrawal notices carried besides the records", file=sys.stderr)
    return EXIT_OK


def cmd_activity(ctx: Context) -> int:
    args = ctx.args
    events = ctx.session().record_activity(args.ref)
    if args.json:
        emit_json([activity_json(e) for e in events])
        return EXIT_OK
    print_table(ACTIVITY_COLUMNS, (_activity_row(e) for e in events))
    return EXIT_OK


#: The columns of `liaison activity` (as wide as the widest value shown; see `tui.cli.table`).
ACTIVITY_COLUMNS = (Column("WHEN (UTC)"), Column("EVENT"), Column("OFFICER"), Column("DETAIL"))


def _activity_row(e: ActivityEvent) -> tuple[str, str, str, str]:
    detail = [f"revision {e.revision}"] if e.revision is not None else []
    if e.counterpart:
        towards = "to " if e.kind in ("shared", "withdrawal-sent") else "from " if e.kind == "received" else "by "
        detail.append(towards + visible(e.counterpart))
    if e.comment:
        detail.append(visible(e.comment))
    return (f"{e.at:%Y-%m-%d %H:%M}", visible(e.kind), visible(e.officer) or "-", "  ".join(detail))


def cmd_withdraw(ctx: Context) -> int:
    args = ctx.args
    reason = read_text_arg(args.reason, args.reason_file, "reason") or ""
    info = ctx.session().withdraw(args.ref, reason)
    ref = visible(info.reference)
    if info.pending:
        told = ", ".join(info.pending)
        print(f"{ref} withdrawn; the next bundle to {told} will carry the withdrawal", file=sys.stderr)
    else:
        print(f"{ref} withdrawn; it was never sent in a bundle, so no ministry needs to be told", file=sys.stderr)
    return EXIT_OK


def register(commands: Commands) -> None:
    bundles = commands.group("bundles", "bundles sent and received")
    p = bundles.add(
        "list", cmd_bundles_list, "every bundle sent and received, newest first, and whether it was acknowledged"
    )
    p.add_argument("--json", action="store_true")
    p.add_argument("--direction", choices=("sent", "received"), help="only bundles sent or only bundles received")
    p.add_argument("--counterpart", metavar="CODE", help="only bundles to or from this ministry")

    p = commands.add("activity", cmd_activity, "everything that happened to one record, oldest first")
    p.add_argument("ref", metavar="REF")
    p.add_argument("--json", action="store_true")

    p = commands.add(
        "withdraw",
        cmd_withdraw,
        "withdraw a record this ministry shared: the next bundle to each recipient carries it (reviewer)",
    )
    p.add_argument("ref", metavar="REF")
    p.add_argument("--reason", metavar="TEXT", help="why (sent, signed, with the withdrawal)")
    p.add_argument("--reason-file", metavar="FILE|-", help="the reason from a file, or - for stdin")
