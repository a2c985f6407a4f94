"""`liaison init`: create a store for a ministry, its first officer becoming admin."""

from __future__ import annotations

import sys

from tui.cli.common import (
    EXIT_OK,
    Commands,
    Context,
    Refused,
    UsageError,
    kdf_profile,
    officer_name,
    passphrase,
    store_path,
)
from tui.config import state_dir
from tui.present import quote_path, safe


def cmd_init(ctx: Context) -> int:
    from store.service import Vault
    from store.vocab import check_officer_name

    args = ctx.args
    path = store_path(args)
    officer = officer_name(args)
    if not officer:
        raise UsageError("init needs --officer NAME (the first officer, who becomes admin)")
    if path.exists():
        raise Refused(f"{quote_path(path)} already exists; refusing to touch it", value=str(path))
    check_officer_name(officer)
    secret = passphrase(args, f"New passphrase for {officer}: ", confirm=True)
    vault = Vault.create(
        path,
        args.ministry,
        officer,
        secret,
        four_eyes=not args.no_four_eyes,
        ministry_name=args.ministry_name,
        kdf_profile=kdf_profile(),
        state_dir=state_dir(),
    )
    vault.close()
    policy = "four-eyes on" if not args.no_four_eyes else "four-eyes off (self-approval allowed)"
    print(
        f"created store {safe(path)} for {safe(args.ministry.upper())}; admin {safe(officer)}; {policy}",
        file=sys.stderr,
    )
    return EXIT_OK


def register(commands: Commands) -> None:
    p = commands.add(
        "init",
        cmd_init,
        "create a store for a ministry; the officer becomes its admin",
        officer_help="the first officer, who becomes admin",
    )
    p.add_argument("--ministry", required=True, metavar="CODE")
    p.add_argument("--ministry-name", metavar="NAME", help="name of a ministry code not yet known")
    p.add_argument("--no-four-eyes", action="store_true", help="allow officers to approve their own records")
