"""The demo holds only states the real commands can produce: a new officer learns the rules from it.

Walks both demo stores (PK-MOI and its TR-MOI counterpart) and holds every record and ledger row to the rules
`import`, `import RECEIPT` and `export` enforce — the rules of Threat 20 (TLP:RED never travels) and Threat 24
(only a record's recipient acknowledges it), which the demo must not show broken.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from sqlalchemy import select

from store.demo import DEMO_MINISTRY, DEMO_OFFICER, DEMO_PASSPHRASE, build_demo, counterpart_path
from store.history import bundle_history, record_activity
from store.models import BundleItem, BundleLog, Record, RecordParty
from store.policy import import_refusal
from store.service import Session, Vault
from store.vocab import Status


def _ledger(session: Session) -> list[tuple[str, str, str, bool, int | None, bool]]:
    """(bundle id, direction, peer, bundle has a receipt, record id, item acknowledged) for every ledger row."""
    with session.db.read() as s:
        return [
            (b, d, p, r is not None, rid, a is not None)
            for b, d, p, r, rid, a in s.execute(
                select(
                    BundleLog.bundle_id,
                    BundleLog.direction,
                    BundleLog.peer,
                    BundleLog.receipt_at,
                    BundleItem.record_id,
                    BundleItem.acknowledged_at,
                ).join(BundleItem, BundleItem.bundle_id == BundleLog.bundle_id)
            )
        ]


def _check_sent_bundles(session: Session) -> None:
    """A receipt acknowledges a sent bundle's records at once: a sent bundle has a receipt exactly when its records
    are acknowledged, and `bundles list` says so."""
    rows = _ledger(session)
    acked: dict[str, set[bool]] = defaultdict(set)
    receipt: dict[str, bool] = {}
    for bundle, direction, _peer, has_receipt, _rid, is_acked in rows:
        if direction == "out":
            acked[bundle].add(is_acked)
            receipt[bundle] = has_receipt
    assert acked, "the demo sent nothing"
    for bundle, states in acked.items():
        assert states == {receipt[bundle]}, (session.ministry, bundle, states, receipt[bundle])
    listed = {e.bundle_id: e for e in bundle_history(session, direction="sent")}
    for bundle, has_receipt in receipt.items():
        assert listed[bundle].acknowledged is has_receipt
        assert (listed[bundle].acknowledged_records > 0) is has_receipt


def test_the_demo_shows_only_states_the_commands_can_produce(tmp_path: Path) -> None:
    result = build_demo(tmp_path / "pk-moi.db", records=300)
    vault, tr_vault = Vault.open(result.path), Vault.open(counterpart_path(result.path))
    try:
        pk = vault.unlock(DEMO_OFFICER, DEMO_PASSPHRASE)
        tr = tr_vault.unlock(DEMO_OFFICER, DEMO_PASSPHRASE)
        with pk.db.read() as s:
            records = s.execute(
                select(Record.id, Record.reference, Record.origin, Record.tlp, Record.status, Record.no_reexport)
            ).all()
            parties: dict[int, list[str]] = defaultdict(list)
            for rid, ministry in s.execute(
                select(RecordParty.record_id, RecordParty.ministry).where(RecordParty.is_origin.is_(False))
            ):
                parties[rid].append(ministry)
        inbound = [r for r in records if r.origin != DEMO_MINISTRY]
        assert inbound and {r.status for r in inbound} <= {"received", "actioned", "closed"}
        # 1. every record held from another ministry is one `import` would have let in: no TLP:RED among them
        for r in inbound:
            why = import_refusal(
                reference=r.reference,
                origin=r.origin,
                releasable_to=parties[r.id],
                tlp=r.tlp,
                no_reexport=r.no_reexport,
                sender=r.origin,
                local=DEMO_MINISTRY,
            )
            assert why is None, why
        # 2. a received record is never acknowledged by its sender: only what we sent gets a receipt
        ledger = _ledger(pk)
        assert any(d == "in" for _b, d, *_ in ledger)
        assert [row for row in ledger if row[1] == "in" and row[5]] == []
        for r in inbound[:40]:
            kinds = [(e.kind, e.counterpart) for e in record_activity(pk, r.reference)]
            assert not any(kind == "acknowledged" for kind, _c in kinds), (r.reference, kinds)
        # 3. sent bundles: a receipt exactly when their records are acknowledged, and the records' status agrees
        _check_sent_bundles(pk)
        _check_sent_bundles(tr)
        acked_items = {rid for _b, d, _p, _r, rid, a in ledger if d == "out" and a}
        for r in records:
            if r.origin == DEMO_MINISTRY and r.status in (Status.SHARED.value, Status.ACKNOWLEDGED.value):
                assert (r.id in acked_items) is (r.status == Status.ACKNOWLEDGED.value), (r.reference, r.status)
            if r.origin == DEMO_MINISTRY and r.tlp == "RED":
                assert r.id not in {rid for _b, d, _p, _r, rid, _a in ledger if d == "out"}, r.reference
    finally:
        tr_vault.close()
        vault.close()
