"""What every command module of `liaison` shares: the parser class, the command registry, the run context
(store, officer, passphrases, the stores it opened) and the small output helpers.

A command module defines its handlers and a `register(commands: Commands) -> None` that declares each
command with its arguments beside it; `tui/cli/main.py` lists the modules.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import re
import stat
import sys
from collections.abc import Callable
from contextlib import ExitStack, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, Protocol, TextIO

from store.errors import LiaisonError, ValidationError
from store.text import visible
from tui.config import state_dir
from tui.present import quote_path

if TYPE_CHECKING:
    from store.service import Session, Vault

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2
STORE_ENV, OFFICER_ENV, PASSPHRASE_ENV, NEW_PASSPHRASE_ENV = (
    "LIAISON_STORE",
    "LIAISON_OFFICER",
    "LIAISON_PASSPHRASE",
    "LIAISON_NEW_PASSPHRASE",
)


KDF_PROFILE_ENV = "LIAISON_KDF_PROFILE"


def kdf_profile() -> str | None:
    """The key-derivation profile for new key slots and bundle passphrases (env LIAISON_KDF_PROFILE)."""
    return os.environ.get(KDF_PROFILE_ENV) or None


class Refused(LiaisonError):
    """A CLI-level refusal (bad file, missing passphrase)."""


class UsageError(Exception):
    """A command line that names no runnable command (exit 2, one line)."""


# ---- resolving the store, the officer and passphrases ---------------------------------------------


def default_store_path() -> Path:
    """The platformdirs user data dir, where a store lives unless told otherwise."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("liaison", appauthor=False)) / "liaison.db"


def store_path(args: argparse.Namespace) -> Path:
    """`--store`, else env LIAISON_STORE, else the user data dir."""
    given = getattr(args, "store", None) or os.environ.get(STORE_ENV)
    return Path(given).expanduser() if given else default_store_path()


def officer_name(args: argparse.Namespace) -> str | None:
    """`--officer`, else env LIAISON_OFFICER, else None (the only officer)."""
    return getattr(args, "officer", None) or os.environ.get(OFFICER_ENV) or None


def _read_text_file(path: str, what: str) -> str:
    """The UTF-8 text of a file the user named, exactly as written (no newline translation: a stray `\\r` stays
    a `\\r`, so the text policy names the real character); a device such as /dev/null is refused, not read as nothing."""
    given = Path(path).expanduser()
    try:
        if stat.S_ISCHR(given.stat().st_mode) or stat.S_ISBLK(given.stat().st_mode):
            raise Refused(f"{what} {quote_path(path)} is a device, not a file", value=path)
        return given.read_bytes().decode("utf-8")
    except OSError as exc:
        raise Refused(f"cannot read {what} {quote_path(path)}: {exc.strerror}", value=path) from None
    except UnicodeDecodeError:
        raise Refused(f"{what} {quote_path(path)} is not UTF-8 text", value=path) from None


def read_secret_file(path: str) -> str:
    """A passphrase from a file: its content less one trailing newline."""
    text = _read_text_file(path, "passphrase file")
    if text.endswith("\r\n"):
        text = text[:-2]
    elif text.endswith(("\n", "\r")):
        text = text[:-1]
    if not text:
        raise Refused(f"passphrase file {quote_path(path)} is empty", value=path)
    return text


def _ask(label: str) -> str:
    """A hidden prompt; Ctrl-D (end of input) is a refusal, not a crash."""
    try:
        return getpass.getpass(label)
    except EOFError:
        print(file=sys.stderr)
        raise Refused("no passphrase given (end of input); nothing was changed") from None


def _prompt(label: str) -> str:
    if not sys.stdin or not sys.stdin.isatty():
        raise Refused(f"no passphrase: set {PASSPHRASE_ENV} or use --passphrase-file (no terminal to ask on)")
    return _ask(label)


