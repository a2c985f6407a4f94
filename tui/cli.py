"""The `liaison` command line: a thin shell over `store/` with one-line errors and fixed exit codes.

Exit codes: 0 success; 1 refused (one line `error: …` on stderr); 2 usage error.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO

from store.errors import LiaisonError, ValidationError

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2
STORE_ENV, OFFICER_ENV, PASSPHRASE_ENV, NEW_PASSPHRASE_ENV = "LIAISON_STORE", "LIAISON_OFFICER", "LIAISON_PASSPHRASE", "LIAISON_NEW_PASSPHRASE"


class Refused(LiaisonError):
    """A CLI-level refusal (bad file, missing passphrase)."""


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


def read_secret_file(path: str) -> str:
    """A passphrase from a file: its content less one trailing newline."""
    try:
        text = Path(path).expanduser().read_text(encoding="utf-8")
    except OSError as exc:
        raise Refused(f"cannot read passphrase file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise Refused(f"passphrase file {path} is not UTF-8 text") from None
    if text.endswith("\r\n"):
        text = text[:-2]
    elif text.endswith("\n"):
        text = text[:-1]
    if not text:
        raise Refused(f"passphrase file {path} is empty")
    return text


def _prompt(label: str) -> str:
    if not sys.stdin or not sys.stdin.isatty():
        raise Refused(f"no passphrase: set {PASSPHRASE_ENV} or use --passphrase-file (no terminal to ask on)")
    return getpass.getpass(label)


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
    first = getpass.getpass(label)
    if getpass.getpass("Again: ") != first:
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
    try:
        return Path(file_arg).expanduser().read_text(encoding="utf-8")
    except OSError as exc:
        raise Refused(f"cannot read {file_arg}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise Refused(f"{file_arg} is not UTF-8 text") from None


#: Stores opened by the running command; `main` closes them, so every command ends with the WAL folded in.
_OPENED: list[Any] = []


def open_vault(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    """The store named by the options, opened but locked (closed by `main` when the command ends)."""
    from store.service import Vault

    vault = Vault.open(store_path(args))
    _OPENED.append(vault)
    return vault


def _close_opened() -> None:
    while _OPENED:
        try:
            _OPENED.pop().close()
        except Exception:  # noqa: BLE001 - closing must never mask the command's own outcome
            pass


def open_session(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    """The store unlocked as the acting officer."""
    vault = open_vault(args)
    name = officer_name(args) or vault.default_officer()
    return vault.unlock(name, passphrase(args, f"Passphrase for {name}: "))


def emit_json(obj: Any, out: TextIO | None = None) -> None:
    """Pretty, stable JSON on stdout (looked up at call time, so a redirected stdout is honoured)."""
    out = out if out is not None else sys.stdout
    json.dump(obj, out, ensure_ascii=False, indent=2)
    out.write("\n")


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


# ---- commands -------------------------------------------------------------------------------------


def cmd_init(args: argparse.Namespace) -> int:
    from store.service import Vault
    from store.vocab import check_officer_name

    path = store_path(args)
    officer = officer_name(args)
    if not officer:
        raise _UsageError("init needs --officer NAME (the first officer, who becomes admin)")
    if path.exists():
        raise Refused(f"{path} already exists; refusing to touch it")
    check_officer_name(officer)
    secret = passphrase(args, f"New passphrase for {officer}: ", confirm=True)
    vault = Vault.create(path, args.ministry, officer, secret, four_eyes=not args.no_four_eyes, ministry_name=args.ministry_name)
    vault.close()
    policy = "four-eyes on" if not args.no_four_eyes else "four-eyes off (self-approval allowed)"
    print(f"created store {path} for {args.ministry.upper()}; admin {officer}; {policy}", file=sys.stderr)
    return EXIT_OK


def cmd_add(args: argparse.Namespace) -> int:
    from store.service import Draft

    summary = read_text_arg(args.summary, args.summary_file, "summary") or ""
    session = open_session(args)
    draft = Draft(
        domain=args.domain,
        tlp=args.tlp,
        title=args.title,
        summary=summary,
        source=args.source or "",
        notes=args.notes or "",
        releasable_to=args.to or [],
    )
    print(session.add_record(draft, submit=args.submit))
    return EXIT_OK


def cmd_edit(args: argparse.Namespace) -> int:
    from store.service import Changes

    summary = read_text_arg(args.summary, args.summary_file, "summary")
    session = open_session(args)
    changes = Changes(title=args.title, summary=summary, source=args.source, notes=args.notes, tlp=args.tlp, domain=args.domain, releasable_to=args.to)
    number = session.edit_record(args.ref, changes)
    print(f"{args.ref.upper()} revision {number}")
    return EXIT_OK


def _query(args: argparse.Namespace, session: Any) -> Any:
    from store.records import RecordQuery

    def values(name: str) -> frozenset[str]:
        return frozenset(getattr(args, name) or [])

    query = RecordQuery(
        domains=values("domain"),
        ministries=values("ministry"),
        tlps=values("tlp"),
        statuses=values("status"),
        search=args.search or "",
        order="oldest" if args.oldest else "newest",
    )
    return session.normalise_query(query)


def _iter_rows(session: Any, query: Any, limit: int | None) -> Iterator[Any]:
    """Every matching row, fetched in keyset pages so memory stays flat."""
    page, after, sent = 500, None, 0
    while limit is None or sent < limit:
        size = page if limit is None else min(page, limit - sent)
        rows = session.list_records(query, limit=size, after=after)
        yield from rows
        sent += len(rows)
        if len(rows) < size:
            return
        after = (rows[-1].created_at, rows[-1].id)


def _arrow(row: Any) -> str:
    return f"{row.origin}→{','.join(row.releasable_to) or '—'}"


def cmd_list(args: argparse.Namespace) -> int:
    session = open_session(args)
    query = _query(args, session)
    if args.limit is not None and args.limit < 0:
        raise ValidationError("--limit must not be negative")
    rows = _iter_rows(session, query, args.limit)
    if args.json:
        emit_json([r.to_json() for r in rows])
        return EXIT_OK
    count = 0
    for row in rows:
        count += 1
        print(f"{row.reference:<18} {row.created_at:%Y-%m-%d} {row.domain:<18} {_arrow(row):<22} {row.tlp.value:<12} {row.status.value:<12} {row.title}")
    if count == 0:
        print("no records match", file=sys.stderr)
    return EXIT_OK


def cmd_show(args: argparse.Namespace) -> int:
    session = open_session(args)
    detail = session.get_record(args.ref)
    if args.json:
        emit_json(detail.to_json())
        return EXIT_OK
    row = detail.row
    print(f"{row.reference}  TLP:{row.tlp.value}  {row.status.value}")
    print(row.title)
    print(f"domain {row.domain} · {_arrow(row)} · author {row.author} · created {row.created_at:%Y-%m-%d %H:%M} UTC · revision {row.revision}")
    print()
    print(detail.summary or "(no summary)")
    if detail.source:
        print(f"\nSource: {detail.source}")
    if detail.notes:
        print(f"\nNotes: {detail.notes}")
    if len(detail.revisions) > 1:
        print("\nRevisions:")
        for rev in detail.revisions:
            print(f"  {rev.number}  {rev.created_at:%Y-%m-%d %H:%M}  {rev.officer:<12} TLP:{rev.tlp:<12} {rev.title}")
    if detail.reviews:
        print("\nReview:")
        for ev in detail.reviews:
            print(f"  {ev.at:%Y-%m-%d %H:%M}  {ev.officer:<12} {ev.action:<9} {ev.comment}")
    for key, value in detail.extra.items():
        if isinstance(value, list) and value:
            print(f"\n{key.replace('_', ' ').capitalize()}:")
            for item in value:
                print("  " + "  ".join(f"{v}" for v in (item.values() if isinstance(item, dict) else [item])))
    return EXIT_OK


def cmd_submit(args: argparse.Namespace) -> int:
    open_session(args).submit(args.ref)
    print(f"{args.ref.upper()} in review", file=sys.stderr)
    return EXIT_OK


def cmd_review(args: argparse.Namespace) -> int:
    session = open_session(args)
    if args.approve:
        session.approve(args.ref, args.comment or "")
        print(f"{args.ref.upper()} approved", file=sys.stderr)
    else:
        if not (args.comment or "").strip():
            raise ValidationError("--return needs --comment TEXT saying what to change")
        session.return_record(args.ref, args.comment)
        print(f"{args.ref.upper()} returned to its author", file=sys.stderr)
    return EXIT_OK


def cmd_close(args: argparse.Namespace) -> int:
    open_session(args).close_record(args.ref, args.comment or "")
    print(f"{args.ref.upper()} closed", file=sys.stderr)
    return EXIT_OK


def cmd_actioned(args: argparse.Namespace) -> int:
    open_session(args).mark_actioned(args.ref, args.comment or "")
    print(f"{args.ref.upper()} actioned", file=sys.stderr)
    return EXIT_OK


def cmd_officers_list(args: argparse.Namespace) -> int:
    officers = open_vault(args).officers()
    if args.json:
        emit_json([o.to_json() for o in officers])
    else:
        for o in officers:
            print(f"{o.name:<20} {o.role.value:<9} {'removed' if o.revoked else 'active'}")
    return EXIT_OK


def cmd_officers_add(args: argparse.Namespace) -> int:
    session = open_session(args)
    from store.vocab import check_officer_name, parse_role

    check_officer_name(args.name)
    parse_role(args.role)
    session.add_officer(args.name, args.role, new_passphrase(f"Passphrase for new officer {args.name}: "))
    print(f"added officer {args.name} ({args.role.lower()})", file=sys.stderr)
    return EXIT_OK


def cmd_officers_passwd(args: argparse.Namespace) -> int:
    session = open_session(args)
    session.change_passphrase(new_passphrase(f"New passphrase for {session.actor.name}: "))
    print(f"passphrase changed for {session.actor.name}", file=sys.stderr)
    return EXIT_OK


def cmd_officers_remove(args: argparse.Namespace) -> int:
    version = open_session(args).remove_officer(args.name)
    print(f"removed officer {args.name}; data key rotated to version {version}", file=sys.stderr)
    return EXIT_OK


def cmd_ministries_list(args: argparse.Namespace) -> int:
    session = open_session(args)
    ministries = session.ministries()
    if args.json:
        emit_json([m.to_json() for m in ministries])
    else:
        for m in ministries:
            print(f"{m.code:<10} {m.name}{'  (this store)' if m.is_self else ''}")
    return EXIT_OK


def cmd_ministries_add(args: argparse.Namespace) -> int:
    open_session(args).add_ministry(args.code, args.name)
    print(f"added ministry {args.code.upper()}", file=sys.stderr)
    return EXIT_OK


def cmd_domains_list(args: argparse.Namespace) -> int:
    domains = open_session(args).domains()
    if args.json:
        emit_json([{"slug": slug, "label": label} for slug, label in domains])
    else:
        for slug, label in domains:
            print(f"{slug:<20} {label}")
    return EXIT_OK


def cmd_domains_add(args: argparse.Namespace) -> int:
    open_session(args).add_domain(args.slug, args.label or args.slug)
    print(f"added domain {args.slug.lower()}", file=sys.stderr)
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from store.demo import DEMO_OFFICER, DEMO_PASSPHRASE, build_demo, default_demo_path

    path = Path(args.store).expanduser() if getattr(args, "store", None) else default_demo_path()
    if args.records < 0:
        raise ValidationError("--records must not be negative")
    result = build_demo(path, records=args.records, progress=progress_printer("demo records"))
    print(f"demo store {result.path}: {result.records:,} records; officer {DEMO_OFFICER}, passphrase {DEMO_PASSPHRASE}", file=sys.stderr)
    for line in result.notes:
        print(line, file=sys.stderr)
    if args.no_tui:
        return EXIT_OK
    return run_tui(result.path, DEMO_OFFICER, notice=f"demo store: officer {DEMO_OFFICER}, passphrase {DEMO_PASSPHRASE}")


def run_tui(path: Path, officer: str | None, notice: str = "") -> int:
    """Open the app (the store is checked first so a bad path is a one-line error, not a screen)."""
    from store.db import preflight

    preflight(path)
    from tui.app import run_app

    return run_app(path, officer, notice=notice)


# ---- the parser -----------------------------------------------------------------------------------


class Parser(argparse.ArgumentParser):
    """argparse with our exit code for usage errors and a one-line `error: …`.

    Abbreviations are off: `--passphrase SECRET` must be a usage error, not `--passphrase-file SECRET`.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"error: {message}\n")


