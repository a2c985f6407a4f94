"""`keys rotate`, `keys status`, `policy set key-max-age` and the key-age notice."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from crypto.errors import DecryptionFailed
from store import keys as key_lifecycle
from store.errors import PolicyError
from store.service import Vault
from tests.keys.conftest import unlock
from tests.keys.tokens import all_tokens, decrypt_all
from tests.liaison_helpers import all_store_bytes, run_cli, stop_at

DEMO = {"LIAISON_PASSPHRASE": "demo", "LIAISON_OFFICER": "demo"}


def test_rotation_reencrypts_every_ciphertext_and_retires_the_old_key(small_store: Path) -> None:
    before = all_tokens(small_store)
    tables = {table for table, _, _ in before}
    assert {
        "records",
        "revisions",
        "review_events",
        "withdrawals",
        "jwg_meetings",
        "jwg_agenda",
        "jwg_actions",
    } <= tables
    session = unlock(small_store)
    try:
        old_keys = session.keys().copy()
        plain = decrypt_all(before, old_keys)
        seen: list[tuple[int, int]] = []
        report = key_lifecycle.rotate_data_key(session, progress=lambda d, t: seen.append((d, t)), batch_rows=50)
        assert report.version == 2 and report.retired == (1,) and not report.resumed and report.vacuumed
        assert report.reencrypted == len(before) and report.damaged == ()
        assert sorted(session.keys().data_keys) == [2]
        assert seen[0] == (0, len(before)) and seen[-1] == (len(before), len(before))
        assert [d for d, _ in seen] == sorted(d for d, _ in seen)
        records = session.list_records(limit=5)
        assert records and all(r.title for r in records)
    finally:
        session.vault.close()
    after = all_tokens(small_store)
    assert after.keys() == before.keys()
    assert all(after[cell] != before[cell] for cell in before)
    fresh = unlock(small_store)
    try:
        assert decrypt_all(after, fresh.keys()) == plain
        with pytest.raises(DecryptionFailed):
            fresh.keys().decrypt(before[("records", "title_ct", 1)])
    finally:
        fresh.vault.close()
    files = all_store_bytes(small_store)
    leftovers = [cell for cell, token in before.items() if any(token[:40] in data for data in files.values())]
    assert not leftovers, f"old ciphertext still in the file: {leftovers[:5]}"


def test_a_session_opened_before_the_rotation_follows_it(small_store: Path) -> None:
    stale = unlock(small_store)
    admin = unlock(small_store)
    try:
        key_lifecycle.rotate_data_key(admin)
        assert stale.list_records(limit=3)
        ref = stale.list_records(limit=1)[0].reference
        assert stale.get_record(ref).row.title
    finally:
        stale.vault.close()
        admin.vault.close()


def test_only_an_admin_rotates_or_sees_key_status(small_store: Path) -> None:
    officer = unlock(small_store, "bilal")
    try:
        with pytest.raises(PolicyError, match="may not rotate keys"):
            key_lifecycle.rotate_data_key(officer)
        with pytest.raises(PolicyError, match="may not see key status"):
            key_lifecycle.key_status(officer)
        with pytest.raises(PolicyError, match="may not change the store's policy"):
            key_lifecycle.set_key_max_age(officer, 30)
    finally:
        officer.vault.close()
    result = run_cli(
        "--store", str(small_store), "keys", "rotate", env={"LIAISON_PASSPHRASE": "demo", "LIAISON_OFFICER": "bilal"}
    )
    assert result.code == 1 and result.err.strip() == "error: role officer may not rotate keys", result


def test_keys_status_and_rotate_from_the_command_line(small_store: Path) -> None:
    store = ["--store", str(small_store)]
    status = run_cli(*store, "keys", "status", "--json", env=DEMO)
    assert status.code == 0, status
    doc = json.loads(status.out)
    assert [k["version"] for k in doc["data_keys"]] == [1] and doc["data_keys"][0]["current"] is True
    assert doc["data_keys"][0]["age_days"] == 0 and doc["master"]["version"] == 1 and doc["key_max_age_days"] == 365
    assert doc["overdue"] is False and doc["rotation_pending"] is None
    assert doc["identity"]["age_days"] == 0 and len(doc["identity"]["fingerprint"]) == 64
    signing = {k["officer"]: k for k in doc["signing_keys"]}
    assert "demo" in signing and all(k["age_days"] == 0 and len(k["fingerprint"]) == 16 for k in signing.values())
    rotated = run_cli(*store, "keys", "rotate", env=DEMO)
    assert rotated.code == 0, rotated
    lines = rotated.err_lines
    assert lines[0].startswith("re-encrypting: 0/") and lines[-2].endswith("(100%)")
    assert lines[-1].startswith("data key rotated to version 2; ") and lines[-1].endswith("old versions retired: 1")
    doc = json.loads(run_cli(*store, "keys", "status", "--json", env=DEMO).out)
    assert [(k["version"], k["current"]) for k in doc["data_keys"]] == [(2, True)]
    text = run_cli(*store, "keys", "status", env=DEMO)
    lines = text.out.splitlines()
    assert lines[0].split()[:6] == ["data", "key", "version", "2", "current", "created"]
    # the ages line up (one column), whatever the officers' names
    assert len({line.index("created ") for line in lines if "created " in line}) == 1, text.out
    assert any(line.startswith("ministry identity ") for line in text.out.splitlines())
    assert any(line.startswith("signing key of demo ") for line in text.out.splitlines())


def _days_later(path: Path, days: int) -> Vault:
    """The store opened with a clock `days` after its data key was made (no notice before then)."""
    session = unlock(path)
    try:
        assert key_lifecycle.key_notice(session) is None
        created = key_lifecycle.key_status(session).current.created
        assert created is not None
    finally:
        session.vault.close()
    return Vault.open(path, clock=lambda: created + timedelta(days=days))


def test_the_app_is_told_when_the_data_key_is_older_than_the_policy(small_store: Path) -> None:
    later = _days_later(small_store, 400)
    try:
        old = later.unlock("demo", "demo")
        notice = key_lifecycle.key_notice(old)
        assert (
            notice
            == "The data key is 400 days old, older than this store's policy of 365 days; an admin should rotate it."
        )
        assert key_lifecycle.key_status(old).overdue
        key_lifecycle.set_key_max_age(old, 500)
        assert key_lifecycle.key_notice(old) is None
        key_lifecycle.rotate_data_key(old)
        key_lifecycle.set_key_max_age(old, 30)
        assert key_lifecycle.key_notice(old) is None  # the new key is a day old
    finally:
        later.close()


def test_an_officers_removal_does_not_silence_the_notice_for_the_key_it_leaves_in_use(small_store: Path) -> None:
    """Found by a new officer's pass: removing an officer makes a new data key and re-encrypts nothing, yet the
    notice (and `keys status`'s `overdue`) looked at the new key only, so an overdue store went quiet while what was
    written before stayed under the old key. Every version still held counts; a rotation quiets it."""
    later = _days_later(small_store, 400)
    try:
        admin = later.unlock("demo", "demo")
        admin.remove_officer("bilal")
        status = key_lifecycle.key_status(admin)
        assert [k.version for k in status.data_keys] == [1, 2] and status.overdue
        assert key_lifecycle.key_notice(admin) == (
            "Data key version 1, still holding what was written before version 2, is 400 days old, older than this "
            "store's policy of 365 days; an admin should rotate the data key."
        )
        key_lifecycle.rotate_data_key(admin)
        assert key_lifecycle.key_notice(admin) is None and not key_lifecycle.key_status(admin).overdue
    finally:
        later.close()
    doc = json.loads(run_cli("--store", str(small_store), "keys", "status", "--json", env=DEMO).out)
    assert doc["overdue"] is False


def test_policy_set_refuses_bad_values_and_keeps_the_policy_authenticated(small_store: Path) -> None:
    store = ["--store", str(small_store)]
    for value, message in (
        ("0", "error: key-max-age must be between 1 and 3650 days, not 0"),
        ("soon", "error: key-max-age takes a whole number of days, not 'soon'"),
        ("4000", "error: key-max-age must be between 1 and 3650 days, not 4000"),
        ("-5", "error: key-max-age must be between 1 and 3650 days, not -5"),
        ("5-", "error: key-max-age takes a whole number of days, not '5-'"),
    ):
        result = run_cli(*store, "policy", "set", "key-max-age", value, env=DEMO)
        assert result.code == 1 and result.err.strip() == message, result
    assert run_cli(*store, "policy", "set", "key-max-age", "90", env=DEMO).code == 0
    assert json.loads(run_cli(*store, "keys", "status", "--json", env=DEMO).out)["key_max_age_days"] == 90
    assert run_cli(*store, "policy", "set", "nonsense", "90", env=DEMO).code == 2


def test_a_finished_rotation_state_written_in_skips_nothing(small_store: Path) -> None:
    """A state saying a rotation is done (cursor -1) written into the file, with no rotation started: it used to be
    refused, leaving no way out. The log has no rotation unfinished, so the state resumes nothing: `keys rotate`
    walks every ciphertext (none is skipped) and only the new key is left."""
    import sqlite3

    from tests.keys.tokens import all_tokens, decrypt_all

    conn = sqlite3.connect(small_store)
    conn.execute(
        "INSERT INTO liaison_meta(key, value) VALUES ('key_job', ?), ('key_job_mac', ?)",
        (
            '{"column":"title_ct","cursor":-1,"officer":"demo","started":"2026-01-01T00:00:00+00:00","table":""}',
            "0" * 64,
        ),
    )
    conn.commit()
    conn.close()
    session = unlock(small_store)
    try:
        key_lifecycle.rotate_data_key(session)
        assert sorted(session.keys().data_keys) == [2]
        decrypt_all(all_tokens(small_store), session.keys())
    finally:
        session.vault.close()


def test_ctrl_c_during_keys_rotate_says_the_rotation_is_unfinished(
    small_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by a new officer's pass: Ctrl-C after some batches printed `interrupted; nothing was changed`, while a
    new key was current and the job pending. It now says what is true and what to run; running it finishes."""
    import tui.cli.keys as keys_cli

    monkeypatch.setattr(keys_cli, "line_progress", lambda label: stop_at(3, KeyboardInterrupt))
    store = ["--store", str(small_store)]
    cut = run_cli(*store, "keys", "rotate", env=DEMO)
    assert cut.code == 1 and cut.err == (
        "error: interrupted; the rotation is unfinished (every batch done so far is kept, and every record reads): "
        "run `liaison keys rotate` again to finish it\n"
    ), cut
    assert json.loads(run_cli(*store, "keys", "status", "--json", env=DEMO).out)["rotation_pending"] is not None
    monkeypatch.undo()
    done = run_cli(*store, "keys", "rotate", env=DEMO)
    assert done.code == 0 and "finished an interrupted rotation" in done.err, done
    assert run_cli(*store, "audit", "verify", env=DEMO).code == 0
