"""`liaison bundles list [--json]` and `liaison withdraw REF` between two real stores."""

from __future__ import annotations

from tests.bundles.conftest import Pair
from tests.liaison_helpers import assert_refused, store_fingerprint

KEYS = {
    "bundle_id",
    "direction",
    "at",
    "counterpart",
    "seq",
    "records",
    "withdrawals",
    "officer",
    "acknowledged",
    "receipt_at",
    "acknowledged_records",
}


def test_bundles_list_sent_received_and_acknowledged(pair: Pair) -> None:
    assert pair.pk.ok("bundles", "list", "--json").json() == []
    assert pair.pk.ok("bundles", "list").err.strip() == "no bundles sent or received yet"
    bundle, receipt = pair.path("1.bundle"), pair.path("1.receipt")
    pair.pk.ok("export", "--to", "TR-MOI", "--out", str(bundle))
    pair.tr.ok("import", str(bundle), "--receipt-out", str(receipt))
    sent = pair.pk.ok("bundles", "list", "--json").json()
    assert len(sent) == 1 and set(sent[0]) == KEYS
    assert sent[0]["direction"] == "sent" and sent[0]["counterpart"] == "TR-MOI" and sent[0]["seq"] == 1
    assert sent[0]["records"] == 7 and sent[0]["acknowledged"] is False and sent[0]["acknowledged_records"] == 0
    received = pair.tr.ok("bundles", "list", "--json").json()
    assert received[0]["direction"] == "received" and received[0]["counterpart"] == "PK-MOI"
    assert (
        received[0]["bundle_id"] == sent[0]["bundle_id"] and received[0]["acknowledged"] is True
    )  # TR wrote a receipt
    pair.pk.ok("import", str(receipt))
    after = pair.pk.ok("bundles", "list", "--json").json()[0]
    assert after["acknowledged"] is True and after["acknowledged_records"] == 7 and after["receipt_at"]
    text = pair.pk.ok("bundles", "list").out.splitlines()
    assert text[0].split() == ["WHEN", "(UTC)", "DIRECTION", "TO/FROM", "SEQ", "RECORDS", "ACKNOWLEDGED", "BUNDLE"]
    assert text[1].split()[2:5] == ["sent", "TR-MOI", "1"] and text[1].endswith(sent[0]["bundle_id"])
    assert pair.pk.ok("bundles", "list", "--json", "--direction", "received").json() == []


def test_withdraw_from_the_command_line(pair: Pair) -> None:
    bundle = pair.path("1.bundle")
    pair.pk.ok("export", "--to", "TR-MOI", "--out", str(bundle))
    pair.tr.ok("import", str(bundle))
    ref = pair.refs["amber2"]
    reason = pair.path("reason.txt")
    reason.write_text("The source recanted.\nDo not act on this report.\n")
    result = pair.pk.ok("withdraw", ref, "--reason-file", str(reason))
    assert result.err.strip() == f"{ref} withdrawn; the next bundle to TR-MOI will carry the withdrawal"
    before = store_fingerprint(pair.pk.path)
    assert_refused(pair.pk.cli("withdraw", ref), f"{ref} is already withdrawn")
    assert_refused(
        pair.pk.cli("withdraw", pair.refs["draft"]),
        f"{pair.refs['draft']} is draft; only shared records can be withdrawn",
    )
    assert_refused(
        pair.pk.cli("withdraw", ref, "--reason", "a", "--reason-file", str(reason)),
        "give --reason or --reason-file, not both",
    )
    assert store_fingerprint(pair.pk.path) == before
    out = pair.pk.ok("export", "--to", "TR-MOI", "--out", str(pair.path("2.bundle")))
    assert out.err.splitlines()[-1] == "carried 1 withdrawal notice for records withdrawn since they were sent"
    result = pair.tr.ok("import", str(pair.path("2.bundle")))
    assert "1 withdrawn by PK-MOI" in result.err
    shown = pair.tr.show(ref)
    assert shown["withdrawal"]["reason"] == "The source recanted.\nDo not act on this report.\n"
    assert pair.tr.ok("bundles", "list", "--json").json()[0]["withdrawals"] == 1


def test_activity_of_a_record_on_both_sides(pair: Pair) -> None:
    ref = pair.refs["amber3"]
    bundle, receipt = pair.path("1.bundle"), pair.path("1.receipt")
    pair.pk.ok("export", "--to", "TR-MOI", "--out", str(bundle))
    pair.tr.ok("import", str(bundle), "--receipt-out", str(receipt))
    pair.pk.ok("import", str(receipt))
    pk = pair.pk.ok("activity", ref, "--json").json()
    assert [e["kind"] for e in pk] == ["created", "submitted", "approved", "shared", "acknowledged"]
    assert (
        pk[3]["counterpart"] == "TR-MOI"
        and pk[3]["revision"] == 1
        and set(pk[0]) == {"at", "kind", "officer", "revision", "counterpart", "bundle_id", "comment"}
    )
    tr = pair.tr.ok("activity", ref, "--json").json()
    assert [e["kind"] for e in tr] == ["created", "received"] and tr[1]["counterpart"] == "PK-MOI"
    text = pair.pk.ok("activity", ref).out.splitlines()
    assert text[0].split() == ["WHEN", "(UTC)", "EVENT", "OFFICER", "DETAIL"]
    assert text[4].split()[2:] == ["shared", "alice", "revision", "1", "to", "TR-MOI"]
    # every column starts where its heading does (tui.cli.table's sizing, like every table the CLI prints)
    for heading in ("EVENT", "OFFICER", "DETAIL"):
        at = text[0].index(heading)
        assert all(line[at - 1] == " " and line[at] != " " for line in text[1:] if len(line) > at), (heading, text)
    assert_refused(pair.pk.cli("activity", "PK-MOI-2026-99999"), "no record PK-MOI-2026-99999")
