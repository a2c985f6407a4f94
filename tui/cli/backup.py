"""`liaison backup` and `liaison restore`: a consistent copy of the store while it is in use, and putting one back."""

from __future__ import annotations

import sys
from pathlib import Path

from store.text import visible
from tui.cli.common import EXIT_OK, Commands, Context, Refused, store_path


def cmd_backup(ctx: Context) -> int:
    from store.backup import backup

    store = store_path(ctx.args)
    result = backup(store, Path(ctx.args.out))
    print(
        f"backed up {visible(str(result.source))} to {visible(str(result.path))} "
        f"({result.bytes:,} bytes, schema {result.revision}); it is as encrypted as the store",
        file=sys.stderr,
    )
    return EXIT_OK


def cmd_restore(ctx: Context) -> int:
    from store.backup import StoreExists, restore

    store = store_path(ctx.args)
    try:
        result = restore(Path(ctx.args.file), store, force=ctx.args.force)
    except StoreExists as exc:
        raise Refused(f"{exc} (add --force to replace it; a copy of it is kept beside it)", value=exc.value) from None
    if result.replaced:
        print(
            f"restored {visible(str(result.path))} from {visible(str(result.source))} (schema {result.revision}); "
            f"the store it replaced is kept at {visible(str(result.kept))}",
            file=sys.stderr,
        )
    else:
        print(
            f"restored {visible(str(result.source))} as a new store {visible(str(result.path))} (schema {result.revision})",
            file=sys.stderr,
        )
    return EXIT_OK


def register(commands: Commands) -> None:
    p = commands.add(
        "backup",
        cmd_backup,
        "copy the store to a new file, consistently, even while the app has it open (no passphrase needed)",
    )
    p.add_argument("--out", required=True, metavar="FILE", help="the new backup file (never an existing one)")
    p = commands.add(
        "restore", cmd_restore, "make a backup the store at --store (a Liaison store of a known schema only)"
    )
    p.add_argument("file", metavar="FILE", help="the backup to restore")
    p.add_argument(
        "--force", action="store_true", help="replace an existing store (a copy of it is kept beside it first)"
    )
