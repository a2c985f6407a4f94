"""Threat 25 for a withdrawal: the record's signed state says only whether it is withdrawn, so its withdrawal row's
reason, officer and sender — what `show` displays and the next bundle carries as the notice — were covered by
nothing. Found by a hostile pass: an internal review comment's ciphertext written over a withdrawal's reason with
`sqlite3` (no keys) passed `audit verify`, was shown as the reason, and went to TR-MOI inside the signed notice.
Now the row is held to its signed `withdraw` event (its encrypted detail is the reason), after a rotation too."""

from __future__ import annotations

import pytest

from tests.integrity.conftest import RETURN_COMMENT, TITLES, Ministries
from tests.liaison_helpers import assert_refused

REASON = "Sent in error: duplicate of an earlier report"


def _shared_then_withdrawn(m: Ministries) -> str:
    ref = m.refs["green"]
    m.pk.ok("export", "--to", "TR-MOI", "--out", str(m.path("first.bundle")))
    m.tr.ok("import", str(m.path("first.bundle")))
    m.pk.ok("withdraw", ref, "--reason", REASON, officer="alice")
    return ref


ATTACKS = {
    # the internal return comment ("Remove the agent's name…") as the reason: a leak to the counterpart
    "a review comment's ciphertext as the reason": (
        "UPDATE withdrawals SET reason_ct = (SELECT comment_ct FROM review_events WHERE comment_ct IS NOT NULL"
        " ORDER BY id LIMIT 1) WHERE reference = ?",
        "its reason is not the one its signed withdraw event",
    ),
    "another officer named as the one who withdrew it": (
        "UPDATE withdrawals SET officer = 'bob' WHERE reference = ?",
        "its withdrawing officer or origin is not the one its signed withdraw event",
    ),
    "bytes no key opens as the reason": (
        "UPDATE withdrawals SET reason_ct = randomblob(120) WHERE reference = ?",
        "does not decrypt",
    ),
    # found by the second hostile pass: each went out in the notice (or made the receiver refuse the whole bundle)
    "an earlier time": (
        "UPDATE withdrawals SET withdrawn_at = '2021-06-01 00:00:00.000000' WHERE reference = ?",
        "its time is not the one its signed withdraw event",
    ),
    "a third ministry as its origin": (
        "UPDATE withdrawals SET origin = 'PK-ANF' WHERE reference = ?",
        "its withdrawing officer or origin is not the one its signed withdraw event",
    ),
    "another record's reference": (
        "UPDATE withdrawals SET reference = 'PK-MOI-2026-09999' WHERE reference = ?",
        "its reference is not the one its signed withdraw event",
    ),
}


@pytest.mark.parametrize("rotated", [False, True], ids=["as written", "after keys rotate"])
@pytest.mark.parametrize("attack", ATTACKS)
def test_a_withdrawal_edited_in_the_file_is_damaged_and_never_sent(
    ministries: Ministries, attack: str, rotated: bool
) -> None:
    m = ministries
    ref = _shared_then_withdrawn(m)
    if rotated:
        m.pk.ok("keys", "rotate", officer="alice")
    before = m.pk.ok("show", ref, "--json").json()
    sql, why = ATTACKS[attack]
    m.attack((sql, (ref,)))
    (row_id,) = m.pk.sql("SELECT id FROM records WHERE reference = ?", (ref,))[0]
    assert m.pk.sql("SELECT count(*) FROM withdrawals WHERE record_id = ?", (row_id,))[0][0] == 1
    verify = m.verify()
    assert verify.code == 1 and ref in verify.err and "its withdrawal is damaged" in verify.err, verify
    assert why in verify.err, verify
    shown = m.pk.cli("show", ref)
    assert_refused(shown, why, exact=False)
    assert shown.err.startswith(f"error: record {ref} is damaged: its "), shown.err
    refused = m.pk.cli("export", "--to", "TR-MOI", "--out", str(m.path("second.bundle")))
    assert refused.code == 1 and ref in refused.err and why in refused.err, refused
    assert not m.path("second.bundle").exists()
    assert RETURN_COMMENT not in refused.err + verify.err  # named, never shown
    listed = m.pk.cli("list")  # the list (and the app's browser, by the same check) marks it
    assert listed.code == 0 and f"warning: record {ref} is damaged: its withdrawal: " in listed.err, listed
    assert before["title"]  # the record itself was readable before the attack


def test_an_intact_withdrawal_goes_with_its_reason(ministries: Ministries) -> None:
    m = ministries
    ref = _shared_then_withdrawn(m)
    m.pk.ok("keys", "rotate", officer="alice")
    assert m.verify().code == 0
    m.pk.ok("export", "--to", "TR-MOI", "--out", str(m.path("second.bundle")))
    m.tr.ok("import", str(m.path("second.bundle")))
    assert REASON in m.tr.ok("show", ref).out
    assert m.verify(m.tr).code == 0


