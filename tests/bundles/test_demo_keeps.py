"""Issue 10 item 9: the demo keeps your work (`--keep`, what `make demo` runs), its printed commands work as
printed, its text reads naturally and its timestamps are consistent."""

from __future__ import annotations

import os
import re
import shlex
import sqlite3
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from store.demo import SUBJECTS, TextMaker, bare, demo_logins
from store.service import Vault
from tests.liaison_helpers import LiaisonStore, assert_refused, run_cli, store_fingerprint

DEMO = {"LIAISON_PASSPHRASE": "demo"}


@pytest.fixture
def demo(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "demo" / "pk-moi.db"
    result = run_cli("demo", "--keep", "--no-tui", "--records", "60", "--store", str(path))
    assert result.code == 0, result
    return path, result.err


def test_keep_opens_the_store_as_left(demo: tuple[Path, str]) -> None:
    path, err = demo
    assert ", built;" in err.splitlines()[0]
    store = LiaisonStore(path)
    ref = store.add("My own note in the demo", officer="demo", passphrase="demo")
    again = run_cli("demo", "--keep", "--no-tui", "--store", str(path))
    assert again.code == 0, again
    assert "61 records, kept as you left it" in again.err.splitlines()[0]
    assert (
        store.ok("show", ref, "--json", officer="demo", passphrase="demo").json()["title"] == "My own note in the demo"
    )


def test_keep_refuses_a_store_that_is_not_a_demo(store: LiaisonStore) -> None:
    before = store_fingerprint(store.path)
    result = run_cli("demo", "--keep", "--no-tui", "--store", str(store.path))
    assert_refused(result, f"{store.path} exists and is not a demo store; refusing to use it")
    assert store_fingerprint(store.path) == before


def test_the_demo_says_what_matters_and_its_commands_work_as_printed(demo: tuple[Path, str]) -> None:
    """Every printed command line is run as printed (in a shell-like split, from the same directory)."""
    _path, err = demo
    assert (
        "PK-MOI officers: demo (admin), ayesha (reviewer), bilal (officer), kamran (officer), sana (reviewer); every demo passphrase is demo"
        in err
    )
    commands = [line.strip().split("  #")[0] for line in err.splitlines() if line.startswith("  ")]
    assert len(commands) == 4
    for command in commands:
        argv = shlex.split(command)
        assert argv[0] in (
            "liaison",
            os.path.relpath(Path(os.sys.executable).with_name("liaison")),
            str(Path(os.sys.executable).with_name("liaison")),
        )
        if argv[0] == "liaison":
            argv[0] = str(Path(os.sys.executable).with_name("liaison"))
        done = subprocess.run(
            argv, capture_output=True, text=True, env={**os.environ, **DEMO}, timeout=120, check=False
        )
        assert done.returncode == 0, (command, done.stderr)


def test_a_reset_removes_the_earlier_demos_files(demo: tuple[Path, str]) -> None:
    path, _err = demo
    receipt = path.with_name("to-tr-moi.receipt")
    pk = LiaisonStore(path)
    pk.ok(
        "import",
        str(path.with_name("from-tr-moi.bundle")),
        "--receipt-out",
        str(receipt),
        officer="demo",
        passphrase="demo",
    )
    assert receipt.exists()
    rebuilt = run_cli("demo", "--no-tui", "--records", "20", "--store", str(path))
    assert rebuilt.code == 0, rebuilt
    assert not receipt.exists()
    pk.ok(
        "import",
        str(path.with_name("from-tr-moi.bundle")),
        "--receipt-out",
        str(receipt),
        officer="demo",
        passphrase="demo",
    )


def test_the_store_knows_it_is_a_demo(demo: tuple[Path, str], store: LiaisonStore) -> None:
    path, _err = demo
    vault = Vault.open(path)
    try:
        assert vault.is_demo()
        logins = demo_logins(vault)
        assert ("demo", "admin", "demo") in logins and ("ayesha", "reviewer", "demo") in logins
    finally:
        vault.close()
    real = Vault.open(store.path)
    try:
        assert not real.is_demo() and demo_logins(real) == []
    finally:
        real.close()


def test_demo_text_reads_naturally() -> None:
    import random

    for subjects in SUBJECTS.values():
        for subject in subjects:
            assert not re.match(r"an? [^aeiou]", subject) or subject.startswith("a "), subject
            assert not re.match(r"a [aeiou]", subject), subject
            assert bare(subject)[0].islower() or bare(subject)[:3].isupper(), subject
    maker = TextMaker(random.Random(7), 900)
    for domain in SUBJECTS:
        for _ in range(30):
            text = maker.summary(domain) + " " + maker.title(domain)
            assert not re.search(r"\ba [aeiou]", text), text
            assert not re.search(r"\ban [^aeiouAEIOU]", text), text
            assert "  " not in text


def test_demo_timestamps_are_consistent(demo: tuple[Path, str]) -> None:
    """Nothing happens to a record before it was created, a review step after its record was last updated,
    and nothing in the future."""
    path, _err = demo
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(" ")
    for store in (path, path.with_name("tr-moi.db")):
        conn = sqlite3.connect(store)
        try:
            assert conn.execute(
                "SELECT count(*) FROM records WHERE updated_at < created_at OR updated_at > ?", (now,)
            ).fetchone() == (0,)
            assert conn.execute(
                "SELECT count(*) FROM revisions v JOIN records r ON r.id = v.record_id WHERE v.created_at < r.created_at"
            ).fetchone() == (0,)
            assert conn.execute(
                "SELECT count(*) FROM review_events e JOIN records r ON r.id = e.record_id WHERE e.at < r.created_at OR e.at > r.updated_at"
            ).fetchone() == (0,)
            assert conn.execute(
                "SELECT count(*) FROM review_events a JOIN review_events b ON a.record_id = b.record_id AND a.id < b.id WHERE b.at < a.at"
            ).fetchone() == (0,)
            assert conn.execute(
                "SELECT count(*) FROM bundle_items i JOIN bundles b ON b.bundle_id = i.bundle_id JOIN records r ON r.id = i.record_id "
                "WHERE b.at < r.updated_at OR i.acknowledged_at < b.at OR i.acknowledged_at > ?",
                (now,),
            ).fetchone() == (0,)
        finally:
            conn.close()
