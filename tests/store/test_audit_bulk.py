"""A bulk path's record events queued in their compact form (`store.audit.bulk`) are signed as exactly the bytes
the dict form gave before (`event_bytes` of the event body `log.append` built from the state dict): every store's
log reads and verifies the same, whichever form queued the event."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto.events import event_bytes
from store.audit import events as queue
from store.audit.bulk import BodyWriter, StateEvent, pack, pack_written, unpack
from store.audit.log import EVENT_VERSION, PendingEvent, _body, build_state, iso
from store.ingest import IngestItem
from tests.liaison_helpers import LiaisonStore

texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)
times = st.datetimes(min_value=datetime(1000, 1, 1), max_value=datetime(9999, 12, 30)).map(
    lambda moment: moment.replace(tzinfo=UTC)
)
blobs = st.binary(min_size=0, max_size=40)


def dict_body(
    seq: int, at: datetime, store: str, officer: str, action: str, state: dict[str, Any], wrote: Any, position: int = 0
) -> bytes:
    """The body as `log.append` signed a `note_state` event before the compact form: from the queued dicts."""
    ev = PendingEvent(
        action,
        state["reference"],
        state=state,
        wrote={k: hashlib.sha256(v).hexdigest() for k, v in wrote.items()},
        data={},
    )
    record = {**state, "wrote": dict(sorted(ev.wrote.items()))}
    return event_bytes(_body(seq, at, store, officer, ev, record, None, position))


@st.composite
def written(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, bytes]]:
    """What a bulk writer knows of a record it has just written (`build_state`'s arguments) and what it wrote."""
    title_ct = draw(blobs)
    body_ct = draw(blobs)
    reviews = draw(st.lists(st.tuples(texts, texts, times, st.none() | blobs), max_size=3))
    args = {
        "uuid": draw(texts),
        "reference": draw(texts),
        "domain": draw(texts),
        "origin": draw(texts),
        "releasable_to": draw(st.lists(texts, max_size=4).map(tuple)),
        "tlp": draw(texts),
        "status": draw(texts),
        "author": draw(texts),
        "revision": draw(st.integers(min_value=-(2**63), max_value=2**63) | st.booleans()),
        "no_reexport": draw(st.booleans() | st.integers(0, 1)),
        "title_ct": title_ct,
        "current": (
            draw(st.integers(min_value=0, max_value=2**40)),
            draw(texts),
            draw(texts),
            draw(texts),
            draw(times),
            draw(st.sampled_from([title_ct, bytes(bytearray(title_ct)), title_ct + b"other"])),
            body_ct,
        ),
        "reviews": reviews,
        "withdrawn": draw(st.booleans()),
    }
    shape = draw(st.sampled_from(["same objects", "copies", "comments", "other"]))
    wrote = {"title": title_ct, "body": body_ct}
    if shape == "copies":
        wrote = {"title": bytes(bytearray(title_ct)), "body": bytes(bytearray(body_ct))}
    if shape == "comments":
        wrote.update({f"comment{i}": ct for i, (*_rest, ct) in enumerate(reviews, 1) if ct})
    if shape == "other":
        wrote = draw(st.dictionaries(texts, blobs, max_size=3))
    return args, wrote


@settings(max_examples=300)
@given(written(), st.sampled_from(["import", "ingest"]))
def test_packing_from_the_rows_is_packing_the_state(
    drawn: tuple[dict[str, Any], dict[str, bytes]], action: str
) -> None:
    """`pack_written` gives the event `pack` gives of `build_state`'s dict (so, above, the same signed bytes)."""
    args, wrote = drawn
    direct = pack_written(action, wrote=wrote, **args)
    assert direct is not None
    assert direct == pack(action, build_state(**args), wrote, None)
    assert unpack(direct) == (build_state(**args), {k: hashlib.sha256(v).hexdigest() for k, v in wrote.items()})


def test_packing_from_the_rows_leaves_anything_but_plain_text_to_the_dict() -> None:
    class Code(str):
        pass

    at = datetime(2026, 12, 6, 5, 0, tzinfo=UTC)
    args: dict[str, Any] = {
        "uuid": "u",
        "reference": "PK-MOI-2026-00001",
        "domain": "narcotics",
        "origin": "PK-MOI",
        "releasable_to": ("TR-MOI",),
        "tlp": "AMBER",
        "status": "received",
        "author": "alice",
        "revision": 1,
        "no_reexport": False,
        "title_ct": b"t",
        "current": (1, "alice", "AMBER", "TR-MOI", at, b"t", b"b"),
        "reviews": [],
        "withdrawn": False,
    }
    assert pack_written("import", wrote={}, **args) is not None
    assert pack_written("import", wrote={}, **{**args, "tlp": Code("AMBER")}) is None
    assert pack_written("import", wrote={}, **{**args, "releasable_to": (Code("TR-MOI"),)}) is None


@st.composite
def states(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, bytes]]:
    title_ct = draw(blobs)
    body_ct = draw(blobs)
    origin = draw(texts)
    has_current = draw(st.booleans())
    current = (
        (
            draw(st.integers(min_value=0, max_value=2**40)),
            draw(texts),
            draw(texts),
            draw(texts),
            draw(times),
            title_ct,
            body_ct,
        )
        if has_current
        else None
    )
    reviews = draw(st.lists(st.tuples(texts, texts, times, st.none() | blobs), max_size=3))
    state = build_state(
        uuid=draw(texts),
        reference=draw(texts),
        domain=draw(texts),
        origin=origin,
        releasable_to=draw(st.lists(texts, max_size=4)),
        tlp=draw(texts),
        status=draw(texts),
        author=draw(texts),
        revision=draw(st.integers(min_value=-(2**63), max_value=2**63)),
        no_reexport=draw(st.booleans()),
        title_ct=title_ct,
        current=current,
        reviews=reviews,
        withdrawn=draw(st.booleans()),
    )
    shape = draw(st.sampled_from(["title+body", "title+body+comments", "other", "none"]))
    wrote: dict[str, bytes] = {}
    if shape.startswith("title+body"):
        wrote = {"title": title_ct, "body": body_ct}
    if shape.endswith("comments"):
        wrote.update({f"comment{i}": ct for i, (*_rest, ct) in enumerate(reviews, 1) if ct})
    if shape == "other":
        wrote = draw(st.dictionaries(texts, blobs, max_size=3))
    return state, wrote


