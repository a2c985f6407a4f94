"""Records: `add`, `edit`, `list`, `show`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from store.errors import ValidationError
from store.vocab import SEED_DOMAINS, Status, Tlp
from tui.cli import texts as text_input
from tui.cli.common import EXIT_OK, Commands, Context, UsageError, emit_json
from tui.cli.table import LONGEST_DOMAIN, LONGEST_REFERENCE, Column, print_table
from tui.cli.texts import RecordText, add_text_option, given_texts, record_in_editor
from tui.present import quote, record_detail_json, record_json, safe, safe_block

if TYPE_CHECKING:
    from store.records import RecordQuery, RecordRow
    from store.service import Session


RECORD_TEXTS = ("title", "summary", "source", "notes")


def _title(text: str | None) -> str | None:
    """A title read from a file or stdin loses its line end (`echo Title > t.txt` is one line)."""
    return text_input.one_line(text)


def note_tlp(tlp: str | None) -> None:
    """Say so when an older TLP 1.0 label is taken as its TLP 2.0 name (`white` is CLEAR)."""
    if tlp is not None and tlp.strip().upper().removeprefix("TLP:") == "WHITE":
        print("note: TLP:WHITE is taken as TLP:CLEAR (its TLP 2.0 name)", file=sys.stderr)


def cmd_add(ctx: Context) -> int:
    from store.service import Draft

    args = ctx.args
    texts = given_texts(args, RECORD_TEXTS)
    if all(value is None for value in texts.values()) and not text_input.on_terminal():
        raise UsageError(
            "add needs a title: give --title-file FILE (or --title TEXT), or run it on a terminal to write it in $EDITOR"
        )
    if texts["title"] is None and any(value is not None for value in texts.values()):
        raise UsageError("add needs a title: give --title-file FILE or --title TEXT")
    session = ctx.session()
    if texts["title"] is None:
        written = record_in_editor(f"New record: domain {args.domain}, TLP:{args.tlp.upper()}")
        texts = {"title": written.title, "summary": written.summary, "source": written.source, "notes": written.notes}
    note_tlp(args.tlp)
    draft = Draft(
        domain=args.domain,
        tlp=args.tlp,
        title=_title(texts["title"]) or "",
        summary=texts["summary"] or "",
        source=texts["source"] or "",
        notes=texts["notes"] or "",
        releasable_to=args.to or [],
    )
    print(safe(session.add_record(draft, submit=args.submit)))
    return EXIT_OK


def cmd_edit(ctx: Context) -> int:
    from store.service import Changes

    args = ctx.args
    texts = given_texts(args, RECORD_TEXTS)
    nothing_given = all(v is None for v in (*texts.values(), args.tlp, args.domain, args.to))
    session = ctx.session()
    if nothing_given and text_input.on_terminal():
        detail = session.get_record(args.ref)
        now = RecordText(detail.row.title, detail.summary, detail.source, detail.notes)
        written = record_in_editor(f"Edit {safe(detail.row.reference)} (a new revision)", now)
        texts = {
            name: (new if new != old else None)
            for name, new, old in zip(
                RECORD_TEXTS,
                (written.title, written.summary, written.source, written.notes),
                (now.title, now.summary, now.source, now.notes),
                strict=True,
            )
        }
    note_tlp(args.tlp)
    changes = Changes(
        title=_title(texts["title"]),
        summary=texts["summary"],
        source=texts["source"],
        notes=texts["notes"],
        tlp=args.tlp,
        domain=args.domain,
        releasable_to=args.to,
    )
    number = session.edit_record(args.ref, changes)
    print(f"{safe(args.ref.upper())} revision {number}")
    return EXIT_OK


def parse_day(text: str, option: str) -> datetime:
    """A `YYYY-MM-DD` day as its first instant, UTC."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise ValidationError(f"{option} {quote(text)} is not a date; expected YYYY-MM-DD") from None
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _query(args: argparse.Namespace, session: Session) -> RecordQuery:
    from store.records import RecordQuery

    def values(name: str) -> frozenset[str]:
        return frozenset(getattr(args, name) or [])

    query = RecordQuery(
        domains=values("domain"),
        ministries=values("ministry"),
        tlps=values("tlp"),
        statuses=values("status"),
        search=args.search or "",
        order="oldest" if args.oldest else "newest",
        since=parse_day(args.since, "--since") if args.since else None,
        until=parse_day(args.until, "--until") + timedelta(days=1) if args.until else None,
    )
    return session.normalise_query(query)


