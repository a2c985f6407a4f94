"""Threat 25 through the log's record index: a record's events are found by the log's unsigned `record_uuid`
column, so an attacker with the file and no keys could hide a record's later events (filed under a uuid no record
has, their target changed too), roll the record's rows back to an older signed state, let any ordinary command
sign that state again (`show`'s read event, a rotation's `rekey`), then put the columns back: `audit verify`
passed and the record went out as it was before its edit to RED and its reviewer's return. Found by a hostile
pass. Each record event now signs its position (how many events about the record the log held before it), so the
record's latest event names fewer than the index then holds: the record is damaged — `show` refuses it, `audit
verify` names it, no export carries it."""

from __future__ import annotations

import pytest

from tests.integrity.conftest import Ministries

V1, V2 = "Ferry timetable as first written", "Ferry timetable naming the informant"
COMMENT = "Keep this RED: it names the informant"
NOBODY = "00000000-0000-0000-0000-000000000000"


def _edited_to_red_and_returned(m: Ministries) -> tuple[str, str]:
    ref = m.pk.add(V1, "--summary", "first version", "--to", "TR-MOI", tlp="green", officer="carol")
    m.pk.ok("edit", ref, "--title", V2, "--summary", "second version", "--tlp", "red", officer="carol")
    m.pk.ok("submit", ref, officer="carol")
    m.pk.ok("review", ref, "--return", "--comment", COMMENT, officer="bob")
    (uuid,) = m.pk.sql("SELECT uuid FROM records WHERE reference = ?", (ref,))[0]
    return ref, str(uuid)


def _hide_and_roll_back(m: Ministries, uuid: str) -> None:
    """The record's rows as its first revision left them; its later events filed under no record, their targets
    changed (kept aside in `_hid` to be put back)."""
    m.attack(
        (
            "UPDATE records SET revision = 1, tlp = 'GREEN', status = 'draft', title_ct = (SELECT title_ct FROM"
            " revisions v WHERE v.record_id = records.id AND v.number = 1) WHERE uuid = ?",
            (uuid,),
        ),
        ("DELETE FROM revisions WHERE number = 2 AND record_id = (SELECT id FROM records WHERE uuid = ?)", (uuid,)),
        ("DELETE FROM review_events WHERE record_id = (SELECT id FROM records WHERE uuid = ?)", (uuid,)),
        (
            "CREATE TABLE _hid AS SELECT seq, target, record_uuid FROM audit_log WHERE record_uuid = ?"
            " AND seq > (SELECT min(seq) FROM audit_log WHERE record_uuid = ?)",
            (uuid, uuid),
        ),
        (f"UPDATE audit_log SET record_uuid = '{NOBODY}', target = 'x' WHERE seq IN (SELECT seq FROM _hid)", ()),
    )


def _put_back(m: Ministries) -> None:
    m.attack(
        "UPDATE audit_log SET record_uuid = (SELECT record_uuid FROM _hid h WHERE h.seq = audit_log.seq),"
        " target = (SELECT target FROM _hid h WHERE h.seq = audit_log.seq) WHERE seq IN (SELECT seq FROM _hid)",
        "DROP TABLE _hid",
    )


HIDDEN = "the log's record index was edited to hide events about it"


@pytest.mark.parametrize(
    ("signed_again", "why"),
    [
        ([("show", "REF")], HIDDEN),
        ([("show", "REF"), ("show", "REF")], HIDDEN),
        # a rotation signs no record's state, only the moves of its ciphertexts: nothing older is signed again
        ([("keys", "rotate")], "its TLP is TLP:GREEN, its last signed event"),
    ],
    ids=["by a show", "by two shows", "by keys rotate"],
)
def test_an_older_state_signed_again_while_events_were_hidden_is_damaged(
    ministries: Ministries, signed_again: list[tuple[str, ...]], why: str
) -> None:
    m = ministries
    ref, uuid = _edited_to_red_and_returned(m)
    assert m.verify().code == 0
    _hide_and_roll_back(m, uuid)
    for argv in signed_again:  # each signs the older state again, unaware
        m.pk.ok(*(ref if arg == "REF" else arg for arg in argv))
    _put_back(m)
    shown = m.pk.cli("show", ref)
    assert shown.code == 1 and f"record {ref} is damaged" in shown.err and why in shown.err, shown
    verify = m.verify()
    assert verify.code == 1, verify
    report = m.pk.cli("audit", "verify", "--json", officer="alice").json()
    assert any(ref in str(p) and why in str(p) for p in report["problems"]), report
    # nothing signs it again: the author cannot resubmit it, the reviewer cannot approve it, no export carries it
    assert m.pk.cli("submit", ref, officer="carol").code == 1
    assert m.pk.cli("review", ref, "--approve", officer="bob").code == 1
    refused = m.pk.cli("export", "--to", "TR-MOI", "--out", str(m.path("out.bundle")), ref)
    assert refused.code == 1 and ref in refused.err, refused
    assert not m.path("out.bundle").exists()


def test_events_left_hidden_are_named_by_verify_and_every_export(ministries: Ministries) -> None:
    """Not put back: the hidden events' own columns say what was done (the full pass reads every event)."""
    m = ministries
    ref, uuid = _edited_to_red_and_returned(m)
    _hide_and_roll_back(m, uuid)
    m.pk.ok("show", ref)
    verify = m.verify()
    assert verify.code == 1 and "column was edited" in verify.err, verify
    refused = m.pk.cli("export", "--to", "TR-MOI", "--out", str(m.path("out.bundle")))
    assert refused.code == 1 and "record column was edited" in refused.err, refused


def test_an_intact_record_s_positions_hold_through_its_life(ministries: Ministries) -> None:
    m = ministries
    ref, _uuid = _edited_to_red_and_returned(m)
    m.pk.ok("show", ref)
    m.pk.ok("keys", "rotate", officer="alice")
    m.pk.ok("show", ref)
    assert m.verify().code == 0
    positions = [
        row[0]
        for row in m.pk.sql(
            "SELECT json_extract(CAST(body AS TEXT), '$.position') FROM audit_log a JOIN records r"
            " ON r.uuid = a.record_uuid WHERE r.reference = ? ORDER BY seq",
            (ref,),
        )
    ]
    assert positions == list(range(len(positions))) and len(positions) >= 6