@settings(max_examples=400)
@given(
    states(),
    st.integers(min_value=1, max_value=2**62),
    times,
    texts,
    texts,
    st.sampled_from(["import", "ingest", "demo", 'a "quoted"\n\u2028 action ş']),
    st.integers(min_value=0, max_value=2**62),
)
def test_the_compact_form_signs_the_same_bytes(
    drawn: tuple[dict[str, Any], dict[str, bytes]],
    seq: int,
    at: datetime,
    store: str,
    officer: str,
    action: str,
    position: int,
) -> None:
    state, wrote = drawn
    packed = pack(action, state, wrote, None)
    assert isinstance(packed, StateEvent)
    at_text = iso(at)
    assert at_text is not None
    body = BodyWriter(EVENT_VERSION, at_text, store, officer).body(seq, packed, position)
    assert body == dict_body(seq, at, store, officer, action, state, wrote, position)
    assert unpack(packed) == (state, {k: hashlib.sha256(v).hexdigest() for k, v in wrote.items()})


def test_a_state_not_made_by_build_state_stays_a_dict() -> None:
    """Anything the compact form could not give back exactly is queued as before (and signed as before)."""
    at = datetime(2026, 12, 6, 5, 0, tzinfo=UTC)
    state = build_state(
        uuid="u",
        reference="PK-MOI-2026-00001",
        domain="narcotics",
        origin="PK-MOI",
        releasable_to=["TR-MOI"],
        tlp="AMBER",
        status="received",
        author="alice",
        revision=1,
        no_reexport=False,
        title_ct=b"t",
        current=(1, "alice", "AMBER", "TR-MOI", at, b"t", b"b"),
        reviews=[],
        withdrawn=False,
    )
    wrote = {"title": b"t", "body": b"b"}
    assert pack("import", state, wrote, None) is not None
    assert pack("import", state, wrote, {"why": "data"}) is None
    assert pack("import", {**state, "origin_party": ["XX"]}, wrote, None) is None
    assert pack("import", {**state, "revision": True}, wrote, None) is None
    assert pack("import", {**state, "withdrawn": 0}, wrote, None) is None
    assert pack("import", {**state, "title_sha256": state["title_sha256"].upper()}, wrote, None) is None
    assert pack("import", {**state, "body_sha256": None}, wrote, None) is None  # a revision digest without a body

    class Code(str):
        pass

    assert pack("import", {**state, "tlp": Code("AMBER")}, wrote, None) is None
    assert pack("import", {**state, "releasable_to": ("TR-MOI",)}, wrote, None) is None


def test_bulk_ingest_queues_compact_events_signed_as_canonical_states(
    store: LiaisonStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """End to end: each record event of a bulk ingest was queued compact, and its signed body is the canonical JSON
    of the state the damage check reads back from the rows (which it finds intact)."""
    queued: list[Any] = []
    original = queue.pack_written

    def spy(*args: Any, **kwargs: Any) -> StateEvent | None:
        packed = original(*args, **kwargs)
        queued.append(packed)
        return packed

    monkeypatch.setattr(queue, "pack_written", spy)
    now = datetime(2026, 11, 1, tzinfo=timezone(timedelta(0)))
    items = [
        IngestItem(
            domain="narcotics",
            origin="PK-MOI",
            tlp="AMBER",
            status="draft",
            author="alice",
            created_at=now,
            updated_at=now,
            title=f'Bulk "{i}" şehir',
            summary="bulk summary\nline two",
            releasable_to=("TR-MOI",) if i % 2 else (),
            reviews=(("bob", "return", now, "a comment"),) if i % 3 == 0 else (),
        )
        for i in range(30)
    ]
    session = store.session("alice")
    try:
        size = store.sql("SELECT max(seq) FROM audit_log")[0][0]
        written = session.ingest(items)
        assert len(queued) == len(items) and all(isinstance(p, StateEvent) for p in queued)
        assert session.damaged_among([rid for rid, _ref in written]) == {}
    finally:
        session.vault.close()
    bodies = store.sql("SELECT body, record_uuid, target FROM audit_log WHERE seq > ? ORDER BY seq", (size + 1,))
    assert len(bodies) == len(items)
    for (body, record_uuid, target), (_rid, ref) in zip(bodies, written, strict=True):
        parsed = json.loads(body)
        assert event_bytes(parsed) == bytes(body)
        assert parsed["target"] == target == ref and parsed["record"]["uuid"] == record_uuid
    assert store.cli("audit", "verify").code == 0
