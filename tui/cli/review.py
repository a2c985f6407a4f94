"""The life of a record after writing: `submit`, `review`, `close`, `actioned`."""

from __future__ import annotations

import sys

from store.errors import ValidationError
from tui.cli import texts as text_input
from tui.cli.common import EXIT_OK, Commands, Context
from tui.cli.texts import add_text_option, comment_in_editor, given_texts
from tui.present import safe


def cmd_submit(ctx: Context) -> int:
    args = ctx.args
    ctx.session().submit(args.ref)
    print(f"{safe(args.ref.upper())} in review", file=sys.stderr)
    return EXIT_OK


def _comment(ctx: Context) -> str | None:
    return given_texts(ctx.args, ("comment",))["comment"]


def cmd_review(ctx: Context) -> int:
    args = ctx.args
    comment = _comment(ctx)
    session = ctx.session()
    if args.approve:
        session.approve(args.ref, comment or "")
        print(f"{safe(args.ref.upper())} approved", file=sys.stderr)
    else:
        if comment is None and text_input.on_terminal():
            comment = comment_in_editor(
                f"Return {safe(args.ref.upper())} to its author: say what to change.", required=True
            )
        if not (comment or "").strip():
            raise ValidationError("--return needs --comment-file FILE or --comment TEXT saying what to change")
        session.return_record(args.ref, comment or "")
        print(f"{safe(args.ref.upper())} returned to its author", file=sys.stderr)
    return EXIT_OK


def cmd_close(ctx: Context) -> int:
    args = ctx.args
    comment = _comment(ctx)
    ctx.session().close_record(args.ref, comment or "")
    print(f"{safe(args.ref.upper())} closed", file=sys.stderr)
    return EXIT_OK


def cmd_actioned(ctx: Context) -> int:
    args = ctx.args
    comment = _comment(ctx)
    ctx.session().mark_actioned(args.ref, comment or "")
    print(f"{safe(args.ref.upper())} actioned", file=sys.stderr)
    return EXIT_OK


def register(commands: Commands) -> None:
    p = commands.add("submit", cmd_submit, "put a draft or returned record in review")
    p.add_argument("ref", metavar="REF")

    p = commands.add(
        "review",
        cmd_review,
        "approve or return a record in review; --return with no comment on a terminal opens $EDITOR",
    )
    p.add_argument("ref", metavar="REF")
    verdict = p.add_mutually_exclusive_group(required=True)
    verdict.add_argument("--approve", action="store_true")
    verdict.add_argument("--return", dest="return_", action="store_true")
    add_text_option(p, "comment", "comment")

    p = commands.add("close", cmd_close, "close a record that needs no more work")
    p.add_argument("ref", metavar="REF")
    add_text_option(p, "comment", "comment")

    p = commands.add("actioned", cmd_actioned, "mark a received record as acted upon")
    p.add_argument("ref", metavar="REF")
    add_text_option(p, "comment", "comment")
