"""Threat 18: Ctrl-C in the middle of a write leaves the store exactly as it was before the command, and the CLI
says `error: interrupted; nothing was changed` (exit 1) — whether the interrupt lands just before COMMIT, or as a
real SIGINT while the transaction is open, or in the middle of a bulk ingest."""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from store.ingest import IngestItem
from tests.liaison_helpers import PASSPHRASES, CliResult, LiaisonStore, assert_refused, run_cli

INTERRUPTED = "interrupted; nothing was changed"


@pytest.fixture
def busy_store(team_store: LiaisonStore) -> tuple[LiaisonStore, str, str]:
    """The team store with a draft and a record in review, both by carol."""
    draft = team_store.add("A draft", "--summary", "Draft body", officer="carol")
    in_review = team_store.add("In review", "--summary", "Review body", "--submit", officer="carol")
    return team_store, draft, in_review


COMMANDS = {
    "add": (["add", "--domain", "narcotics", "--tlp", "red", "--title", "Interrupted add"], "carol"),
    "add --submit": (["add", "--domain", "narcotics", "--tlp", "red", "--title", "Interrupted", "--submit"], "carol"),
    "edit": (["edit", "{draft}", "--title", "Interrupted edit", "--summary", "new"], "carol"),
    "submit": (["submit", "{draft}"], "carol"),
    "review --approve": (["review", "{in_review}", "--approve"], "bob"),
    "review --return": (["review", "{in_review}", "--return", "--comment", "Interrupted comment"], "bob"),
    "show (an audited read)": (["show", "{draft}"], "alice"),
    "officers add": (["officers", "add", "dave", "--role", "officer"], "alice"),
    "officers passwd": (["officers", "passwd"], "bob"),
    "officers remove": (["officers", "remove", "carol"], "alice"),
    "ministries add": (["ministries", "add", "AZ-MIA", "--name", "Azerbaijan"], "alice"),
    "domains add": (["domains", "add", "wildlife", "--label", "Wildlife trafficking"], "alice"),
}


@pytest.mark.parametrize("command", COMMANDS)
def test_ctrl_c_just_before_commit_changes_nothing(
    busy_store, interrupt_before_commit, fingerprint, command: str
) -> None:
    store, draft, in_review = busy_store
    argv, officer = COMMANDS[command]
    argv = [a.format(draft=draft, in_review=in_review) for a in argv]
    before = fingerprint(store.path)
    with interrupt_before_commit():
        result = store.cli(*argv, officer=officer, env={"LIAISON_NEW_PASSPHRASE": "a new passphrase"})
    # a long command's progress lines (`officers remove` re-indexing) come before the one error line
    progress = re.compile(r"[a-z-]+: [\d,]+/[\d,]+ \(\d+%\)")
    err = "".join(line + "\n" for line in result.err_lines if not progress.fullmatch(line))
    assert_refused(CliResult(result.code, result.out, err), INTERRUPTED)
    assert fingerprint(store.path) == before
    assert sorted(os.listdir(store.path.parent)) == [store.path.name]
    # and the same command, not interrupted, still works afterwards
    again = store.cli(*argv, officer=officer, env={"LIAISON_NEW_PASSPHRASE": "a new passphrase"})
    assert again.code == 0, again


def test_ctrl_c_during_init_leaves_no_file(tmp_path: Path, interrupt_before_commit) -> None:
    path = tmp_path / "new.db"
    with interrupt_before_commit():
        result = run_cli(
            "--store",
            str(path),
            "init",
            "--ministry",
            "PK-MOI",
            "--officer",
            "alice",
            env={"LIAISON_PASSPHRASE": "long enough passphrase"},
        )
    assert_refused(result, INTERRUPTED)
    assert os.listdir(tmp_path) == []


