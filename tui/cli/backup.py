"""`liaison backup` and `liaison restore`: a consistent copy of the store while it is in use, and putting one back."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from store.audit.witness import when
from store.errors import LiaisonError, PolicyError
from store.text import visible
from tui.cli.common import (
    EXIT_OK,
    Commands,
    Context,
    Refused,
    kdf_profile,
    officer_name,
    passphrase,
    store_path,
)
from tui.config import state_dir
from tui.present import cli_error

if TYPE_CHECKING:
    from store.service import Session, Vault


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

    args = ctx.args
    store = store_path(args)

    def unlock(vault: Vault) -> Session:
        """Only a restore that rolls the store back needs an admin: the passphrase is asked for only then."""
        found = vault.rollback.message() if vault.rollback is not None else "store rolled back"
        try:
            name = officer_name(args) or vault.default_officer()
            return vault.unlock(name, passphrase(args, f"Passphrase for {name} (to accept the rollback): "))
        except LiaisonError as exc:
            raise Refused(
                f"{found}; restoring this copy is a rollback an admin must accept: {cli_error(exc)}; nothing was restored"
            ) from None

    try:
        result = restore(
            Path(args.file), store, force=args.force, state_dir=state_dir(), unlock=unlock, kdf_profile=kdf_profile()
        )
    except StoreExists as exc:
        raise Refused(f"{exc} (add --force to replace it; a copy of it is kept beside it)", value=exc.value) from None
    except PolicyError as exc:  # an officer who may not accept the rollback the restore would be
        raise Refused(f"{cli_error(exc)}; nothing was restored") from None
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
    if result.accepted is not None:
        seen = result.accepted.seen
        print(
            f"this workstation had seen the store's log at {seen.size:,} events (checkpoint of {when(seen.time)}); "
            f"the restored log has {result.accepted.log_size:,}: the rollback is accepted and logged",
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
        "restore",
        cmd_restore,
        "make a backup the store at --store (a Liaison store of a known schema only); a copy older than what this "
        "workstation has seen of the store is a rollback, accepted and logged by an admin (--officer, passphrase)",
    )
    p.add_argument("file", metavar="FILE", help="the backup to restore")
    p.add_argument(
        "--force", action="store_true", help="replace an existing store (a copy of it is kept beside it first)"
    )
