"""The compact queued form of a bulk record event (ingest, demo, import) and its signed bytes.

An action's events are signed when it ends (`log.finish`): its own event comes first and carries what is known only
then, so a bulk path's per-record events wait in the queue until the last record is written. Kept as a dict of
hex texts (the state `snapshot.build_state` returns, its `wrote` map, the event's data) one such event held
~1.3 KB; `pack` keeps the same facts in one flat tuple of shared short texts and 32-byte digests (~0.4 KB, and no
object the garbage collector must walk again once it has seen it). `body` writes the event body's canonical JSON
straight from it: **the same bytes** as `crypto.events.event_bytes` of the event as the dict form would give it
(`tests/store/test_audit_bulk.py` holds them equal), so the log's bytes, order and checkpoint do not change.

A state `pack` cannot keep exactly (an unexpected key or type) stays in the dict form: `pack` returns None and
the caller queues a `PendingEvent` as before.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from json.encoder import encode_basestring
from typing import Any, NamedTuple

from crypto.events import event_bytes
from store.audit.snapshot import iso, reviews_digest, revision_digest

#: The keys of a record state `snapshot.build_state` makes (a state read back by `record_states` may hold
#: `origin_party` too; it is never packed).
STATE_KEYS = frozenset(
    {
        "uuid",
        "reference",
        "domain",
        "origin",
        "releasable_to",
        "tlp",
        "status",
        "author",
        "revision",
        "no_reexport",
        "title_sha256",
        "body_sha256",
        "revision_sha256",
        "reviews",
        "reviews_sha256",
        "withdrawn",
    }
)
_DIGEST = 32
_NULL = b"null"


class StateEvent(NamedTuple):
    """One queued record event whose state the caller built from the rows it wrote (`events.note_state`).

    Digests are raw bytes: `digests` is the title's SHA-256, then the current body's and the revision row's when
    the record has a current revision (`has_current`); `reviews_sha256` the hex text (one shared copy for a record
    without review steps); `wrote` the ciphertext hashes the event signs, by name in sorted order, None when they
    are exactly {"body": the body's, "title": the title's} (a bulk-written record without review comments)."""

    action: str
    uuid: str
    reference: str
    author: str
    domain: str
    origin: str
    releasable_to: tuple[str, ...]
    tlp: str
    status: str
    revision: int
    no_reexport: bool
    withdrawn: bool
    has_current: bool
    digests: bytes
    reviews: int
    reviews_sha256: str
    wrote: tuple[tuple[str, bytes], ...] | None
    #: the canonical JSON of the event's data (`encode_data`: one shared copy for the events of one action)
    data: bytes = b"{}"


#: The releasable-to tuples seen, one shared copy each (a store has a few dozen distinct lists).
_LISTS: dict[tuple[str, ...], tuple[str, ...]] = {}
_LISTS_LIMIT = 4096


def _hex_digest(value: Any) -> bytes | None:
    """The 32 bytes of a lowercase hex SHA-256 text (None if it is anything else)."""
    if type(value) is not str or len(value) != 2 * _DIGEST:
        return None
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        return None
    return raw if raw.hex() == value else None


def encode_data(data: Mapping[str, Any]) -> bytes:
    """The canonical JSON of an event's data, as its body holds it (`event_bytes`), for `pack`'s `data_json`."""
    return event_bytes(dict(data))


def pack(
    action: str,
    state: Mapping[str, Any],
    wrote: Mapping[str, bytes],
    data: Mapping[str, Any] | None,
    *,
    data_json: bytes = b"{}",
) -> StateEvent | None:
    """The compact form of a record event (`state` after the action, `wrote` the ciphertexts by name), or None when
    the state is not exactly of the form `build_state` makes or the event has data (then it is queued as a dict,
    as before). `data_json`: the event's data already encoded (`encode_data`), shared by many events (an
    export's `share` events)."""
    if data or type(state) is not dict or state.keys() != STATE_KEYS or type(action) is not str:
        return None
    texts = (state[k] for k in ("uuid", "reference", "author", "domain", "origin", "tlp", "status"))
    if any(type(t) is not str for t in texts):
        return None
    if type(state["revision"]) is not int or type(state["reviews"]) is not int:
        return None
    if type(state["no_reexport"]) is not bool or type(state["withdrawn"]) is not bool:
        return None
    codes = state["releasable_to"]
    if type(codes) is not list or any(type(c) is not str for c in codes):
        return None
    title = _hex_digest(state["title_sha256"])
    reviews_sha256 = state["reviews_sha256"]
    if title is None or _hex_digest(reviews_sha256) is None:
        return None
    body_hex, revision_hex = state["body_sha256"], state["revision_sha256"]
    has_current = body_hex is not None
    digests = title
    if has_current:
        body, revision = _hex_digest(body_hex), _hex_digest(revision_hex)
        if body is None or revision is None:
            return None
        digests += body + revision
    elif revision_hex is not None:
        return None
    hashes = {name: hashlib.sha256(ct).digest() for name, ct in wrote.items()}
    if any(type(name) is not str for name in hashes):
        return None
    packed_wrote: tuple[tuple[str, bytes], ...] | None = tuple(sorted(hashes.items()))
    if has_current and hashes == {"title": title, "body": digests[_DIGEST : 2 * _DIGEST]}:
        packed_wrote = None
    listed = tuple(codes)
    if len(_LISTS) >= _LISTS_LIMIT:
        _LISTS.clear()
    return StateEvent(
        action,
        state["uuid"],
        state["reference"],
        state["author"],
        state["domain"],
        state["origin"],
        _LISTS.setdefault(listed, listed),
        state["tlp"],
        state["status"],
        state["revision"],
        state["no_reexport"],
        state["withdrawn"],
        has_current,
        digests,
        state["reviews"],
        reviews_sha256,
        packed_wrote,
        data_json,
    )


