"""Test helpers shared by the store, crypto and CLI suites: the CLI in-process and as a subprocess, stores
driven as the fixture officers, and fingerprints of a store's content and of its files for before/after checks."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Every environment variable Liaison reads; none of the developer's own values may leak into a test.
LIAISON_ENV = (
    "LIAISON_STORE",
    "LIAISON_OFFICER",
    "LIAISON_PASSPHRASE",
    "LIAISON_NEW_PASSPHRASE",
    "LIAISON_DEBUG",
    "LIAISON_KDF_PROFILE",
    "LIAISON_STATE_DIR",
)

#: Passphrases of the officers the fixtures create.
PASSPHRASES = {
    "alice": "alice correct horse",
    "bob": "bob battery staple",
    "carol": "carol paper clip",
    "dave": "dave tin whistle",
}
#: Roles of the officers in `team_store`.
TEAM = {"alice": "admin", "bob": "reviewer", "carol": "officer"}


@contextlib.contextmanager
def patched_env(values: Mapping[str, str | None]) -> Iterator[None]:
    """Set (or with None, unset) environment variables for the duration of a block."""
    saved = {k: os.environ.get(k) for k in values}
    try:
        for key, value in values.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


# ---- running the CLI ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CliResult:
    """What one `liaison` invocation did."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        """stdout parsed as JSON."""
        return json.loads(self.out)

    @property
    def err_lines(self) -> list[str]:
        return self.err.splitlines()


def run_cli(*argv: str, stdin: str | None = None, env: Mapping[str, str | None] | None = None) -> CliResult:
    """Run `tui.cli.main(argv)` in this process, capturing stdout, stderr and the exit code (argparse's too)."""
    from tui.cli import main

    out, err = io.StringIO(), io.StringIO()
    saved_stdin = sys.stdin
    sys.stdin = io.StringIO(stdin or "")
    try:
        with patched_env(env or {}), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(argv))
            except SystemExit as exc:  # argparse: usage errors and --help
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.stdin = saved_stdin
    return CliResult(int(code), out.getvalue(), err.getvalue())


LIAISON_BIN = Path(sys.executable).with_name("liaison")


