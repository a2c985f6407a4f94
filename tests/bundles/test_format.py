"""The format primitives on their own: inner chunk checks a sender's own key could sign, stanzas, limits, cards, receipts."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from crypto import bundle as fmt
from crypto.card import read_card, write_card
from crypto.encoding import b64e, canonical_json
from crypto.identity import public_identity
from crypto.kdf import minimum_params
from crypto.keyring import Keyring
from tests.bundles.corpus import good_record

SENDER = Keyring.generate("sender")
RECEIVER = Keyring.generate("receiver")
SENDER_ID = public_identity(SENDER.signing_key, SENDER.exchange_key)
RECEIVER_ID = public_identity(RECEIVER.signing_key, RECEIVER.exchange_key)


def _header(bundle_id: str, records: int, stanzas: list[dict[str, Any]], **changes: Any) -> dict[str, Any]:
    header = {
        "v": 1,
        "bundle": bundle_id,
        "sender": {"code": "PK-MOI", "fingerprint": SENDER_ID.fingerprint},
        "recipients": [{"code": "TR-MOI", "seq": 1}],
        "created": fmt.format_time(datetime.now(UTC)),
        "records": records,
        "chunk_records": 2,
        "stanzas": stanzas,
    }
    header.update(changes)
    return header


def build(
    chunk_plaintexts: Any,
    *,
    records: int,
    stanza: dict[str, Any] | None = None,
    file_key: bytes | None = None,
    **changes: Any,
) -> bytes:
    """A bundle signed by SENDER with explicit chunk plaintexts (a callable gets the bundle id and header hash)."""
    bundle_id = changes.pop("bundle_id", fmt.new_bundle_id())
    file_key = file_key or fmt.new_file_key()
    stanza = stanza or fmt.x25519_stanza(bundle_id, "TR-MOI", RECEIVER_ID.exchange_public, file_key).to_json()
    preamble = fmt.encode_preamble(_header(bundle_id, records, [stanza], **changes))
    header_hash = hashlib.sha256(preamble).digest()
    plaintexts = chunk_plaintexts(bundle_id, header_hash.hex()) if callable(chunk_plaintexts) else chunk_plaintexts
    fernet = fmt.fernet_for(fmt.payload_key(file_key, bundle_id))
    out = preamble
    digest = hashlib.sha256()
    tokens = [fernet.encrypt(p) for p in plaintexts]
    for token in tokens:
        out += bytes([fmt.FRAME_CHUNK]) + len(token).to_bytes(4, "big") + token
        digest.update(hashlib.sha256(token).digest())
    signature = Ed25519PrivateKey.from_private_bytes(SENDER.signing_key).sign(
        fmt.signed_message(header_hash, len(tokens), digest.digest())
    )
    return out + bytes([fmt.FRAME_SIGNATURE]) + signature


def read_all(data: bytes) -> list[list[dict[str, Any]]]:
    """The whole reader pipeline as the store runs it."""
    reader = fmt.BundleReader(io.BytesIO(data))
    reader.verify(SENDER_ID.signing_public)
    key = reader.file_key_from_identity("TR-MOI", RECEIVER.exchange_key)
    return list(reader.chunks(key))


def envelope(bundle_id: str, header: str, index: int, final: bool, records: list[dict[str, Any]]) -> bytes:
    return canonical_json({"bundle": bundle_id, "header": header, "index": index, "final": final, "records": records})


def rec(n: int) -> dict[str, Any]:
    return good_record(uuid=f"6f1c2a8e-3b4d-4c5e-9f60-{n:012d}", reference=f"PK-MOI-2026-{n:05d}")


def test_well_formed_bundle_reads() -> None:
    """The helper's own bundle is accepted (so each failure below is the one thing changed)."""
    data = build(
        lambda b, h: [envelope(b, h, 0, False, [rec(1), rec(2)]), envelope(b, h, 1, True, [rec(3)])], records=3
    )
    assert [len(c) for c in read_all(data)] == [2, 1]


