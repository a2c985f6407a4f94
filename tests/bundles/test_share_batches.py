"""An export's `share` events: one signed event per batch of records it carried (`store.audit.rekeys`), naming each
record's move from approved to shared, listed in `rekey_index`. Threats 6, 14 and 25 tried against them: with the
file and no keys (`sqlite3`: a status set back, an index row removed) and as an officer who signs lying batches with
their own key (one who may not export, a reviewer naming a draft)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

import store.bundles.export
from crypto.slot import OfficerSlot, open_grant, open_slot_keys
from store.audit import log as audit
from store.audit import rekeys
from store.service import Vault
from tests.bundles.conftest import Pair
from tests.liaison_helpers import PASSPHRASES

#: The records an export of everything due to TR-MOI carries (the pair's template).
CARRIED = ("amber1", "amber2", "amber3", "amber4", "amber5", "green_shared", "strict")


@pytest.fixture
def batches_of_two(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store.bundles.export, "BATCH", 2)


def _export(pair: Pair, *refs: str, name: str = "out.bundle") -> Any:
    return pair.pk.cli("export", "--to", "TR-MOI", "--out", str(pair.path(name)), *refs)


def _verify(pair: Pair) -> tuple[int, list[dict[str, Any]]]:
    result = pair.pk.cli("audit", "verify", "--json")
    assert "Traceback" not in result.err, result.err
    return result.code, json.loads(result.out)["problems"]


def _uuid(pair: Pair, ref: str) -> str:
    return str(pair.pk.sql("SELECT uuid FROM records WHERE reference = ?", (ref,))[0][0])


def _append_as(pair: Pair, officer: str, events: list[audit.PendingEvent], index: list[str]) -> int:
    """Sign and append `events` as `officer` with their own key (and the ministry key their keyring holds), as an
    insider writing to the file would; `index` the uuids to list under the last one. Returns its seq."""
    path = pair.pk.path
    row = pair.pk.sql("SELECT slot, grant FROM officers WHERE name = ?", (officer,))[0]
    ((store_id,),) = pair.pk.sql("SELECT value FROM liaison_meta WHERE key = 'store_id'")
    kept = open_slot_keys(OfficerSlot.from_json(row[0]), PASSPHRASES[officer].encode())
    assert kept.signing is not None
    with Vault.open(path) as vault:
        keyring = open_grant(row[1], store_id, officer, kept.exchange)
        with vault.db.write() as s:
            size = audit.append(s, audit.Signer(officer, kept.signing, keyring, "PK-MOI", vault.clock()), events)
            if index:
                rows = [(uuid, size) for uuid in index]
                s.connection().exec_driver_sql("INSERT INTO rekey_index VALUES (?, ?)", rows)
    return size


def _share_batch(uuids: list[str], recipient: str = "TR-MOI") -> list[audit.PendingEvent]:
    """An export event and its share batch naming `uuids` (appended together, as an export appends them)."""
    data = {"bundle_id": "0" * 32, "recipient": recipient}
    return [
        audit.PendingEvent("export", recipient, data={**data, "seq": 9, "records": len(uuids)}),
        audit.PendingEvent(rekeys.SHARE, recipient, data={**data, "records": {u: rekeys.share_entry() for u in uuids}}),
    ]


def test_an_export_signs_one_share_event_per_batch(pair: Pair, batches_of_two: None) -> None:
    """Seven records carried in batches of two: four `share` events, about no record, each naming its records'
    moves; the index lists each record under its batch; the log verifies; `show` reads each record as shared; `audit
    log --record` lists the batch that shared it."""
    (size,) = pair.pk.sql("SELECT max(seq) FROM audit_log")[0]
    assert _export(pair).code == 0
    shares = pair.pk.sql(
        "SELECT seq, body, target, record_uuid FROM audit_log WHERE seq > ? AND action = 'share' ORDER BY seq", (size,)
    )
    assert len(shares) == math.ceil(len(CARRIED) / 2)
    named: dict[str, int] = {}
    for seq, body, target, filed in shares:
        obj = json.loads(body)
        assert obj["record"] is None and filed is None and target == "TR-MOI"
        assert set(obj["data"]) == {"bundle_id", "recipient", "records"}
        for uuid, entry in obj["data"]["records"].items():
            assert entry == {"status": ["approved", "shared"]}
            named[uuid] = seq
    assert named == {_uuid(pair, pair.refs[role]): named[_uuid(pair, pair.refs[role])] for role in CARRIED}
    index = pair.pk.sql("SELECT record_uuid, seq FROM rekey_index")
    assert dict(index) == named and len(index) == len(named)
    code, problems = _verify(pair)
    assert code == 0 and problems == [], problems
    ref = pair.refs["amber3"]
    assert pair.pk.show(ref)["status"] == "shared"
    log = pair.pk.ok("audit", "log", "--record", ref, "--json").json()
    shared = [e for e in log if e["action"] == "share"]
    assert [(e["seq"], e["record"], e["target"]) for e in shared] == [(named[_uuid(pair, ref)], ref, "TR-MOI")]
    # and the record's activity shows it shared once, from the sharing ledger (not as a re-encryption)
    activity = pair.pk.ok("activity", ref, "--json").json()
    assert [e["kind"] for e in activity].count("shared") == 1 and "re-encrypted" not in [e["kind"] for e in activity]


def test_a_status_set_back_to_approved_is_damaged(pair: Pair) -> None:
    """With the file and no keys: a shared record's status set back to approved (to have it sent again as if never
    sent) — `show` refuses it, no export carries it, `audit verify` names it."""
    assert _export(pair).code == 0
    ref = pair.refs["amber2"]
    pair.pk.sql("UPDATE records SET status = 'approved' WHERE reference = ?", (ref,))
    shown = pair.pk.cli("show", ref)
    assert shown.code == 1 and f"record {ref} is damaged: its status is approved" in shown.err, shown
    assert "says shared" in shown.err, shown
    refused = _export(pair, ref, name="again.bundle")
    assert refused.code == 1 and ref in refused.err and not pair.path("again.bundle").exists(), refused
    code, problems = _verify(pair)
    assert code == 1 and [p["reference"] for p in problems] == [ref], problems


def test_an_index_row_removed_with_the_status_set_back_is_caught_by_export_and_verify(pair: Pair) -> None:
    """With the file and no keys: the record's row of `rekey_index` deleted as well, so the cheap check of one record
    no longer finds the batch that shared it (`show` reads it as approved: the README says so). An export reads
    every batch from the log itself and refuses it; `audit verify` names the batch whose index was edited and the
    record."""
    assert _export(pair).code == 0
    ref = pair.refs["amber4"]
    uuid = _uuid(pair, ref)
    ((seq,),) = pair.pk.sql("SELECT seq FROM rekey_index WHERE record_uuid = ?", (uuid,))
    pair.pk.sql("DELETE FROM rekey_index WHERE record_uuid = ?", (uuid,))
    pair.pk.sql("UPDATE records SET status = 'approved' WHERE reference = ?", (ref,))
    refused = _export(pair, name="again.bundle")
    assert refused.code == 1 and not pair.path("again.bundle").exists(), refused
    assert f"{ref}: its status is approved, its last signed event" in refused.err, refused.err
    code, problems = _verify(pair)
    assert code == 1
    assert {(p["seq"], p["reference"]) for p in problems} == {(seq, None), (None, ref)}, problems
    assert "the key-rotation index does not list the records this share batch shared (edited outside Liaison)" in {
        p["reason"] for p in problems
    }


def test_a_share_batch_signed_by_an_officer_who_may_not_export_moves_nothing(pair: Pair) -> None:
    """dave (an officer, who may not export) signs and appends a share batch naming an approved record, and sets its
    status to shared in the file: the move is not his to sign — `show` refuses the record, no export carries it, and
    `audit verify` names the event."""
    pair.pk.ok("officers", "add", "dave", "--role", "officer", env={"LIAISON_NEW_PASSPHRASE": PASSPHRASES["dave"]})
    ref = pair.refs["amber1"]
    seq = _append_as(pair, "dave", _share_batch([_uuid(pair, ref)]), [_uuid(pair, ref)])
    pair.pk.sql("UPDATE records SET status = 'shared' WHERE reference = ?", (ref,))
    shown = pair.pk.cli("show", ref)
    assert shown.code == 1 and f"record {ref} is damaged: its status is shared" in shown.err, shown
    refused = _export(pair, ref)
    assert refused.code == 1 and ref in refused.err and not pair.path("out.bundle").exists(), refused
    code, problems = _verify(pair)
    assert code == 1
    assert {(p["seq"], p["reason"]) for p in problems if p["seq"] is not None} == {
        (seq, "a share batch signed by dave, who did not hold the reviewer or admin role then"),
        (seq, "the key-rotation index lists records under it, but it is no signed rotation or share batch"),
    }, problems
    assert [p["reference"] for p in problems if p["reference"] is not None] == [ref], problems


def test_a_share_batch_naming_a_draft_or_moving_more_than_its_status_is_named(pair: Pair) -> None:
    """alice (an admin, who may export) signs a share batch naming a draft, and another that also moves a record's
    TLP: neither moves anything (the draft set to shared in the file reads as damaged, the TLP too), and `audit
    verify` names both events."""
    draft, amber = pair.refs["draft"], pair.refs["amber5"]
    first = _append_as(pair, "alice", _share_batch([_uuid(pair, draft)]), [_uuid(pair, draft)])
    lying = _share_batch([_uuid(pair, amber)])
    lying[1].data["records"][_uuid(pair, amber)]["tlp"] = ["AMBER", "GREEN"]
    second = _append_as(pair, "alice", lying, [_uuid(pair, amber)])
    pair.pk.sql("UPDATE records SET status = 'shared' WHERE reference = ?", (draft,))
    pair.pk.sql("UPDATE records SET status = 'shared', tlp = 'GREEN' WHERE reference = ?", (amber,))
    for ref in (draft, amber):
        shown = pair.pk.cli("show", ref)
        assert shown.code == 1 and f"record {ref} is damaged" in shown.err, shown
    code, problems = _verify(pair)
    assert code == 1
    assert {(p["seq"], p["reason"]) for p in problems if p["seq"] is not None} == {
        (first, f"its share batch names {draft}, which was draft, not approved"),
        (second, f"its share batch moves {amber} otherwise than from approved to shared"),
    }, problems
    assert sorted(p["reference"] for p in problems if p["reference"] is not None) == sorted([draft, amber])


def test_a_stores_older_share_events_still_verify(pair: Pair, tmp_path: Path) -> None:
    """A log written before share batches holds one `share` event per record (its whole state, filed under it):
    such a store still verifies, and its records read as shared."""
    ref = pair.refs["amber1"]
    session = pair.pk.session()
    try:
        with session.act("export", "TR-MOI") as s:
            (rid,) = s.connection().exec_driver_sql("SELECT id FROM records WHERE reference = ?", (ref,)).one()
            s.connection().exec_driver_sql("UPDATE records SET status = 'shared' WHERE id = ?", (rid,))
            audit.note_records(s, [rid], action="share", data={"bundle_id": "1" * 32, "recipient": "TR-MOI"})
    finally:
        session.vault.close()
    assert pair.pk.show(ref)["status"] == "shared"
    code, problems = _verify(pair)
    assert code == 0 and problems == [], problems


def test_an_index_row_removed_with_the_status_set_back_is_refused_before_anything_signs_it(pair: Pair) -> None:
    """Found by a hostile pass: with the index row deleted and the status set back to approved, `show` passed and
    signed a `read` over the older status; with the row put back, `audit verify` passed and the record stayed
    approved for good (never acknowledged, never withdrawable). The check of one record before an action signs it
    now finds the share batches by their bodies too: `show` refuses, nothing is signed."""
    assert _export(pair).code == 0
    ref = pair.refs["amber1"]
    uuid = _uuid(pair, ref)
    pair.pk.sql("DELETE FROM rekey_index WHERE record_uuid = ?", (uuid,))
    pair.pk.sql("UPDATE records SET status = 'approved' WHERE reference = ?", (ref,))
    ((reads,),) = pair.pk.sql("SELECT count(*) FROM audit_log WHERE action = 'read'")
    shown = pair.pk.cli("show", ref)
    assert shown.code == 1 and f"record {ref} is damaged: its status is approved" in shown.err, shown
    assert pair.pk.sql("SELECT count(*) FROM audit_log WHERE action = 'read'") == [(reads,)]
    refused = pair.pk.cli("withdraw", ref, "--reason", "Sent in error")
    assert refused.code == 1 and "Traceback" not in refused.err, refused


def test_a_read_signed_over_a_status_set_in_the_file_is_named(pair: Pair) -> None:
    """Found by a hostile pass: carol, an officer, sets her record in review to approved in the file and signs one
    `read` event over it with her own key. `show` read it as approved, the next export carried it and `audit
    verify` passed. An own record approved or later needs an approval after the revision was written (`show` and
    exports refuse it), and a read changes no status (`audit verify` names the event); a shared record set back to
    approved under a read is named the same way."""
    pair.pk.ok("officers", "add", "carol", "--role", "officer", env={"LIAISON_NEW_PASSPHRASE": PASSPHRASES["carol"]})
    mine = pair.pk.add("Carol's ferry note", "--to", "TR-MOI", "--submit", officer="carol")
    assert _export(pair).code == 0
    shared = pair.refs["amber2"]
    pair.pk.sql("UPDATE records SET status = 'approved' WHERE reference = ?", (mine,))
    pair.pk.sql("UPDATE records SET status = 'approved' WHERE reference = ?", (shared,))
    ids = dict(pair.pk.sql("SELECT reference, id FROM records"))
    first = _append_as(pair, "carol", [audit.PendingEvent("read", mine, record_id=ids[mine])], [])
    second = _append_as(pair, "carol", [audit.PendingEvent("read", shared, record_id=ids[shared])], [])
    shown = pair.pk.cli("show", mine)
    assert shown.code == 1 and f"record {mine} is damaged: it is approved, but no approval follows" in shown.err
    refused = _export(pair, mine, name="again.bundle")
    assert refused.code == 1 and mine in refused.err and not pair.path("again.bundle").exists(), refused
    code, problems = _verify(pair)
    assert code == 1
    ((created,),) = pair.pk.sql("SELECT seq FROM audit_log WHERE action = 'create' AND target = ?", (mine,))
    assert {(p["seq"], p["reason"]) for p in problems if p["seq"] is not None} == {
        (
            first,
            f"{mine}'s read event by carol signs it approved, where the log left it in-review: a read changes no "
            "status (edited outside Liaison)",
        ),
        (
            first,
            f"{mine}'s read event by carol signs it approved, but no approval follows the revision event "
            f"#{created} wrote (approved outside Liaison)",
        ),
        (
            second,
            f"{shared}'s read event by carol signs it approved, where the log left it shared: a read changes no "
            "status (edited outside Liaison)",
        ),
    }, problems


def test_a_share_batch_naming_what_no_export_may_carry_is_named(pair: Pair) -> None:
    """Found by a hostile pass: bob, a reviewer, signed a share batch naming an approved TLP:RED record and one not
    releasable to TR-MOI, and one with no export event before it; both records read as shared and `audit verify`
    passed. Verify now holds each batch to its export (bundle and recipient) and each record to what an export
    to that recipient may carry."""
    pair.pk.ok("officers", "add", "bob", "--role", "reviewer", env={"LIAISON_NEW_PASSPHRASE": PASSPHRASES["bob"]})
    red, internal, amber = pair.refs["red"], pair.refs["not_releasable"], pair.refs["amber1"]
    first = _append_as(pair, "bob", _share_batch([_uuid(pair, red), _uuid(pair, internal)]), [])
    alone = _share_batch([_uuid(pair, amber)])[1:]
    alone[0].data["bundle_id"] = "1" * 32  # no export event wrote this bundle
    second = _append_as(pair, "bob", alone, [])
    code, problems = _verify(pair)
    assert code == 1
    reasons = {(p["seq"], p["reason"].split(" (")[0]) for p in problems if p["seq"] is not None}
    assert reasons == {
        (first, f"its share batch names {red}, which no export to TR-MOI may carry"),
        (first, f"its share batch names {internal}, which no export to TR-MOI may carry"),
        (second, "its share batch is not one of the export event's before it"),
        (first, "the key-rotation index does not list the records this share batch shared"),
        (second, "the key-rotation index does not list the records this share batch shared"),
    }, problems