def pack_written(
    action: str,
    *,
    uuid: str,
    reference: str,
    domain: str,
    origin: str,
    releasable_to: Iterable[str],
    tlp: str,
    status: str,
    author: str,
    revision: int,
    no_reexport: bool,
    title_ct: bytes,
    current: tuple[int, str, str, str, datetime, bytes, bytes],
    reviews: Sequence[tuple[str, str, datetime, bytes | None]],
    withdrawn: bool,
    wrote: Mapping[str, bytes],
) -> StateEvent | None:
    """`pack(action, build_state(...), wrote, None)` computed from the rows a bulk writer has just built, without the
    dict: the same event (a test holds them equal), each ciphertext hashed once. None for anything else than plain
    texts (then the caller builds the dict, which `pack` may still take)."""
    codes = set(releasable_to)
    if any(type(t) is not str for t in (action, uuid, reference, domain, origin, tlp, status, author, *codes)):
        return None
    count, reviews_sha256 = reviews_digest(reviews)
    title = hashlib.sha256(title_ct).digest()
    body_ct = current[6]
    body = hashlib.sha256(body_ct).digest()
    revision_row = _revision_sha256(current, title_ct, title, body)
    hashes: tuple[tuple[str, bytes], ...] | None = None
    if not (len(wrote) == 2 and wrote.get("title") is title_ct and wrote.get("body") is body_ct):
        if any(type(name) is not str for name in wrote):
            return None
        hashes = tuple(sorted((name, hashlib.sha256(ct).digest()) for name, ct in wrote.items()))
        if hashes == (("body", body), ("title", title)):
            hashes = None
    listed = tuple(sys.intern(code) for code in sorted(codes - {origin}))
    if len(_LISTS) >= _LISTS_LIMIT:
        _LISTS.clear()
    return StateEvent(
        action,
        uuid,
        reference,
        sys.intern(author),
        sys.intern(domain),
        sys.intern(origin),
        _LISTS.setdefault(listed, listed),
        sys.intern(tlp),
        sys.intern(status),
        int(revision),
        bool(no_reexport),
        bool(withdrawn),
        True,
        title + body + revision_row,
        count,
        reviews_sha256,
        hashes,
    )


def _revision_sha256(
    current: tuple[int, str, str, str, datetime, bytes, bytes], record_title_ct: bytes, title: bytes, body: bytes
) -> bytes:
    """`snapshot.revision_digest(*current)` as bytes, from the body's hash and, when the row's title ciphertext is
    the record's own (`record_title_ct`, hashed `title`), the title's, already computed: the same bytes, each
    ciphertext hashed once; by that function otherwise (a test holds `pack_written` equal to `build_state`)."""
    number, officer, tlp, releasable_to, created_at, title_ct, _body_ct = current
    at = iso(created_at)
    if (
        type(number) is int
        and type(officer) is str
        and type(tlp) is str
        and type(releasable_to) is str
        and title_ct is record_title_ct
        and type(title_ct) is bytes
        and at is not None
    ):
        return hashlib.sha256(
            b'{"body":"%s","created_at":%s,"number":%d,"officer":%s,"releasable_to":%s,"title":"%s","tlp":%s}'
            % (
                body.hex().encode(),
                _text(at),
                number,
                _text(officer),
                _text(releasable_to),
                title.hex().encode(),
                _text(tlp),
            )
        ).digest()
    return bytes.fromhex(revision_digest(*current))


def _wrote(ev: StateEvent) -> tuple[tuple[str, bytes], ...]:
    if ev.wrote is not None:
        return ev.wrote
    return (("body", ev.digests[_DIGEST : 2 * _DIGEST]), ("title", ev.digests[:_DIGEST]))