@pytest.mark.parametrize(
    ("chunks", "records", "message"),
    [
        (
            lambda b, h: [envelope(b, h, 1, False, [rec(1), rec(2)]), envelope(b, h, 0, True, [rec(3)])],
            3,
            "chunk 1 claims to be chunk 1: chunks reordered or dropped",
        ),
        (
            lambda b, h: [envelope(b, h, 0, False, [rec(1), rec(2)])],
            2,
            "the last chunk is not flagged final: the bundle was truncated",
        ),
        (
            lambda b, h: [envelope(b, h, 0, True, [rec(1), rec(2)]), envelope(b, h, 1, True, [rec(3)])],
            3,
            "chunk 1 is flagged final but more chunks follow",
        ),
        (lambda b, h: [envelope("0" * 32, h, 0, True, [rec(1)])], 1, "chunk 1 belongs to another bundle"),
        (lambda b, h: [envelope(b, "0" * 64, 0, True, [rec(1)])], 1, "chunk 1 belongs to another bundle"),
        (lambda b, h: [envelope(b, h, 0, True, [rec(1), rec(2), rec(3)])], 3, "chunk 1 must hold 1..2 records"),
        (lambda b, h: [envelope(b, h, 0, True, [rec(1)])], 2, "the bundle holds 1 records but its header says 2"),
        (lambda b, h: [b'{"bundle": 1}'], 1, "chunk 1 is not in canonical JSON form"),
        (lambda b, h: [b"\xff\xfe"], 1, "chunk 1 is not valid JSON"),
        (
            lambda b, h: [envelope(b, h, 0, True, [{**rec(1), "tlp": "PURPLE"}])],
            1,
            "chunk 1 record 1 tlp is not a TLP 2.0 label",
        ),
        (
            lambda b, h: [envelope(b, h, 0, True, [{**rec(1), "extra": 1}])],
            1,
            "chunk 1 record 1: unknown field 'extra'",
        ),
        (
            lambda b, h: [envelope(b, h, 0, True, [{**rec(1), "releasable_to": ["TR-MOI", "PK-ANF"]}])],
            1,
            "chunk 1 record 1 releasable_to must be sorted and without repeats",
        ),
        (
            lambda b, h: [envelope(b, h, 0, True, [{**rec(1), "revision": True}])],
            1,
            "chunk 1 record 1 revision must be an integer in 1..1000000",
        ),
        (
            lambda b, h: [envelope(b, h, 0, True, [{**rec(1), "created_at": "2026-01-01T00:00:00Z"}])],
            1,
            "chunk 1 record 1 created_at is not a canonical timestamp",
        ),
    ],
)
def test_inner_chunk_checks(chunks: Any, records: int, message: str) -> None:
    """What a signature alone cannot catch (a sender signing nonsense) is still refused, each with its message."""
    with pytest.raises(fmt.BundleError) as err:
        read_all(build(chunks, records=records))
    assert str(err.value) == message


def test_chunk_encrypted_under_another_key_is_refused() -> None:
    """A chunk that does not decrypt under the bundle key is refused (after the signature checked out)."""
    data = build([envelope("x", "y", 0, True, [rec(1)])], records=1)
    reader = fmt.BundleReader(io.BytesIO(data))
    reader.verify(SENDER_ID.signing_public)
    with pytest.raises(fmt.BundleError, match="chunk 1 does not decrypt with the bundle key"):
        list(reader.chunks(fmt.new_file_key()))


def test_low_order_ephemeral_key_is_refused() -> None:
    """Threat 9: an X25519 stanza whose ephemeral key is a low-order point (all zeros) is refused, not used."""
    bundle_id = fmt.new_bundle_id()
    body = fmt.x25519_stanza(bundle_id, "TR-MOI", RECEIVER_ID.exchange_public, bytes(32)).body.decode()
    stanza = {"type": "x25519", "recipient": "TR-MOI", "epk": b64e(bytes(32)), "body": body}
    data = build(lambda b, h: [envelope(b, h, 0, True, [rec(1)])], records=1, stanza=stanza, bundle_id=bundle_id)
    reader = fmt.BundleReader(io.BytesIO(data))
    reader.verify(SENDER_ID.signing_public)
    with pytest.raises(fmt.BundleError) as err:
        reader.file_key_from_identity("TR-MOI", RECEIVER.exchange_key)
    assert str(err.value) == "the key stanza for TR-MOI is refused: its ephemeral key is a low-order point"


