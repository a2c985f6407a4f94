"""The `liaison` command line: the parser assembled from the command modules, and the entry point.

Exit codes: 0 success; 1 refused (one line `error: …` on stderr); 2 usage error.

To add a command group, write a module with `register(commands: Commands) -> None` (its handlers and
their arguments side by side) and add it to `COMMAND_MODULES`.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable, Sequence
from contextlib import ExitStack

from store.errors import LiaisonError
from tui.cli import (
    audit,
    backup,
    demo,
    history,
    init_store,
    interop,
    jwg,
    keys,
    officers,
    records,
    reference,
    review,
    sharing,
)
from tui.cli.common import (
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_USAGE,
    Commands,
    Context,
    Handler,
    Parser,
    UsageError,
    add_global_options,
    officer_name,
    run_tui,
    store_path,
)
from tui.present import cli_error, quote_path, safe

#: Every command group, in the order `liaison --help` lists them.
COMMAND_MODULES: tuple[Callable[[Commands], None], ...] = (
    init_store.register,
    records.register,
    review.register,
    officers.register,
    keys.register,
    reference.register,
    demo.register,
    sharing.register,
    history.register,
    audit.register,
    backup.register,
    interop.register,
    jwg.register,
)


def build_parser() -> Parser:
    """The whole command line."""
    parser = Parser(
        prog="liaison",
        description="Liaison: encrypted intelligence sharing between ministries. With no command, opens the app.",
    )
    add_global_options(parser, suppress=False)
    commands = Commands(parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser))
    for register in COMMAND_MODULES:
        register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `liaison` and `python -m tui`."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    with ExitStack() as stack:
        try:
            if handler is None:
                return run_tui(store_path(args), officer_name(args))
            return int(handler(Context(args, stack)))
        except UsageError as exc:
            print(f"error: {safe(exc)}", file=sys.stderr)
            return EXIT_USAGE
        except LiaisonError as exc:
            print(f"error: {cli_error(exc)}", file=sys.stderr)
            return EXIT_REFUSED
        except KeyboardInterrupt:
            print("error: interrupted; nothing was changed", file=sys.stderr)
            return EXIT_REFUSED
        except BrokenPipeError:
            sys.stderr.close()
            return EXIT_OK
        except Exception as exc:
            return _unexpected(exc)


def _unexpected(exc: Exception) -> int:
    from sqlalchemy.exc import DatabaseError

    if os.environ.get("LIAISON_DEBUG"):
        traceback.print_exc()
    if isinstance(exc, DatabaseError):
        print(f"error: the store is corrupt or unreadable ({safe(exc.orig)})", file=sys.stderr)
    elif isinstance(exc, OSError):
        where = quote_path(exc.filename) if exc.filename else ""
        print(f"error: {safe(exc.strerror or exc)}: {where}".rstrip(": "), file=sys.stderr)
    else:
        print(f"error: unexpected {type(exc).__name__}: {safe(exc)} (set LIAISON_DEBUG=1 for details)", file=sys.stderr)
    return EXIT_REFUSED


if __name__ == "__main__":
    raise SystemExit(main())
