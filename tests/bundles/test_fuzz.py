"""Threat 19: Hypothesis fuzzing of the readers: random and mutated bytes raise only BundleError, never anything else."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from crypto import bundle as fmt
from crypto.card import read_card
from crypto.encoding import canonical_json
from tests.bundles.test_format import RECEIVER, SENDER, SENDER_ID, build, envelope, rec

GOOD = build(lambda b, h: [envelope(b, h, 0, False, [rec(1), rec(2)]), envelope(b, h, 1, True, [rec(3)])], records=3)
GOOD_RECEIPT = fmt.write_receipt(
    bundle_id=fmt.new_bundle_id(),
    sender="TR-MOI",
    sender_fingerprint="a" * 64,
    signing_key=RECEIVER.signing_key,
    recipient="PK-MOI",
    recipient_fingerprint=SENDER_ID.fingerprint,
    recipient_exchange_public=SENDER_ID.exchange_public,
    received_at=datetime.now(UTC),
    items=[],
    created=datetime.now(UTC),
)
#: An unknown key a hostile counterpart might send: a forged `error:` line, a clipboard write, clear screen, bidi, CSI.
FORGED = "\nerror: forged line\x1b]52;c;cHduZWQ=\x07\x1b[2J\u202e\x9b"
FORGED_HEADER = canonical_json({FORGED: 1})
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_one_line(exc: fmt.BundleError) -> None:
    """A refusal is shown as one `error: …` line: non-empty, no line breaks, no control or bidi character."""
    message = str(exc)
    assert message.strip(), "a BundleError with no message"
    assert "\n" not in message, f"a multi-line BundleError: {message!r}"
    assert message.isprintable(), f"a BundleError with a control character: {message!r}"


def read_everything(data: bytes) -> None:
    """The whole bundle pipeline; only BundleError may escape."""
    try:
        reader = fmt.BundleReader(io.BytesIO(data))
        reader.verify(SENDER_ID.signing_public)
        key = reader.file_key_from_identity("TR-MOI", RECEIVER.exchange_key)
        for _ in reader.chunks(key):
            pass
    except fmt.BundleError as exc:
        assert_one_line(exc)


@st.composite
def mutated(draw: st.DrawFn, source: bytes) -> bytes:
    """A good file with a few flips, insertions, deletions or a truncation."""
    data = bytearray(source)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "splice"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if kind == "flip" and data:
            data[at] ^= draw(st.integers(1, 255))
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 16))]
        elif kind == "truncate":
            del data[at:]
        else:
            end = draw(st.integers(at, len(data)))
            data[at:end] = draw(st.binary(max_size=64))
    return bytes(data)


@FUZZ
@given(st.binary(max_size=4096))
def test_random_bytes(data: bytes) -> None:
    """Arbitrary bytes: a BundleError or nothing."""
    read_everything(data)


@FUZZ
@example(len(FORGED_HEADER).to_bytes(4, "big") + FORGED_HEADER)
@given(st.binary(max_size=2048))
def test_random_bytes_after_a_valid_version_line(data: bytes) -> None:
    """Arbitrary bytes behind the right version line reach the header and frame parsers."""
    read_everything(fmt.VERSION_LINE + data)


@FUZZ
@given(mutated(GOOD))
def test_mutated_bundles(data: bytes) -> None:
    """Mutations of a good bundle: refused with BundleError unless nothing changed."""
    if data == GOOD:
        read_everything(data)
        return
    try:
        reader = fmt.BundleReader(io.BytesIO(data))
        reader.verify(SENDER_ID.signing_public)
    except fmt.BundleError as exc:
        assert_one_line(exc)
        return
    raise AssertionError("a mutated bundle passed the signature check")


@FUZZ
@example({"\n": None})
@example({"\x1b": None})
@example({FORGED: 1})
@example({"v": 1, "bundle": "0" * 32, FORGED: [], "\x1b[8m": "hidden"})
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=12), c, max_size=6),
        max_leaves=30,
    )
)
def test_header_parser_on_arbitrary_json(value: object) -> None:
    """Any JSON value as a header: BundleError or a valid header, nothing else."""
    try:
        body = canonical_json(value)
    except UnicodeEncodeError:  # lone surrogates: not encodable, so not a file anyone could send
        return
    try:
        fmt.parse_header(body, b"")
    except fmt.BundleError as exc:
        assert_one_line(exc)


@FUZZ
@given(mutated(GOOD_RECEIPT))
def test_mutated_receipts(data: bytes) -> None:
    """Receipt parsing, verification and opening raise only BundleError."""
    try:
        envelope_ = fmt.read_receipt(data)
        fmt.verify_receipt(
            envelope_, Ed25519PrivateKey.from_private_bytes(RECEIVER.signing_key).public_key().public_bytes_raw()
        )
        fmt.open_receipt(envelope_, SENDER.exchange_key)
    except fmt.BundleError as exc:
        assert_one_line(exc)


@FUZZ
@example(canonical_json({"type": "liaison-identity-card", FORGED: 1}) + b"\n")
@given(st.binary(max_size=5000))
def test_cards(data: bytes) -> None:
    """Card parsing raises only BundleError."""
    try:
        read_card(data)
    except fmt.BundleError as exc:
        assert_one_line(exc)