def test_stanza_for_another_key_does_not_open() -> None:
    """A stanza sealed to someone else's X25519 key does not open with ours."""
    data = build(lambda b, h: [envelope(b, h, 0, True, [rec(1)])], records=1)
    reader = fmt.BundleReader(io.BytesIO(data))
    reader.verify(SENDER_ID.signing_public)
    with pytest.raises(fmt.BundleError, match="it does not open with this ministry's key"):
        reader.file_key_from_identity("TR-MOI", Keyring.generate("x").exchange_key)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"v": 2}, "bundle header version is not 1, the version its first line names"),
        ({"records": 0}, "record count must be an integer in 1..1000000"),
        ({"chunk_records": 10_001}, "chunk size must be an integer in 1..10000"),
        ({"bundle": "XYZ"}, "bundle id is malformed"),
        ({"recipients": [{"code": "TR-MOI", "seq": 0}]}, "sequence number must be an integer in 1..9007199254740991"),
        (
            {"recipients": [{"code": "TR-MOI", "seq": 1}, {"code": "TR-MOI", "seq": 2}]},
            "bundle header names a recipient twice",
        ),
        ({"sender": {"code": "PK-MOI"}}, "bundle header sender: missing field fingerprint"),
        ({"created": "yesterday"}, "bundle creation time is not a canonical timestamp"),
        ({"colour": "red"}, "bundle header: unknown field 'colour'"),
        (
            {"x\n\x1b[2Jerror: forged \u202e": 1},
            "bundle header: unknown field 'x\\n\\x1b[2Jerror: forged \\u202e'",
        ),
        ({"k" * 100: 1}, "bundle header: unknown field '" + "k" * 40 + "'…"),
    ],
)
def test_header_rules(change: dict[str, Any], message: str) -> None:
    """Header fields are checked for exact shape before anything else happens."""
    bundle_id = fmt.new_bundle_id()
    stanza = fmt.x25519_stanza(bundle_id, "TR-MOI", RECEIVER_ID.exchange_public, fmt.new_file_key()).to_json()
    header = _header(bundle_id, 1, [stanza])
    header.update(change)
    body = canonical_json(header)
    with pytest.raises(fmt.BundleError) as err:
        fmt.parse_header(body, b"")
    assert str(err.value) == message


@pytest.mark.parametrize(
    ("stanza_change", "message"),
    [
        ({"memory_kib": 512 * 1024}, "bundle header stanza 1 memory_kib must be an integer in 1..262144"),
        ({"iterations": 100}, "bundle header stanza 1 iterations must be an integer in 1..16"),
        ({"memory_kib": 1024}, "bundle header stanza 1: key derivation cost below the OWASP minimum"),
        ({"salt": b64e(bytes(8))}, "bundle header stanza 1 salt must be 16 bytes, not 8"),
    ],
)
def test_passphrase_stanza_parameters_are_bounded_before_the_kdf(stanza_change: dict[str, Any], message: str) -> None:
    """Absurd or weak Argon2id parameters in a passphrase stanza are refused while reading the header."""
    bundle_id = fmt.new_bundle_id()
    stanza = fmt.passphrase_stanza(bundle_id, b"pw", minimum_params(), fmt.new_file_key()).to_json()
    stanza.update(stanza_change)
    with pytest.raises(fmt.BundleError) as err:
        fmt.parse_header(canonical_json(_header(bundle_id, 1, [stanza])), b"")
    assert str(err.value) == message


def test_passphrase_stanza_round_trip() -> None:
    """A passphrase stanza yields the file key for the right passphrase and refuses a wrong one."""
    key = fmt.new_file_key()
    bundle_id = fmt.new_bundle_id()
    stanza = fmt.passphrase_stanza(bundle_id, b"correct horse", minimum_params(), key).to_json()
    data = build(
        lambda b, h: [envelope(b, h, 0, True, [rec(1)])], records=1, stanza=stanza, file_key=key, bundle_id=bundle_id
    )
    reader = fmt.BundleReader(io.BytesIO(data))
    reader.verify(SENDER_ID.signing_public)
    with pytest.raises(fmt.BundleError, match="wrong bundle passphrase"):
        reader.file_key_from_passphrase(b"battery staple")
    assert reader.file_key_from_passphrase(b"correct horse") == key


def test_card_round_trip_and_tampering() -> None:
    """A card reads back; an edited name, key or fingerprint is refused."""
    card = write_card("PK-MOI", "Ministry of Interior, Pakistan", SENDER.signing_key, SENDER_ID)
    assert read_card(card).fingerprint == SENDER_ID.fingerprint
    with pytest.raises(fmt.BundleError, match="self-signature does not verify"):
        read_card(card.replace(b"Pakistan", b"Pakistam"))
    with pytest.raises(fmt.BundleError, match="fingerprint does not match its keys"):
        read_card(card.replace(SENDER_ID.fingerprint.encode(), b"0" * 64))
    with pytest.raises(fmt.BundleError, match="identity card is not valid JSON"):
        read_card(b"hello\n")
    with pytest.raises(fmt.BundleError, match="not a Liaison identity card"):
        read_card(b'{"type":"x"}\n')
    with pytest.raises(fmt.BundleError, match="the card file is empty"):
        read_card(b"")


def _receipt(**changes: Any) -> bytes:
    args: dict[str, Any] = dict(
        bundle_id=fmt.new_bundle_id(),
        sender="TR-MOI",
        sender_fingerprint=RECEIVER_ID.fingerprint,
        signing_key=RECEIVER.signing_key,
        recipient="PK-MOI",
        recipient_fingerprint=SENDER_ID.fingerprint,
        recipient_exchange_public=SENDER_ID.exchange_public,
        received_at=datetime.now(UTC),
        items=[[rec(1)["uuid"], "PK-MOI-2026-00001", 1, "a" * 64]],
        created=datetime.now(UTC),
    )
    args.update(changes)
    return fmt.write_receipt(**args)