def run_liaison(
    *argv: str,
    env: Mapping[str, str | None] | None = None,
    stdin: str | None = None,
    module: bool = False,
    timeout: float = 120,
) -> CliResult:
    """Run the installed `liaison` console script (or `python -m tui`) as a separate process."""
    command = [sys.executable, "-m", "tui", *argv] if module else [str(LIAISON_BIN), *argv]
    full_env = dict(os.environ)
    for key, value in (env or {}).items():
        if value is None:
            full_env.pop(key, None)
        else:
            full_env[key] = value
    proc = subprocess.run(
        command, input=stdin or "", capture_output=True, text=True, env=full_env, timeout=timeout, check=False
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


def assert_refused(result: CliResult, message: str, *, exact: bool = True) -> None:
    """Exit 1, nothing on stdout, exactly one line on stderr: `error: <message>` (or containing it), no traceback."""
    assert result.code == 1, result
    assert result.out == "", result
    assert "Traceback" not in result.err, result.err
    lines = result.err_lines
    assert len(lines) == 1, result.err
    if exact:
        assert lines[0] == f"error: {message}", lines[0]
    else:
        assert lines[0].startswith("error: ") and message in lines[0], lines[0]


class LiaisonStore:
    """A store file on disk plus a way to drive the CLI on it as one of the fixture officers."""

    def __init__(self, path: Path, *, workstation: Path | None = None) -> None:
        """`workstation`: the LIAISON_STATE_DIR this store's commands run with (its own witness of the log), for a
        copy of a store file driven as another machine would (the test's own state dir otherwise)."""
        self.path = path
        self.workstation = workstation

    def cli(
        self,
        *argv: str,
        officer: str | None = "alice",
        passphrase: str | None = None,
        stdin: str | None = None,
        env: Mapping[str, str | None] | None = None,
    ) -> CliResult:
        """`liaison --store PATH [--officer NAME] ARGV…` with the officer's passphrase in LIAISON_PASSPHRASE."""
        secret = passphrase if passphrase is not None else PASSPHRASES.get(officer or "alice")
        full_env: dict[str, str | None] = {"LIAISON_PASSPHRASE": secret}
        if self.workstation is not None:
            full_env["LIAISON_STATE_DIR"] = str(self.workstation)
        full_env.update(env or {})
        prefix = ["--store", str(self.path)] + (["--officer", officer] if officer else [])
        return run_cli(*prefix, *argv, stdin=stdin, env=full_env)

    def ok(self, *argv: str, **kwargs: Any) -> CliResult:
        """Like `cli`, asserting success."""
        result = self.cli(*argv, **kwargs)
        assert result.code == 0, result
        assert "Traceback" not in result.err
        return result

    def add(
        self,
        title: str = "Routine report",
        *extra: str,
        officer: str = "alice",
        domain: str = "narcotics",
        tlp: str = "amber",
        **kwargs: Any,
    ) -> str:
        """Add a record; returns its reference (the one line `add` prints)."""
        result = self.ok("add", "--domain", domain, "--tlp", tlp, "--title", title, *extra, officer=officer, **kwargs)
        return result.out.strip()

    def show(self, reference: str, officer: str = "alice") -> dict[str, Any]:
        """`show REF --json`, parsed."""
        return self.ok("show", reference, "--json", officer=officer).json()

    def list_json(self, *extra: str, officer: str = "alice") -> list[dict[str, Any]]:
        """`list --json …`, parsed."""
        return self.ok("list", "--json", *extra, officer=officer).json()

    def sql(self, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Run SQL on the file directly, as an attacker or a test would (commits)."""
        conn = sqlite3.connect(self.path)
        try:
            rows = conn.execute(statement, params).fetchall()
            conn.commit()
            return rows
        finally:
            conn.close()

    def signed_sql(
        self, statement: str, params: tuple[Any, ...] = (), *, reference: str, officer: str = "alice"
    ) -> None:
        """Run SQL inside a user action that signs `reference`'s resulting state into the audit log: a state no
        command reaches (a shared record reopened), set up as a Liaison feature would, not as an attacker would."""
        from sqlalchemy import select

        from store.audit.log import note
        from store.models import Record

        session = self.session(officer)
        try:
            with session.act("test-setup", reference) as s:
                s.connection().exec_driver_sql(statement, params)
                note(s, record_id=s.execute(select(Record.id).where(Record.reference == reference)).scalar_one())
        finally:
            session.vault.close()

    def session(self, officer: str = "alice", passphrase: str | None = None) -> Any:
        """An unlocked `store.service.Session` (remember to close `session.vault`)."""
        from store.service import Vault

        vault = Vault.open(self.path)
        try:
            return vault.unlock(officer, passphrase or PASSPHRASES[officer])
        except BaseException:
            vault.close()
            raise


def attack(path: Path, sql: str, *params: object) -> None:
    """What someone with the file and no keys does: raw SQL on it, committed."""
    conn = sqlite3.connect(path)
    try:
        conn.execute(sql, params)
        conn.commit()
    finally:
        conn.close()


def init_store(path: Path, *extra: str, officer: str = "alice", ministry: str = "PK-MOI") -> LiaisonStore:
    """Create a store through `liaison init`."""
    result = run_cli(
        "--store",
        str(path),
        "init",
        "--ministry",
        ministry,
        "--officer",
        officer,
        *extra,
        env={"LIAISON_PASSPHRASE": PASSPHRASES[officer]},
    )
    assert result.code == 0, result
    return LiaisonStore(path)


# ---- fingerprints ---------------------------------------------------------------------------------


def _copy_for_reading(path: Path, into: Path) -> Path:
    """Copy a store (and its -wal, if any) so reading it cannot create or change a byte of the original."""
    copy = into / path.name
    shutil.copyfile(path, copy)
    wal = Path(f"{path}-wal")
    if wal.exists():
        shutil.copyfile(wal, Path(f"{copy}-wal"))
    return copy


def store_fingerprint(path: Path | str) -> dict[str, tuple[int, str]]:
    """Row count and SHA-256 of every row of every table (schema included), read from a copy of the store.

    Every command unlocks, and an unlock is an audit event (a failed one waits in `audit_pending`): the log's
    unlock events, failed unlocks, its checkpoints and its Merkle frontier are left out, so a refused action
    still compares equal while any other event it wrote shows.
    """
    path = Path(path)
    with tempfile.TemporaryDirectory() as tmp:
        conn = sqlite3.connect(_copy_for_reading(path, Path(tmp)))
        try:
            result: dict[str, tuple[int, str]] = {}
            schema = conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name").fetchall()
            result["<schema>"] = (len(schema), hashlib.sha256(repr(schema).encode()).hexdigest())
            for _type, name, _tbl, sql in schema:
                if _type != "table" or (sql or "").upper().startswith("CREATE VIRTUAL TABLE"):
                    continue
                if name in ("audit_checkpoints", "audit_pending"):
                    continue
                query = {
                    "audit_log": "SELECT officer, action, target, record_uuid FROM audit_log "
                    "WHERE action NOT IN ('unlock', 'unlock-failed', 'officer-key')",
                    "liaison_meta": "SELECT * FROM liaison_meta WHERE key != 'audit_frontier'",
                }.get(name, f'SELECT * FROM "{name}"')
                rows = sorted(repr(row) for row in conn.execute(query))
                digest = hashlib.sha256("\n".join(rows).encode("utf-8", "surrogatepass")).hexdigest()
                result[name] = (len(rows), digest)
            return result
        finally:
            conn.close()


def directory_snapshot(directory: Path) -> dict[str, str]:
    """SHA-256 of every file in a directory, by name: catches changed bytes and files left behind."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir()) if p.is_file()}


def all_store_bytes(path: Path) -> dict[str, bytes]:
    """The bytes of a store file and of every sibling that shares its name (-wal, -shm, -journal, temp files)."""
    return {
        p.name: p.read_bytes()
        for p in sorted(path.parent.iterdir())
        if p.is_file() and p.name.lstrip(".").startswith(path.name)
    }


# ---- plaintext residue ----------------------------------------------------------------------------


def encodings_of(text: str) -> dict[str, bytes]:
    """The byte patterns a plaintext could leave on disk as: UTF-8 (as typed and case-folded), UTF-16, hex, base64."""
    import base64
    import unicodedata

    from crypto.blind_index import normalise

    raw = text.encode("utf-8")
    needles = {
        "utf-8": raw,
        "utf-8 lower": text.lower().encode("utf-8"),
        "utf-8 casefold nfkd": unicodedata.normalize("NFKD", text).casefold().encode("utf-8"),
        "utf-8 as the search index normalises it": normalise(text).encode("utf-8"),
        "utf-16-le": text.encode("utf-16-le"),
        "utf-16-be": text.encode("utf-16-be"),
        "hex": raw.hex().encode("ascii"),
        "HEX": raw.hex().upper().encode("ascii"),
    }
    # Base64 of a longer text containing `text` holds the base64 of text[k:] for one k in 0..2 (the one that
    # starts on a 3-byte boundary), up to its last, possibly padded, quantum.
    for k in range(3):
        for name, encode in (("base64", base64.b64encode), ("base64url", base64.urlsafe_b64encode)):
            chunk = encode(raw[k:])[:-4]
            if len(chunk) >= 12:
                needles[f"{name}+{k}"] = chunk
    return needles


def find_plaintext(path: Path, *texts: str) -> list[str]:
    """Where any of `texts` appears, in any encoding, in the store file or its -wal, -shm, journal or temp files."""
    found = []
    files = all_store_bytes(path)
    for text in texts:
        for encoding, needle in encodings_of(text).items():
            for name, data in files.items():
                if needle in data:
                    found.append(f"{text!r} as {encoding} in {name}")
    return found


def latest_event(conn: sqlite3.Connection, target: str, holding: str) -> tuple[int, dict[str, Any]]:
    """The seq and parsed body of the newest log event about `target` whose body holds the text `holding`."""
    seq, body = conn.execute(
        "SELECT seq, body FROM audit_log WHERE target = ? AND instr(body, CAST(? AS BLOB)) > 0"
        " ORDER BY seq DESC LIMIT 1",
        (target, holding),
    ).fetchone()
    return int(seq), json.loads(body)


def key_written_into_log(conn: sqlite3.Connection, officer: str) -> bytes:
    """The attacker with the file and no keys: a signing key of their own written into `officer`'s latest
    officer-state event (the body only: the chain breaks there). Returns the new private key, to sign with."""
    from crypto.events import event_bytes, generate_signing_key, signing_public

    private = generate_signing_key()
    seq, obj = latest_event(conn, officer, "officer_state")
    obj["data"]["officer_state"]["signing_public"] = signing_public(private).hex()
    conn.execute("UPDATE audit_log SET body = ? WHERE seq = ?", (event_bytes(obj), seq))
    return private


class CutShort(Exception):
    """Raised by `stop_at`'s progress: a long job stopped between two of its committed steps."""


def stop_at(call: int, error: type[BaseException] = CutShort) -> Callable[[int, int], None]:
    """A `progress(done, total)` that raises `error` at its `call`-th report (a job cut short there, as by a crash
    or Ctrl-C; each earlier report follows a committed batch)."""
    calls = 0

    def progress(done: int, total: int) -> None:
        nonlocal calls
        calls += 1
        if calls == call:
            raise error

    return progress