def _iter_rows(session: Session, query: RecordQuery, limit: int | None) -> Iterator[tuple[RecordRow, str | None]]:
    """Every matching row with why it is damaged (None: intact), fetched in keyset pages so memory stays flat;
    each page checked as the app's browser checks its pages (`Session.damaged_among`, the cheap check)."""
    page, after, sent = 500, None, 0
    while limit is None or sent < limit:
        size = page if limit is None else min(page, limit - sent)
        rows = session.list_records(query, limit=size, after=after)
        damaged = session.damaged_among([row.id for row in rows], full=False)
        yield from ((row, damaged.get(row.id)) for row in rows)
        sent += len(rows)
        if len(rows) < size:
            return
        after = (rows[-1].created_at, rows[-1].id)


def _arrow(row: RecordRow) -> str:
    return safe(f"{row.origin}→{','.join(row.releasable_to) or '—'}")


#: The columns of `liaison list` (as wide as the widest value shown; see `tui.cli.table`).
LIST_COLUMNS = (
    Column("REFERENCE", LONGEST_REFERENCE),
    Column("CREATED", len("YYYY-MM-DD")),
    Column("DOMAIN", LONGEST_DOMAIN),
    Column("FROM→TO"),
    Column("TLP", max(len(t.value) for t in Tlp)),
    Column("STATUS", max(len(s.value) for s in Status)),
    Column("TITLE"),
)


def cmd_list(ctx: Context) -> int:
    args = ctx.args
    session = ctx.session()
    query = _query(args, session)
    if args.limit is not None and args.limit < 0:
        raise ValidationError("--limit must not be negative")
    rows = _iter_rows(session, query, args.limit)
    if args.json:
        emit_json([record_json(row) | {"damaged": why} for row, why in rows])
        return EXIT_OK
    damaged: list[tuple[str, str]] = []

    def line(row: RecordRow, why: str | None) -> tuple[str, ...]:
        if why is not None:
            damaged.append((row.reference, why))
        return (
            safe(row.reference),
            f"{row.created_at:%Y-%m-%d}",
            safe(row.domain),
            _arrow(row),
            row.tlp.value,
            row.status.value,
            f"{'DAMAGED · ' if why is not None else ''}{'WITHDRAWN · ' if row.withdrawn else ''}{safe(row.title)}",
        )

    count = print_table(LIST_COLUMNS, (line(row, why) for row, why in rows))
    if count == 0:
        print("no records match", file=sys.stderr)
    for reference, why in damaged:  # why each marked record is damaged, after the table (one line each)
        print(f"warning: record {safe(reference)} is damaged: {safe(why)}", file=sys.stderr)
    return EXIT_OK


