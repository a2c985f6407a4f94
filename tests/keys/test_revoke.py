"""Full revocation on `officers remove`: a new master secret as well as a new data key (Threats 4 and 6)."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from crypto.blind_index import BlindIndexer
from crypto.errors import DecryptionFailed
from crypto.keyring import Keyring
from store.authoring import Draft
from store.errors import TamperError
from store.records import RecordQuery
from store.service import Vault
from store.sqlite import SEARCH_TABLE
from tests.keys.conftest import unlock
from tests.keys.tokens import all_tokens

ROOT = Path(__file__).resolve().parents[2]
NEW_WORD = "quokkaquartz"


def _index_rows(path: Path, keyring: Keyring, word: str) -> list[int]:
    """Record ids whose index row holds the token `keyring`'s index key computes for `word`."""
    (token,) = BlindIndexer(keyring.index_key).query_tokens(word)
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return [
            r[0]
            for r in conn.execute(f"SELECT rowid FROM {SEARCH_TABLE} WHERE {SEARCH_TABLE} MATCH ?", (f'"{token}"',))
        ]
    finally:
        conn.close()


def test_a_removed_officer_with_an_old_copy_of_the_file_decrypts_nothing_written_after_and_matches_nothing(
    small_store: Path, tmp_path: Path
) -> None:
    """Threat 4: the copy taken before the removal gives bilal his old keyring; against the file as it is after
    the removal it opens no token written since, and the search tokens it computes match no index row."""
    old_copy = tmp_path / "bilal-kept.db"
    shutil.copyfile(small_store, old_copy)
    before = all_tokens(small_store)
    with Vault.open(old_copy) as vault:
        bilal = vault.unlock("bilal", "demo")
        bilal_keys = bilal.keys().copy()
        old_word = bilal.list_records(limit=1)[0].title.split()[-1]
        assert _index_rows(old_copy, bilal_keys, old_word)  # positive control: his key matches the old index
    admin = unlock(small_store)
    try:
        assert admin.remove_officer("bilal") == 2
        ref = admin.add_record(Draft("narcotics", "amber", f"Sighting {NEW_WORD}", f"Convoy {NEW_WORD} at dawn"))
        some = admin.list_records(limit=3)[-1].reference
        admin.close_record(some, "closed after the removal")
        assert [r.reference for r in admin.list_records(RecordQuery(search=NEW_WORD))] == [ref]
        assert admin.list_records(RecordQuery(search=old_word))  # the rebuilt index still finds old records
        new_keys = admin.keys().copy()
    finally:
        admin.vault.close()
    written_after = {cell: token for cell, token in all_tokens(small_store).items() if before.get(cell) != token}
    assert len(written_after) >= 3
    for token in written_after.values():
        with pytest.raises(DecryptionFailed):
            bilal_keys.decrypt(token)
        new_keys.decrypt(token)  # positive control
    assert _index_rows(small_store, bilal_keys, NEW_WORD) == []
    assert _index_rows(small_store, bilal_keys, old_word) == []  # the whole index moved to the new key
    assert _index_rows(small_store, new_keys, NEW_WORD)
    assert {
        new_keys.index_key,
        new_keys.officers_key,
        new_keys.derived("policy"),
        new_keys.derived("contacts"),
    }.isdisjoint(
        {bilal_keys.index_key, bilal_keys.officers_key, bilal_keys.derived("policy"), bilal_keys.derived("contacts")}
    )


def test_after_a_removal_the_others_unlock_and_every_mac_holds_under_the_new_master(small_store: Path) -> None:
    admin = unlock(small_store)
    try:
        contacts_before = [c.code for c in admin_contacts(admin)]
        admin.remove_officer("bilal")
        assert [c.code for c in admin_contacts(admin)] == contacts_before and contacts_before
    finally:
        admin.vault.close()
    for name in ("demo", "ayesha", "kamran"):
        other = unlock(small_store, name)
        try:
            assert other.keys().master_version == 2 and other.list_records(limit=1)
        finally:
            other.vault.close()
    with Vault.open(small_store) as vault, pytest.raises(Exception, match="bilal was removed"):
        vault.unlock("bilal", "demo")


def admin_contacts(session: object) -> list:  # type: ignore[type-arg]
    from store.contacts import contacts

    return contacts(session)  # type: ignore[arg-type]


def test_a_removal_refuses_a_contact_edited_in_the_file_and_changes_nothing(small_store: Path) -> None:
    conn = sqlite3.connect(small_store)
    conn.execute("UPDATE contacts SET name = 'Forged name'")
    conn.commit()
    conn.close()
    admin = unlock(small_store)
    try:
        with pytest.raises(TamperError, match="was altered outside Liaison"):
            admin.remove_officer("bilal")
        assert admin.keys().master_version == 1
    finally:
        admin.vault.close()
    assert [o.name for o in Vault.open(small_store).officers() if o.revoked] == []


def test_a_session_open_before_the_removal_searches_under_the_new_index_key(small_store: Path) -> None:
    stale = unlock(small_store, "ayesha")
    admin = unlock(small_store)
    try:
        admin.remove_officer("bilal")
        ref = admin.add_record(Draft("narcotics", "amber", f"Report {NEW_WORD}", "summary"))
        stale.list_records(limit=1)  # its next read follows the new grant
        assert [r.reference for r in stale.list_records(RecordQuery(search=NEW_WORD))] == [ref]
    finally:
        stale.vault.close()
        admin.vault.close()


def test_kill_9_during_the_index_rebuild_leaves_the_officer_in_place_and_a_rerun_removes_them(big_store: Path) -> None:
    """Threat 6: the revocation is one transaction; a kill -9 while it rebuilds the index leaves the store as it
    was (every record readable, the officer still active) and running it again completes."""
    before = {cell: hashlib.sha256(token).hexdigest() for cell, token in all_tokens(big_store).items()}
    env = dict(os.environ, LIAISON_PASSPHRASE="demo", LIAISON_OFFICER="demo", LIAISON_KDF_PROFILE="minimum")
    command = [sys.executable, "-m", "tui", "--store", str(big_store), "officers", "remove", "bilal"]
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    lines = []
    for line in proc.stderr:
        lines.append(line)
        if len(lines) == 5:  # four batches of the index written
            os.kill(proc.pid, signal.SIGKILL)
            break
    proc.stderr.close()
    assert proc.wait(timeout=300) == -signal.SIGKILL, lines
    assert lines[0].startswith("re-indexing: 0/20,000")
    after = {cell: hashlib.sha256(token).hexdigest() for cell, token in all_tokens(big_store).items()}
    assert after == before
    session = unlock(big_store)
    try:
        assert session.keys().master_version == 1
        assert [o.name for o in session.officers() if o.revoked] == []
        keys = session.keys()
        for token in all_tokens(big_store).values():
            keys.decrypt(token)
        word = session.list_records(limit=1)[0].title.split()[-1]
        assert session.list_records(RecordQuery(search=word), limit=1)
    finally:
        session.vault.close()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines()[-2:] == [
        "removed officer bilal; data key rotated to version 2, master secret replaced, search index rebuilt",
        "note: what was written before stays under the old data key until `liaison keys rotate` re-encrypts it, and "
        "the ministry identity is unchanged: run `liaison identity rotate` too if bilal is not trusted",
    ]
    session = unlock(big_store)
    try:
        assert session.keys().master_version == 2
        assert session.list_records(RecordQuery(search=word), limit=1)
    finally:
        session.vault.close()
