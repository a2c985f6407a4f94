"""Attacks on who may unlock and on the file as a whole: a removed admin's old officers row written back, the
whole store file put back from an older copy, and a kill -9 in the middle of a 20,000-record import."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from store.errors import TamperError
from store.service import Vault
from tests.integrity.conftest import Ministries
from tests.liaison_helpers import LIAISON_BIN, PASSPHRASES, assert_refused

OFFICER_COLUMNS = ("role", "slot", '"grant"', "mac", "revoked_at", "signing_public")


def test_a_removed_admins_old_officers_row_written_back_unlocks_nothing(ministries: Ministries) -> None:
    """Threat 26: dave, an admin, keeps a copy of his officers row; after his removal he writes it back (slot,
    grant and MAC are all genuine: the MAC has no freshness). His unlock is refused, so he can re-grant nothing;
    `audit verify` names his row; everyone else works as before."""
    m = ministries
    saved = m.pk.sql(f"SELECT {', '.join(OFFICER_COLUMNS)} FROM officers WHERE name = 'dave'")[0]
    m.pk.ok("officers", "remove", "dave")
    m.attack((f"UPDATE officers SET {', '.join(f'{c} = ?' for c in OFFICER_COLUMNS)} WHERE name = 'dave'", saved))

    refused = m.pk.cli("officers", "remove", "carol", officer="dave")
    assert_refused(refused, "officer record of dave is not backed by the audit log (replayed or edited): ", exact=False)
    assert [row[0] for row in m.pk.sql("SELECT name FROM officers WHERE revoked_at IS NULL ORDER BY name")] == [
        "alice",
        "bob",
        "carol",
        "dave",  # the replayed row itself, which unlocks nothing
    ]
    result = m.verify()
    assert_refused(result, "officer dave's row is not the one the log last signed: ", exact=False)
    assert m.pk.show(m.refs["green"], officer="carol")["reference"] == m.refs["green"]
    m.pk.ok("add", "--domain", "narcotics", "--tlp", "green", "--title", "Written after the replay", officer="carol")


def test_officers_list_does_not_show_a_replayed_or_edited_officers_row_as_it_stands(ministries: Ministries) -> None:
    """Threats 26 and 4: `officers list` runs without keys, so it is the first thing someone trusts after the
    file was touched. dave (an admin) is removed and his old officers row written back with sqlite3, carol's role
    raised to admin and a row copied in under a new name: none is listed as it stands in the table. dave is
    listed removed (the log's state), carol as the officer the log signed, eve as refused; each with why the log
    does not back the row, in text and in JSON (`backed`: false); the rows the log backs stay as they were."""
    m = ministries
    saved = m.pk.sql(f"SELECT {', '.join(OFFICER_COLUMNS)} FROM officers WHERE name = 'dave'")[0]
    m.pk.ok("officers", "remove", "dave")
    m.attack(
        (f"UPDATE officers SET {', '.join(f'{c} = ?' for c in OFFICER_COLUMNS)} WHERE name = 'dave'", saved),
        "UPDATE officers SET role = 'admin' WHERE name = 'carol'",
        'INSERT INTO officers (name, role, created_at, slot, "grant", mac, revoked_at, signing_public) '
        "SELECT 'eve', role, created_at, slot, \"grant\", mac, NULL, signing_public FROM officers WHERE name = 'bob'",
    )
    assert m.pk.sql("SELECT name, role FROM officers WHERE revoked_at IS NULL ORDER BY name") == [
        ("alice", "admin"),
        ("bob", "reviewer"),
        ("carol", "admin"),
        ("dave", "admin"),
        ("eve", "reviewer"),
    ]

    listed = {o["name"]: o for o in m.pk.ok("officers", "list", "--json", officer=None).json()}
    assert {n: (o["role"], o["revoked"], o["backed"]) for n, o in listed.items()} == {
        "alice": ("admin", False, True),
        "bob": ("reviewer", False, True),
        "carol": ("officer", False, False),
        "dave": ("admin", True, False),
        "eve": ("reviewer", False, False),
    }
    assert listed["alice"]["not_backed_because"] is None
    assert listed["dave"]["not_backed_because"].startswith("its removal differs from the audit log's event #")
    assert listed["carol"]["not_backed_because"].startswith("its role differs from the audit log's event #")
    assert listed["eve"]["not_backed_because"] == "the audit log has no event for it"

    lines = {line.split()[0]: line for line in m.pk.ok("officers", "list", officer=None).out.splitlines()}
    assert lines["alice"].split() == ["alice", "admin", "active"]
    assert lines["bob"].split() == ["bob", "reviewer", "active"]
    for name, state in (("carol", "refused"), ("dave", "removed"), ("eve", "refused")):
        assert lines[name].split()[2] == state, lines[name]
        assert "active" not in lines[name]
        assert "NOT BACKED BY THE LOG: " in lines[name]


def test_an_identity_rotation_does_not_sign_a_replayed_officers_row_into_the_log(ministries: Ministries) -> None:
    """Threats 26 and 4: carol changes her passphrase; her old officers row (slot, grant and MAC, all genuine: the
    MAC has no freshness and a passphrase change keeps the master secret) is written back with sqlite3. An admin's
    `identity rotate` re-grants the keyring to every officer: it must refuse the replayed row, not grant it the new
    keys and sign it into the log as current, which made the log back it and let the old passphrase unlock again."""
    m = ministries
    saved = m.pk.sql(f"SELECT {', '.join(OFFICER_COLUMNS)} FROM officers WHERE name = 'carol'")[0]
    m.pk.ok("officers", "passwd", officer="carol", env={"LIAISON_NEW_PASSPHRASE": "carol a brand new phrase"})
    m.attack((f"UPDATE officers SET {', '.join(f'{c} = ?' for c in OFFICER_COLUMNS)} WHERE name = 'carol'", saved))
    why = "officer record of carol is not backed by the audit log (replayed or edited): its key slot differs from"
    assert_refused(m.pk.cli("identity", "rotate"), why, exact=False)
    assert_refused(m.pk.cli("list", officer="carol"), why, exact=False)  # her old passphrase opens nothing
    listed = {o["name"]: o for o in m.pk.ok("officers", "list", "--json", officer=None).json()}
    assert listed["carol"]["backed"] is False and listed["alice"]["backed"] is True


def test_a_passphrase_change_does_not_sign_an_officers_row_edited_while_unlocked(ministries: Ministries) -> None:
    """Threat 26: carol's session is open (the app, unlocked hours ago); her role is raised to admin in the file
    with sqlite3. Her passphrase change must refuse the edited row, not sign it into the log as her current state
    (which made the log back an admin carol); her row stays refused and listed as the officer the log signed."""
    m = ministries
    vault = Vault.open(m.pk.path, kdf_profile="minimum")
    try:
        session = vault.unlock("carol", PASSPHRASES["carol"])
        m.attack("UPDATE officers SET role = 'admin' WHERE name = 'carol'")
        with pytest.raises(
            TamperError, match=r"officer record of carol is not backed by the audit log .* its role differs"
        ):
            session.change_passphrase("carol a brand new phrase")
    finally:
        vault.close()
    listed = {o["name"]: o for o in m.pk.ok("officers", "list", "--json", officer=None).json()}
    assert (listed["carol"]["role"], listed["carol"]["backed"]) == ("officer", False)
    assert_refused(m.pk.cli("list", officer="carol"), "officer record of carol was altered outside Liaison")


def test_the_whole_file_restored_from_an_older_copy_is_refused_until_an_admin_accepts(ministries: Ministries) -> None:
    """Threat 31: the store file put back from an older copy (undoing a passphrase change and a bundle import) is
    refused at the next command, whatever the command; `audit accept-rollback` by an admin accepts it, logged."""
    m = ministries
    older = m.path("older-copy.db")
    shutil.copyfile(m.pk.path, older)
    m.pk.ok("officers", "passwd", officer="carol", env={"LIAISON_NEW_PASSPHRASE": "carol a brand new phrase"})
    m.tr.ok("add", "--domain", "narcotics", "--tlp", "green", "--to", "PK-MOI", "--title", "From TR", "--submit")
    m.tr.ok("review", m.tr.list_json()[0]["reference"], "--approve")
    m.tr.ok("export", "--to", "PK-MOI", "--out", str(m.path("tr.bundle")))
    m.pk.ok("import", str(m.path("tr.bundle")))
    seen = int(m.pk.sql("SELECT max(seq) FROM audit_log")[0][0])

    shutil.copyfile(older, m.pk.path)
    back = int(m.pk.sql("SELECT max(seq) FROM audit_log")[0][0])
    message = f"store rolled back: log has {back} events, this workstation has seen {seen} (checkpoint of "
    for argv, officer in (
        (["list"], "alice"),
        (["import", str(m.path("tr.bundle"))], "alice"),
        (["officers", "list"], None),
    ):
        assert_refused(m.pk.cli(*argv, officer=officer), message, exact=False)
    # looking at it writes nothing into it (found by a new officer's pass: each verify, and a refused acceptance,
    # signed an unlock into the suspect file, and the diagnosis turned from "rolled back" to "forked")
    for _ in range(2):
        verify = m.pk.cli("audit", "verify")
        assert verify.code == 1 and f"event {back + 1}: {message}" in verify.err, verify
    assert m.pk.cli("audit", "verify", officer="carol", passphrase="not carol's").code == 1
    assert_refused(
        m.pk.cli("audit", "accept-rollback", officer="bob"), "accepting a rollback needs a confirmation", exact=False
    )
    assert_refused(
        m.pk.cli("audit", "accept-rollback", "--yes", officer="bob"), "role reviewer may not accept a rolled-back store"
    )
    assert int(m.pk.sql("SELECT max(seq) FROM audit_log")[0][0]) == back
    assert m.pk.sql("SELECT count(*) FROM audit_pending")[0][0] == 0
    accepted = m.pk.cli("audit", "accept-rollback", "--yes")
    assert accepted.code == 0, accepted
    assert accepted.err_lines[0].startswith(message), accepted
    assert f"this workstation has seen {seen} (checkpoint of " in accepted.err_lines[0]
    assert m.pk.ok("audit", "verify").out.startswith("audit: ")
    log = m.pk.ok("audit", "log", "--action", "accept-rollback", "--json").json()
    assert [(e["officer"], e["target"]) for e in log] == [("alice", "PK-MOI")]
    m.pk.ok("list")
    assert_refused(m.pk.cli("audit", "accept-rollback", "--yes"), "the store is not rolled back: ", exact=False)


# ---- kill -9 during a large import --------------------------------------------------------------------------

RECORDS = 20_000


def _fill(m: Ministries) -> None:
    """20,000 approved GREEN records releasable to TR-MOI, written through the store's bulk path."""
    from store.ingest import IngestItem

    session = m.pk.session("alice")
    try:
        start = datetime(2026, 1, 1, tzinfo=UTC)
        items = (
            IngestItem(
                domain="narcotics",
                origin="PK-MOI",
                tlp="GREEN",
                status="approved",
                author="carol",
                created_at=start + timedelta(minutes=i),
                updated_at=start + timedelta(minutes=i),
                title=f"Bulk report {i}",
                summary=f"Routine bulk summary number {i}",
                releasable_to=("TR-MOI",),
            )
            for i in range(RECORDS)
        )
        session.ingest(items, total=RECORDS)
    finally:
        session.vault.close()


def _import_killed(m: Ministries, bundle: Path, wal_bytes: int) -> bool:
    """Start `liaison import` on TR-MOI and SIGKILL it once its write-ahead log holds `wal_bytes`; False if it
    finished first."""
    env = dict(os.environ, LIAISON_PASSPHRASE=PASSPHRASES["alice"], LIAISON_STORE=str(m.tr.path))
    proc = subprocess.Popen(
        [str(LIAISON_BIN), "--officer", "alice", "import", str(bundle)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wal = Path(f"{m.tr.path}-wal")
    deadline = time.monotonic() + 300
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            if wal.exists() and wal.stat().st_size >= wal_bytes:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
                return True
            time.sleep(0.01)
        return False
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_kill_9_during_a_20k_record_import_leaves_a_store_that_opens_and_verifies(ministries: Ministries) -> None:
    """Threat 14: an import of 20,000 records killed (SIGKILL) at two random points of its transaction
    leaves TR-MOI's store as it was: it opens, `audit verify` passes, and no record of the bundle is half there."""
    m = ministries
    _fill(m)
    bundle = m.path("big.bundle")
    m.pk.ok("export", "--to", "TR-MOI", "--out", str(bundle))
    before = m.tr.ok("audit", "verify").out
    rng = random.Random(11)
    for wal_bytes in (rng.randrange(1, 4) << 20, rng.randrange(8, 24) << 20):
        assert _import_killed(m, bundle, wal_bytes), f"the import finished before its WAL held {wal_bytes} bytes"
        result = m.tr.cli("audit", "verify")
        assert result.code == 0, result
        assert result.out.split(", ")[1] == before.split(", ")[1]  # the same number of records
        assert m.tr.list_json() == []
