"""Key lifecycle and the signed audit log: a rotation re-signs what it rewrites, a removal revokes the officer's key."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from crypto.slot import OfficerSlot, open_grant, open_slot_keys
from store.audit import log as audit
from store.audit.history import AuditQuery
from store.authoring import Changes
from store.records import RecordQuery
from store.service import Vault
from tests.keys.conftest import unlock
from tests.liaison_helpers import run_cli

DEMO = {"LIAISON_PASSPHRASE": "demo", "LIAISON_OFFICER": "demo"}


def _verify(path: Path) -> tuple[int, dict[str, Any]]:
    result = run_cli("--store", str(path), "audit", "verify", "--json", env=DEMO)
    assert "Traceback" not in result.err, result.err
    return result.code, json.loads(result.out)


def _bodies(path: Path, action: str) -> list[dict[str, Any]]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return [
            json.loads(body)
            for (body,) in conn.execute("SELECT body FROM audit_log WHERE action = ? ORDER BY seq", (action,))
        ]
    finally:
        conn.close()


def test_a_rotation_is_one_signed_job_that_re_signs_every_record_it_rewrites(small_store: Path) -> None:
    """Threat 6: after a rotation (and a second one, and an edit making a re-encrypted revision an earlier one)
    `audit verify` finds every record, revision row and encrypted detail as the log signed it. Each batch is one
    signed event naming every record it moved (`store.audit.rekeys`), not one event per record."""
    session = unlock(small_store)
    try:
        records = session.count_records()
        (canary,) = session.list_records(RecordQuery(search="merlin"))
        report = session.rotate_data_key(batch_rows=50)
        assert report.unsigned == () and report.damaged == ()
        assert [e.action for e in session.audit_log(AuditQuery(action="keys-rotate"))] == ["keys-rotate"]
        assert [e.action for e in session.audit_log(AuditQuery(action="keys-retire"))] == ["keys-retire"]
        assert not [e for e in session.audit_log(AuditQuery(action="rekey")) if e.record_reference]
    finally:
        session.vault.close()
    conn = sqlite3.connect(f"file:{small_store}?mode=ro", uri=True)
    (uuid,) = conn.execute("SELECT uuid FROM records WHERE reference = ?", (canary.reference,)).fetchone()
    conn.close()
    batches = [b for b in _bodies(small_store, "rekey") if "records" in b["data"]]
    assert all(b["record"] is None and b["target"] == "data-key" for b in batches)
    moved = [u for b in batches for u in b["data"]["records"]]
    assert len(moved) == len(set(moved)) == records  # every record, once
    assert len(batches) == -(-records // 50)
    (start,) = _bodies(small_store, "keys-rotate")
    assert start["data"] == {"key_version": 2, "retiring": [1]} and start["officer"] == "demo"
    details = _bodies(small_store, "rekey-details")
    assert details and all(d["data"]["details"] for d in details)
    (entry,) = [b["data"]["records"][uuid] for b in batches if uuid in b["data"]["records"]]
    assert sorted(entry["revisions"]) == ["1", "2"]  # both revision rows, before and after
    assert sorted(entry) == ["revisions", "title"] or sorted(entry) == ["revisions", "reviews", "title"]
    for old, new, *_hashes in [entry["title"], *entry["revisions"].values()]:
        assert old != new and len(old) == len(new) == 64
    regrants = _bodies(small_store, "officer-regrant")
    assert {b["target"] for b in regrants} >= {"demo", "ayesha", "bilal", "kamran"}
    code, doc = _verify(small_store)
    assert code == 0 and doc["problems"] == [], doc

    session = unlock(small_store)
    try:
        session.edit_record(canary.reference, Changes(title="Canary title hobby"))  # revision 2 becomes an earlier one
        session.rotate_data_key(batch_rows=40)  # a second rotation re-encrypts the rotated details again
    finally:
        session.vault.close()
    code, doc = _verify(small_store)
    assert code == 0 and doc["problems"] == [], doc


def test_what_was_damaged_before_a_rotation_is_re_encrypted_but_never_signed_as_it_stands(small_store: Path) -> None:
    """Threats 6 and 14: a record whose TLP was changed in the file, and an event detail replaced by another
    event's ciphertext, are re-encrypted (the old key can go) but not re-signed, so they stay damaged; the rotation
    names the detail (the record's moves sign only its ciphertexts, old and new: its TLP still differs from what its
    last event signed); everything else verifies."""
    session = unlock(small_store)
    try:
        (queued, *_) = session.review_queue()
        session.return_record(queued.reference, "Canary comment wren")  # a second encrypted detail
    finally:
        session.vault.close()
    conn = sqlite3.connect(small_store)
    ref, tlp = conn.execute("SELECT reference, tlp FROM records WHERE tlp != 'RED' ORDER BY id LIMIT 1").fetchone()
    conn.execute("UPDATE records SET tlp = 'RED' WHERE reference = ?", (ref,))
    (a, _), (b, other) = conn.execute(
        "SELECT seq, detail_ct FROM audit_log WHERE detail_ct IS NOT NULL ORDER BY seq LIMIT 2"
    ).fetchall()
    conn.execute("UPDATE audit_log SET detail_ct = ? WHERE seq = ?", (other, a))
    # when the detail replaced is a withdraw event's (the reason), that withdrawal is damaged too
    withdrawn = {
        (None, str(r))
        for (r,) in conn.execute(
            "SELECT w.reference FROM withdrawals w JOIN audit_log l ON l.record_uuid = w.record_uuid"
            " AND l.action = 'withdraw' WHERE l.seq = ?",
            (a,),
        )
    }
    conn.commit()
    conn.close()
    rotated = run_cli("--store", str(small_store), "keys", "rotate", env=DEMO)
    assert rotated.code == 0, rotated
    warnings = [line for line in rotated.err_lines if line.startswith("warning: ")]
    assert len(warnings) == 1, rotated.err
    assert warnings[0] == (
        f"warning: audit event #{a} was already damaged (its encrypted detail is not the one it signed): "
        "re-encrypted but not re-signed, it stays damaged (liaison audit verify)"
    )
    code, doc = _verify(small_store)
    assert code == 1
    found = {(p["seq"], p["reference"]) for p in doc["problems"]}
    assert found == {(a, None), (None, ref)} | withdrawn, doc["problems"]
    (why,) = [p["reason"] for p in doc["problems"] if p["reference"] == ref]
    assert why.startswith("its TLP is TLP:RED, its last signed event") and why.endswith(f"says TLP:{tlp}"), why
    session = unlock(small_store)
    try:
        assert sorted(session.keys().data_keys) == [2]
        title = sqlite_value(small_store, "SELECT title_ct FROM records WHERE reference = ?", ref)
        assert session.keys().decrypt(title)  # re-encrypted: still readable under the only key left
        assert b != a
    finally:
        session.vault.close()


def sqlite_value(path: Path, sql: str, *params: object) -> bytes:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return bytes(conn.execute(sql, params).fetchone()[0])
    finally:
        conn.close()


def test_after_a_removal_audit_verify_holds_and_an_event_signed_later_with_the_removed_key_is_refused(
    small_store: Path,
) -> None:
    """Threats 4 and 14: bilal kept his key slot and his keyring grant (an old copy of the officers row); after
    `officers remove bilal` the log holds his key as revoked, so an event he signs and appends afterwards — chained,
    in the Merkle tree, under a checkpoint signed with the ministry key his old keyring still holds — is refused."""
    conn = sqlite3.connect(small_store)
    slot_text, grant = conn.execute("SELECT slot, grant FROM officers WHERE name = 'bilal'").fetchone()
    (store_id,) = conn.execute("SELECT value FROM liaison_meta WHERE key = 'store_id'").fetchone()
    conn.close()
    removed = run_cli("--store", str(small_store), "officers", "remove", "bilal", env=DEMO)
    assert removed.code == 0, removed
    code, doc = _verify(small_store)
    assert code == 0 and doc["problems"] == [], doc

    (event,) = _bodies(small_store, "officer-remove")
    state = event["data"]["officer_state"]
    slot = OfficerSlot.from_json(slot_text)
    kept = open_slot_keys(slot, b"demo")
    assert kept.signing is not None
    assert state["officer"] == "bilal" and state["revoked"] is True
    assert state["signing_public"] == slot.signing_public.hex()
    regranted = {b["target"]: b["data"]["officer_state"] for b in _bodies(small_store, "officer-regrant")
                 if b["seq"] > event["seq"]}  # fmt: skip
    assert {"demo", "ayesha", "kamran"} <= set(regranted) and not any(s["revoked"] for s in regranted.values())

    with Vault.open(small_store) as vault:
        old_keyring = open_grant(grant, store_id, "bilal", kept.exchange)
        with vault.db.write() as s:
            seq = audit.append(
                s,
                audit.Signer("bilal", kept.signing, old_keyring, "PK-MOI", vault.clock()),
                [audit.PendingEvent("policy-set", "four-eyes", data={"four_eyes": False})],
            )
    code, doc = _verify(small_store)
    assert code == 1
    assert doc["problems"] == [{"seq": seq, "reference": None, "reason": "it is signed by bilal after their removal"}]