def cmd_show(ctx: Context) -> int:
    args = ctx.args
    session = ctx.session()
    detail = session.get_record(args.ref)
    if args.json:
        emit_json(record_detail_json(detail))
        return EXIT_OK
    row = detail.row
    withdrawal = session.withdrawal(row.reference)
    if withdrawal is not None:
        reason = f": {withdrawal.reason}" if withdrawal.reason else ""
        print(safe_block(f"WITHDRAWN by {withdrawal.origin} on {withdrawal.withdrawn_at:%Y-%m-%d}{reason}").rstrip())
    print(f"{safe(row.reference)}  TLP:{row.tlp.value}  {row.status.value}")
    print(safe(row.title))
    print(
        f"domain {safe(row.domain)} · {_arrow(row)} · author {safe(row.author)} · "
        f"created {row.created_at:%Y-%m-%d %H:%M} UTC · revision {row.revision}"
    )
    print()
    print(safe_block(detail.summary) or "(no summary)")
    if detail.source:
        print(f"\nSource: {safe_block(detail.source)}")
    if detail.notes:
        print(f"\nNotes: {safe_block(detail.notes)}")
    if len(detail.revisions) > 1:
        print("\nRevisions:")
        for rev in detail.revisions:
            print(
                f"  {rev.number}  {rev.created_at:%Y-%m-%d %H:%M}  {safe(rev.officer):<12} TLP:{safe(rev.tlp):<12} {safe(rev.title)}"
            )
    if detail.reviews:
        print("\nReview:")
        for ev in detail.reviews:
            print(f"  {ev.at:%Y-%m-%d %H:%M}  {safe(ev.officer):<12} {safe(ev.action):<9} {safe_block(ev.comment)}")
    for key, value in detail.extra.items():
        if isinstance(value, list) and value:
            print(f"\n{safe(key.replace('_', ' ').capitalize())}:")
            for item in value:
                print("  " + "  ".join(safe(v) for v in (item.values() if isinstance(item, dict) else [item])))
    return EXIT_OK


TLP_HELP = f"{', '.join(t.value for t in Tlp)} (TLP:WHITE is taken as CLEAR)"
DOMAIN_HELP = f"{', '.join(SEED_DOMAINS)}, or one an admin added (`liaison domains list`)"
STATUS_HELP = ", ".join(s.value for s in Status)


def _record_text_options(p: argparse.ArgumentParser) -> None:
    add_text_option(p, "title", "title")
    add_text_option(p, "summary", "summary (Markdown)")
    add_text_option(p, "source", "source")
    add_text_option(p, "notes", "private notes")


def register(commands: Commands) -> None:
    editor = "; with no text given on a terminal, $EDITOR opens on a template (like `git commit`)"
    p = commands.add("add", cmd_add, "record a new intelligence summary; prints its reference" + editor)
    p.add_argument("--domain", required=True, help=DOMAIN_HELP)
    p.add_argument("--tlp", required=True, help=TLP_HELP)
    _record_text_options(p)
    p.add_argument("--to", action="append", metavar="CODE", help="releasable to this ministry (repeatable)")
    p.add_argument("--submit", action="store_true", help="put it in review at once")

    p = commands.add("edit", cmd_edit, "write a new revision of a draft or returned record" + editor)
    p.add_argument("ref", metavar="REF")
    _record_text_options(p)
    p.add_argument("--tlp", help=TLP_HELP)
    p.add_argument("--domain", help=DOMAIN_HELP)
    p.add_argument("--to", action="append", metavar="CODE", help="replace the releasable-to list (repeatable)")

    p = commands.add("list", cmd_list, "list records, newest first")
    p.add_argument("--domain", action="append", help=DOMAIN_HELP + " (repeatable)")
    p.add_argument("--ministry", action="append", metavar="CODE", help="origin or recipient")
    p.add_argument("--status", action="append", help=STATUS_HELP + " (repeatable)")
    p.add_argument("--tlp", action="append", help=TLP_HELP + " (repeatable)")
    p.add_argument("--search", metavar="WORDS", help="records whose title or summary has every word")
    p.add_argument("--since", metavar="YYYY-MM-DD", help="created on or after this day (UTC)")
    p.add_argument("--until", metavar="YYYY-MM-DD", help="created on or before this day (UTC)")
    p.add_argument("--limit", type=int, metavar="N")
    p.add_argument("--oldest", action="store_true", help="oldest first")
    p.add_argument("--json", action="store_true")

    p = commands.add("show", cmd_show, "show one record, decrypted")
    p.add_argument("ref", metavar="REF")
    p.add_argument("--json", action="store_true")
