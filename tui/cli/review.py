"""The life of a record after writing: `submit`, `review`, `close`, `actioned`."""

from __future__ import annotations

import sys

from store.errors import ValidationError
from tui.cli.common import EXIT_OK, Commands, Context
from tui.present import safe


def cmd_submit(ctx: Context) -> int:
    args = ctx.args
    ctx.session().submit(args.ref)
    print(f"{safe(args.ref.upper())} in review", file=sys.stderr)
    return EXIT_OK


def cmd_review(ctx: Context) -> int:
    args = ctx.args
    session = ctx.session()
    if args.approve:
        session.approve(args.ref, args.comment or "")
        print(f"{safe(args.ref.upper())} approved", file=sys.stderr)
    else:
        if not (args.comment or "").strip():
            raise ValidationError("--return needs --comment TEXT saying what to change")
        session.return_record(args.ref, args.comment)
        print(f"{safe(args.ref.upper())} returned to its author", file=sys.stderr)
    return EXIT_OK


def cmd_close(ctx: Context) -> int:
    args = ctx.args
    ctx.session().close_record(args.ref, args.comment or "")
    print(f"{safe(args.ref.upper())} closed", file=sys.stderr)
    return EXIT_OK


def cmd_actioned(ctx: Context) -> int:
    args = ctx.args
    ctx.session().mark_actioned(args.ref, args.comment or "")
    print(f"{safe(args.ref.upper())} actioned", file=sys.stderr)
    return EXIT_OK


def register(commands: Commands) -> None:
    p = commands.add("submit", cmd_submit, "put a draft or returned record in review")
    p.add_argument("ref", metavar="REF")

    p = commands.add("review", cmd_review, "approve or return a record in review")
    p.add_argument("ref", metavar="REF")
    verdict = p.add_mutually_exclusive_group(required=True)
    verdict.add_argument("--approve", action="store_true")
    verdict.add_argument("--return", dest="return_", action="store_true")
    p.add_argument("--comment")

    p = commands.add("close", cmd_close, "close a record that needs no more work")
    p.add_argument("ref", metavar="REF")
    p.add_argument("--comment")

    p = commands.add("actioned", cmd_actioned, "mark a received record as acted upon")
    p.add_argument("ref", metavar="REF")
    p.add_argument("--comment")