def passphrase(args: argparse.Namespace, label: str = "Passphrase: ", *, confirm: bool = False) -> str:
    """`--passphrase-file`, else env LIAISON_PASSPHRASE, else a hidden prompt (never an argument value)."""
    file_arg = getattr(args, "passphrase_file", None)
    if file_arg:
        return read_secret_file(file_arg)
    env = os.environ.get(PASSPHRASE_ENV)
    if env:
        return env
    first = _prompt(label)
    if confirm and _prompt("Again: ") != first:
        raise Refused("the two passphrases differ")
    return first


def new_passphrase(label: str) -> str:
    """A new officer's or a changed passphrase: env LIAISON_NEW_PASSPHRASE, else a hidden prompt asked twice."""
    env = os.environ.get(NEW_PASSPHRASE_ENV)
    if env:
        return env
    if not sys.stdin or not sys.stdin.isatty():
        raise Refused(f"no new passphrase: set {NEW_PASSPHRASE_ENV} (no terminal to ask on)")
    first = _ask(label)
    if _ask("Again: ") != first:
        raise Refused("the two passphrases differ")
    return first


def read_text_arg(inline: str | None, file_arg: str | None, what: str) -> str | None:
    """A long text from `--summary TEXT` or `--summary-file FILE|-`."""
    if inline is not None and file_arg is not None:
        raise ValidationError(f"give --{what} or --{what}-file, not both")
    if file_arg is None:
        return inline
    if file_arg == "-":
        return sys.stdin.read()
    return _read_text_file(file_arg, f"{what} file")


# ---- the run context ------------------------------------------------------------------------------


def _close_quietly(vault: Vault) -> None:
    with suppress(Exception):  # closing must never mask the command's own outcome
        vault.close()


def _warn_witness(vault: Vault) -> None:
    """A witness that could not be written is worth a warning line (the change itself was saved)."""
    if vault.witness_problem:
        print(f"warning: {visible(vault.witness_problem)}", file=sys.stderr)


@dataclass
class Context:
    """One run of a command: its arguments and the stores it opened (closed, WAL folded in, when it ends)."""

    args: argparse.Namespace
    stack: ExitStack

    def vault(self, *, allow_rollback: bool = False) -> Vault:
        """The store named by the options, opened but locked (a rolled-back store is refused unless
        `allow_rollback`)."""
        from store.service import Vault

        vault = Vault.open(
            store_path(self.args), kdf_profile=kdf_profile(), state_dir=state_dir(), allow_rollback=allow_rollback
        )
        self.stack.callback(_close_quietly, vault)
        self.stack.callback(_warn_witness, vault)
        return vault

    def session(self, *, allow_rollback: bool = False) -> Session:
        """The store unlocked as the acting officer (`allow_rollback`: even when this workstation saw its log
        newer, for `audit verify` to report it and `audit accept-rollback`)."""
        vault = self.vault(allow_rollback=allow_rollback)
        name = officer_name(self.args) or vault.default_officer()
        return vault.unlock(name, passphrase(self.args, f"Passphrase for {name}: "))


Handler = Callable[[Context], int]


# ---- output helpers -------------------------------------------------------------------------------


def emit_json(obj: Any, out: TextIO | None = None) -> None:
    """Pretty, stable JSON on stdout (looked up at call time, so a redirected stdout is honoured).

    Values stay exact; the characters a terminal would act on (C1, bidi, separators, which JSON leaves raw)
    are written as `\\uXXXX` escapes, so the bytes on stdout are as harmless as the human output.
    """
    out = out if out is not None else sys.stdout
    out.write(json_text(obj))
    out.write("\n")


#: What `json.dumps(ensure_ascii=False)` leaves raw that a terminal may act on: DEL, C1, line separators, bidi
#: controls, surrogates and non-characters (it escapes C0 controls itself; raw newlines are its indentation).
_JSON_RAW = re.compile(
    "[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff"
    + "".join(f"{chr(plane << 16 | 0xFFFE)}{chr(plane << 16 | 0xFFFF)}" for plane in range(1, 17))
    + "]"
)


def _json_escape(match: re.Match[str]) -> str:
    cp = ord(match.group())
    if cp > 0xFFFF:
        cp -= 0x10000
        return f"\\u{0xD800 + (cp >> 10):04x}\\u{0xDC00 + (cp & 0x3FF):04x}"
    return f"\\u{cp:04x}"


