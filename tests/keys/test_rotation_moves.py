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

import pytest

from crypto.slot import OfficerSlot, open_grant, open_slot_keys
from store import keys as key_lifecycle
from store.audit import log as audit
from store.audit import rekeys
from store.audit.filing import MAX_RECORD_BODY
from store.errors import ValidationError
from store.service import Vault
from tests.keys.conftest import unlock
from tests.liaison_helpers import CutShort, run_cli, stop_at

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
    # each batch that moved a record is in its activity, under the officer who signed it
    activity = run_cli("--store", str(small_store), "activity", ref, "--json", env=DEMO)
    moved = [e for e in json.loads(activity.out) if e["kind"] == "re-encrypted"]
    assert [e["officer"] for e in moved] == ["demo", "demo"], activity.out
    assert all(e["comment"].startswith("by a key rotation (audit event #") for e in moved)


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
        "the key-rotation index lists records under it, but it is no signed rotation or share batch",
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


def test_no_event_about_a_record_may_be_as_large_as_a_batch(small_store: Path) -> None:
    """`filing.cut_from` (every `show`, browser page and import) skips bodies over `MAX_RECORD_BODY` without reading
    them — a rotation's batches, ~0.5 MB each at 1,000 records — so an event about a record that large is never
    appended: a cut one could not hide there."""
    (rid,) = _sql(small_store, "SELECT min(id) FROM records")[0]
    session = unlock(small_store)
    try:
        too_big = pytest.raises(ValidationError, match="more than an event about a record may be")
        with too_big, session.act("read", "x", mutates=False) as s:
            audit.note(s, record_id=rid, data={"padding": "x" * MAX_RECORD_BODY})
        with session.act("keys-status", "x", mutates=False) as s:  # an event about no record may be
            audit.note(s, data={"padding": "x" * MAX_RECORD_BODY})
    finally:
        session.vault.close()
    code, problems = _verify(small_store)
    assert code == 0 and problems == [], problems


def _rotation_cut_short(path: Path) -> None:
    """A rotation stopped after its first batch (as a crash would leave it: the job pending)."""
    session = unlock(path)
    try:
        with pytest.raises(CutShort):
            key_lifecycle.rotate_data_key(session, progress=stop_at(2), batch_rows=30)
    finally:
        session.vault.close()


def test_a_second_row_for_a_revision_number_moves_nothing(small_store: Path) -> None:
    """Found by a hostile pass: a record written while a rotation is pending (its revision under the new key);
    the attacker rebuilds `revisions` without its unique constraint and adds a second row for that revision number
    holding another record's body (under the old key). The resumed rotation re-encrypts only that row: it must not
    sign a move from the genuine row's hash to it. The record's moves are refused (the rotation names it), so once
    the genuine row is deleted the record is damaged, not another record's body under its approval."""
    from store.authoring import Changes, Draft

    _rotation_cut_short(small_store)
    session = unlock(small_store)
    try:
        ref = session.add_record(Draft("narcotics", "green", "Ferry note as written", "First summary"))
        session.edit_record(ref, Changes(title="Ferry note as written", summary="Second summary"))
    finally:
        session.vault.close()
    (rid,) = _sql(small_store, ("SELECT id FROM records WHERE reference = ?", (ref,)))[0]
    (genuine,) = _sql(small_store, ("SELECT id FROM revisions WHERE record_id = ? AND number = 2", (rid,)))[0]
    (donor,) = _sql(small_store, "SELECT max(id) FROM revisions WHERE record_id < 100")[0]  # not re-encrypted yet
    (create,) = _sql(small_store, "SELECT sql FROM sqlite_master WHERE name = 'revisions'")[0]
    loose = create.replace("CONSTRAINT uq_revision_number UNIQUE (record_id, number), ", "")
    assert loose != create
    _sql(
        small_store,
        "PRAGMA foreign_keys = OFF",
        loose.replace("CREATE TABLE revisions", "CREATE TABLE revisions_loose"),
        "INSERT INTO revisions_loose SELECT * FROM revisions",
        "DROP TABLE revisions",
        "ALTER TABLE revisions_loose RENAME TO revisions",
        (
            "INSERT INTO revisions SELECT 0, g.record_id, g.number, g.created_at, g.officer, g.tlp, g.releasable_to,"
            " g.title_ct, d.body_ct FROM revisions g, revisions d WHERE g.id = ? AND d.id = ?",
            (genuine, donor),
        ),
    )
    session = unlock(small_store)
    try:
        report = key_lifecycle.rotate_data_key(session, batch_rows=30)
    finally:
        session.vault.close()
    assert (f"record {ref}", "it has 2 rows for revision 2") in report.unsigned, report.unsigned
    _sql(small_store, ("DELETE FROM revisions WHERE id = ?", (genuine,)))
    code, err = _show(small_store, ref)
    assert code == 1 and f"record {ref} is damaged: its " in err, err
    code, problems = _verify(small_store)
    assert code == 1 and ref in {p["reference"] for p in problems}, problems


