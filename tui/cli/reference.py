"""Reference data: `ministries list|add`, `domains list|add`."""

from __future__ import annotations

import sys

from tui.cli.common import EXIT_OK, Commands, Context, emit_json
from tui.cli.table import Column, print_table
from tui.present import ministry_json, safe


def cmd_ministries_list(ctx: Context) -> int:
    ministries = ctx.vault().ministries()  # not secret: no officer needed, like `officers list`
    if ctx.args.json:
        emit_json([ministry_json(m) for m in ministries])
    else:
        rows = [(safe(m.code), safe(m.name) + ("  (this store)" if m.is_self else "")) for m in ministries]
        print_table((Column("CODE"), Column("NAME")), rows, header=False)
    return EXIT_OK


def cmd_ministries_add(ctx: Context) -> int:
    args = ctx.args
    ctx.session().add_ministry(args.code, args.name)
    print(f"added ministry {safe(args.code.upper())}", file=sys.stderr)
    return EXIT_OK


def cmd_domains_list(ctx: Context) -> int:
    domains = ctx.session().domains()
    if ctx.args.json:
        emit_json([{"slug": slug, "label": label} for slug, label in domains])
    else:
        rows = [(safe(slug), safe(label)) for slug, label in domains]
        print_table((Column("SLUG"), Column("LABEL")), rows, header=False)
    return EXIT_OK


def cmd_domains_add(ctx: Context) -> int:
    args = ctx.args
    ctx.session().add_domain(args.slug, args.label or args.slug)
    print(f"added domain {safe(args.slug.lower())}", file=sys.stderr)
    return EXIT_OK


def register(commands: Commands) -> None:
    ministries = commands.group("ministries", "manage sharing ministries")
    p = ministries.add("list", cmd_ministries_list, "list ministries")
    p.add_argument("--json", action="store_true")
    p = ministries.add("add", cmd_ministries_add, "add a ministry (admin)")
    p.add_argument("code", metavar="CODE")
    p.add_argument("--name", required=True)

    domains = commands.group("domains", "manage domains")
    p = domains.add("list", cmd_domains_list, "list domains")
    p.add_argument("--json", action="store_true")
    p = domains.add("add", cmd_domains_add, "add a domain (admin)")
    p.add_argument("slug", metavar="SLUG")
    p.add_argument("--label")
