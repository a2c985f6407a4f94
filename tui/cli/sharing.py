"""Sharing with counterpart ministries: `identity`, `contacts`, `export` and `import` (receipts included).

Passphrases for `export` and `import`: a `--passphrase-file` given AFTER the subcommand is the bundle's
own passphrase (the ad-hoc passphrase stanza). The store is then unlocked with LIAISON_PASSPHRASE, or
with a `--passphrase-file` given BEFORE the subcommand (`liaison --passphrase-file STORE.pw export …`),
or a prompt.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from datetime import UTC, datetime
from pathlib import Path

from store.errors import ValidationError
from tui.cli.common import EXIT_OK, Commands, Context, Refused, emit_json, progress_printer, read_secret_file
from tui.cli.table import Column, table_lines
from tui.present import contact_json, export_summary, import_summary, plural, quote, quote_path, receipt_summary, safe

BUNDLE_PASSPHRASE_HELP = (
    "the BUNDLE passphrase (ad-hoc passphrase stanza); unlock the store with $LIAISON_PASSPHRASE "
    "or --passphrase-file before the subcommand"
)


def _bundle_passphrase(ctx: Context) -> bytes | None:
    from store.service import passphrase_bytes

    path = getattr(ctx.args, "bundle_passphrase_file", None)
    return passphrase_bytes(read_secret_file(path)) if path else None


def output_path(args: argparse.Namespace, given: str) -> Path:
    """Check an output path before any work (and before a passphrase prompt): `--force` allows replacing an
    ordinary file, never a store, a database, a directory or a symbolic link (`store.files.check_target`)."""
    from store.files import TargetExists, check_target

    try:
        return check_target(Path(given), overwrite=bool(getattr(args, "force", False)))
    except TargetExists as exc:
        raise Refused(f"{exc} (add --force to replace it)", field=exc.field, value=exc.value) from None


def parse_since(text: str) -> datetime:
    """`--since` as a date (`2026-01-31`) or an ISO date and time; UTC unless it says otherwise."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValidationError(f"invalid date {quote(text)}: expected YYYY-MM-DD or YYYY-MM-DDTHH:MM") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# ---- identity ---------------------------------------------------------------------------------------


def cmd_identity_show(ctx: Context) -> int:
    from crypto.identity import grouped_fingerprint
    from store.contacts import ministry_name, own_identity
    from store.identity import pending_delivery

    session = ctx.session()
    identity = own_identity(session)
    print(f"{safe(session.ministry)}  {safe(ministry_name(session, session.ministry))}")
    print(f"fingerprint: {grouped_fingerprint(identity.fingerprint)}")
    for pending in pending_delivery(session):
        # the old fingerprint is what these contacts still hold until the statement reaches them
        print(f"previous fingerprint: {grouped_fingerprint(pending.old_fingerprint)}")
        print(
            f"  rotated {pending.at:%Y-%m-%d %H:%M} UTC; transition pending delivery to "
            f"{safe(', '.join(pending.peers))} (carried by the next bundle or receipt to each)"
        )
    return EXIT_OK


def cmd_identity_rotate(ctx: Context) -> int:
    from crypto.identity import grouped_fingerprint
    from store.identity import rotate_identity

    if not ctx.args.yes and sys.stdin is not None and sys.stdin.isatty():
        # asked at a terminal only: a script or a pipe goes on as before (add --yes to skip the question anyway)
        try:
            answer = input(
                "Make a new identity for this ministry? Each contact accepts only the new key once the statement "
                "signed by both keys reaches them, and cards handed out before no longer verify. Type yes to rotate: "
            )
        except EOFError:
            answer = ""
        if answer.strip().lower() != "yes":
            raise Refused("not rotated; nothing was changed")
    session = ctx.session()
    result = rotate_identity(session)
    print(f"rotated the identity of {safe(session.ministry)}", file=sys.stderr)
    print(f"old fingerprint: {grouped_fingerprint(result.old_fingerprint)}", file=sys.stderr)
    print(f"new fingerprint: {grouped_fingerprint(result.new_fingerprint)}", file=sys.stderr)
    if result.pending:
        print(
            f"a statement signed by both keys goes with the next bundle or receipt to {plural(len(result.pending), 'contact')}: "
            f"{safe(', '.join(result.pending))}",
            file=sys.stderr,
        )
    print(
        "export the new identity card (`liaison identity export`) for ministries that are not contacts yet",
        file=sys.stderr,
    )
    return EXIT_OK


