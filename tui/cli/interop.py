"""The field's formats: `liaison stix export|import` and `liaison misp export|import` (STIX 2.1, MISP events).

What may leave and what may come in is decided in `store/interop`; these commands parse, ask and print.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from tui.cli.common import EXIT_OK, Commands, Context, Refused
from tui.cli.sharing import output_path, parse_since
from tui.present import interop_export_summary, interop_import_summary

FORCE_HELP = "replace an existing file (never a store, a database or a link)"
HINTS = {"as": "give --as CODE", "tlp": "give --tlp T", "domain": "give --domain D"}


def _export(ctx: Context, which: str) -> int:
    from store.interop.misp import export_misp
    from store.interop.stix import export_stix

    args = ctx.args
    since = parse_since(args.since) if args.since else None
    out = output_path(args, args.out)
    session = ctx.session()
    run = export_stix if which == "stix" else export_misp
    result = run(
        session,
        out,
        max_tlp=args.max_tlp,
        since=since,
        domains=args.domain or [],
        refs=args.refs or [],
        force=args.force,
    )
    print(interop_export_summary(result), file=sys.stderr)
    return EXIT_OK


def _import(ctx: Context, which: str) -> int:
    from store.interop.common import InteropRefused
    from store.interop.misp import import_misp
    from store.interop.stix import import_stix

    args = ctx.args
    session = ctx.session()
    run = import_stix if which == "stix" else import_misp
    try:
        result = run(
            session, Path(args.file), as_code=args.as_code, tlp=args.tlp, domain=args.domain, preview=args.dry_run
        )
    except InteropRefused as exc:
        hint = HINTS.get(exc.field or "")
        if hint is None:
            raise
        raise Refused(f"{exc} ({hint})", field=exc.field, reference=exc.reference) from None
    print(interop_import_summary(result), file=sys.stderr)
    return EXIT_OK


def cmd_stix_export(ctx: Context) -> int:
    return _export(ctx, "stix")


def cmd_stix_import(ctx: Context) -> int:
    return _import(ctx, "stix")


def cmd_misp_export(ctx: Context) -> int:
    return _export(ctx, "misp")


def cmd_misp_import(ctx: Context) -> int:
    return _import(ctx, "misp")


def _export_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True, metavar="FILE")
    p.add_argument("--force", action="store_true", help=FORCE_HELP)
    p.add_argument("--domain", action="append", metavar="D", help="only this domain (repeatable)")
    p.add_argument("--since", metavar="DATE", help="only records updated on or after DATE")
    p.add_argument(
        "--max-tlp",
        metavar="T",
        help="highest TLP to include (default GREEN; AMBER and AMBER+STRICT need a reviewer; RED never leaves)",
    )
    p.add_argument("refs", nargs="*", metavar="REF", help="only these records")


def _import_arguments(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("file", metavar="FILE")
    p.add_argument(
        "--as", dest="as_code", metavar="CODE", help=f"the ministry {what} comes from when it names none known"
    )
    p.add_argument("--tlp", metavar="T", help="the TLP of items that carry no TLP marking (never RED)")
    p.add_argument("--domain", metavar="D", help="the domain of items without a label naming a known domain")
    p.add_argument("--dry-run", action="store_true", help="check everything and say what would happen; write nothing")


def register(commands: Commands) -> None:
    stix = commands.group("stix", "STIX 2.1 bundles with TLP 2.0 markings (OpenCTI, CERT tools)")
    p: Any = stix.add("export", cmd_stix_export, "write the records that may leave as a STIX 2.1 bundle")
    _export_arguments(p)
    p = stix.add("import", cmd_stix_import, "import the reports of a STIX 2.x bundle as received records")
    _import_arguments(p, "the bundle")

    misp = commands.group("misp", "MISP event JSON (one event, an Event Report per record)")
    p = misp.add("export", cmd_misp_export, "write the records that may leave as one MISP event")
    _export_arguments(p)
    p = misp.add("import", cmd_misp_import, "import the Event Reports (or events) of a MISP file as received records")
    _import_arguments(p, "the event")