def _slot_keys(path: Path, officer: str) -> tuple[Any, Any]:
    conn = sqlite3.connect(path)
    slot_text, grant = conn.execute("SELECT slot, grant FROM officers WHERE name = ?", (officer,)).fetchone()
    (store_id,) = conn.execute("SELECT value FROM liaison_meta WHERE key = 'store_id'").fetchone()
    conn.close()
    kept = open_slot_keys(OfficerSlot.from_json(slot_text), b"demo")
    return kept, open_grant(grant, store_id, officer, kept.exchange)


def test_an_admins_batch_outside_a_rotation_moves_nothing(small_store: Path) -> None:
    """Found by a hostile pass: an admin signs, with her own key and after the rotation retired, a batch moving an
    approved record's body to another record's: the record is damaged (a batch moves only inside the rotation to
    its key version, found by the signed bodies: the `keys-retire` event's action column edited too changes
    nothing), and `audit verify` names the batch."""
    _rotated(small_store)
    _sql(small_store, "UPDATE audit_log SET action = 'read' WHERE action = 'keys-retire'")
    (ref, uuid), (donor, _u) = _records(small_store, 2)
    (rid,) = _sql(small_store, ("SELECT id FROM records WHERE reference = ?", (ref,)))[0]
    (number, mine, old_digest) = _sql(
        small_store,
        ("SELECT v.number, v.body_ct, v.id FROM revisions v JOIN records r ON r.id = v.record_id"
         " AND v.number = r.revision WHERE r.id = ?", (rid,)),
    )[0]  # fmt: skip
    (theirs,) = _sql(
        small_store,
        ("SELECT v.body_ct FROM revisions v JOIN records r ON r.id = v.record_id AND v.number = r.revision"
         " WHERE r.reference = ?", (donor,)),
    )[0]  # fmt: skip
    kept, keyring = _slot_keys(small_store, "demo")
    version = keyring.current_version
    body_move = [None, None, audit.sha256_hex(mine), audit.sha256_hex(theirs)]
    moved = {uuid: {"revisions": {str(number): body_move}}}
    with Vault.open(small_store) as vault, vault.db.write() as s:
        audit.append(
            s,
            audit.Signer("demo", kept.signing, keyring, "PK-MOI", vault.clock()),
            [audit.PendingEvent("rekey", "data-key", data={"key_version": version, "records": moved})],
        )
        (seq,) = s.connection().exec_driver_sql("SELECT max(seq) FROM audit_log").one()
        s.connection().exec_driver_sql("INSERT INTO rekey_index VALUES (?, ?)", (uuid, seq))
    _sql(small_store, ("UPDATE revisions SET body_ct = ? WHERE id = ?", (theirs, old_digest)))
    code, err = _show(small_store, ref)
    assert code == 1 and f"record {ref} is damaged: its body ciphertext is not the one" in err, err
    code, problems = _verify(small_store)
    assert code == 1
    (retire,) = _sql(small_store, "SELECT seq FROM audit_log WHERE action = 'read' AND target = 'data-key'")[0]
    # the edited column named, and (by it) a rotation that seems never retired; the batch; the record
    assert {(p["seq"], p["reference"]) for p in problems} == {(retire, None), (None, None), (seq, None), (None, ref)}
    assert f"a key rotation's batch signed by demo outside any rotation to its key version ({version})" in {
        p["reason"] for p in problems
    }, problems