def _globals(parser: argparse.ArgumentParser, *, suppress: bool, officer_help: str | None = None) -> None:
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument("--store", metavar="PATH", default=default, help=f"store file (else ${STORE_ENV}, else the user data dir)")
    parser.add_argument("--officer", metavar="NAME", default=default, help=officer_help or f"acting officer (else ${OFFICER_ENV}, else the only one)")
    parser.add_argument("--passphrase-file", metavar="FILE", default=default, help=f"read the passphrase from FILE (else ${PASSPHRASE_ENV}, else a prompt)")


def build_parser() -> Parser:
    """The whole command line."""
    parser = Parser(prog="liaison", description="Liaison: encrypted intelligence sharing between ministries. With no command, opens the app.")
    _globals(parser, suppress=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    def command(name: str, handler: Callable[[argparse.Namespace], int], help_text: str, parent: Any = sub, officer_help: str | None = None) -> Parser:
        p: Parser = parent.add_parser(name, help=help_text, description=help_text)
        _globals(p, suppress=True, officer_help=officer_help)
        p.set_defaults(handler=handler)
        return p

    p = command("init", cmd_init, "create a store for a ministry; the officer becomes its admin", officer_help="the first officer, who becomes admin")
    p.add_argument("--ministry", required=True, metavar="CODE")
    p.add_argument("--ministry-name", metavar="NAME", help="name of a ministry code not yet known")
    p.add_argument("--no-four-eyes", action="store_true", help="allow officers to approve their own records")

    p = command("add", cmd_add, "record a new intelligence summary; prints its reference")
    p.add_argument("--domain", required=True)
    p.add_argument("--tlp", required=True)
    p.add_argument("--title", required=True)
    p.add_argument("--summary")
    p.add_argument("--summary-file", metavar="FILE|-")
    p.add_argument("--source")
    p.add_argument("--notes")
    p.add_argument("--to", action="append", metavar="CODE", help="releasable to this ministry (repeatable)")
    p.add_argument("--submit", action="store_true", help="put it in review at once")

    p = command("edit", cmd_edit, "write a new revision of a draft or returned record")
    p.add_argument("ref", metavar="REF")
    p.add_argument("--title")
    p.add_argument("--summary")
    p.add_argument("--summary-file", metavar="FILE|-")
    p.add_argument("--source")
    p.add_argument("--notes")
    p.add_argument("--tlp")
    p.add_argument("--domain")
    p.add_argument("--to", action="append", metavar="CODE", help="replace the releasable-to list (repeatable)")

    p = command("list", cmd_list, "list records, newest first")
    p.add_argument("--domain", action="append")
    p.add_argument("--ministry", action="append", metavar="CODE", help="origin or recipient")
    p.add_argument("--status", action="append")
    p.add_argument("--tlp", action="append")
    p.add_argument("--search", metavar="WORDS", help="records whose title or summary has every word")
    p.add_argument("--limit", type=int, metavar="N")
    p.add_argument("--oldest", action="store_true", help="oldest first")
    p.add_argument("--json", action="store_true")

    p = command("show", cmd_show, "show one record, decrypted")
    p.add_argument("ref", metavar="REF")
    p.add_argument("--json", action="store_true")

    p = command("submit", cmd_submit, "put a draft or returned record in review")
    p.add_argument("ref", metavar="REF")

    p = command("review", cmd_review, "approve or return a record in review")
    p.add_argument("ref", metavar="REF")
    verdict = p.add_mutually_exclusive_group(required=True)
    verdict.add_argument("--approve", action="store_true")
    verdict.add_argument("--return", dest="return_", action="store_true")
    p.add_argument("--comment")

    p = command("close", cmd_close, "close a record that needs no more work")
    p.add_argument("ref", metavar="REF")
    p.add_argument("--comment")

    p = command("actioned", cmd_actioned, "mark a received record as acted upon")
    p.add_argument("ref", metavar="REF")
    p.add_argument("--comment")

    officers = command("officers", _group_help, "manage officers")
    osub = officers.add_subparsers(dest="subcommand", metavar="SUBCOMMAND", parser_class=Parser)
    p = command("list", cmd_officers_list, "list officers and roles", osub)
    p.add_argument("--json", action="store_true")
    p = command("add", cmd_officers_add, f"add an officer (admin); passphrase from ${NEW_PASSPHRASE_ENV} or a prompt", osub)
    p.add_argument("name", metavar="NAME")
    p.add_argument("--role", required=True, help="officer, reviewer or admin")
    command("passwd", cmd_officers_passwd, f"change your own passphrase (new one from ${NEW_PASSPHRASE_ENV} or a prompt)", osub)
    p = command("remove", cmd_officers_remove, "remove an officer and rotate the data key (admin)", osub)
    p.add_argument("name", metavar="NAME")

    ministries = command("ministries", _group_help, "manage sharing ministries")
    msub = ministries.add_subparsers(dest="subcommand", metavar="SUBCOMMAND", parser_class=Parser)
    p = command("list", cmd_ministries_list, "list ministries", msub)
    p.add_argument("--json", action="store_true")
    p = command("add", cmd_ministries_add, "add a ministry (admin)", msub)
    p.add_argument("code", metavar="CODE")
    p.add_argument("--name", required=True)

    domains = command("domains", _group_help, "manage domains")
    dsub = domains.add_subparsers(dest="subcommand", metavar="SUBCOMMAND", parser_class=Parser)
    p = command("list", cmd_domains_list, "list domains", dsub)
    p.add_argument("--json", action="store_true")
    p = command("add", cmd_domains_add, "add a domain (admin)", dsub)
    p.add_argument("slug", metavar="SLUG")
    p.add_argument("--label")

    p = command("demo", cmd_demo, "build a demo store (officer demo, passphrase demo) and open the app")
    p.add_argument("--records", type=int, default=300, metavar="N")
    p.add_argument("--no-tui", action="store_true", help="build it and stop")

    from tui import cli_bundles; cli_bundles.register(sub, command)  # noqa: E702, I001 - identity, contacts, export, import
    return parser


def _group_help(args: argparse.Namespace) -> int:
    raise _UsageError(f"choose a subcommand of {args.command}; see liaison {args.command} --help")


class _UsageError(Exception):
    pass


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `liaison` and `python -m tui`."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    try:
        if handler is None:
            return run_tui(store_path(args), officer_name(args))
        return int(handler(args))
    except _UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except LiaisonError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except KeyboardInterrupt:
        print("error: interrupted; nothing was changed", file=sys.stderr)
        return EXIT_REFUSED
    except BrokenPipeError:
        sys.stderr.close()
        return EXIT_OK
    except Exception as exc:  # noqa: BLE001 - the contract is one line, never a traceback
        return _unexpected(exc)
    finally:
        _close_opened()


def _unexpected(exc: Exception) -> int:
    from sqlalchemy.exc import DatabaseError, OperationalError

    if os.environ.get("LIAISON_DEBUG"):
        traceback.print_exc()
    if isinstance(exc, OperationalError) and "locked" in str(exc.orig):
        print("error: the store is busy (another process holds a write lock); try again", file=sys.stderr)
    elif isinstance(exc, DatabaseError):
        print(f"error: the store is corrupt or unreadable ({exc.orig})", file=sys.stderr)
    elif isinstance(exc, OSError):
        print(f"error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
    else:
        print(f"error: unexpected {type(exc).__name__}: {exc} (set LIAISON_DEBUG=1 for details)", file=sys.stderr)
    return EXIT_REFUSED


if __name__ == "__main__":
    raise SystemExit(main())