def cmd_identity_export(ctx: Context) -> int:
    from crypto.identity import grouped_fingerprint
    from store.contacts import export_identity

    args = ctx.args
    out = output_path(args, args.out)
    session = ctx.session()
    fingerprint = export_identity(session, out, overwrite=args.force)
    print(f"wrote identity card of {safe(session.ministry)} to {safe(args.out)}", file=sys.stderr)
    print(f"fingerprint: {grouped_fingerprint(fingerprint)}", file=sys.stderr)
    return EXIT_OK


# ---- contacts ---------------------------------------------------------------------------------------


def cmd_contacts_add(ctx: Context) -> int:
    from crypto.identity import grouped_fingerprint
    from store.contacts import add_contact, read_card_file, require_contact_manager

    args = ctx.args
    card = read_card_file(Path(args.file))
    session = ctx.session()
    require_contact_manager(session)  # a refusal is one line, with no card details before it
    # Only the fingerprint (computed here, not text from the card) before the card has passed the checks: shown
    # whatever they find, so that a mismatch can be compared.
    print(f"fingerprint: {grouped_fingerprint(card.fingerprint)}", file=sys.stderr)
    result = add_contact(session, Path(args.file), fingerprint=args.fingerprint, replace=args.replace)
    print(f"card of {safe(card.ministry)} ({safe(card.name)})", file=sys.stderr)
    if result.outcome == "unchanged":
        print(f"{safe(card.ministry)} is already a contact with this key; nothing changed", file=sys.stderr)
    else:
        checked = (
            "fingerprint checked" if args.fingerprint else "compare the fingerprint with the one the ministry gave you"
        )
        print(f"{result.outcome} contact {safe(card.ministry)}; {checked}", file=sys.stderr)
    return EXIT_OK


#: The columns of `liaison contacts list`.
CONTACT_COLUMNS = (Column("CODE"), Column("FINGERPRINT"), Column("NAME"))


def cmd_contacts_list(ctx: Context) -> int:
    from crypto.identity import grouped_fingerprint
    from store.contacts import contacts
    from store.identity import key_changes

    found = contacts(ctx.session())
    if ctx.args.json:
        history = key_changes(ctx.session())
        emit_json([contact_json(c, [k for k in history if k.peer == c.code]) for c in found])
        return EXIT_OK
    changes = {change.peer: change for change in key_changes(ctx.session())}
    lines = iter(table_lines(CONTACT_COLUMNS, [(safe(c.code), c.grouped, safe(c.name)) for c in found]))
    # codes are ASCII (store.vocab.MINISTRY_CODE): the code column is as wide as the longest, or its heading
    width = max([len(CONTACT_COLUMNS[0].title), *(len(safe(c.code)) for c in found)])
    for line in itertools.islice(lines, 1):
        print(line)  # the header row
    for c, line in zip(found, lines, strict=True):
        print(line)
        if c.code in changes:
            change = changes[c.code]
            print(
                f"{'':<{width}}  key rotated {change.stated_at:%Y-%m-%d} (received {change.received_at:%Y-%m-%d} in "
                f"{safe(change.via)}); previous {grouped_fingerprint(change.old_fingerprint)[:19]}…"
            )
    if not found:
        print("no contacts; add one with `liaison contacts add CARD`", file=sys.stderr)
    return EXIT_OK


# ---- export and import ------------------------------------------------------------------------------