def test_an_index_row_of_other_types_moves_nothing_and_is_named(small_store: Path) -> None:
    """Found by a hostile pass: `rekey_index` rows whose seq is text or a blob stopped every read with `error:
    unexpected ValueError`. They are ignored by the checks and named by `audit verify`; a dropped table leaves the
    rotated records damaged, and verify says so."""
    _rotated(small_store)
    (ref, uuid), (other, _u) = _records(small_store, 2)
    _sql(small_store, ("INSERT INTO rekey_index VALUES (?, 'abc'), (?, x'00ff')", (uuid, uuid)))
    code, err = _show(small_store, ref)
    assert code == 0, err
    code, problems = _verify(small_store)
    assert code == 1
    assert [p["reason"] for p in problems] == [
        "the key-rotation index (rekey_index) holds rows that are no uuid and seq (edited)"
    ], problems
    _sql(small_store, "DROP TABLE rekey_index")
    code, err = _show(small_store, other)  # (`ref`'s own read event signed its hashes since)
    assert code == 1 and f"record {other} is damaged: its title ciphertext is not the one" in err, err
    code, problems = _verify(small_store)
    assert code == 1 and "the key-rotation index (rekey_index) was removed from the file" in {
        p["reason"] for p in problems
    }, problems


def _append_as(path: Path, officer: str, *events: audit.PendingEvent) -> int:
    """Events signed and appended with `officer`'s own keys (opened from their slot): an insider's lie."""
    kept, keyring = _slot_keys(path, officer)
    with Vault.open(path) as vault, vault.db.write() as s:
        audit.append(s, audit.Signer(officer, kept.signing, keyring, "PK-MOI", vault.clock()), list(events))
        (seq,) = s.connection().exec_driver_sql("SELECT max(seq) FROM audit_log").one()
    return int(seq)


def test_a_non_admins_keys_retire_closes_no_rotation(small_store: Path) -> None:
    """Found by a hostile pass: bilal (an officer) signed a `keys-retire` event while a rotation was pending; it
    closed the rotation's window, so every batch after it read as outside any rotation and ~1,500 records as
    damaged, with `audit verify` blaming the admin's batches. Only an admin's rotation events count; his is named."""
    _rotation_cut_short(small_store)
    (version,) = _sql(small_store, "SELECT max(seq) FROM audit_log")[0]
    seq = _append_as(small_store, "bilal", audit.PendingEvent("keys-retire", "data-key", data={"key_version": 2}))
    assert seq > version
    session = unlock(small_store)
    try:
        report = key_lifecycle.rotate_data_key(session, batch_rows=30)
        assert report.unsigned == () and report.damaged == ()
    finally:
        session.vault.close()
    for ref, _uuid in _records(small_store, 3):
        code, err = _show(small_store, ref)
        assert code == 0, err
    code, problems = _verify(small_store)
    assert code == 1
    assert problems == [
        {"seq": seq, "reference": None, "reason": "a key rotation's keys-retire event signed by bilal, who is no admin"}
    ], problems


def test_an_officers_record_rekey_event_moves_no_earlier_revision(small_store: Path) -> None:
    """Found by a hostile pass: a record's own `rekey` event (as rotations signed them before batches) moved its
    earlier revision digests in `audit verify` whoever signed it, whenever: bilal replaced revision 1 of a record
    and signed such an event, and verify passed. Only an admin's, inside a rotation, moves anything."""
    from store.authoring import Changes, Draft

    session = unlock(small_store)
    try:
        ref = session.add_record(Draft("narcotics", "amber", "A first revision", "Its summary"))
        session.edit_record(ref, Changes(title="A second revision"))
    finally:
        session.vault.close()
    (rid, number) = _sql(small_store, ("SELECT id, revision FROM records WHERE reference = ?", (ref,)))[0]
    assert number >= 2
    (first, donor) = _sql(
        small_store,
        ("SELECT v.id, (SELECT max(id) FROM revisions WHERE record_id != ?) FROM revisions v"
         " WHERE v.record_id = ? AND v.number = 1", (rid, rid)),
    )[0]  # fmt: skip
    before = _digest(small_store, first)
    _sql(small_store, ("UPDATE revisions SET body_ct = (SELECT body_ct FROM revisions WHERE id = ?) WHERE id = ?",
                       (donor, first)))  # fmt: skip
    after = _digest(small_store, first)
    moved = {"revisions": {"1": {"was": before, "now": after}}}
    seq = _append_as(small_store, "bilal", audit.PendingEvent("rekey", "", record_id=rid, data=moved))
    code, problems = _verify(small_store)
    assert code == 1
    reasons = {(p["seq"], p["reference"], p["reason"]) for p in problems}
    assert (None, ref, "its revision 1 is not the one its events signed (edited)") in reasons, problems
    assert (seq, None, "a key rotation's rekey event signed by bilal outside an admin's rotation") in reasons, problems


