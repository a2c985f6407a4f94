"""`liaison demo` prepares the TR-MOI counterpart: a second store, cards exchanged, a ledger and a pending bundle."""

from __future__ import annotations

from pathlib import Path

from tests.liaison_helpers import LiaisonStore, run_cli


def test_demo_has_a_counterpart_and_a_pending_bundle(tmp_path: Path) -> None:
    """Build the demo, then import the pending bundle with a receipt and hand the receipt back to TR-MOI."""
    pk_path = tmp_path / "demo" / "pk-moi.db"
    built = run_cli("demo", "--store", str(pk_path), "--records", "80", "--no-tui")
    assert built.code == 0, built
    tr_path = pk_path.with_name("tr-moi.db")
    pending = pk_path.with_name("from-tr-moi.bundle")
    assert tr_path.exists() and pending.exists()
    assert f"pending inbound bundle from TR-MOI: {pending}" in built.err
    env = {"LIAISON_PASSPHRASE": "demo"}
    pk, tr = LiaisonStore(pk_path), LiaisonStore(tr_path)
    assert [c["code"] for c in pk.ok("contacts", "list", "--json", officer="demo", env=env).json()] == ["TR-MOI"]
    assert [c["code"] for c in tr.ok("contacts", "list", "--json", officer="demo", env=env).json()] == ["PK-MOI"]
    shared = pk.sql(
        "SELECT count(*) FROM records r JOIN record_parties p ON p.record_id = r.id AND p.ministry = 'TR-MOI' WHERE r.origin = 'PK-MOI' AND r.status IN ('shared', 'acknowledged')"
    )[0][0]
    ledgered = pk.sql(
        "SELECT count(DISTINCT record_id) FROM bundle_items i JOIN bundles b USING (bundle_id) WHERE b.direction = 'out'"
    )[0][0]
    assert shared > 0 and ledgered == shared
    acknowledged = pk.sql(
        "SELECT count(*) FROM bundle_items i JOIN records r ON r.id = i.record_id WHERE r.status = 'acknowledged' AND i.acknowledged_at IS NULL"
    )
    assert acknowledged == [(0,)]
    receipt = tmp_path / "demo" / "to-tr-moi.receipt"
    imported = pk.ok("import", str(pending), "--receipt-out", str(receipt), officer="demo", env=env)
    assert "from TR-MOI" in imported.err
    back = tr.ok("import", str(receipt), officer="demo", env=env)
    assert "records acknowledged" in back.err
    onward = pk.ok(
        "export", "--to", "TR-MOI", "--out", str(tmp_path / "demo" / "to-tr.bundle"), officer="demo", env=env
    )
    assert "already sent to TR-MOI" in onward.err
    again = run_cli("demo", "--store", str(pk_path), "--records", "20", "--no-tui")
    assert again.code == 0, again  # rebuilding replaces both demo stores