def test_receipt_round_trip_and_refusals() -> None:
    """A receipt verifies with the receiver's key and opens with the sender's; edits, truncation, trailing bytes are refused."""
    data = _receipt()
    envelope_ = fmt.read_receipt(data)
    fmt.verify_receipt(envelope_, RECEIVER_ID.signing_public)
    body = fmt.open_receipt(envelope_, SENDER.exchange_key)
    assert body.items[0][1] == "PK-MOI-2026-00001"
    with pytest.raises(fmt.BundleError, match="trailing bytes after the receipt signature"):
        fmt.read_receipt(data + b"x")
    with pytest.raises(fmt.BundleError, match="receipt is truncated"):
        fmt.read_receipt(data[:-1])
    spoiled = data[:-10] + bytes([data[-10] ^ 1]) + data[-9:]
    with pytest.raises(fmt.BundleError, match="receipt signature does not verify against TR-MOI's key"):
        fmt.verify_receipt(fmt.read_receipt(spoiled), RECEIVER_ID.signing_public)
    with pytest.raises(fmt.BundleError, match="does not open with this ministry's key"):
        fmt.open_receipt(envelope_, RECEIVER.exchange_key)


def test_every_byte_of_the_file_is_covered() -> None:
    """Flipping any single bit anywhere in a bundle is refused by the reader before anything is decrypted."""
    data = build(
        lambda b, h: [envelope(b, h, 0, False, [rec(1), rec(2)]), envelope(b, h, 1, True, [rec(3)])], records=3
    )
    for position in range(len(data)):
        for bit in (0x01, 0x80):
            spoiled = data[:position] + bytes([data[position] ^ bit]) + data[position + 1 :]
            with pytest.raises(fmt.BundleError):
                reader = fmt.BundleReader(io.BytesIO(spoiled))
                reader.verify(SENDER_ID.signing_public)


FORGED_KEY = "\nerror: import finished, 0 refused\x1b]52;c;ZWNobyBwd25lZA==\x07\x1b[2J\u202e"


def test_unknown_header_key_with_newline_and_escape_is_quoted_before_the_signature_is_checked() -> None:
    """Threat: a counterpart's header key forges a line and writes the clipboard; the refusal shows it escaped, on one line."""
    bundle_id = fmt.new_bundle_id()
    stanza = fmt.x25519_stanza(bundle_id, "TR-MOI", RECEIVER_ID.exchange_public, fmt.new_file_key()).to_json()
    preamble = fmt.encode_preamble({**_header(bundle_id, 1, [stanza]), FORGED_KEY: 1})
    with pytest.raises(fmt.BundleError) as err:
        fmt.BundleReader(io.BytesIO(preamble + b"anything after the header"))
    message = str(err.value)
    assert message == "bundle header: unknown field '\\nerror: import finished, 0 refused\\x1b]52;c'…"
    assert message.isprintable() and "\x1b" not in message and "\n" not in message


def test_unknown_record_field_is_quoted() -> None:
    """A signed chunk whose record carries an unknown field with controls: named, escaped, one line."""
    data = build(lambda b, h: [envelope(b, h, 0, True, [{**rec(1), FORGED_KEY: 1}])], records=1)
    with pytest.raises(fmt.BundleError) as err:
        read_all(data)
    assert str(err.value) == "chunk 1 record 1: unknown field '\\nerror: import finished, 0 refused\\x1b]52;c'…"


def test_stanza_naming_a_non_recipient_quotes_the_code() -> None:
    bundle_id = fmt.new_bundle_id()
    stanza = fmt.x25519_stanza(bundle_id, "PK-ANF", RECEIVER_ID.exchange_public, fmt.new_file_key()).to_json()
    with pytest.raises(fmt.BundleError) as err:
        fmt.parse_header(canonical_json(_header(bundle_id, 1, [stanza])), b"")
    assert str(err.value) == "bundle header stanza 1 names 'PK-ANF', which is not a recipient"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("plain", "'plain'"),
        ("a\nb\x1bc\x9bd\u202ee", "'a\\nb\\x1bc\\x9bd\\u202ee'"),
        ("é" * 41, "'" + "é" * 40 + "'…"),
        (7, "7"),
        (10**60, "1" + "0" * 39 + "…"),
        (["\x1b"], "['\\x1b']"),
    ],
)
def test_quote_escapes_and_cuts(value: object, shown: str) -> None:
    assert fmt.quote(value) == shown