def unpack(ev: StateEvent) -> tuple[dict[str, Any], dict[str, str]]:
    """The dict form of a packed event: its state and its `wrote` hex digests (what the queue held before)."""
    state = {
        "uuid": ev.uuid,
        "reference": ev.reference,
        "domain": ev.domain,
        "origin": ev.origin,
        "releasable_to": list(ev.releasable_to),
        "tlp": ev.tlp,
        "status": ev.status,
        "author": ev.author,
        "revision": ev.revision,
        "no_reexport": ev.no_reexport,
        "title_sha256": ev.digests[:_DIGEST].hex(),
        "body_sha256": ev.digests[_DIGEST : 2 * _DIGEST].hex() if ev.has_current else None,
        "revision_sha256": ev.digests[2 * _DIGEST :].hex() if ev.has_current else None,
        "reviews": ev.reviews,
        "reviews_sha256": ev.reviews_sha256,
        "withdrawn": ev.withdrawn,
    }
    return state, {name: digest.hex() for name, digest in _wrote(ev)}


def _text(value: str) -> bytes:
    """A string as canonical JSON writes it (`ensure_ascii=False`)."""
    return encode_basestring(value).encode("utf-8")


def _bool(value: bool) -> bytes:
    return b"true" if value else b"false"


#: The canonical JSON of the few short texts every event repeats (codes, names, statuses, the no-reviews digest).
_SHORT: dict[str, bytes] = {}
_SHORT_LIMIT = 4096


def _short(value: str) -> bytes:
    """`_text` of a short text many events repeat, encoded once."""
    encoded = _SHORT.get(value)
    if encoded is None:
        if len(_SHORT) >= _SHORT_LIMIT:
            _SHORT.clear()
        encoded = _SHORT[value] = _text(value)
    return encoded


def record_json(ev: StateEvent) -> bytes:
    """The canonical JSON of the event's `record` object: the state with its `wrote` map, keys sorted."""
    return _record_json(ev, _text(ev.reference))


def _record_json(ev: StateEvent, reference: bytes) -> bytes:
    hexes = ev.digests.hex().encode()  # title, then body and revision row: 64 hex digits each
    title = hexes[: 2 * _DIGEST]
    if ev.has_current:
        body = b'"%s"' % hexes[2 * _DIGEST : 4 * _DIGEST]
        revision = b'"%s"' % hexes[4 * _DIGEST :]
    else:
        body = revision = _NULL
    if ev.wrote is None:
        wrote = b'"body":%s,"title":"%s"' % (body, title)
    else:
        wrote = b",".join(b'%s:"%s"' % (_text(name), digest.hex().encode()) for name, digest in ev.wrote)
    return (
        b'{"author":%s,"body_sha256":%s,"domain":%s,"no_reexport":%s,"origin":%s,"reference":%s,"releasable_to":[%s],'
        b'"reviews":%d,"reviews_sha256":%s,"revision":%d,"revision_sha256":%s,"status":%s,"title_sha256":"%s",'
        b'"tlp":%s,"uuid":%s,"withdrawn":%s,"wrote":{%s}}'
        % (
            _short(ev.author),
            body,
            _short(ev.domain),
            _bool(ev.no_reexport),
            _short(ev.origin),
            reference,
            b",".join(map(_short, ev.releasable_to)),
            ev.reviews,
            _short(ev.reviews_sha256),
            ev.revision,
            revision,
            _short(ev.status),
            title,
            _short(ev.tlp),
            _text(ev.uuid),
            _bool(ev.withdrawn),
            wrote,
        )
    )


class BodyWriter:
    """Writes the bodies of one append's packed events: the parts every body of it shares encoded once."""

    def __init__(self, version: int, at: str, store: str, officer: str) -> None:
        self.version = version
        self.at = _text(at)
        self.store = _text(store)
        self.officer = _text(officer)

    def body(self, seq: int, ev: StateEvent, position: int) -> bytes:
        """The canonical JSON of the event body {v, seq, at, store, officer, action, target: the reference,
        position: how many events about the record the log held before it, record: state + wrote, data,
        detail_sha256: null}: `event_bytes` of that dict, written out directly."""
        reference = _text(ev.reference)
        return (
            b'{"action":%s,"at":%s,"data":%s,"detail_sha256":null,"officer":%s,"position":%d,"record":%s,"seq":%d,"store":%s,"target":%s,"v":%d}'
            % (
                _short(ev.action),
                self.at,
                ev.data,
                self.officer,
                position,
                _record_json(ev, reference),
                seq,
                self.store,
                reference,
                self.version,
            )
        )