@pytest.mark.parametrize(
    ("sql", "why"),
    [
        ("UPDATE withdrawals SET officer = 'mallory' WHERE direction = 'in'", "sender or the sender's officer"),
        (
            "UPDATE withdrawals SET direction = 'out', origin = 'PK-MOI' WHERE direction = 'in'",
            "it is withdrawn by this ministry, its signed withdraw event",
        ),
        ("UPDATE withdrawals SET withdrawn_at = '2020-01-01 00:00:00.000000' WHERE direction = 'in'", "its time"),
    ],
    ids=["the sender's officer", "recast as our own", "an earlier time"],
)
def test_a_received_withdrawal_edited_in_the_file_is_damaged(ministries: Ministries, sql: str, why: str) -> None:
    """TR-MOI withdraws a record it sent to PK-MOI; PK-MOI's row of that notice is held to its signed event too."""
    m = ministries
    ref = m.tr.add("From Ankara", "--to", "PK-MOI", "--submit", tlp="green")
    m.tr.ok("review", ref, "--approve")
    m.tr.ok("export", "--to", "PK-MOI", "--out", str(m.path("tr1.bundle")))
    m.pk.ok("import", str(m.path("tr1.bundle")))
    m.tr.ok("withdraw", ref, "--reason", "Wrong vessel")
    m.tr.ok("export", "--to", "PK-MOI", "--out", str(m.path("tr2.bundle")))
    m.pk.ok("import", str(m.path("tr2.bundle")))
    assert m.verify().code == 0 and "Wrong vessel" in m.pk.ok("show", ref).out
    m.attack(sql)
    verify = m.verify()
    assert verify.code == 1 and ref in verify.err and why in verify.err, verify
    shown = m.pk.cli("show", ref)
    assert shown.code == 1 and why in shown.err, shown


