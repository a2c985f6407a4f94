"""Threat 16: two processes writing at once (the CLI while the TUI is open) — both succeed and nothing is lost."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

from store.service import Draft
from tests.liaison_helpers import LIAISON_BIN, PASSPHRASES, LiaisonStore

#: A worker process: N `liaison add` commands through the real entry point, one after the other.
WORKER = """
import sys
from tui.cli import main
store, officer, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
for i in range(count):
    code = main(["--store", store, "--officer", officer, "add", "--domain", "policing", "--tlp", "green",
                 "--title", f"{officer} parallel record {i}", "--summary", f"written by {officer}, number {i}"])
    if code != 0:
        sys.exit(code)
"""


def env_for(officer: str) -> dict[str, str]:
    return {**os.environ, "LIAISON_PASSPHRASE": PASSPHRASES[officer]}


def test_two_processes_adding_twenty_records_each_lose_nothing(team_store: LiaisonStore) -> None:
    store = team_store
    watcher = store.session("carol")  # an open "TUI" session watching the change counter
    try:
        counter_before = watcher.vault.change_counter()
        workers = [
            subprocess.Popen(
                [sys.executable, "-c", WORKER, str(store.path), officer, "20"],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env_for(officer),
            )
            for officer in ("alice", "bob")
        ]
        outputs = [w.communicate(timeout=120) for w in workers]
        for worker, (_out, err) in zip(workers, outputs, strict=True):
            assert worker.returncode == 0, err
            assert "Traceback" not in err
        references = [line for out, _ in outputs for line in out.splitlines()]
        assert len(references) == 40
        assert len(set(references)) == 40
        numbers = sorted(int(r.rsplit("-", 1)[1]) for r in references)
        assert numbers == list(range(1, 41))  # references allocated without gaps or clashes
        rows = watcher.list_records(limit=100)
        assert {r.reference for r in rows} == set(references)
        assert {r.title for r in rows} == {f"{o} parallel record {i}" for o in ("alice", "bob") for i in range(20)}
        assert watcher.vault.change_counter() == counter_before + 40
    finally:
        watcher.vault.close()


def test_parallel_liaison_commands_all_succeed(team_store: LiaisonStore) -> None:
    store = team_store
    officers = ["alice", "bob", "carol", "alice"]
    procs = [
        subprocess.Popen(
            [
                str(LIAISON_BIN),
                "--store",
                str(store.path),
                "--officer",
                officer,
                "add",
                "--domain",
                "narcotics",
                "--tlp",
                "amber",
                "--title",
                f"console script {i}",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env_for(officer),
        )
        for i, officer in enumerate(officers)
    ]
    results = [(p.wait(timeout=120), *p.communicate()) for p in procs]
    assert [code for code, _, _ in results] == [0] * len(officers), results
    references = {out.strip() for _, out, _ in results}
    assert len(references) == len(officers)
    assert {r["title"] for r in store.list_json()} == {f"console script {i}" for i in range(len(officers))}


def test_a_cli_write_waits_for_the_apps_write_to_finish(team_store: LiaisonStore) -> None:
    """While the app holds the write lock, a CLI write queues on the busy timeout instead of failing."""
    store = team_store
    app = store.session("bob")
    holding = threading.Event()
    release = threading.Event()

    def long_write() -> None:
        with app.act("test-hold", "lock"):
            holding.set()
            release.wait(timeout=30)

    thread = threading.Thread(target=long_write)
    thread.start()
    try:
        assert holding.wait(timeout=30)
        cli = subprocess.Popen(
            [
                str(LIAISON_BIN),
                "--store",
                str(store.path),
                "--officer",
                "alice",
                "add",
                "--domain",
                "narcotics",
                "--tlp",
                "red",
                "--title",
                "Queued",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env_for("alice"),
        )
        time.sleep(1.0)  # long enough for the CLI to reach its write and find the lock taken
        assert cli.poll() is None, "the CLI should be waiting for the lock, not finished or failed"
        release.set()
        out, err = cli.communicate(timeout=60)
        assert cli.returncode == 0, err
    finally:
        release.set()
        thread.join()
    ref = app.add_record(Draft(domain="policing", tlp="GREEN", title="After the queue"))
    app.vault.close()
    titles = {r["title"] for r in store.list_json()}
    assert titles == {"Queued", "After the queue"}
    assert out.strip() != ref
