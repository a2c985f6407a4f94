"""`keys status|rotate` and `policy set`."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from crypto.identity import grouped_fingerprint
from store.text import quote
from tui.cli.common import EXIT_OK, Commands, Context, Refused, emit_json
from tui.cli.table import Column, print_table
from tui.present import plural, safe

if TYPE_CHECKING:
    from store.keys import KeyStatus

#: `policy set NAME VALUE`: the settings an admin may change.
POLICY_SETTINGS = ("key-max-age",)


def _date(when: datetime | None) -> str | None:
    return None if when is None else when.date().isoformat()


def keys_status_json(status: KeyStatus) -> dict[str, Any]:
    """The `keys status --json` object."""
    job = status.job
    return {
        "data_keys": [
            {
                "version": k.version,
                "created": _date(k.created),
                "age_days": status.age_days(k.created),
                "current": k.current,
            }
            for k in status.data_keys
        ],
        "master": {
            "version": status.master_version,
            "created": _date(status.master_created),
            "age_days": status.age_days(status.master_created),
        },
        "identity": {
            "fingerprint": status.identity_fingerprint,
            "created": _date(status.identity_created),
            "age_days": status.age_days(status.identity_created),
        },
        "signing_keys": [
            {
                "officer": k.officer,
                "role": k.role,
                "fingerprint": k.fingerprint or None,
                "created": _date(k.created),
                "age_days": status.age_days(k.created),
            }
            for k in status.signing_keys
        ],
        "key_max_age_days": status.key_max_age_days,
        "overdue": status.overdue,
        "rotation_pending": None
        if job is None
        else {"started": job.started.isoformat(), "officer": job.officer, "table": job.table or None},
    }


def _age(status: KeyStatus, when: datetime | None) -> str:
    days = status.age_days(when)
    if when is None or days is None:
        return "created on an unknown date"
    return f"created {_date(when)} ({'today' if days == 0 else plural(days, 'day') + ' ago'})"


def cmd_keys_status(ctx: Context) -> int:
    session = ctx.session()
    status = session.key_status()
    if ctx.args.json:
        emit_json(keys_status_json(status))
        return EXIT_OK
    # one line a key, in three columns as wide as their widest value: which key, its state or fingerprint, its age
    rows = [
        (f"data key version {k.version}", "current" if k.current else "old", _age(status, k.created))
        for k in reversed(status.data_keys)
    ]
    rows.append((f"master secret version {status.master_version}", "", _age(status, status.master_created)))
    # grouped as `identity show` and the app show it (its first 16 digits: what `identity show` prints in full)
    rows.append(
        (
            "ministry identity",
            grouped_fingerprint(status.identity_fingerprint[:16]),
            _age(status, status.identity_created),
        )
    )
    rows += [
        (f"signing key of {safe(o.officer)}", o.fingerprint or "none in the log", _age(status, o.created))
        for o in status.signing_keys
    ]
    print_table((Column("key"), Column("state"), Column("age")), rows, header=False)
    print(f"policy: rotate the data key every {status.key_max_age_days} days")
    notice = session.key_notice()
    if notice:
        print(f"notice: {notice} (liaison keys rotate)", file=sys.stderr)
    return EXIT_OK


def line_progress(label: str) -> Callable[[int, int], None]:
    """A progress line on stderr per report (each one a committed batch), so a log or a pipe sees it too."""

    def report(done: int, total: int) -> None:
        pct = 100 * done // total if total else 100
        sys.stderr.write(f"{label}: {done:,}/{total:,} ({pct}%)\n")
        sys.stderr.flush()

    return report


def cmd_keys_rotate(ctx: Context) -> int:
    session = ctx.session()
    try:
        report = session.rotate_data_key(progress=line_progress("re-encrypting"))
    except KeyboardInterrupt:
        # each batch commits: what was done stays, and the job is pending unless Ctrl-C came before its first commit
        if session.key_status().job is None:
            raise
        raise Refused(
            "interrupted; the rotation is unfinished (every batch done so far is kept, and every record reads): "
            "run `liaison keys rotate` again to finish it"
        ) from None
    retired = ", ".join(str(v) for v in report.retired) or "none"
    print(
        f"{'finished an interrupted rotation; ' if report.resumed else ''}data key rotated to version "
        f"{report.version}; {report.reencrypted:,} ciphertexts re-encrypted; old versions retired: {retired}",
        file=sys.stderr,
    )
    for where, key in report.damaged:
        print(
            f"warning: a ciphertext in {where} (row {key}) authenticates under no key; left as it was", file=sys.stderr
        )
    for what, why in report.unsigned:
        print(
            f"warning: {safe(what)} was already damaged ({safe(why)}): re-encrypted but not re-signed, "
            "it stays damaged (liaison audit verify)",
            file=sys.stderr,
        )
    if not report.vacuumed:
        print(
            "warning: another process kept the file from being compacted; run it again when it is closed",
            file=sys.stderr,
        )
    return EXIT_OK


def cmd_policy_set(ctx: Context) -> int:
    args = ctx.args
    value = args.value.strip()
    digits = value.removeprefix("-")
    if not (digits.isascii() and digits.isdigit()):
        raise Refused(f"key-max-age takes a whole number of days, not {quote(args.value)}")
    session = ctx.session()
    session.set_key_max_age(int(value))  # the store refuses a number out of range (a negative one too), saying so
    print(f"policy: the data key is to be rotated every {int(value)} days", file=sys.stderr)
    return EXIT_OK


def register(commands: Commands) -> None:
    keys = commands.group("keys", "the store's keys: status and rotation (admin)")
    p = keys.add("status", cmd_keys_status, "each key's version and age, and the store's key policy (admin)")
    p.add_argument("--json", action="store_true")
    keys.add(
        "rotate",
        cmd_keys_rotate,
        "make a new data key and re-encrypt everything under it (admin); resumes an interrupted rotation",
    )
    policy = commands.group("policy", "the store's policy (admin)")
    p = policy.add("set", cmd_policy_set, "set a policy value (admin): key-max-age DAYS")
    p.add_argument("setting", metavar="SETTING", choices=POLICY_SETTINGS, help="key-max-age")
    p.add_argument("value", metavar="VALUE")
