"""An export's `share` events (`events.note_records` with the states its damage check read) queue in the compact
form (`store.audit.bulk`) with their data encoded once, and are signed as exactly the bytes the dict form gave."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from crypto.events import event_bytes
from store.audit import events as queue
from store.audit.bulk import BodyWriter, StateEvent, encode_data, pack
from store.audit.log import EVENT_VERSION, PendingEvent, _body, iso
from store.bundles import export_bundle
from tests.bundles.conftest import Pair
from tests.store.test_audit_bulk import states, texts, times


@settings(max_examples=300)
@given(states(), st.integers(min_value=1, max_value=2**62), times, texts, texts, texts, texts)
def test_a_packed_share_event_signs_the_same_bytes(
    drawn: tuple[dict[str, Any], dict[str, bytes]],
    seq: int,
    at: datetime,
    store: str,
    officer: str,
    bundle_id: str,
    recipient: str,
) -> None:
    state, _wrote = drawn
    data = {"bundle_id": bundle_id, "recipient": recipient}
    packed = pack("share", state, {}, None, data_json=encode_data(data))
    assert isinstance(packed, StateEvent)
    at_text = iso(at)
    assert at_text is not None
    body = BodyWriter(EVENT_VERSION, at_text, store, officer).body(seq, packed, 7)
    # as `log.append` signed a `note_records` event before: target the reference, nothing written, the data
    ev = PendingEvent("share", state["reference"], state=state, data=dict(data))
    assert body == event_bytes(_body(seq, at, store, officer, ev, {**state, "wrote": {}}, None, 7))


def test_an_exports_share_events_are_queued_compact_and_verify(pair: Pair, monkeypatch: Any) -> None:
    queued: list[Any] = []
    original = queue.pack

    def spy(*args: Any, **kwargs: Any) -> StateEvent | None:
        packed = original(*args, **kwargs)
        queued.append(packed)
        return packed

    monkeypatch.setattr(queue, "pack", spy)
    size = pair.pk.sql("SELECT max(seq) FROM audit_log")[0][0]
    pk = pair.pk.session()
    try:
        result = export_bundle(pk, "TR-MOI", pair.path("all.bundle"))
    finally:
        pk.vault.close()
    assert queued and all(isinstance(p, StateEvent) for p in queued)
    shares = pair.pk.sql("SELECT body, target FROM audit_log WHERE seq > ? AND action = 'share' ORDER BY seq", (size,))
    assert len(shares) == len(queued) == len(result.plan.included)
    for body, target in shares:
        parsed = json.loads(body)
        assert event_bytes(parsed) == bytes(body) and parsed["target"] == target
        assert parsed["data"] == {"bundle_id": result.bundle_id, "recipient": "TR-MOI"}
        assert parsed["record"]["status"] == "shared" and parsed["record"]["wrote"] == {}
    assert pair.pk.cli("audit", "verify").code == 0