def test_a_withdrawal_signed_before_its_time_was_is_held_to_the_events_time(
    ministries: Ministries, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A withdraw event from before the row's time was signed into it (its data has no `withdrawn_at`): the row's
    time must be within a minute of the event's own; a day off is damage."""
    import store.withdrawals as withdrawals

    m = ministries
    ref = m.refs["green"]
    m.pk.ok("export", "--to", "TR-MOI", "--out", str(m.path("first.bundle")))
    note = withdrawals.audit.note

    def as_before(s: object, **kw: object) -> None:
        data = kw.pop("data", None)
        if isinstance(data, dict):
            data = {k: v for k, v in data.items() if k != "withdrawn_at"} or None
        note(s, data=data, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(withdrawals.audit, "note", as_before)
    session = m.pk.session()
    try:
        session.withdraw(ref, REASON)
    finally:
        session.vault.close()
    monkeypatch.undo()
    assert m.verify().code == 0 and REASON in m.pk.ok("show", ref).out
    m.attack(("UPDATE withdrawals SET withdrawn_at = datetime(withdrawn_at, '-1 day') WHERE reference = ?", (ref,)))
    verify = m.verify()
    assert verify.code == 1 and "its time is not the one its signed withdraw event" in verify.err, verify


#: The third hostile pass: a withdrawal row the lookup of its event could not see was held to nothing, and went out.
#: The reason planted in each is the ciphertext of the TLP:RED record's title (`TITLES["red"]`).
RED_TITLE_AS_REASON = (
    "UPDATE withdrawals SET reason_ct = (SELECT title_ct FROM records WHERE reference = ?) WHERE reference = ?"
)
UNSEEN = {
    # no withdrawal was ever made: the row is written into the file
    "a row written into the file": (
        "INSERT INTO withdrawals (record_uuid, record_id, reference, origin, direction, withdrawn_at, officer,"
        " reason_ct, bundle_id, recorded_at) SELECT uuid, id, reference, origin, 'out', '2026-12-07 01:00:00.000000',"
        " 'alice', (SELECT title_ct FROM records WHERE reference = :red), NULL, '2026-12-07 01:00:00.000000'"
        " FROM records WHERE reference = :ref",
    ),
    # a real withdrawal; the log's unsigned action column of its event edited, so a lookup by action misses it
    "its event's action column edited": (
        RED_TITLE_AS_REASON,
        "UPDATE audit_log SET action = 'withdrawn' WHERE action = 'withdraw'",
    ),
    # a real withdrawal; its event filed under no record the store holds, and its target changed too
    "its event cut from the record": (
        RED_TITLE_AS_REASON,
        "UPDATE audit_log SET record_uuid = '00000000-0000-0000-0000-000000000000', target = 'x'"
        " WHERE action = 'withdraw'",
    ),
}


@pytest.mark.parametrize("attack", UNSEEN)
def test_a_withdrawal_its_signed_event_does_not_back_is_never_sent(ministries: Ministries, attack: str) -> None:
    m = ministries
    red = m.refs["red"]
    if attack == "a row written into the file":
        ref = m.refs["green"]
        m.pk.ok("export", "--to", "TR-MOI", "--out", str(m.path("first.bundle")))
        m.tr.ok("import", str(m.path("first.bundle")))
    else:
        ref = _shared_then_withdrawn(m)
    for sql in UNSEEN[attack]:
        params = {"red": red, "ref": ref} if ":ref" in sql else (red, ref) if sql == RED_TITLE_AS_REASON else ()
        m.attack((sql, params))  # type: ignore[arg-type]
    # the next export, of another record named alone, refuses, naming the withdrawn one; nothing reaches TR-MOI
    other = m.pk.add("Next note for Ankara", "--to", "TR-MOI", "--submit", tlp="green", officer="carol")
    m.pk.ok("review", other, "--approve", officer="bob")
    refused = m.pk.cli("export", "--to", "TR-MOI", "--out", str(m.path("second.bundle")), other)
    assert refused.code == 1 and ref in refused.err and "withdraw" in refused.err, refused
    assert not m.path("second.bundle").exists()
    assert TITLES["red"] not in refused.err
    verify = m.verify()  # names the record, or first the event whose unsigned column was edited
    assert verify.code == 1 and (ref in verify.err or "column was edited" in verify.err), verify
    shown = m.pk.cli("show", ref)
    assert shown.code == 1 and TITLES["red"] not in shown.out + shown.err, shown


def test_a_receipt_or_a_notice_never_signs_a_record_damaged_in_the_file(ministries: Ministries) -> None:
    """Found by a hostile pass: processing a receipt signed an `acknowledge` event over each record it names as
    the rows stood, and a withdrawal notice from the record's origin a `withdraw` event: a record whose TLP was
    edited in the file (its `show` refused) came out of either signed, intact to `show`, `audit verify` and every
    export. Both now check the record first: the receipt leaves it unacknowledged and says so; the notice is
    refused with its bundle, naming it."""
    m = ministries
    ref = m.refs["amber"]
    m.pk.ok("export", "--to", "TR-MOI", "--out", str(m.path("first.bundle")))
    m.tr.ok("import", str(m.path("first.bundle")), "--receipt-out", str(m.path("first.receipt")))
    m.attack(("UPDATE records SET tlp = 'CLEAR' WHERE reference = ?", (ref,)))
    taken = m.pk.ok("import", str(m.path("first.receipt")))
    assert f"record {ref} is damaged here and keeps its status: its TLP is TLP:CLEAR" in taken.err, taken
    assert m.pk.sql("SELECT status FROM records WHERE reference = ?", (ref,))[0][0] == "shared"
    assert m.pk.cli("show", ref).code == 1
    verify = m.verify()
    assert verify.code == 1 and ref in verify.err, verify

    # TR-MOI's record held here, edited in PK-MOI's file, then withdrawn by TR-MOI
    theirs = m.tr.add("From Ankara", "--to", "PK-MOI", "--submit", tlp="green")
    m.tr.ok("review", theirs, "--approve")
    m.tr.ok("export", "--to", "PK-MOI", "--out", str(m.path("tr1.bundle")))
    m.pk.ok("import", str(m.path("tr1.bundle")))
    m.attack(("UPDATE records SET tlp = 'CLEAR' WHERE reference = ?", (theirs,)))
    m.tr.ok("withdraw", theirs, "--reason", "Wrong vessel")
    m.tr.ok("export", "--to", "PK-MOI", "--out", str(m.path("tr2.bundle")))
    refused = m.pk.cli("import", str(m.path("tr2.bundle")))
    assert refused.code == 1 and f"record {theirs} is damaged" in refused.err, refused
    assert m.pk.cli("show", theirs).code == 1


def test_a_delivery_written_into_the_file_does_not_keep_the_notice_back(ministries: Ministries) -> None:
    """Found by a hostile pass: a `withdrawal_deliveries` row inserted with `sqlite3`, naming the bundle that had
    carried the record before it was withdrawn, made the next export say there was nothing to send; TR-MOI never
    learnt of the withdrawal. A delivery counts only through a bundle to that contact after the withdrawal."""
    m = ministries
    ref = _shared_then_withdrawn(m)
    m.attack(
        "INSERT INTO withdrawal_deliveries SELECT (SELECT id FROM withdrawals), 'TR-MOI', bundle_id FROM bundles"
        " WHERE direction = 'out' AND peer = 'TR-MOI' ORDER BY at DESC LIMIT 1"
    )
    shown = m.pk.ok("show", ref, "--json").json()["withdrawal"]
    assert shown["delivered"] == [] and shown["pending"] == ["TR-MOI"], shown
    sent = m.pk.ok("export", "--to", "TR-MOI", "--out", str(m.path("second.bundle")))
    assert "1 withdrawal notice" in sent.err, sent
    m.tr.ok("import", str(m.path("second.bundle")))
    assert REASON in m.tr.ok("show", ref).out
