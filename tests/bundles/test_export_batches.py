"""An export proves the log once and then checks and writes its selection batch by batch (`store.audit.fullcheck`):
a damaged record in any batch, carried or left out, still refuses the whole export naming every damaged record,
and nothing is written."""

from __future__ import annotations

import sqlite3

import pytest

import store.audit.fullcheck
import store.bundles.export
from store.audit.fullcheck import FullCheck, Seen
from store.bundles import export_bundle, import_bundle, plan_export
from store.errors import IntegrityError
from tests.bundles.conftest import Pair
from tests.liaison_helpers import directory_snapshot, store_fingerprint


def _relabel(pair: Pair, *roles: str) -> None:
    conn = sqlite3.connect(pair.pk.path)
    try:
        for role in roles:
            conn.execute("UPDATE records SET tlp = 'GREEN' WHERE reference = ?", (pair.refs[role],))
        conn.commit()
    finally:
        conn.close()


def _others(pair: Pair) -> dict[str, str]:
    """The files beside the stores (a bundle or a temporary file left behind would show)."""
    return {name: digest for name, digest in directory_snapshot(pair.root).items() if not name.startswith("PK.db")}


def test_damage_in_any_batch_refuses_the_export_naming_every_damaged_record(
    pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Threat 25: with batches of two, records relabelled in the first and the third carried batch and one left out
    (a draft) are all named; no bundle, no temporary file, no ledger row, status or event is left behind; the
    intact records named explicitly still go, batch by batch, and import on the other side."""
    monkeypatch.setattr(store.bundles.export, "BATCH", 2)
    monkeypatch.setattr(store.audit.fullcheck, "BATCH", 2)
    _relabel(pair, "amber1", "amber5", "draft")
    damaged = sorted(pair.refs[role] for role in ("amber1", "amber5", "draft"))
    before, files = store_fingerprint(pair.pk.path), _others(pair)
    bundle = pair.path("all.bundle")
    pk = pair.pk.session()
    try:
        plan = plan_export(pk, "TR-MOI")
        assert sorted(plan.damaged) == damaged
        with pytest.raises(IntegrityError) as refused:
            export_bundle(pk, "TR-MOI", bundle)
        message = str(refused.value)
        assert message.startswith(
            f"export to TR-MOI refused: 3 damaged records in the selection ({damaged[0]}: its TLP is TLP:GREEN"
        ), message
        assert all(ref in message for ref in damaged)
        assert not bundle.exists()
        assert store_fingerprint(pair.pk.path) == before and _others(pair) == files

        intact = [pair.refs[role] for role in ("amber2", "amber3", "amber4", "green_shared", "strict")]
        result = export_bundle(pk, "TR-MOI", bundle, refs=intact)
        assert sorted(result.plan.included_refs) == sorted(intact)
    finally:
        pk.vault.close()
    tr = pair.tr.session()
    try:
        assert import_bundle(tr, bundle).records == len(intact)
    finally:
        tr.vault.close()
    assert pair.pk.cli("audit", "verify").code == 1  # the relabelled records are still damaged
    shared = {ref: status for ref, status in pair.pk.sql("SELECT reference, status FROM records")}
    assert {shared[ref] for ref in intact} == {"shared"}


def test_the_full_pass_keeps_no_event_body(pair: Pair) -> None:
    """What the one pass over the log keeps of each selected record: seqs, and of each writing event its officer,
    key, author and revision; the bodies are read back by seq once the root holds (an export of 100,000 records
    held ~1.4 KB of event per record before)."""
    pk = pair.pk.session()
    try:
        with pk.db.read() as s:
            ids = [int(rid) for (rid,) in s.execute(store.bundles.export.select(store.bundles.export.Record.id))]
            check = FullCheck.prove(s, pk.keys(), ids, own_ministry=pk.ministry, four_eyes=pk.four_eyes)
            assert check.problem is None and len(check.seen) == len(ids)
            for _uuid, seen in check.seen.values():
                assert isinstance(seen, Seen) and seen.latest is not None
                for seq, officer, signer, _author, _revision in seen.writers:
                    assert isinstance(seq, int) and isinstance(officer, str) and len(signer) == 32
            states, damaged = check.batch(ids)
            assert damaged == {} and sorted(states) == sorted(ids)
    finally:
        pk.vault.close()
