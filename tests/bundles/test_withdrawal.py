"""Withdrawal (issue 10 item 8), between two real stores: the origin withdraws a shared record, the next bundle
to each recipient carries the signed notice, the receiver flags the record (content kept, never exported on),
and a notice from anyone but the record's origin refuses the whole bundle."""

from __future__ import annotations

from typing import Any

import pytest

import store.bundles.export
import store.policy
from store.bundles import export_bundle, import_bundle, plan_export
from store.errors import NotFound, PolicyError, ValidationError
from tests.bundles.conftest import Pair
from tests.liaison_helpers import assert_refused, store_fingerprint
from tui.present import import_summary, record_detail_json


def _share(pair: Pair) -> None:
    """PK-MOI sends everything releasable to TR-MOI, which imports it."""
    pair.pk.ok("export", "--to", "TR-MOI", "--out", str(pair.path("1.bundle")))
    pair.tr.ok("import", str(pair.path("1.bundle")))


def test_withdrawal_round_trip(pair: Pair) -> None:
    _share(pair)
    ref = pair.refs["green_shared"]
    pk = pair.pk.session()
    try:
        assert store.policy.RecordAction.WITHDRAW in pk.available_actions(ref)
        info = pk.withdraw(ref, "Source retracted the report; do not act on it.")
        assert store.policy.RecordAction.WITHDRAW not in pk.available_actions(ref)
        assert info.direction == "sent" and info.pending == ("TR-MOI",) and info.delivered == ()
        with pytest.raises(PolicyError, match="already withdrawn"):
            pk.withdraw(ref)
        # the next bundle carries the notice even though no record is left to send
        result = export_bundle(pk, "TR-MOI", pair.path("2.bundle"))
        assert result.withdrawals == 1 and result.plan.included == []
        after = pk.withdrawal(ref)
        assert after.pending == () and [(p, b) for p, b, _ in after.delivered] == [("TR-MOI", result.bundle_id)]
        kinds = [e.kind for e in pk.record_activity(ref)]
        assert kinds == ["created", "submitted", "approved", "shared", "withdrawn", "withdrawal-sent"]
        # nothing more to tell TR-MOI: a third export has nothing to carry
        with pytest.raises(store.bundles.NothingToExport):
            export_bundle(pk, "TR-MOI", pair.path("3.bundle"))
    finally:
        pk.vault.close()

    tr = pair.tr.session()
    try:
        title_before = tr.get_record(ref).row.title
        imported = import_bundle(tr, pair.path("2.bundle"))
        assert imported.withdrawn == 1 and imported.records == 0
        assert "1 withdrawn by PK-MOI" in import_summary(imported)
        got = tr.withdrawal(ref)
        assert got.direction == "received" and got.origin == "PK-MOI"
        assert got.reason == "Source retracted the report; do not act on it."
        detail = tr.get_record(ref)
        assert detail.row.title == title_before  # content kept
        assert record_detail_json(detail)["withdrawal"]["reason"] == got.reason
        activity = tr.record_activity(ref)
        assert [e.kind for e in activity][-1] == "withdrawn" and activity[-1].counterpart == "PK-MOI"
        # GREEN, releasable to PK-ANF: TR-MOI could pass it on before; withdrawn, it never leaves again
        plan = plan_export(tr, "PK-ANF")
        assert ref in plan.excluded[store.bundles.Exclusion.WITHDRAWN]
        history = tr.bundle_history()
        assert history[0].direction == "received" and history[0].withdrawals == 1 and history[0].records == 0
        # the same bundle again is a no-op
        assert import_bundle(tr, pair.path("2.bundle")).already_imported
    finally:
        tr.vault.close()
    shown = pair.tr.show(ref)
    assert shown["withdrawal"]["origin"] == "PK-MOI"


