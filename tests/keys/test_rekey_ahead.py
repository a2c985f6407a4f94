"""`keys rotate`'s helpers a batch ahead: batch N+1's tokens and latest events are handed to them before batch N is
written and signed, and a row or event that changed in between (another process's edit) is never taken from what
they were handed."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from crypto.rekey_pool import RekeyPool
from store import keys as key_lifecycle
from store.authoring import Changes
from store.keys import ahead, rekey
from store.keys.rotation import HELPERS_ENV
from store.records import RecordQuery
from store.service import Session
from tests.keys.conftest import unlock
from tests.keys.tokens import all_tokens, decrypt_all
from tests.liaison_helpers import run_cli

DEMO = {"LIAISON_PASSPHRASE": "demo", "LIAISON_OFFICER": "demo"}
BATCH = 40


def test_the_next_batch_is_handed_to_the_helpers_before_this_one_is_written(
    small_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Threat 6: between reading back a batch's work from the helpers and writing that batch, the next batch is
    handed to them (so they work while this process writes and signs), and every batch's work still verifies."""
    steps: list[str] = []
    collect, write = RekeyPool.collect, rekey._reencrypt_rows
    sends = {"submit": RekeyPool.submit}

    def collected(pool: RekeyPool) -> list[object]:
        steps.append("collect")
        return list(collect(pool))

    def written(*args: object, **kwargs: object) -> object:
        steps.append("write")
        return write(*args, **kwargs)  # type: ignore[arg-type]

    for name, send in sends.items():

        def sent(pool: RekeyPool, *args: object, _send: object = send) -> None:
            steps.append("hand")
            _send(pool, *args)  # type: ignore[operator]

        monkeypatch.setattr(RekeyPool, name, sent)
    monkeypatch.setattr(RekeyPool, "collect", collected)
    monkeypatch.setattr(rekey, "_reencrypt_rows", written)
    monkeypatch.setenv(HELPERS_ENV, "1")
    session = unlock(small_store)
    try:
        records = session.count_records()
        report = key_lifecycle.rotate_data_key(session, batch_rows=BATCH)
    finally:
        session.vault.close()
    assert report.unsigned == () and report.damaged == ()
    batches = -(-records // BATCH)
    assert steps.count("collect") == batches
    # each batch but the last: collect (its work), hand (the next batch's), then write (its rows)
    order = "".join({"collect": "c", "hand": "h", "write": "w"}[step] for step in steps)
    assert order.startswith("hc") and order.count("chw") == batches - 1, order
    verified = run_cli("--store", str(small_store), "audit", "verify", env=DEMO)
    assert verified.code == 0, verified


def test_a_record_edited_after_its_batch_was_handed_ahead_keeps_the_edit(
    small_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Threats 6 and 14: another process edits a record after its batch was handed to the helpers: its batch
    re-reads the rows, finds the title token no longer the one handed, and does it itself — the edit stays, every
    token opens under the new key alone, and the log verifies."""
    handed: list[bytes] = []
    submit = RekeyPool.submit

    def kept(pool: RekeyPool, keys: Sequence[bytes], tokens: Sequence[bytes]) -> None:
        handed.extend(tokens)
        submit(pool, keys, tokens)

    monkeypatch.setattr(RekeyPool, "submit", kept)
    monkeypatch.setenv(HELPERS_ENV, "1")
    session = unlock(small_store)
    (canary,) = session.list_records(RecordQuery(search="merlin"))
    conn = sqlite3.connect(f"file:{small_store}?mode=ro", uri=True)
    ids = [rid for (rid,) in conn.execute("SELECT id FROM records ORDER BY id")]
    rid, old_title = conn.execute(
        "SELECT id, title_ct FROM records WHERE reference = ?", (canary.reference,)
    ).fetchone()
    conn.close()
    canary_batch = ids.index(rid) // BATCH
    assert canary_batch >= 1, "the canary is not in the first batch (handed at its start, not ahead)"
    other: list[Session] = []
    calls = 0

    def progress(done: int, total: int) -> None:
        nonlocal calls
        calls += 1
        if calls == canary_batch + 1:  # the batch before the canary's is committed: the canary's was handed ahead
            assert bytes(old_title) in handed
            other.append(unlock(small_store))
            other[0].edit_record(canary.reference, Changes(title="Canary title hobby"))

    try:
        report = key_lifecycle.rotate_data_key(session, progress=progress, batch_rows=BATCH)
        assert other, "the edit was made"
        assert report.unsigned == () and report.damaged == ()
        (edited,) = session.list_records(RecordQuery(search="hobby"))
        assert edited.reference == canary.reference and edited.title == "Canary title hobby"
        assert decrypt_all(all_tokens(small_store), session.keys())  # every token opens under the current key
        assert set(session.keys().data_keys) == {session.keys().current_version}
    finally:
        for s in other:
            s.vault.close()
        session.vault.close()
    verified = run_cli("--store", str(small_store), "audit", "verify", env=DEMO)
    assert verified.code == 0, verified


def test_when_the_helpers_spend_more_than_the_rotating_process_it_keeps_a_share(
    small_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Threat 6: helpers that seem to spend a second of CPU on each batch get fewer of the next batches' tokens
    (the rotating process re-encrypts the rest itself), and the rotation still re-encrypts and re-signs all."""
    spent = [0.0]

    def busy(pool: RekeyPool) -> float:
        spent[0] += 1.0
        return spent[0]

    handed: list[int] = []
    read: list[int] = []
    submit, read_batch = RekeyPool.submit, ahead.read_batch

    def counted(pool: RekeyPool, keys: Sequence[bytes], tokens: Sequence[bytes]) -> None:
        handed.append(len(tokens))
        submit(pool, keys, tokens)

    def read_ahead(*args: Any) -> Any:
        rows = read_batch(*args)
        read.append(sum(len(r) for _, r in rows))
        return rows

    monkeypatch.setattr(RekeyPool, "cpu_seconds", busy)
    monkeypatch.setattr(RekeyPool, "submit", counted)
    monkeypatch.setattr(ahead, "read_batch", read_ahead)
    monkeypatch.setenv(HELPERS_ENV, "1")
    before = all_tokens(small_store)
    session = unlock(small_store)
    try:
        plain = decrypt_all(before, session.keys())
        report = key_lifecycle.rotate_data_key(session, batch_rows=BATCH)
        assert report.unsigned == () and report.damaged == () and report.reencrypted == len(before)
        assert decrypt_all(all_tokens(small_store), session.keys()) == plain
    finally:
        session.vault.close()
    assert len(handed) == len(read) + 1  # the first batch handed at its start, each next one ahead
    assert handed[1] == read[0], "the first batch handed ahead goes whole (nothing measured yet)"
    assert any(h < r for h, r in zip(handed[2:], read[1:], strict=True)), (handed, read)
    verified = run_cli("--store", str(small_store), "audit", "verify", env=DEMO)
    assert verified.code == 0, verified
