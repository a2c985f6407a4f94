"""`liaison demo`: build a demo store (or, with `--keep`, reopen the one the user already worked in) and open the app."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from store.errors import ValidationError
from tui.cli.common import EXIT_OK, Commands, Context, progress_printer, run_tui
from tui.present import plural, safe


def liaison_command() -> str:
    """How the user can run this Liaison from where they are: `liaison` when that is on PATH and is this one,
    else the path of this interpreter's `liaison` script (`.venv/bin/liaison` from the repository)."""
    script = Path(sys.executable).with_name("liaison")
    on_path = shutil.which("liaison")
    if on_path and script.exists() and Path(on_path).resolve() == script.resolve():
        return "liaison"
    if not script.exists():
        return f"{sys.executable} -m tui"
    try:
        relative = os.path.relpath(script)
    except ValueError:
        return str(script)
    return relative if not relative.startswith("..") else str(script)


def cmd_demo(ctx: Context) -> int:
    from store.demo import (
        DEMO_OFFICER,
        DEMO_PASSPHRASE,
        build_demo,
        counterpart_path,
        default_demo_path,
        demo_notes,
        open_or_build,
    )

    args = ctx.args
    path = Path(args.store).expanduser() if getattr(args, "store", None) else default_demo_path()
    if args.records < 0:
        raise ValidationError("--records must not be negative")
    progress = progress_printer("demo records")
    if args.keep:
        result, built = open_or_build(path, records=args.records, progress=progress)
    else:
        result, built = build_demo(path, records=args.records, progress=progress), True
    how = "built" if built else "kept as you left it (rebuild it with `make demo-reset` or `liaison demo`)"
    lines = [
        f"demo store {safe(result.path)}: {plural(result.records, 'record')}, {how}; "
        f"officer {DEMO_OFFICER}, passphrase {DEMO_PASSPHRASE}",
        *demo_notes(result.path, counterpart=counterpart_path(result.path).exists(), command=liaison_command()),
    ]
    for line in lines:
        print(safe(line), file=sys.stderr)
    if args.no_tui:
        return EXIT_OK
    code = run_tui(result.path, DEMO_OFFICER)  # the unlock screen names a demo store's officers itself
    for line in lines[1:]:  # the app's screen is gone: say again what matters
        print(safe(line), file=sys.stderr)
    return code


def register(commands: Commands) -> None:
    p = commands.add("demo", cmd_demo, "build a demo store (officer demo, passphrase demo) and open the app")
    p.add_argument("--records", type=int, default=300, metavar="N")
    p.add_argument("--no-tui", action="store_true", help="build it and stop")
    p.add_argument(
        "--keep",
        action="store_true",
        help="open the demo store at --store as you left it, if there is one (build it otherwise)",
    )
