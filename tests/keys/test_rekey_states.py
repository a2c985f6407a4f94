"""The state a rotation's `rekey` events sign is the record as stored after it, field for field."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import select

from store.audit import rekeys
from store.audit.snapshot import record_states
from store.models import Record
from tests.keys.conftest import unlock


def _signed_after_moves(path: Path) -> dict[str, dict[str, Any]]:
    """Each record's latest signed state, as the rotation batches after it moved its ciphertext hashes."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        latest: dict[str, dict[str, Any]] = {}
        for (body,) in conn.execute("SELECT body FROM audit_log ORDER BY seq"):
            obj = json.loads(body)
            record = obj["record"]
            if record is not None:
                latest[record["uuid"]] = {k: v for k, v in record.items() if k != "wrote"}
            elif (moved := rekeys.batch_records(obj)) is not None:
                for uuid, entry in moved.items():
                    latest[uuid] = rekeys.move(latest[uuid], [entry])
        return latest
    finally:
        conn.close()


def test_each_rekey_event_signs_the_records_state_as_the_rotation_left_it(small_store: Path) -> None:
    """Threat 6: each record's latest signed state, moved by the rotation's batches (the new title, revision, body
    and review-comment ciphertexts' hashes), equals the state read from the rows after the rotation, for every
    record: those with review comments, two revisions and a withdrawal included."""
    session = unlock(small_store)
    try:
        report = session.rotate_data_key(batch_rows=7)
        assert report.unsigned == () and report.damaged == ()
        with session.db.read() as s:
            ids = list(s.scalars(select(Record.id)))
            stored = {state["uuid"]: state for state in record_states(s, ids).values()}
    finally:
        session.vault.close()
    signed = _signed_after_moves(small_store)
    assert sorted(signed) == sorted(stored)
    for uuid, record in signed.items():
        assert record == stored[uuid], record["reference"]
    assert any(state["reviews"] for state in stored.values())
    assert any(state["withdrawn"] for state in stored.values())


def test_rows_of_a_record_id_no_record_has_are_re_encrypted_and_named(small_store: Path) -> None:
    """Threat 6: revision rows left behind by a record row deleted in the file (in a gap of the ids, and past the
    last record) are re-encrypted with the rest — the old key is retired, so a row left out would be unreadable
    — and the rotation names them as unsigned; no record's event is signed for them."""
    from store import keys as key_lifecycle
    from tests.keys.tokens import all_tokens, decrypt_all

    conn = sqlite3.connect(small_store)
    gap, top = conn.execute("SELECT min(id), max(id) FROM records").fetchone()
    conn.execute("PRAGMA foreign_keys = OFF")
    conn.execute("DELETE FROM records WHERE id = ?", (gap,))
    conn.execute(
        "INSERT INTO revisions (record_id, number, officer, tlp, releasable_to, created_at, title_ct, body_ct)"
        " SELECT ?, number, officer, tlp, releasable_to, created_at, title_ct, body_ct FROM revisions"
        " WHERE record_id = ?",
        (top + 500, top),
    )
    conn.commit()
    conn.close()
    session = unlock(small_store)
    try:
        report = key_lifecycle.rotate_data_key(session, batch_rows=25)
        names = [what for what, _why in report.unsigned]
        assert f"rows tied to record id {gap}" in names and f"rows tied to record id {top + 500}" in names
        tokens = all_tokens(small_store)
        assert len(session.keys().data_keys) == 1
        decrypt_all(tokens, session.keys())  # every token, the orphans' too, opens under the one key left
    finally:
        session.vault.close()
