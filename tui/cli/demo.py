"""`liaison demo`: build a demo store and open the app on it."""

from __future__ import annotations

import sys
from pathlib import Path

from store.errors import ValidationError
from tui.cli.common import EXIT_OK, Commands, Context, progress_printer, run_tui


def cmd_demo(ctx: Context) -> int:
    from store.demo import DEMO_OFFICER, DEMO_PASSPHRASE, build_demo, default_demo_path

    args = ctx.args
    path = Path(args.store).expanduser() if getattr(args, "store", None) else default_demo_path()
    if args.records < 0:
        raise ValidationError("--records must not be negative")
    result = build_demo(path, records=args.records, progress=progress_printer("demo records"))
    print(
        f"demo store {result.path}: {result.records:,} records; officer {DEMO_OFFICER}, passphrase {DEMO_PASSPHRASE}",
        file=sys.stderr,
    )
    for line in result.notes:
        print(line, file=sys.stderr)
    if args.no_tui:
        return EXIT_OK
    return run_tui(
        result.path, DEMO_OFFICER, notice=f"demo store: officer {DEMO_OFFICER}, passphrase {DEMO_PASSPHRASE}"
    )


def register(commands: Commands) -> None:
    p = commands.add("demo", cmd_demo, "build a demo store (officer demo, passphrase demo) and open the app")
    p.add_argument("--records", type=int, default=300, metavar="N")
    p.add_argument("--no-tui", action="store_true", help="build it and stop")
