"""Two stores made by the CLI exchange bundles and receipts, both directions, through `tui.cli.main`."""

from __future__ import annotations

from pathlib import Path

from tests.bundles.conftest import CANARY_PK, Pair
from tests.liaison_helpers import assert_refused, find_plaintext, run_cli


def _statuses(store, *refs: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    rows = {r["reference"]: r["status"] for r in store.list_json()}
    return {ref: rows.get(ref, "—") for ref in refs}


def test_round_trip_pk_to_tr_with_receipt(pair: Pair) -> None:
    """PK exports what qualifies, TR imports it with a receipt, PK processes the receipt: acknowledged."""
    bundle, receipt = pair.path("pk-to-tr.bundle"), pair.path("tr.receipt")
    result = pair.pk.ok("export", "--to", "TR-MOI", "--out", str(bundle))
    assert "5 included" not in result.err
    assert "7 included" in result.err  # 5 AMBER, the GREEN one and the AMBER+STRICT one
    assert "1 TLP:RED (never leaves in a bundle)" in result.err
    assert "1 not releasable to TR-MOI" in result.err
    assert "1 not approved yet" in result.err
    amber = [pair.refs[f"amber{i}"] for i in range(1, 6)]
    assert set(_statuses(pair.pk, *amber).values()) == {"shared"}

    imported = pair.tr.ok("import", str(bundle), "--receipt-out", str(receipt))
    assert "7 records (7 new, 0 updated, 0 unchanged)" in imported.err
    assert receipt.exists()
    received = {r["reference"]: r for r in pair.tr.list_json("--ministry", "PK-MOI") if r["origin"] == "PK-MOI"}
    assert {r["status"] for r in received.values()} == {"received"}
    assert received[amber[0]]["origin"] == "PK-MOI"
    assert received[amber[0]]["tlp"] == "AMBER"
    assert received[pair.refs["green_shared"]]["releasable_to"] == ["PK-ANF", "TR-MOI"]
    detail = pair.tr.show(amber[0])
    assert detail["summary"].startswith(f"{CANARY_PK} heroin route 1")
    assert pair.refs["red"] not in received and pair.refs["draft"] not in received
    strict = pair.tr.sql("SELECT no_reexport FROM records WHERE reference = ?", (pair.refs["strict"],))
    assert strict == [(1,)]

    processed = pair.pk.ok("import", str(receipt))
    assert "7 records acknowledged" in processed.err
    assert set(_statuses(pair.pk, *amber).values()) == {"acknowledged"}
    acks = pair.pk.sql("SELECT count(*) FROM bundle_items WHERE acknowledged_at IS NOT NULL")
    assert acks == [(7,)]
    again = pair.pk.ok("import", str(receipt))
    assert "receipt already processed" in again.err


def test_round_trip_tr_to_pk_with_receipt(pair: Pair) -> None:
    """The other direction: TR-MOI's approved records reach PK-MOI and TR-MOI learns they arrived."""
    bundle, receipt = pair.path("tr-to-pk.bundle"), pair.path("pk.receipt")
    pair.tr.ok("export", "--to", "PK-MOI", "--out", str(bundle))
    pair.pk.ok("import", str(bundle), "--receipt-out", str(receipt))
    rows = {r["reference"]: r for r in pair.pk.list_json("--status", "received")}
    assert set(rows) == {pair.refs["tr1"], pair.refs["tr2"]}
    assert rows[pair.refs["tr1"]]["origin"] == "TR-MOI"
    pair.tr.ok("import", str(receipt))
    assert set(_statuses(pair.tr, pair.refs["tr1"], pair.refs["tr2"]).values()) == {"acknowledged"}


def test_same_bundle_twice_is_a_noop_that_says_so(pair: Pair, fingerprint) -> None:  # type: ignore[no-untyped-def]
    """Threat 12: importing a bundle again exits 0, says `already imported`, and changes nothing."""
    bundle = pair.path("b.bundle")
    pair.pk.ok("export", "--to", "TR-MOI", "--out", str(bundle))
    pair.tr.ok("import", str(bundle))
    before = fingerprint(pair.tr.path)
    again = pair.tr.ok("import", str(bundle))
    assert again.err.startswith("already imported: bundle ")
    assert fingerprint(pair.tr.path) == before


def test_second_export_carries_only_what_was_not_sent(pair: Pair) -> None:
    """A record's latest revision goes to a ministry once; a second export has nothing new and says why."""
    pair.pk.ok("export", "--to", "TR-MOI", "--out", str(pair.path("one.bundle")))
    second = pair.pk.cli("export", "--to", "TR-MOI", "--out", str(pair.path("two.bundle")))
    assert_refused(second, "nothing to export to TR-MOI (7 already sent to TR-MOI (latest revision)", exact=False)
    assert not pair.path("two.bundle").exists()


def test_bundles_arriving_out_of_order_are_accepted(pair: Pair) -> None:
    """Sequence 2 imported before sequence 1: both accepted (unseen lower numbers are fine)."""
    first, second = pair.path("seq1.bundle"), pair.path("seq2.bundle")
    pair.pk.ok("export", "--to", "TR-MOI", "--out", str(first), pair.refs["amber1"])
    pair.pk.ok("export", "--to", "TR-MOI", "--out", str(second), pair.refs["amber2"])
    assert "(seq 2," in pair.tr.ok("import", str(second)).err
    assert "(seq 1," in pair.tr.ok("import", str(first)).err
    assert {r["reference"] for r in pair.tr.list_json("--status", "received")} == {
        pair.refs["amber1"],
        pair.refs["amber2"],
    }


def test_newer_revision_updates_the_received_record_and_keeps_history(pair: Pair) -> None:
    """A record returned, edited and approved again travels as revision 2; the receiver keeps both revisions."""
    ref = pair.refs["amber3"]
    pair.pk.ok("export", "--to", "TR-MOI", "--out", str(pair.path("r1.bundle")), ref)
    pair.tr.ok("import", str(pair.path("r1.bundle")))
    pair.pk.signed_sql("UPDATE records SET status = 'returned' WHERE reference = ?", (ref,), reference=ref)
    pair.pk.ok("edit", ref, "--title", "Heroin route 3, corrected", "--summary", "Corrected summary")
    pair.pk.ok("submit", ref)
    pair.pk.ok("review", ref, "--approve")
    pair.pk.ok("export", "--to", "TR-MOI", "--out", str(pair.path("r2.bundle")), ref)
    result = pair.tr.ok("import", str(pair.path("r2.bundle")))
    assert "(0 new, 1 updated, 0 unchanged)" in result.err
    detail = pair.tr.show(ref)
    assert detail["title"] == "Heroin route 3, corrected"
    assert [r["number"] for r in detail["revisions"]] == [1, 2]
    assert detail["status"] == "received"
    assert [r["reference"] for r in pair.tr.list_json("--search", "corrected")] == [ref]


def test_passphrase_bundle_for_a_ministry_without_a_card(pair: Pair, tmp_path: Path) -> None:
    """`--passphrase-file` after `export` adds a passphrase stanza; the receiver opens it with the same file."""
    secret = tmp_path / "bundle.pw"
    secret.write_text("a shared bundle passphrase\n")
    pair.pk.sql("DELETE FROM contacts WHERE code = 'TR-MOI'")
    bundle = pair.path("pw.bundle")
    no_card = pair.pk.cli("export", "--to", "TR-MOI", "--out", str(bundle))
    assert_refused(
        no_card,
        "no contact card for TR-MOI; add one with `liaison contacts add CARD` (or give --passphrase-file to protect the bundle with a passphrase)",
    )
    made = pair.pk.ok(
        "export", "--to", "TR-MOI", "--out", str(bundle), "--passphrase-file", str(secret), pair.refs["amber1"]
    )
    assert "protected by the bundle passphrase" in made.err
    without = pair.tr.cli("import", str(bundle))
    assert_refused(without, "pw.bundle: the bundle is protected by a passphrase; give it with --passphrase-file")
    wrong = tmp_path / "wrong.pw"
    wrong.write_text("not it\n")
    assert_refused(
        pair.tr.cli("import", str(bundle), "--passphrase-file", str(wrong)), "pw.bundle: wrong bundle passphrase"
    )
    pair.tr.ok("import", str(bundle), "--passphrase-file", str(secret))
    assert [r["reference"] for r in pair.tr.list_json("--status", "received")] == [pair.refs["amber1"]]


def test_receipt_for_a_bundle_never_sent(pair: Pair) -> None:
    """A receipt naming a bundle this store never sent is refused."""
    import shutil

    other = pair.path("PK-copy.db")
    shutil.copyfile(pair.pk.path, other)
    from tests.liaison_helpers import LiaisonStore

    copy = LiaisonStore(other, workstation=pair.path("copy-workstation"))
    copy.ok("export", "--to", "TR-MOI", "--out", str(pair.path("c.bundle")))
    pair.tr.ok("import", str(pair.path("c.bundle")), "--receipt-out", str(pair.path("c.receipt")))
    result = pair.pk.cli("import", str(pair.path("c.receipt")))
    assert_refused(result, "c.receipt: receipt for a bundle never sent to TR-MOI", exact=False)


def test_imported_plaintext_is_not_on_disk(pair: Pair) -> None:
    """Imported records are re-encrypted under the receiver's keyring: no title or summary text on disk."""
    bundle = pair.path("b.bundle")
    pair.pk.ok("export", "--to", "TR-MOI", "--out", str(bundle))
    pair.tr.ok("import", str(bundle))
    assert find_plaintext(pair.tr.path, f"{CANARY_PK} heroin route") == []
    assert CANARY_PK.encode() not in bundle.read_bytes()


def test_identity_and_contacts_commands(pair: Pair) -> None:
    """`identity show` groups the fingerprint; `contacts add --fingerprint` refuses a mismatch; `contacts list --json`."""
    shown = pair.pk.ok("identity", "show").out.splitlines()
    assert shown[0].startswith("PK-MOI  Ministry of Interior, Pakistan")
    groups = shown[1].removeprefix("fingerprint: ").split(" ")
    assert len(groups) == 16 and all(len(g) == 4 for g in groups)
    listed = pair.tr.ok("contacts", "list", "--json").json()
    assert [c["code"] for c in listed] == ["PK-MOI"]
    assert listed[0]["fingerprint"] == "".join(groups)
    bad = pair.tr.cli("contacts", "add", str(pair.path("pk.card")), "--fingerprint", "00" * 32)
    assert bad.code == 1 and "Traceback" not in bad.err
    assert bad.err_lines[-1].startswith("error: fingerprint mismatch for PK-MOI: the card has " + " ".join(groups[:4]))
    assert "fingerprint: " + " ".join(groups) in bad.err  # shown either way
    same = pair.tr.ok("contacts", "add", str(pair.path("pk.card")), "--fingerprint", " ".join(groups))
    assert "already a contact with this key" in same.err
    run = run_cli("--store", str(pair.tr.path), "contacts", "list")
    assert run.code == 1  # no passphrase: refused, not a traceback


def test_receipt_reports_records_that_did_not_arrive_as_sent(pair: Pair) -> None:
    """A receipt whose hash for one record differs acknowledges the others and reports the mismatch."""
    from datetime import UTC, datetime

    from crypto import bundle as fmt
    from crypto.card import read_card
    from crypto.identity import public_identity

    bundle = pair.path("b.bundle")
    pair.pk.ok("export", "--to", "TR-MOI", "--out", str(bundle))
    pair.tr.ok("import", str(bundle))
    rows = pair.tr.sql(
        "SELECT bundle_id, record_uuid, reference, revision, content_sha256 FROM bundle_items ORDER BY reference"
    )
    items = [[u, ref, rev, digest] for _b, u, ref, rev, digest in rows]
    items[0][3] = "0" * 64
    pk_card = read_card(pair.path("pk.card").read_bytes())
    session = pair.tr.session()
    try:
        keys = session.keyring
        data = fmt.write_receipt(
            bundle_id=rows[0][0],
            sender="TR-MOI",
            sender_fingerprint=public_identity(keys.signing_key, keys.exchange_key).fingerprint,
            signing_key=keys.signing_key,
            recipient="PK-MOI",
            recipient_fingerprint=pk_card.fingerprint,
            recipient_exchange_public=pk_card.identity.exchange_public,
            received_at=datetime.now(UTC),
            items=items,
            created=datetime.now(UTC),
        )
    finally:
        session.vault.close()
    pair.path("odd.receipt").write_bytes(data)
    result = pair.pk.ok("import", str(pair.path("odd.receipt")))
    assert "6 records acknowledged" in result.err and "1 did not match what was sent, 0 missing" in result.err
    assert _statuses(pair.pk, items[0][1]) == {items[0][1]: "shared"}
