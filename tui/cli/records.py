"""Records: `add`, `edit`, `list`, `show`."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

from store.errors import ValidationError
from tui.cli.common import EXIT_OK, Commands, Context, emit_json, read_text_arg
from tui.present import record_detail_json, record_json, safe, safe_block

if TYPE_CHECKING:
    import argparse

    from store.records import RecordQuery, RecordRow
    from store.service import Session


def cmd_add(ctx: Context) -> int:
    from store.service import Draft

    args = ctx.args
    summary = read_text_arg(args.summary, args.summary_file, "summary") or ""
    session = ctx.session()
    draft = Draft(
        domain=args.domain,
        tlp=args.tlp,
        title=args.title,
        summary=summary,
        source=args.source or "",
        notes=args.notes or "",
        releasable_to=args.to or [],
    )
    print(session.add_record(draft, submit=args.submit))
    return EXIT_OK


def cmd_edit(ctx: Context) -> int:
    from store.service import Changes

    args = ctx.args
    summary = read_text_arg(args.summary, args.summary_file, "summary")
    session = ctx.session()
    changes = Changes(
        title=args.title,
        summary=summary,
        source=args.source,
        notes=args.notes,
        tlp=args.tlp,
        domain=args.domain,
        releasable_to=args.to,
    )
    number = session.edit_record(args.ref, changes)
    print(f"{safe(args.ref.upper())} revision {number}")
    return EXIT_OK


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
    )
    return session.normalise_query(query)


def _iter_rows(session: Session, query: RecordQuery, limit: int | None) -> Iterator[RecordRow]:
    """Every matching row, fetched in keyset pages so memory stays flat."""
    page, after, sent = 500, None, 0
    while limit is None or sent < limit:
        size = page if limit is None else min(page, limit - sent)
        rows = session.list_records(query, limit=size, after=after)
        yield from rows
        sent += len(rows)
        if len(rows) < size:
            return
        after = (rows[-1].created_at, rows[-1].id)


def _arrow(row: RecordRow) -> str:
    return safe(f"{row.origin}→{','.join(row.releasable_to) or '—'}")


def cmd_list(ctx: Context) -> int:
    args = ctx.args
    session = ctx.session()
    query = _query(args, session)
    if args.limit is not None and args.limit < 0:
        raise ValidationError("--limit must not be negative")
    rows = _iter_rows(session, query, args.limit)
    if args.json:
        emit_json([record_json(r) for r in rows])
        return EXIT_OK
    count = 0
    for row in rows:
        count += 1
        print(
            f"{safe(row.reference):<18} {row.created_at:%Y-%m-%d} {safe(row.domain):<18} {_arrow(row):<22} "
            f"{row.tlp.value:<12} {row.status.value:<12} {safe(row.title)}"
        )
    if count == 0:
        print("no records match", file=sys.stderr)
    return EXIT_OK


def cmd_show(ctx: Context) -> int:
    args = ctx.args
    session = ctx.session()
    detail = session.get_record(args.ref)
    if args.json:
        emit_json(record_detail_json(detail))
        return EXIT_OK
    row = detail.row
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


def register(commands: Commands) -> None:
    p = commands.add("add", cmd_add, "record a new intelligence summary; prints its reference")
    p.add_argument("--domain", required=True)
    p.add_argument("--tlp", required=True)
    p.add_argument("--title", required=True)
    p.add_argument("--summary")
    p.add_argument("--summary-file", metavar="FILE|-")
    p.add_argument("--source")
    p.add_argument("--notes")
    p.add_argument("--to", action="append", metavar="CODE", help="releasable to this ministry (repeatable)")
    p.add_argument("--submit", action="store_true", help="put it in review at once")

    p = commands.add("edit", cmd_edit, "write a new revision of a draft or returned record")
    p.add_argument("ref", metavar="REF")
    p.add_argument("--title")
    p.add_argument("--summary")
    p.add_argument("--summary-file", metavar="FILE|-")
    p.add_argument("--source")
    p.add_argument("--notes")
    p.add_argument("--tlp")
    p.add_argument("--domain")
    p.add_argument("--to", action="append", metavar="CODE", help="replace the releasable-to list (repeatable)")

    p = commands.add("list", cmd_list, "list records, newest first")
    p.add_argument("--domain", action="append")
    p.add_argument("--ministry", action="append", metavar="CODE", help="origin or recipient")
    p.add_argument("--status", action="append")
    p.add_argument("--tlp", action="append")
    p.add_argument("--search", metavar="WORDS", help="records whose title or summary has every word")
    p.add_argument("--limit", type=int, metavar="N")
    p.add_argument("--oldest", action="store_true", help="oldest first")
    p.add_argument("--json", action="store_true")

    p = commands.add("show", cmd_show, "show one record, decrypted")
    p.add_argument("ref", metavar="REF")
    p.add_argument("--json", action="store_true")
