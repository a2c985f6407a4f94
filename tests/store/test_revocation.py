"""Threat 4: a removed officer who kept a copy of their old key slot and grant decrypts nothing written after the
removal — not by the CLI, not by a session that was already open when the removal happened — and a removal
never hands the new keys to an officer row planted in the file."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from crypto.errors import DecryptionFailed
from crypto.kdf import minimum_params
from crypto.keyring import Keyring
from crypto.slot import OfficerSlot, create_slot, open_grant, open_slot
from store.errors import AuthError, TamperError
from store.service import Draft, Vault
from tests.liaison_helpers import PASSPHRASES, LiaisonStore, assert_refused

OFFICER_COLUMNS = 'name, role, slot, "grant", mac, created_at, revoked_at'


def all_tokens(path: Path) -> set[bytes]:
    """Every encrypted value in the store (titles, bodies, review comments)."""
    conn = sqlite3.connect(path)
    try:
        tokens = {row[0] for row in conn.execute("SELECT title_ct FROM records")}
        tokens |= {row[0] for row in conn.execute("SELECT title_ct FROM revisions")}
        tokens |= {row[0] for row in conn.execute("SELECT body_ct FROM revisions")}
        tokens |= {row[0] for row in conn.execute("SELECT comment_ct FROM review_events WHERE comment_ct IS NOT NULL")}
        return tokens
    finally:
        conn.close()


def keyring_of(store: LiaisonStore, officer: str) -> Keyring:
    session = store.session(officer)
    try:
        return Keyring.from_bytes(session.keyring.to_bytes())
    finally:
        session.vault.close()


def decryptable(keyring: Keyring, token: bytes) -> bool:
    try:
        keyring.decrypt(token)
    except DecryptionFailed:
        return False
    return True


def test_a_restored_old_row_decrypts_nothing_written_after_the_removal(
    team_store: LiaisonStore, tmp_path: Path
) -> None:
    store = team_store
    store.add("Untouched since", "--summary", "Old news", officer="carol")
    before_ref = store.add("Written while carol was here", "--summary", "Old news too", officer="carol")
    store.ok("submit", before_ref, officer="carol")
    old_row = store.sql(f"SELECT {OFFICER_COLUMNS} FROM officers WHERE name = 'carol'")[0]
    (old_policy_mac,) = store.sql("SELECT value FROM liaison_meta WHERE key = 'policy_mac'")[0]
    old_tokens = all_tokens(store.path)

    store.ok("officers", "remove", "carol")
    after = [
        store.add(f"Written after carol left {i}", "--summary", "Fresh intelligence", officer=o)
        for i, o in enumerate(("alice", "bob"))
    ]
    store.ok("review", before_ref, "--return", "--comment", "Comment written after the removal", officer="bob")
    store.ok("edit", after[1], "--summary", "A new revision after the removal", officer="bob")
    new_tokens = all_tokens(store.path) - old_tokens
    assert len(new_tokens) >= 7

    # carol restores her old row into a copy of the store and unlocks it with her old passphrase
    copy = tmp_path / "carols-copy.db"
    shutil.copyfile(store.path, copy)
    conn = sqlite3.connect(copy)
    conn.execute("DELETE FROM officers WHERE name = 'carol'")
    conn.execute(f"INSERT INTO officers({OFFICER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)", old_row)
    # the removal re-derived the policy MAC under a new master secret: she restores the old one too
    conn.execute("UPDATE liaison_meta SET value = ? WHERE key = 'policy_mac'", (old_policy_mac,))
    conn.commit()
    conn.close()
    # Liaison refuses the replayed row: the audit log last signed her removal
    with Vault.open(copy) as vault, pytest.raises(TamperError, match="officer record of carol is not backed by"):
        vault.unlock("carol", PASSPHRASES["carol"])
    # and the keyring her old row opens outside Liaison reads what she could read before, nothing written since
    (store_id,) = store.sql("SELECT value FROM liaison_meta WHERE key = 'store_id'")[0]
    secret = open_slot(OfficerSlot.from_json(old_row[2]), PASSPHRASES["carol"].encode())
    carol_keys = open_grant(old_row[3], store_id, "carol", secret)
    assert all(decryptable(carol_keys, t) for t in old_tokens)  # positive control: her keyring is real
    assert [t for t in new_tokens if decryptable(carol_keys, t)] == []


def test_a_session_open_before_the_removal_writes_with_the_new_key(team_store: LiaisonStore) -> None:
    """The TUI left open while an admin removes someone on the CLI must not keep writing under the old key."""
    store = team_store
    carol_keys = keyring_of(store, "carol")
    open_session = store.session("bob")  # e.g. bob's TUI, unlocked before the removal
    try:
        store.ok("officers", "remove", "carol")  # another process
        ref = open_session.add_record(
            Draft(
                domain="narcotics",
                tlp="AMBER",
                title="Written by a session opened earlier",
                summary="After the removal",
            )
        )
        (title_ct,) = store.sql("SELECT title_ct FROM records WHERE reference = ?", (ref,))[0]
        (body_ct,) = store.sql(
            "SELECT body_ct FROM revisions WHERE record_id = (SELECT id FROM records WHERE reference = ?)", (ref,)
        )[0]
        assert not decryptable(carol_keys, title_ct)
        assert not decryptable(carol_keys, body_ct)
        assert open_session.get_record(ref).summary == "After the removal"
    finally:
        open_session.vault.close()
    assert store.show(ref, officer="alice")["title"] == "Written by a session opened earlier"


def test_a_session_open_before_the_removal_reads_what_is_written_after_it(team_store: LiaisonStore) -> None:
    store = team_store
    open_session = store.session("bob")
    try:
        store.ok("officers", "remove", "carol")
        ref = store.add("Written on the CLI after the removal", "--summary", "New key")
        assert [r.title for r in open_session.list_records()] == ["Written on the CLI after the removal"]
        assert open_session.get_record(ref).summary == "New key"
    finally:
        open_session.vault.close()


def test_a_removed_officers_open_session_can_no_longer_write(team_store: LiaisonStore, fingerprint) -> None:
    store = team_store
    carols = store.session("carol")
    try:
        store.ok("officers", "remove", "carol")
        before = fingerprint(store.path)
        with pytest.raises(AuthError, match="officer carol was removed"):
            carols.add_record(Draft(domain="narcotics", tlp="AMBER", title="Sneaked in"))
        assert fingerprint(store.path) == before
        assert carols.keyring is None  # locked: nothing more to read either
        with pytest.raises(AuthError):
            carols.list_records()
    finally:
        carols.vault.close()


def test_a_removal_never_grants_the_keys_to_a_planted_officer_row(team_store: LiaisonStore, fingerprint) -> None:
    """Someone who can write to the file (but holds no key) plants an officer row with a slot of their own."""
    store = team_store
    slot, mallory_secret = create_slot("mallory", b"mallory's own passphrase", minimum_params())
    (created_at,) = store.sql("SELECT created_at FROM officers WHERE name = 'alice'")[0]
    store.sql(
        f"INSERT INTO officers({OFFICER_COLUMNS}) VALUES (?, 'admin', ?, '{{}}', ?, ?, NULL)",
        ("mallory", slot.to_json(), "0" * 64, created_at),
    )
    before = fingerprint(store.path)
    assert_refused(
        store.cli("officers", "remove", "carol"),
        "officer record of mallory is not backed by the audit log (replayed or edited): the audit log has no event for it",
    )
    assert fingerprint(store.path) == before
    (grant,) = store.sql("SELECT \"grant\" FROM officers WHERE name = 'mallory'")[0]
    (store_id,) = store.sql("SELECT value FROM liaison_meta WHERE key = 'store_id'")[0]
    with pytest.raises(Exception):  # noqa: B017 - any failure will do: there must be no keyring in it
        open_grant(grant, store_id, "mallory", mallory_secret)
    assert store.cli("list", officer="carol").code == 0  # carol was not removed either


def test_a_failed_removal_leaves_the_session_keys_as_they_were(
    team_store: LiaisonStore, interrupt_before_commit, fingerprint
) -> None:
    store = team_store
    session = store.session("alice")
    try:
        before = fingerprint(store.path)
        with interrupt_before_commit(), pytest.raises(KeyboardInterrupt):
            session.remove_officer("carol")
        assert fingerprint(store.path) == before
        ref = session.add_record(Draft(domain="policing", tlp="GREEN", title="Written after a failed removal"))
    finally:
        session.vault.close()
    # everyone else can still read what the session wrote afterwards
    for name in ("bob", "carol"):
        assert store.show(ref, officer=name)["title"] == "Written after a failed removal"


def test_after_a_removal_the_others_keep_reading_old_and_new_records(team_store: LiaisonStore) -> None:
    store = team_store
    old = store.add("Old", "--summary", "before", officer="carol")
    store.ok("officers", "remove", "carol")
    store.ok("officers", "remove", "bob")  # a second rotation
    new = store.add("New", "--summary", "after")
    assert store.show(old)["summary"] == "before"
    assert store.show(new)["summary"] == "after"
    store.ok("officers", "add", "dave", "--role", "officer", env={"LIAISON_NEW_PASSPHRASE": PASSPHRASES["dave"]})
    assert store.show(old, officer="dave")["summary"] == "before"
    assert store.show(new, officer="dave")["summary"] == "after"