def test_withdrawal_reaches_every_recipient_once(pair: Pair) -> None:
    """Withdrawn before the record was sent to a ministry: that ministry gets no notice (it never had it)."""
    _share(pair)
    ref = pair.refs["amber1"]
    pk = pair.pk.session()
    try:
        pk.withdraw(ref)
        plan = plan_export(pk, "TR-MOI")
        assert plan.included == []
        assert pk.withdrawal(ref).pending == ("TR-MOI",)
        to_anf = export_bundle(pk, "PK-ANF", pair.path("anf.bundle"), passphrase=b"bundle words")
        assert to_anf.plan.included and to_anf.withdrawals == 0
        assert pk.withdrawal(ref).pending == ("TR-MOI",)
        to_tr = export_bundle(pk, "TR-MOI", pair.path("2.bundle"))
        assert to_tr.withdrawals == 1 and pk.withdrawal(ref).pending == ()
    finally:
        pk.vault.close()


def test_only_a_shared_record_of_this_ministry_can_be_withdrawn(pair: Pair) -> None:
    _share(pair)
    pk = pair.pk.session()
    try:
        with pytest.raises(PolicyError, match="only shared records can be withdrawn"):
            pk.withdraw(pair.refs["draft"])
        with pytest.raises(NotFound):
            pk.withdraw("PK-MOI-2026-99999")
        with pytest.raises(ValidationError, match="reason contains a control character"):
            pk.withdraw(pair.refs["amber1"], "bad \x1b[31m reason")
    finally:
        pk.vault.close()
    before = store_fingerprint(pair.tr.path)
    tr = pair.tr.session()
    try:
        with pytest.raises(PolicyError):
            tr.withdraw(pair.refs["amber1"])  # received from PK-MOI: not TR-MOI's to withdraw
    finally:
        tr.vault.close()
    assert store_fingerprint(pair.tr.path) == before


def _forged(pair: Pair, monkeypatch: pytest.MonkeyPatch, notice: dict[str, Any]) -> None:
    """TR-MOI's next bundle to PK-MOI carries `notice` (as a modified TR-MOI would send it, signed by TR-MOI)."""
    monkeypatch.setattr(store.bundles.export, "pending_notices", lambda session, s, peer: [(0, notice)])
    monkeypatch.setattr(store.bundles.export, "record_deliveries", lambda *a: None)
    tr = pair.tr.session()
    try:
        export_bundle(tr, "PK-MOI", pair.path("forged.bundle"))
    finally:
        tr.vault.close()


@pytest.mark.parametrize("claimed_origin", ["PK-MOI", "TR-MOI"])
def test_a_withdrawal_from_anyone_but_the_origin_refuses_the_bundle(
    pair: Pair, monkeypatch: pytest.MonkeyPatch, claimed_origin: str
) -> None:
    ref = pair.refs["amber1"]
    uuid = pair.pk.show(ref)["uuid"]
    notice = {
        "kind": "withdrawal",
        "uuid": uuid,
        "reference": ref,
        "origin": claimed_origin,
        "withdrawn_at": "2026-01-01T00:00:00.000000Z",
        "officer": "mallory",
        "reason": "",
    }
    _forged(pair, monkeypatch, notice)
    before = store_fingerprint(pair.pk.path)
    result = pair.pk.cli("import", str(pair.path("forged.bundle")))
    assert_refused(result, "forged.bundle: withdrawal of", exact=False)
    assert store_fingerprint(pair.pk.path) == before
    assert pair.pk.show(ref)["withdrawal"] is None


def test_a_malformed_notice_is_refused_by_the_format(pair: Pair, monkeypatch: pytest.MonkeyPatch) -> None:
    from crypto.bundle import BundleError, validate_entry

    good = {
        "kind": "withdrawal",
        "uuid": "0f8fad5b-d9cb-469f-a165-70867728950e",
        "reference": "PK-MOI-2026-00001",
        "origin": "PK-MOI",
        "withdrawn_at": "2026-01-01T00:00:00.000000Z",
        "officer": "ayesha",
        "reason": "",
    }
    assert validate_entry(good, "chunk 1 record 1") == good
    for bad in (
        {**good, "kind": "delete"},
        {**good, "extra": 1},
        {k: v for k, v in good.items() if k != "reason"},
        {**good, "withdrawn_at": "yesterday"},
    ):
        with pytest.raises(BundleError):
            validate_entry(bad, "chunk 1 record 1")