def json_text(obj: Any) -> str:
    """`obj` as pretty JSON, non-ASCII kept readable but no raw C1, bidi or other control character."""
    # Outside strings JSON is plain ASCII, so escaping these characters changes no value.
    return _JSON_RAW.sub(_json_escape, json.dumps(obj, ensure_ascii=False, indent=2))


def progress_printer(label: str) -> Callable[[int, int], None]:
    """A progress line on a terminal (stderr), silent when stderr is not a terminal."""
    tty = sys.stderr.isatty()

    def report(done: int, total: int) -> None:
        if tty:
            pct = 100 * done // total if total else 100
            sys.stderr.write(f"\r{label}: {done:,}/{total:,} ({pct}%)")
            if done >= total:
                sys.stderr.write("\n")
            sys.stderr.flush()

    return report


# ---- the parser and the command registry ----------------------------------------------------------


class Parser(argparse.ArgumentParser):
    """argparse with our exit code for usage errors and a one-line `error: …`.

    Abbreviations are off: `--passphrase SECRET` must be a usage error, not `--passphrase-file SECRET`.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"error: {visible(message)}\n")


STORE_PASSPHRASE_HELP = f"read the passphrase from FILE (else ${PASSPHRASE_ENV}, else a prompt)"


def add_global_options(
    parser: argparse.ArgumentParser,
    *,
    suppress: bool,
    officer_help: str | None = None,
    passphrase_dest: str = "passphrase_file",
    passphrase_help: str | None = None,
    officer_dest: str = "officer",
) -> None:
    """`--store`, `--officer`, `--passphrase-file`: accepted before the command and after it (a command whose own
    `--officer`/`--passphrase-file` means something else gives another `officer_dest`/`passphrase_dest`)."""
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument(
        "--store", metavar="PATH", default=default, help=f"store file (else ${STORE_ENV}, else the user data dir)"
    )
    parser.add_argument(
        "--officer",
        dest=officer_dest,
        metavar="NAME",
        default=default,
        help=officer_help or f"acting officer (else ${OFFICER_ENV}, else the only one)",
    )
    parser.add_argument(
        "--passphrase-file",
        dest=passphrase_dest,
        metavar="FILE",
        default=default,
        help=passphrase_help or STORE_PASSPHRASE_HELP,
    )


def _choose_subcommand(ctx: Context) -> int:
    command = ctx.args.command
    raise UsageError(f"choose a subcommand of {command}; see liaison {command} --help")


class _Subparsers(Protocol):
    """What `ArgumentParser.add_subparsers()` returns, as far as we use it."""

    def add_parser(self, name: str, **kwargs: Any) -> Parser: ...


class Commands:
    """Where a command module declares its commands: `commands.add(name, handler, help)` returns the
    command's parser for its arguments; `commands.group(name, help)` a nested set of subcommands."""

    def __init__(self, subparsers: _Subparsers) -> None:
        self._sub = subparsers

    def add(
        self,
        name: str,
        handler: Handler,
        help_text: str,
        *,
        officer_help: str | None = None,
        passphrase_dest: str = "passphrase_file",
        passphrase_help: str | None = None,
        officer_dest: str = "officer",
    ) -> Parser:
        parser: Parser = self._sub.add_parser(name, help=help_text, description=help_text)
        add_global_options(
            parser,
            suppress=True,
            officer_help=officer_help,
            passphrase_dest=passphrase_dest,
            passphrase_help=passphrase_help,
            officer_dest=officer_dest,
        )
        parser.set_defaults(handler=handler)
        return parser

    def group(self, name: str, help_text: str) -> Commands:
        parser = self.add(name, _choose_subcommand, help_text)
        return Commands(parser.add_subparsers(dest="subcommand", metavar="SUBCOMMAND", parser_class=Parser))


def run_tui(path: Path, officer: str | None, notice: str = "") -> int:
    """Open the app (the store is checked first so a bad path is a one-line error, not a screen)."""
    from store.db import preflight

    preflight(path)
    from tui.app import run_app

    return run_app(path, officer, notice=notice)
