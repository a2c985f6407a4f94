"""The working-group desk: `liaison meetings …` and `liaison actions …` (store/jwg)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable

from tui.cli.common import EXIT_OK, Commands, Context, Refused, emit_json, read_text_arg
from tui.cli.table import LONGEST_CODE, LONGEST_DOMAIN, Column, print_table
from tui.cli.texts import add_text_option, required_line
from tui.present import plural, safe, safe_block
from tui.present_desk import action_json, meeting_json

#: The columns of `liaison actions list`.
ACTION_COLUMNS = (
    Column("ID"),
    Column("OWNER", LONGEST_CODE),
    Column("DUE"),
    Column("STATUS"),
    Column("MEETING"),
    Column("DOMAIN", LONGEST_DOMAIN),
    Column("TITLE"),
)


def _mark(damaged: str | None) -> str:
    """The mark after a desk item that differs from its signed event (edited outside Liaison)."""
    return "  [DAMAGED]" if damaged is not None else ""


def _damaged_note(reasons: Iterable[str | None]) -> None:
    """Under a list: why each damaged item is marked (on stderr, one line each)."""
    for why in reasons:
        if why is not None:
            print(f"warning: {safe(why)}", file=sys.stderr)


# ---- meetings -----------------------------------------------------------------------------------------


def cmd_meetings_add(ctx: Context) -> int:
    a = ctx.args
    venue = required_line(a, "venue", "meetings add")
    m = ctx.session().add_meeting(a.quarter, a.date, venue, a.host)
    print(f"meeting of {m.quarter} planned on {m.day} at {safe(m.venue)}, hosted by {m.host}", file=sys.stderr)
    return EXIT_OK


def cmd_meetings_list(ctx: Context) -> int:
    session = ctx.session()
    meetings = session.meetings()
    if ctx.args.json:
        emit_json([meeting_json(m) for m in meetings])
        return EXIT_OK
    print_table(
        (Column("QUARTER"), Column("DATE"), Column("STATUS"), Column("HOST"), Column("VENUE")),
        ((m.quarter, str(m.day), m.status, safe(m.host), safe(m.venue) + _mark(m.damaged)) for m in meetings),
    )
    _damaged_note(m.damaged for m in meetings)
    unplanned = session.unplanned_quarters()
    if unplanned:
        print(f"no meeting planned yet for {', '.join(unplanned)}", file=sys.stderr)
    not_held = session.desk_summary().not_held_line()
    if not_held:
        print(f"meeting {safe(not_held)}", file=sys.stderr)  # its quarter and origin are as the file holds them
    return EXIT_OK


def cmd_meetings_show(ctx: Context) -> int:
    m = ctx.session().meeting(ctx.args.quarter)
    if ctx.args.json:
        emit_json(meeting_json(m, detail=True))
        return EXIT_OK
    print(f"Meeting {m.quarter}: {m.day}, {safe(m.venue)}, hosted by {safe(m.host)} ({m.status})")
    print("Agenda:" if m.agenda else "Agenda: nothing yet")
    for i in m.agenda:
        action = f" [{i.action}]" if i.action else ""
        print(f"  {i.domain:<20} {i.outcome:<11} {safe(i.text)}{action}{_mark(i.damaged)}")
    if m.carried:
        print("Carried forward (open actions of earlier meetings):")
        for c in m.carried:
            print(f"  {c.id:<14} {c.owner:<8} due {c.due} {c.status:<7} {safe(c.title)}{_mark(c.damaged)}")
    _damaged_note([*(i.damaged for i in m.agenda), *(c.damaged for c in m.carried)])
    if m.minutes:
        print("Minutes:")
        print(safe_block(m.minutes))
    for origin, by, at in m.packs:
        print(safe(f"Pack received from {origin} (prepared by {by}, {at:%Y-%m-%d %H:%M} UTC): "
                   f"meetings pack {m.quarter} --from {origin} --out FILE"))  # fmt: skip
    return EXIT_OK


def cmd_meetings_held(ctx: Context) -> int:
    ctx.session().mark_meeting_held(ctx.args.quarter)
    print(f"meeting of {ctx.args.quarter.strip().upper()} marked held", file=sys.stderr)
    return EXIT_OK


# ---- actions ------------------------------------------------------------------------------------------


def cmd_actions_add(ctx: Context) -> int:
    a = ctx.args
    title = required_line(a, "title", "actions add")
    code = ctx.session().add_action(
        title,
        a.domain,
        a.owner,
        a.due,
        officer=getattr(a, "owner_officer", None),
        meeting=a.meeting,
        records=tuple(a.record or ()),
    )
    print(code)
    return EXIT_OK


def cmd_actions_list(ctx: Context) -> int:
    a = ctx.args
    actions = ctx.session().actions(overdue=a.overdue, meeting=a.meeting, owner=a.owner)
    if a.json:
        emit_json([action_json(x) for x in actions])
        return EXIT_OK
    if not actions:
        print("no actions match", file=sys.stderr)
        return EXIT_OK
    print_table(
        ACTION_COLUMNS,
        (
            (
                safe(x.id),
                safe(x.owner),
                str(x.due),
                "OVERDUE" if x.overdue else x.status,
                x.meeting or "-",
                safe(x.domain),
                safe(x.title) + _mark(x.damaged),
            )
            for x in actions
        ),
    )
    print(plural(len(actions), "action"), file=sys.stderr)
    _damaged_note(x.damaged for x in actions)
    return EXIT_OK


def cmd_actions_done(ctx: Context) -> int:
    a = ctx.args
    comment = read_text_arg(a.comment, a.comment_file, "comment") or ""
    ctx.session().mark_action_done(a.id, comment)
    print(f"{safe(a.id.strip().upper())} done", file=sys.stderr)
    return EXIT_OK


def cmd_actions_drop(ctx: Context) -> int:
    a = ctx.args
    reason = read_text_arg(a.reason, a.reason_file, "reason") or ""
    ctx.session().drop_action(a.id, reason)
    print(f"{safe(a.id.strip().upper())} dropped", file=sys.stderr)
    return EXIT_OK


# ---- calendar -----------------------------------------------------------------------------------------


def _export_ics(ctx: Context, what: str) -> int:
    from store.jwg.calendar import write_ics
    from tui.cli.sharing import output_path

    a = ctx.args
    out = output_path(a, a.ics)
    path = write_ics(ctx.session(), what, out, with_titles=a.with_titles, overwrite=a.force)
    note = "" if a.with_titles else " (no titles or venues: add --with-titles to include them)"
    print(safe(f"wrote {path}: {what} calendar{note}"), file=sys.stderr)
    return EXIT_OK


def cmd_meetings_pack(ctx: Context) -> int:
    from store.jwg import pack
    from tui.cli.sharing import output_path

    a = ctx.args
    quarter = a.quarter.strip().upper()
    if a.seal_to and (a.pdf or a.received_from):
        other = "--pdf" if a.pdf else "--from"
        raise Refused(
            f"--seal-to seals the pack's text for the counterpart; it does not go with {other}", field="seal_to"
        )
    if a.received_from and a.with_titles:
        raise Refused("a received pack is as its sender wrote it: --with-titles does not apply", field="with_titles")
    out = output_path(a, a.out)
    session = ctx.session()
    if a.seal_to:
        result = pack.seal_pack(session, quarter, a.seal_to, out, with_titles=a.with_titles, overwrite=a.force)
        entries = result.desk - 1
        carried = f", with {plural(entries, 'working-group entry', 'working-group entries')}" if entries else ""
        print(
            safe(
                f"wrote {result.path}: the brief for {quarter} sealed to {result.recipient} in bundle "
                f"{result.bundle_id} (seq {result.seq}){carried}; no record"
            ),
            file=sys.stderr,
        )
        return EXIT_OK
    if a.received_from:
        path = pack.write_received_pack(session, quarter, a.received_from, out, overwrite=a.force, pdf=a.pdf)
        kind = "PDF" if a.pdf else "Markdown"
        print(
            safe(f"wrote {path}: the brief for {quarter} received from {a.received_from.upper()} ({kind})"),
            file=sys.stderr,
        )
        return EXIT_OK
    path = pack.write_pack(session, quarter, out, with_titles=a.with_titles, overwrite=a.force, pdf=a.pdf)
    note = "" if a.with_titles else " (no record titles: add --with-titles to list them)"
    kind = "PDF" if a.pdf else "Markdown"
    print(safe(f"wrote {path}: the brief for {quarter} ({kind}){note}"), file=sys.stderr)
    return EXIT_OK


def cmd_meetings_export(ctx: Context) -> int:
    return _export_ics(ctx, "meetings")


def cmd_actions_export(ctx: Context) -> int:
    return _export_ics(ctx, "actions")


def _ics_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--ics", required=True, metavar="FILE", help="the RFC 5545 calendar file to write")
    p.add_argument("--with-titles", action="store_true", help="include titles and venues (sensitive)")
    p.add_argument("--force", action="store_true", help="replace an existing ordinary file")


def register(commands: Commands) -> None:
    meetings = commands.group("meetings", "working-group meetings: plan, list, show, mark held")
    p = meetings.add("add", cmd_meetings_add, "plan the meeting of a quarter")
    p.add_argument("--quarter", required=True, metavar="Q", help="like 2026-Q4")
    p.add_argument("--date", required=True, metavar="YYYY-MM-DD", help="a day inside the quarter")
    add_text_option(p, "venue", "venue", required_note="; one of the two is required")
    p.add_argument("--host", required=True, metavar="CODE", help="the host ministry, e.g. TR-MOI")
    p = meetings.add("list", cmd_meetings_list, "every meeting, and the quarters with none planned")
    p.add_argument("--json", action="store_true")
    p = meetings.add("show", cmd_meetings_show, "a meeting: agenda, outcomes, actions carried forward, minutes")
    p.add_argument("quarter", metavar="Q")
    p.add_argument("--json", action="store_true")
    p = meetings.add("held", cmd_meetings_held, "mark a meeting held (the ministry that planned it)")
    p.add_argument("quarter", metavar="Q")
    p = meetings.add(
        "pack", cmd_meetings_pack, "write the brief for a meeting (Markdown, a PDF, or sealed for the counterpart)"
    )
    p.add_argument("quarter", metavar="Q")
    p.add_argument("--out", required=True, metavar="FILE.md")
    p.add_argument("--with-titles", action="store_true", help="list the records shared in the period with their titles")
    p.add_argument("--pdf", action="store_true", help="write a PDF for printing instead of Markdown")
    p.add_argument(
        "--seal-to",
        metavar="CODE",
        help="write the pack into a sealed bundle for this counterpart instead (with the desk entries it lacks)",
    )
    p.add_argument(
        "--from",
        dest="received_from",
        metavar="CODE",
        help="write the pack this counterpart sealed to us (imported in a bundle) instead of ours",
    )
    p.add_argument("--force", action="store_true", help="replace an existing ordinary file")
    _ics_arguments(meetings.add("export", cmd_meetings_export, "write the meetings as an RFC 5545 calendar"))

    actions = commands.group("actions", "actions agreed by the working group, shared with the counterpart")
    p = actions.add(
        "add",
        cmd_actions_add,
        "agree an action; prints its id",
        officer_dest="owner_officer",
        officer_help="the officer of the owner ministry who will do it (the acting officer: --officer before "
        "the command, or $LIAISON_OFFICER)",
    )
    add_text_option(p, "title", "action's title", required_note="; one of the two is required")
    p.add_argument("--domain", required=True, metavar="D")
    p.add_argument("--owner", required=True, metavar="CODE", help="the ministry that will do it")
    p.add_argument("--due", required=True, metavar="YYYY-MM-DD")
    p.add_argument("--meeting", metavar="Q", help="the meeting that agreed it (the due date may not precede it)")
    p.add_argument("--record", action="append", metavar="REF", help="a linked record (repeatable)")
    p = actions.add("list", cmd_actions_list, "actions by due date")
    p.add_argument("--overdue", action="store_true", help="only open actions past their due date")
    p.add_argument("--meeting", metavar="Q")
    p.add_argument("--owner", metavar="CODE")
    p.add_argument("--json", action="store_true")
    p = actions.add("done", cmd_actions_done, "mark an action of this ministry done")
    p.add_argument("id", metavar="ID")
    p.add_argument("--comment", metavar="TEXT")
    p.add_argument("--comment-file", metavar="FILE|-")
    p = actions.add("drop", cmd_actions_drop, "drop an action of this ministry, with a reason")
    p.add_argument("id", metavar="ID")
    p.add_argument("--reason", metavar="TEXT")
    p.add_argument("--reason-file", metavar="FILE|-")
    _ics_arguments(actions.add("export", cmd_actions_export, "write the actions as an RFC 5545 calendar (to-dos)"))
