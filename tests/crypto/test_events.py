"""Audit events: canonical bytes that do not depend on how a body was built, a signature over the
domain-separated input only, and verification that fails on any edit of body, signer or signature."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto.events import (
    CHAIN_START,
    EVENT_CONTEXT,
    chain_hash,
    event_bytes,
    generate_signing_key,
    leaf_input,
    sign_event,
    signing_public,
    verify_event,
)
from crypto.merkle import leaf_hash

PRIVATE = bytes(range(1, 33))
PUBLIC = signing_public(PRIVATE)

BODY: dict[str, Any] = {
    "v": 1,
    "seq": 7,
    "at": "2026-11-28T10:02:05Z",
    "store": "0b9e6a3c",
    "officer": "Ayşe",
    "action": "approve",
    "target": "TR-MOI-2026-0001",
    "record": {"uuid": "u-1", "releasable_to": ["FR-MOD", "TR-MOI"], "tlp": "AMBER", "no_reexport": False},
    "data": {},
    "detail_sha256": None,
}


def test_canonical_bytes_are_stable() -> None:
    """The exact bytes: sorted keys at every level, no spaces, UTF-8 (not \\u escapes); a golden value."""
    expected = (
        '{"action":"approve","at":"2026-11-28T10:02:05Z","data":{},"detail_sha256":null,"officer":"Ayşe",'
        '"record":{"no_reexport":false,"releasable_to":["FR-MOD","TR-MOI"],"tlp":"AMBER","uuid":"u-1"},'
        '"seq":7,"store":"0b9e6a3c","target":"TR-MOI-2026-0001","v":1}'
    ).encode()
    assert event_bytes(BODY) == expected
    assert hashlib.sha256(event_bytes(BODY)).hexdigest() == hashlib.sha256(expected).hexdigest()
    reordered = dict(reversed(list(BODY.items())))
    reordered["record"] = dict(reversed(list(BODY["record"].items())))
    assert event_bytes(reordered) == expected


@pytest.mark.parametrize(
    "bad",
    [{"x": 1.5}, {"x": float("nan")}, {"x": b"bytes"}, {"x": {1: "int key"}}, {"x": {"a", "set"}}, {"x": object()}],
)
def test_a_body_that_has_no_canonical_json_is_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        event_bytes(bad)


def test_a_too_deep_body_is_refused() -> None:
    deep: dict[str, Any] = {"x": 1}
    for _ in range(10):
        deep = {"x": deep}
    with pytest.raises(ValueError):
        event_bytes(deep)


def test_the_signature_covers_the_domain_separated_input() -> None:
    body = event_bytes(BODY)
    sig = sign_event(PRIVATE, body)
    assert len(sig) == 64
    public = Ed25519PrivateKey.from_private_bytes(PRIVATE).public_key()
    public.verify(sig, EVENT_CONTEXT + body)  # raises unless the signed input is exactly context ‖ body
    assert EVENT_CONTEXT == b"liaison/event/v1\n"
    # a plain signature of the body (no context) is not an event signature
    assert not verify_event(PUBLIC, body, Ed25519PrivateKey.from_private_bytes(PRIVATE).sign(body))
    assert verify_event(PUBLIC, body, sig)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=60, deadline=None)
@given(body=st.dictionaries(st.text(max_size=8), json_values, max_size=6), where=st.integers(min_value=0))
def test_verify_is_false_on_any_edit(body: dict[str, Any], where: int) -> None:
    data = event_bytes(body)
    sig = sign_event(PRIVATE, data)
    assert verify_event(PUBLIC, data, sig)
    i = where % len(data)
    assert not verify_event(PUBLIC, data[:i] + bytes([data[i] ^ 1]) + data[i + 1 :], sig)
    assert not verify_event(PUBLIC, data + b" ", sig)
    assert not verify_event(PUBLIC, data[:-1], sig)
    j = where % 64
    assert not verify_event(PUBLIC, data, sig[:j] + bytes([sig[j] ^ 0x10]) + sig[j + 1 :])
    assert not verify_event(signing_public(generate_signing_key()), data, sig)


def test_verify_never_raises_on_malformed_arguments() -> None:
    body = event_bytes(BODY)
    sig = sign_event(PRIVATE, body)
    assert not verify_event(PUBLIC[:31], body, sig)
    assert not verify_event(PUBLIC, body, sig[:63])
    assert not verify_event(PUBLIC, body, sig + b"\x00")
    assert not verify_event(b"\xff" * 32, body, sig)  # not a point on the curve (or not the key)
    assert not verify_event(None, body, sig)  # type: ignore[arg-type]
    assert not verify_event(PUBLIC, "text", sig)  # type: ignore[arg-type]
    assert not verify_event(PUBLIC, body, None)  # type: ignore[arg-type]


def test_leaf_input_binds_body_signer_and_signature() -> None:
    body = event_bytes(BODY)
    sig = sign_event(PRIVATE, body)
    leaf = leaf_input(body, PUBLIC, sig)
    assert leaf == b"liaison/leaf/v1\n" + PUBLIC + sig + body
    other = signing_public(generate_signing_key())
    assert (
        len({leaf_hash(leaf), leaf_hash(leaf_input(body, other, sig)), leaf_hash(leaf_input(body + b" ", PUBLIC, sig))})
        == 3
    )
    with pytest.raises(ValueError):
        leaf_input(body, PUBLIC[:31], sig)
    with pytest.raises(ValueError):
        leaf_input(body, PUBLIC, sig[:63])


def test_chain_hash() -> None:
    first = chain_hash(CHAIN_START, leaf_hash(b"a"))
    assert first == hashlib.sha256(bytes(32) + leaf_hash(b"a")).digest()
    assert chain_hash(first, leaf_hash(b"b")) != chain_hash(CHAIN_START, leaf_hash(b"b"))
    with pytest.raises(ValueError):
        chain_hash(b"short", leaf_hash(b"a"))
