"""`officers list|add|passwd|remove`."""

from __future__ import annotations

import sys

from tui.cli.common import EXIT_OK, NEW_PASSPHRASE_ENV, Commands, Context, emit_json, new_passphrase
from tui.present import officer_json, officer_line, safe


def cmd_officers_list(ctx: Context) -> int:
    officers = ctx.vault().officers()
    if ctx.args.json:
        emit_json([officer_json(o) for o in officers])
    else:
        width = max(len(safe(o.name)) for o in officers) if officers else 0
        for o in officers:
            print(officer_line(o, width))
    return EXIT_OK


def cmd_officers_add(ctx: Context) -> int:
    args = ctx.args
    session = ctx.session()
    from store.vocab import check_officer_name, parse_role

    check_officer_name(args.name)
    parse_role(args.role)
    session.add_officer(args.name, args.role, new_passphrase(f"Passphrase for new officer {safe(args.name)}: "))
    print(f"added officer {safe(args.name)} ({safe(args.role.lower())})", file=sys.stderr)
    return EXIT_OK


def cmd_officers_passwd(ctx: Context) -> int:
    session = ctx.session()
    name = safe(session.actor.name)
    session.change_passphrase(new_passphrase(f"New passphrase for {name}: "))
    print(f"passphrase changed for {name}", file=sys.stderr)
    return EXIT_OK


def cmd_officers_remove(ctx: Context) -> int:
    args = ctx.args
    from tui.cli.keys import line_progress

    version = ctx.session().remove_officer(args.name, progress=line_progress("re-indexing"))
    print(
        f"removed officer {safe(args.name)}; data key rotated to version {version}, master secret replaced, "
        "search index rebuilt",
        file=sys.stderr,
    )
    print(
        f"note: what was written before stays under the old data key until `liaison keys rotate` re-encrypts it, and "
        f"the ministry identity is unchanged: run `liaison identity rotate` too if {safe(args.name)} is not trusted",
        file=sys.stderr,
    )
    return EXIT_OK


def register(commands: Commands) -> None:
    officers = commands.group("officers", "manage officers")
    p = officers.add("list", cmd_officers_list, "list officers and roles")
    p.add_argument("--json", action="store_true")
    p = officers.add(
        "add", cmd_officers_add, f"add an officer (admin); passphrase from ${NEW_PASSPHRASE_ENV} or a prompt"
    )
    p.add_argument("name", metavar="NAME")
    p.add_argument("--role", required=True, help="officer, reviewer or admin")
    officers.add(
        "passwd", cmd_officers_passwd, f"change your own passphrase (new one from ${NEW_PASSPHRASE_ENV} or a prompt)"
    )
    p = officers.add(
        "remove", cmd_officers_remove, "remove an officer: new data key and master secret, search index rebuilt (admin)"
    )
    p.add_argument("name", metavar="NAME")