def _digest(path: Path, revision_id: int) -> str:
    from store.audit.snapshot import revision_digest

    (number, officer, tlp, releasable_to, created_at, title_ct, body_ct) = _sql(
        path,
        ("SELECT number, officer, tlp, releasable_to, created_at, title_ct, body_ct FROM revisions WHERE id = ?",
         (revision_id,)),
    )[0]  # fmt: skip
    from datetime import datetime

    return revision_digest(
        number, officer, tlp, releasable_to, datetime.fromisoformat(created_at), bytes(title_ct), bytes(body_ct)
    )


def test_an_officers_read_event_over_a_swapped_body_is_named_by_verify(small_store: Path) -> None:
    """Found by a hostile pass: bilal, an officer with his key and the file, swapped a record's body for another's
    with `sqlite3`, then signed a `read` event over the record as it now stood. A read writes nothing, yet its
    signed state had become the record's latest, so `show` and `audit verify` passed and the next export carried
    the swapped text. `audit verify` now holds every event that writes nothing to the text and tags before it."""
    (rid, ref) = _sql(small_store, "SELECT id, reference FROM records WHERE reference LIKE 'PK-MOI-%' ORDER BY id")[0]
    code, _err = _show(small_store, ref)
    assert code == 0
    _sql(
        small_store,
        ("UPDATE revisions SET body_ct = (SELECT body_ct FROM revisions WHERE record_id != ? ORDER BY id LIMIT 1)"
         " WHERE record_id = ? AND number = (SELECT revision FROM records WHERE id = ?)", (rid, rid, rid)),
    )  # fmt: skip
    code, err = _show(small_store, ref)
    assert code == 1 and "error:" in err, err
    seq = _append_as(small_store, "bilal", audit.PendingEvent("read", "", record_id=rid))
    code, problems = _verify(small_store)
    assert code == 1
    reasons = [(p["seq"], p["reason"]) for p in problems]
    assert any(
        s == seq and reason.startswith(f"{ref}'s read event by bilal signs other text or tags than event #")
        for s, reason in reasons
    ), problems


def _bilals_tokens(path: Path, *plain: bytes) -> list[bytes]:
    _kept, keyring = _slot_keys(path, "bilal")
    return [keyring.encrypt(text) for text in plain]


@pytest.mark.parametrize("action", ["edit", "import", "zzz"])
def test_an_officers_event_of_any_other_action_over_rewritten_text_is_named(small_store: Path, action: str) -> None:
    """Found by a third hostile pass: bilal rewrote an approved record of the demo officer's in the file (its title
    and current revision, under the data key he holds) and signed one event over it with his own key under an action
    that was not among those verify held to "writes nothing": an `edit`, an `import`, an action no version knows.
    `audit verify` passed and the next export carried his text. Now only the actions that write may change a
    record's text or tags, each by its store rule: an edit by the author, of a draft or returned record, as its next
    revision; an import over another ministry's record only; any other action keeps what the event before signed."""
    from crypto.encoding import canonical_json

    (rid, ref, rev) = _sql(
        small_store,
        "SELECT id, reference, revision FROM records WHERE origin = 'PK-MOI' AND status = 'approved'"
        " AND author != 'bilal' ORDER BY id LIMIT 1",
    )[0]
    title, body = _bilals_tokens(
        small_store, b"FORGED TITLE", canonical_json({"summary": "FORGED SUMMARY", "source": "", "notes": ""})
    )
    _sql(
        small_store,
        ("UPDATE records SET title_ct = ? WHERE id = ?", (title, rid)),
        ("UPDATE revisions SET title_ct = ?, body_ct = ? WHERE record_id = ? AND number = ?", (title, body, rid, rev)),
    )
    seq = _append_as(small_store, "bilal", audit.PendingEvent(action, ref, record_id=rid))
    code, problems = _verify(small_store)
    assert code == 1
    named = [p["reason"] for p in problems if p["seq"] == seq]
    assert named and named[0].startswith(f"{ref}'s {action} event by bilal "), problems
    why = {
        "edit": "writes a record that was approved (only a draft or returned record is edited)",
        "import": "writes PK-MOI's own record, which only comes in from other ministries",
        "zzz": "signs other text or tags than event #",
    }[action]
    assert why in named[0], named