#: A child process running the real CLI whose write pauses inside its open transaction until it gets SIGINT.
PAUSED_CLI = """
import signal, sys, time
# Ctrl-C as at a terminal, even when the test runner was started with SIGINT ignored (a `cmd &` of a shell script)
signal.signal(signal.SIGINT, signal.default_int_handler)
import store.sqlite as dialect
from tui.cli import main

original = dialect.index_insert

def paused(conn, rows):
    original(conn, rows)
    sys.stdout.write("inside the transaction\\n")
    sys.stdout.flush()
    time.sleep(60)

dialect.index_insert = paused
sys.exit(main(sys.argv[1:]))
"""


def wait_for_line(proc: subprocess.Popen[str], timeout: float = 60) -> str:
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    assert ready, "the child never reached its transaction"
    return proc.stdout.readline()


@pytest.mark.parametrize("command", ["add", "edit"])
def test_a_real_sigint_inside_the_transaction_changes_nothing(busy_store, fingerprint, command: str) -> None:
    store, draft, _ = busy_store
    argv = {
        "add": ["add", "--domain", "narcotics", "--tlp", "red", "--title", "Half-written", "--summary", "Never stored"],
        "edit": ["edit", draft, "--title", "Half-edited", "--summary", "Never stored"],
    }[command]
    before = fingerprint(store.path)
    proc = subprocess.Popen(
        [sys.executable, "-c", PAUSED_CLI, "--store", str(store.path), "--officer", "carol", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "LIAISON_PASSPHRASE": PASSPHRASES["carol"]},
    )
    try:
        assert wait_for_line(proc) == "inside the transaction\n"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1, err
    assert out == ""
    assert err == f"error: {INTERRUPTED}\n"
    assert fingerprint(store.path) == before
    assert store.show(draft, officer="carol")["title"] == "A draft"


#: A child process ingesting 20,000 records in one transaction, reporting progress after each batch.
BIG_INGEST = """
import signal
signal.signal(signal.SIGINT, signal.default_int_handler)  # as PAUSED_CLI
import sys
from datetime import UTC, datetime
from store.demo import demo_items
from store.service import Vault

vault = Vault.open(sys.argv[1])
session = vault.unlock("alice", sys.argv[2])

def progress(done, total):
    sys.stdout.write(f"{done}\\n")
    sys.stdout.flush()

try:
    session.ingest(demo_items(20000, datetime.now(UTC), summary_bytes=300), total=20000, progress=progress)
except KeyboardInterrupt:
    sys.stdout.write("interrupted\\n")
    sys.exit(1)
finally:
    vault.close()
sys.stdout.write("finished\\n")
"""


def test_a_real_sigint_in_the_middle_of_a_bulk_ingest_changes_nothing(busy_store, fingerprint) -> None:
    store, _, _ = busy_store
    before = fingerprint(store.path)
    proc = subprocess.Popen(
        [sys.executable, "-c", BIG_INGEST, str(store.path), PASSPHRASES["alice"]],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = wait_for_line(proc)
        assert 0 < int(first) < 20000  # some batches written, not all
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1, err
    assert out.splitlines()[-1] == "interrupted"
    assert fingerprint(store.path) == before
    assert len(store.list_json()) == 2


def test_an_interrupt_between_ingest_batches_changes_nothing(busy_store, fingerprint) -> None:
    store, _, _ = busy_store
    now = datetime.now(UTC)

    def items():
        for i in range(2500):
            if i == 1500:
                raise KeyboardInterrupt
            yield IngestItem(
                domain="policing",
                origin="PK-MOI",
                tlp="GREEN",
                status="draft",
                author="alice",
                created_at=now,
                updated_at=now,
                title=f"Bulk {i}",
                summary="x",
            )

    before = fingerprint(store.path)
    session = store.session("alice")
    try:
        with pytest.raises(KeyboardInterrupt):
            session.ingest(items(), total=2500)
        assert session.count_records() == 2
    finally:
        session.vault.close()
    assert fingerprint(store.path) == before