def cmd_export(ctx: Context) -> int:
    from store.bundles import export_bundle

    args = ctx.args
    since = parse_since(args.since) if args.since else None
    out = output_path(args, args.out)
    secret = _bundle_passphrase(ctx)
    session = ctx.session()
    result = export_bundle(
        session,
        args.to,
        out,
        since=since,
        domains=args.domain or [],
        refs=args.refs or [],
        passphrase=secret,
        progress=progress_printer("export"),
        overwrite=args.force,
    )
    protection = " and ".join(
        part
        for part, on in (
            (f"sealed to {result.recipient}'s key", result.sealed_to_contact),
            ("protected by the bundle passphrase", result.passphrase),
        )
        if on
    )
    print(
        safe(f"wrote {result.path}: bundle {result.bundle_id} to {result.recipient} (seq {result.seq}), {protection}"),
        file=sys.stderr,
    )
    print(export_summary(result.plan), file=sys.stderr)
    if result.withdrawals:
        print(
            f"carried {plural(result.withdrawals, 'withdrawal notice')} for records withdrawn since they were sent",
            file=sys.stderr,
        )
    if result.desk:
        print(f"carried {plural(result.desk, 'working-group entry', 'working-group entries')}", file=sys.stderr)
    if result.transitions:
        print(
            f"carried this ministry's key transition ({plural(result.transitions, 'statement')} signed by the old and new keys)",
            file=sys.stderr,
        )
    return EXIT_OK


def cmd_import(ctx: Context) -> int:
    from store.bundles import file_kind, import_bundle, process_receipt, write_receipt_file

    args = ctx.args
    path = Path(args.file)
    kind = file_kind(path)
    receipt_out = output_path(args, args.receipt_out) if args.receipt_out and kind != "receipt" else None
    secret = _bundle_passphrase(ctx)
    session = ctx.session()
    if kind == "receipt":
        if args.receipt_out:
            raise ValidationError(f"{quote_path(path.name)} is a receipt; --receipt-out is for bundles")
        print(receipt_summary(process_receipt(session, path)), file=sys.stderr)
        return EXIT_OK
    result = import_bundle(session, path, passphrase=secret, progress=progress_printer("import"))
    print(import_summary(result), file=sys.stderr)
    if receipt_out is not None:
        written = write_receipt_file(session, result.bundle_id, receipt_out, overwrite=args.force)
        print(f"wrote receipt {safe(written)}; send it back to {safe(result.sender)}", file=sys.stderr)
    return EXIT_OK


def register(commands: Commands) -> None:
    identity = commands.group("identity", "this ministry's identity card and fingerprint")
    p = identity.add("export", cmd_identity_export, "write the public identity card to a file")
    p.add_argument("--out", required=True, metavar="FILE")
    p.add_argument(
        "--force", action="store_true", help="replace an existing file (never a store, a database or a link)"
    )
    identity.add("show", cmd_identity_show, "print the identity fingerprint in readable groups")
    p = identity.add(
        "rotate",
        cmd_identity_rotate,
        "make a new ministry identity; contacts get a statement signed by the old and new keys (admin)",
    )
    p.add_argument("--yes", action="store_true", help="rotate without asking (asked only on a terminal)")

    contacts = commands.group("contacts", "counterpart ministries whose identity cards are registered")
    p = contacts.add("add", cmd_contacts_add, "register a counterpart ministry from its identity card (admin)")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--fingerprint", metavar="FP", help="refuse the card unless its fingerprint is this one")
    p.add_argument("--replace", action="store_true", help="replace a contact's key (needs --fingerprint)")
    p = contacts.add("list", cmd_contacts_list, "list contacts and fingerprints")
    p.add_argument("--json", action="store_true")

    bundle = {"passphrase_dest": "bundle_passphrase_file", "passphrase_help": BUNDLE_PASSPHRASE_HELP}
    p = commands.add(
        "export", cmd_export, "write a sealed, signed bundle of the records releasable to a ministry", **bundle
    )
    p.add_argument("--to", required=True, metavar="CODE", help="the recipient ministry")
    p.add_argument("--out", required=True, metavar="FILE")
    p.add_argument(
        "--force", action="store_true", help="replace an existing file (never a store, a database or a link)"
    )
    p.add_argument("--since", metavar="DATE", help="only records updated on or after DATE")
    p.add_argument("--domain", action="append", metavar="D", help="only this domain (repeatable)")
    p.add_argument("refs", nargs="*", metavar="REF", help="only these records")

    p = commands.add("import", cmd_import, "import a bundle (or process a receipt) from a counterpart", **bundle)
    p.add_argument("file", metavar="FILE")
    p.add_argument("--receipt-out", metavar="FILE", help="write a signed receipt for the sender")
    p.add_argument(
        "--force",
        action="store_true",
        help="let --receipt-out replace an existing file (never a store, a database or a link)",
    )
