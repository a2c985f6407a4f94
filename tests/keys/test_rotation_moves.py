"""Threats 6, 14 and 25 against a rotation's moves: each batch of `keys rotate` is one signed event naming, by record,
the ciphertext hashes it moved (`store.audit.rekeys`), found through the unsigned `rekey_index`. Tried as an
attacker with the file and no keys (`sqlite3`: the index edited, ciphertexts swapped or restored from before the
rotation) and as an officer who signs lying objects with her own key (a batch by a non-admin)."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

from crypto.slot import OfficerSlot, open_grant, open_slot_keys
from store import keys as key_lifecycle
from store.audit import log as audit
from store.audit import rekeys
from store.service import Vault
from tests.keys.conftest import unlock
from tests.liaison_helpers import run_cli

DEMO = {"LIAISON_PASSPHRASE": "demo", "LIAISON_OFFICER": "demo"}


def _sql(path: Path, *statements: str | tuple[str, tuple[Any, ...]]) -> list[Any]:
    conn = sqlite3.connect(path)
    try:
        out: list[Any] = []
        for statement in statements:
            sql, params = (statement, ()) if isinstance(statement, str) else statement
            out = conn.execute(sql, params).fetchall()
        conn.commit()
        return out
    finally:
        conn.close()


def _rotated(path: Path) -> None:
    session = unlock(path)
    try:
        report = key_lifecycle.rotate_data_key(session, batch_rows=30)
        assert report.unsigned == () and report.damaged == ()
    finally:
        session.vault.close()


def _verify(path: Path) -> tuple[int, list[dict[str, Any]]]:
    result = run_cli("--store", str(path), "audit", "verify", "--json", env=DEMO)
    assert "Traceback" not in result.err, result.err
    return result.code, json.loads(result.out)["problems"]


def _show(path: Path, ref: str) -> tuple[int, str]:
    result = run_cli("--store", str(path), "show", ref, env=DEMO)
    assert "Traceback" not in result.err, result.err
    return result.code, result.err


def _records(path: Path, n: int = 2) -> list[tuple[str, str]]:
    """(reference, uuid) of `n` records of this ministry, each moved by a different batch."""
    rows = _sql(path, "SELECT r.reference, r.uuid, i.seq FROM records r JOIN rekey_index i ON i.record_uuid = r.uuid")
    picked: dict[int, tuple[str, str]] = {}
    for ref, uuid, seq in rows:
        if ref.startswith("PK-MOI-"):
            picked.setdefault(int(seq), (str(ref), str(uuid)))
    assert len(picked) >= n
    return [picked[seq] for seq in sorted(picked)[:n]]


def test_after_a_rotation_every_record_reads_intact_by_its_moves(small_store: Path) -> None:
    """The cheap checks (`show`, the browser's pages) and the full one (`audit verify`, exports) agree: every record
    is intact after two rotations, each batch one event, and the index lists each record once per rotation."""
    _rotated(small_store)
    _rotated(small_store)
    (count,) = _sql(small_store, "SELECT count(*) FROM records")[0]
    per_rotation = _sql(small_store, "SELECT count(DISTINCT record_uuid), count(*) FROM rekey_index")[0]
    assert per_rotation == (count, 2 * count)
    code, problems = _verify(small_store)
    assert code == 0 and problems == [], problems
    for ref, _uuid in _records(small_store, 3):
        code, err = _show(small_store, ref)
        assert code == 0, err


def test_an_index_row_removed_leaves_its_record_damaged_and_verify_names_it(small_store: Path) -> None:
    """Deleting a record's `rekey_index` row hides its move: its ciphertexts no longer match what its last event
    signed — `show` refuses it, no export carries it, `audit verify` names the batch whose index was edited."""
    _rotated(small_store)
    ((ref, uuid),) = _records(small_store, 1)
    (seq,) = _sql(small_store, ("SELECT seq FROM rekey_index WHERE record_uuid = ?", (uuid,)))[0]
    _sql(small_store, ("DELETE FROM rekey_index WHERE record_uuid = ?", (uuid,)))
    code, err = _show(small_store, ref)
    assert code == 1 and f"record {ref} is damaged: its title ciphertext is not the one" in err, err
    code, problems = _verify(small_store)
    assert code == 1
    assert problems == [
        {
            "seq": seq,
            "reference": None,
            "reason": "the key-rotation index does not list the records this rotation batch moved (edited outside "
            "Liaison)",
        }
    ], problems


def test_an_index_row_pointing_elsewhere_moves_nothing(small_store: Path) -> None:
    """A row naming a record under another batch's seq (or under an event that is no batch) is ignored by the
    checks — the record stays as its own batch moved it — and `audit verify` names the edit."""
    _rotated(small_store)
    (ref, uuid), (_other, other_uuid) = _records(small_store, 2)
    (foreign,) = _sql(small_store, ("SELECT seq FROM rekey_index WHERE record_uuid = ?", (other_uuid,)))[0]
    (plain,) = _sql(small_store, "SELECT max(seq) FROM audit_log WHERE action = 'keys-retire'")[0]
    _sql(small_store, ("INSERT INTO rekey_index VALUES (?, ?), (?, ?)", (uuid, foreign, uuid, plain)))
    code, err = _show(small_store, ref)
    assert code == 0, err
    code, problems = _verify(small_store)
    assert code == 1
    assert {p["seq"] for p in problems} == {foreign, plain}, problems


def test_a_ciphertext_swapped_or_restored_after_a_rotation_is_damaged(small_store: Path, tmp_path: Path) -> None:
    """Another record's re-encrypted title copied in (its batch moved that ciphertext for that record only), and a
    title restored from a copy of the file taken before the rotation (its batch moved it away): both damaged."""
    before = tmp_path / "before.db"
    shutil.copyfile(small_store, before)
    _rotated(small_store)
    (swapped, _u1), (donor, _u2), (restored, _u3) = _records(small_store, 3)
    (old_title,) = _sql(before, ("SELECT title_ct FROM records WHERE reference = ?", (restored,)))[0]
    _sql(
        small_store,
        (
            "UPDATE records SET title_ct = (SELECT title_ct FROM records WHERE reference = ?) WHERE reference = ?",
            (donor, swapped),
        ),
        ("UPDATE records SET title_ct = ? WHERE reference = ?", (old_title, restored)),
    )
    code, err = _show(small_store, swapped)
    assert code == 1 and f"record {swapped} is damaged: its title ciphertext is not the one" in err, err
    code, err = _show(small_store, restored)  # under the retired key, which no longer exists
    assert code == 1 and err == f"error: record {restored} is corrupt: its encrypted data does not authenticate\n"
    code, problems = _verify(small_store)
    assert code == 1 and {p["reference"] for p in problems} == {swapped, restored}, problems


def test_a_batch_signed_by_an_officer_who_is_no_admin_moves_nothing(small_store: Path) -> None:
    """bilal (an officer) signs and appends, with his own key and the ministry key his keyring holds, a batch that
    moves a record's title to another record's ciphertext, and copies that ciphertext in: the record is damaged
    (only an admin's batch moves anything), and `audit verify` names the event."""
    _rotated(small_store)
    (ref, uuid), (donor, _u) = _records(small_store, 2)
    conn = sqlite3.connect(small_store)
    slot_text, grant = conn.execute("SELECT slot, grant FROM officers WHERE name = 'bilal'").fetchone()
    (store_id,) = conn.execute("SELECT value FROM liaison_meta WHERE key = 'store_id'").fetchone()
    (mine,) = conn.execute("SELECT title_ct FROM records WHERE reference = ?", (ref,)).fetchone()
    (theirs,) = conn.execute("SELECT title_ct FROM records WHERE reference = ?", (donor,)).fetchone()
    conn.close()
    kept = open_slot_keys(OfficerSlot.from_json(slot_text), b"demo")
    assert kept.signing is not None
    moved = {uuid: rekeys.entry((audit.sha256_hex(mine), audit.sha256_hex(theirs)), None, {})}
    with Vault.open(small_store) as vault:
        keyring = open_grant(grant, store_id, "bilal", kept.exchange)
        with vault.db.write() as s:
            audit.append(
                s,
                audit.Signer("bilal", kept.signing, keyring, "PK-MOI", vault.clock()),
                [audit.PendingEvent("rekey", "data-key", data={"records": moved})],
            )
            (seq,) = s.connection().exec_driver_sql("SELECT max(seq) FROM audit_log").one()
            s.connection().exec_driver_sql("INSERT INTO rekey_index VALUES (?, ?)", (uuid, seq))
    _sql(small_store, ("UPDATE records SET title_ct = ? WHERE reference = ?", (theirs, ref)))
    code, err = _show(small_store, ref)
    assert code == 1 and f"record {ref} is damaged: its title ciphertext is not the one" in err, err
    code, problems = _verify(small_store)
    assert code == 1
    assert {(p["seq"], p["reference"]) for p in problems} == {(seq, None), (None, ref)}, problems
    assert sorted(p["reason"] for p in problems if p["seq"] == seq) == [
        "a key rotation's batch signed by bilal, who did not hold the admin role then",
        "the key-rotation index lists records under it, but it is no signed rotation batch",
    ]


def test_a_ciphertext_replaced_before_a_rotation_stays_damaged_after_it(small_store: Path) -> None:
    """A record's title swapped for another record's in the file, then an honest rotation: the batch re-encrypts
    the swapped ciphertext and names it as the old hash it moved, which is not the hash the record's last event
    signed — the move does not apply, so the record stays damaged (`show`, `audit verify`) and no export carries it;
    the donor record is untouched."""
    (victim, donor) = [ref for ref, in _sql(small_store, "SELECT reference FROM records WHERE reference LIKE 'PK-MOI-%'"
                                            " AND status = 'approved' ORDER BY id LIMIT 2")]  # fmt: skip
    _sql(
        small_store,
        (
            "UPDATE records SET title_ct = (SELECT title_ct FROM records WHERE reference = ?) WHERE reference = ?",
            (donor, victim),
        ),
    )
    _rotated(small_store)
    code, err = _show(small_store, victim)
    assert code == 1 and f"record {victim} is damaged: its title ciphertext is not the one" in err, err
    assert _show(small_store, donor)[0] == 0
    code, problems = _verify(small_store)
    assert code == 1 and [p["reference"] for p in problems] == [victim], problems
    (peer,) = _sql(small_store, "SELECT code FROM contacts ORDER BY code LIMIT 1")[0]
    out = small_store.parent / "out.bundle"
    refused = run_cli("--store", str(small_store), "export", "--to", peer, "--out", str(out), victim, env=DEMO)
    assert refused.code == 1 and victim in refused.err and not out.exists(), refused