def test_an_officers_rekey_details_event_vouches_for_no_withdrawal_reason(small_store: Path) -> None:
    """Found by a third hostile pass: bilal replaced a withdrawal's reason (the row's and its event's encrypted
    detail) with his own text and signed a `rekey-details` event — what a rotation signs for the details it
    re-encrypts — naming the new ciphertext. `show` displayed his reason as the withdrawing officer's, `audit
    verify` passed and the counterpart received it. Only an admin's, inside a rotation, vouches for a detail."""
    import hashlib

    from store.records import RecordQuery

    session = unlock(small_store)
    try:
        rows = session.list_records(RecordQuery(statuses=frozenset({"shared", "acknowledged"})), limit=500)
        ref = next(r.reference for r in rows if r.origin == session.ministry)
        session.withdraw(ref, "Original reason: the source recanted")
    finally:
        session.vault.close()
    (uuid,) = _sql(small_store, ("SELECT uuid FROM records WHERE reference = ?", (ref,)))[0]
    (withdrawn,) = _sql(
        small_store, ("SELECT max(seq) FROM audit_log WHERE record_uuid = ? AND action = 'withdraw'", (uuid,))
    )[0]
    (token,) = _bilals_tokens(small_store, b"FORGED: act on this report immediately")
    _sql(
        small_store,
        ("UPDATE withdrawals SET reason_ct = ? WHERE record_uuid = ?", (token, uuid)),
        ("UPDATE audit_log SET detail_ct = ? WHERE seq = ?", (token, withdrawn)),
    )
    details = {str(withdrawn): hashlib.sha256(token).hexdigest()}
    seq = _append_as(small_store, "bilal", audit.PendingEvent("rekey-details", "audit_log", data={"details": details}))
    code, err = _show(small_store, ref)
    assert code == 1 and "the reason its signed withdraw event" in err, err
    code, problems = _verify(small_store)
    assert code == 1
    reasons = {(p["seq"], p["reason"]) for p in problems}
    assert (seq, "a key rotation's rekey-details event signed by bilal outside an admin's rotation") in reasons
    assert (withdrawn, "its encrypted detail is not the one it signed (replaced or removed)") in reasons, problems


def test_no_officer_is_removed_while_a_rotation_is_unfinished(small_store: Path) -> None:
    """Found by a new officer's pass: `officers remove` during an interrupted rotation made a new data key the
    rotation then finished to; its batches named a key version no rotation had opened, and every record read as
    damaged. The removal is refused (one line, nothing changed) until `keys rotate` has finished the job; then it
    goes, and the store verifies."""
    _rotation_cut_short(small_store)
    before = _sql(small_store, "SELECT count(*), max(seq) FROM audit_log")[0]
    refused = run_cli("--store", str(small_store), "officers", "remove", "bilal", env=DEMO)
    assert refused.code == 1 and refused.err == (
        "error: a key rotation is unfinished: run `liaison keys rotate` to finish it, then remove bilal\n"
    ), refused
    assert _sql(small_store, "SELECT count(*), max(seq) FROM audit_log")[0][1] <= before[1] + 1  # a failed action only
    assert _sql(small_store, "SELECT revoked_at FROM officers WHERE name = 'bilal'")[0] == (None,)
    finished = run_cli("--store", str(small_store), "keys", "rotate", env=DEMO)
    assert finished.code == 0, finished
    removed = run_cli("--store", str(small_store), "officers", "remove", "bilal", env=DEMO)
    assert removed.code == 0, removed
    code, problems = _verify(small_store)
    assert code == 0, problems
    for ref, _uuid in _records(small_store, 2):
        assert _show(small_store, ref)[0] == 0
