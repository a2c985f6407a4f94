"""The bad-bundle corpus: every variant of a good bundle is refused with its own one-line error, exit 1,
the receiving store's content unchanged (row counts and a hash of all rows) and no plaintext written.

Threats 8, 10, 11, 12 and 13: a header byte, a stanza, chunks dropped, swapped, duplicated or from another
bundle, truncation, trailing bytes, signatures wrong, stripped or from another key; a sequence number reused by
another bundle; a bundle for another ministry, an unknown sender."""

from __future__ import annotations

import random
import struct
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from crypto import bundle as fmt
from crypto.encoding import b64e
from tests.bundles.conftest import CANARY_PK, Pair
from tests.bundles.corpus import crafted, crafted_by, export_chunked, flip_char, good_record, layout, twin, with_header
from tests.liaison_helpers import LiaisonStore, assert_refused, find_plaintext, init_store, store_fingerprint

SIG = (
    "bundle signature does not verify against PK-MOI's key: the bundle was altered, truncated or signed by another key"
)


def _header(data: bytes) -> bytes:
    lay = layout(data)
    return data[lay.header[0] : lay.header[1]]


def _at(data: bytes, needle: bytes, offset: int = 0) -> int:
    """The index of `offset` characters into the value after `needle` in the header."""
    lay = layout(data)
    return data.index(needle, lay.header[0], lay.header[1]) + len(needle) + offset


def _resigned(data: bytes) -> bytes:
    """The same bytes signed by a key that is not PK-MOI's."""
    import hashlib

    lay = layout(data)
    digest = hashlib.sha256()
    for _start, t0, t1 in lay.chunks:
        digest.update(hashlib.sha256(data[t0:t1]).digest())
    preamble = hashlib.sha256(data[: lay.header[1]]).digest()
    signature = Ed25519PrivateKey.generate().sign(fmt.signed_message(preamble, len(lay.chunks), digest.digest()))
    return data[: lay.signature[0]] + signature


def _frames(data: bytes) -> list[bytes]:
    return [data[s:e] for s, _t, e in layout(data).chunks]


def _rebuild(data: bytes, frames: list[bytes]) -> bytes:
    lay = layout(data)
    return data[: lay.header[1]] + b"".join(frames) + data[lay.signature[0] - 1 :]


def _epk_noncanonical(data: bytes) -> bytes:
    i = _at(data, b'"epk":"', 42)
    alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return data[:i] + bytes([alphabet[alphabet.index(data[i]) ^ 1]]) + data[i + 1 :]


def _epk_short(data: bytes) -> bytes:
    header = _header(data)
    start = header.index(b'"epk":"') + 7
    end = header.index(b'"', start)
    return with_header(data, header[:start] + b64e(b"\x01" * 31).encode() + header[end:])


def _noncanonical_header(data: bytes) -> bytes:
    return with_header(data, b"{ " + _header(data)[1:])


#: name → (how to spoil a good 3-chunk bundle, the error after `bad.bundle: `)
MUTATIONS: dict[str, tuple[Callable[[bytes], bytes], str]] = {
    "header byte (bundle id digit)": (lambda d: flip_char(d, _at(d, b'"bundle":"', 5)), SIG),
    "header byte (record count)": (lambda d: d[: _at(d, b'"records":')] + b"8" + d[_at(d, b'"records":') + 1 :], SIG),
    "header byte (recipient sequence)": (lambda d: d[: _at(d, b'"seq":')] + b"9" + d[_at(d, b'"seq":') + 1 :], SIG),
    "header structure": (
        lambda d: d[: layout(d).header[0]] + b"[" + d[layout(d).header[0] + 1 :],
        "bundle header is not valid JSON",
    ),
    "header not canonical": (_noncanonical_header, "bundle header is not in canonical JSON form"),
    "header oversized (length prefix)": (
        lambda d: d[: len(fmt.VERSION_LINE)] + struct.pack(">I", 70_000) + d[len(fmt.VERSION_LINE) + 4 :],
        "bundle header length 70000 is out of range 1..65536",
    ),
    "header oversized (real)": (
        lambda d: with_header(d, b"{" + b" " * 65_536 + b"}"),
        "bundle header length 65538 is out of range 1..65536",
    ),
    "stanza body byte": (lambda d: flip_char(d, _at(d, b'"body":"', 30)), SIG),
    "stanza ephemeral key byte": (lambda d: flip_char(d, _at(d, b'"epk":"', 10)), SIG),
    "stanza ephemeral key not canonical": (
        _epk_noncanonical,
        "bundle header stanza 1 ephemeral key is not canonical base64",
    ),
    "stanza ephemeral key wrong length": (_epk_short, "bundle header stanza 1 ephemeral key must be 32 bytes, not 31"),
    "chunk 1 byte": (lambda d: flip_char(d, layout(d).chunks[0][1] + 60), SIG),
    "chunk 2 byte": (lambda d: flip_char(d, layout(d).chunks[1][1] + 200), SIG),
    "chunk 3 byte": (lambda d: flip_char(d, layout(d).chunks[2][2] - 10), SIG),
    "chunk length oversized": (
        lambda d: d[: layout(d).chunks[0][0] + 1] + b"\xff\xff\xff\xff" + d[layout(d).chunks[0][1] :],
        "chunk 1 length 4294967295 is out of range",
    ),
    "unknown frame type": (
        lambda d: d[: layout(d).chunks[0][0]] + b"X" + d[layout(d).chunks[0][0] + 1 :],
        "unknown frame type 0x58 at byte",
    ),
    "signature byte": (
        lambda d: (
            d[: layout(d).signature[0] + 3]
            + bytes([d[layout(d).signature[0] + 3] ^ 1])
            + d[layout(d).signature[0] + 4 :]
        ),
        SIG,
    ),
    "signature stripped": (lambda d: d[: layout(d).signature[0] - 1], "bundle is truncated (no signature)"),
    "re-signed by another key": (_resigned, SIG),
    "chunks swapped": (lambda d: _rebuild(d, [_frames(d)[1], _frames(d)[0], _frames(d)[2]]), SIG),
    "chunk dropped": (lambda d: _rebuild(d, [_frames(d)[0], _frames(d)[2]]), SIG),
    "last chunk dropped": (lambda d: _rebuild(d, _frames(d)[:2]), SIG),
    "chunk duplicated": (lambda d: _rebuild(d, [_frames(d)[0], _frames(d)[0], _frames(d)[1], _frames(d)[2]]), SIG),
    "trailing bytes": (lambda d: d + b"\x00", "trailing bytes after the bundle signature"),
    "trailing bundle": (lambda d: d + d, "trailing bytes after the bundle signature"),
    "truncated: empty file": (lambda d: b"", "the file is empty"),
    "truncated in the version line": (lambda d: d[:9], "not a Liaison bundle or receipt (unknown version line)"),
    "truncated in the header length": (
        lambda d: d[: len(fmt.VERSION_LINE) + 2],
        "bundle is truncated (in the header length)",
    ),
    "truncated in the header": (lambda d: d[: layout(d).header[0] + 100], "bundle is truncated (in the header)"),
    "truncated after the header": (lambda d: d[: layout(d).header[1]], "bundle is truncated (no signature)"),
    "truncated in chunk 2": (lambda d: d[: layout(d).chunks[1][1] + 50], "bundle is truncated (in chunk 2)"),
    "truncated in chunk 2 length": (lambda d: d[: layout(d).chunks[1][0] + 3], "bundle is truncated (in chunk 2)"),
    "truncated in the signature": (
        lambda d: d[: layout(d).signature[0] + 20],
        "bundle is truncated (in the signature)",
    ),
    "unknown version": (
        lambda d: b"liaison-bundle/v3\n" + d[len(fmt.VERSION_LINE) :],
        "unsupported bundle version 'liaison-bundle/v3'; this Liaison reads liaison-bundle/v1 and liaison-bundle/v2",
    ),
    "v1 version line on a v2 header": (
        lambda d: b"liaison-bundle/v1\n" + d[len(fmt.VERSION_LINE) :],
        "bundle header version is not 1, the version its first line names",
    ),
    "random bytes": (
        lambda d: random.Random(7).randbytes(4096),
        "not a Liaison bundle or receipt (unknown version line)",
    ),
}


@pytest.fixture
def good(pair: Pair) -> bytes:
    """A good PK-MOI → TR-MOI bundle of 7 records in 3 chunks (3, 3, 1); a twin of PK-MOI is kept from before it."""
    twin(pair, "PK-twin.db")
    data = export_chunked(pair.pk, pair.path("good.bundle"))
    assert len(layout(data).chunks) == 3
    return data


def _refused(pair: Pair, data: bytes, message: str, *, exact: bool = True, name: str = "bad.bundle") -> None:
    bad = pair.path(name)
    bad.write_bytes(data)
    before = store_fingerprint(pair.tr.path)
    result = pair.tr.cli("import", str(bad))
    assert_refused(result, f"{name}: {message}", exact=exact)
    assert store_fingerprint(pair.tr.path) == before
    assert find_plaintext(pair.tr.path, CANARY_PK) == []


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_corpus(pair: Pair, good: bytes, name: str) -> None:
    """Each spoiled variant of a good bundle is refused with its specific error and changes nothing."""
    mutate, message = MUTATIONS[name]
    spoiled = mutate(good)
    assert spoiled != good
    _refused(pair, spoiled, message, exact=not message.endswith(("at byte", "out of range")))


def test_the_good_bundle_itself_imports(pair: Pair, good: bytes) -> None:
    """The corpus's source is sound: unspoiled, it imports."""
    pair.path("good.bundle").write_bytes(good)
    assert "7 records (7 new" in pair.tr.ok("import", str(pair.path("good.bundle"))).err


def test_chunk_from_another_bundle(pair: Pair, good: bytes) -> None:
    """A chunk spliced in from another bundle of the same sender to the same recipient is refused."""
    other = export_chunked(LiaisonStore(pair.path("PK-twin.db")), pair.path("other.bundle"))
    frames = _frames(good)
    spliced = _rebuild(good, [frames[0], _frames(other)[1], frames[2]])
    _refused(pair, spliced, SIG)


def test_replay_of_a_sequence_number_with_different_content(pair: Pair, good: bytes) -> None:
    """Sequence 1 already imported from one bundle; another bundle claiming sequence 1 (PK-MOI's real key, the
    same checkpoint as the first, other content: a modified writer) is refused."""
    pair.path("good.bundle").write_bytes(good)
    pair.tr.ok("import", str(pair.path("good.bundle")))
    with pair.path("good.bundle").open("rb") as fh:
        header = fmt.BundleReader(fh).header
    replay = crafted_by(
        pair.pk, pair.root / "tr.card", [good_record()], seq=1, checkpoint=lambda _keys: (header.checkpoint or "", ())
    )
    _refused(
        pair,
        replay,
        f"sequence number 1 from PK-MOI was already used by bundle {header.bundle_id}; refusing a replayed or forged bundle",
    )


def test_a_twin_of_the_sender_is_refused_as_a_fork(pair: Pair, good: bytes) -> None:
    """Threat 31: a copy of PK-MOI's store taken before `good` was written (two copies of one store, each
    exporting) sends genuine bundles; once TR-MOI imported one copy's, the other copy's log is not an extension
    of it, whatever its sequence numbers say."""
    first = export_chunked(LiaisonStore(pair.path("PK-twin.db")), pair.path("first.bundle"))
    pair.tr.ok("import", str(pair.path("first.bundle")))
    assert first != good
    [(day,)] = pair.tr.sql("SELECT substr(max(at), 1, 10) FROM audit_log WHERE action = 'import'")
    bad = pair.path("bad.bundle")
    bad.write_bytes(good)
    before = store_fingerprint(pair.tr.path)
    assert_refused(
        pair.tr.cli("import", str(bad)),
        f"PK-MOI's log is not an extension of the checkpoint received on {day} (forked or rolled back)",
    )
    assert store_fingerprint(pair.tr.path) == before


def test_wrong_recipient(pair: Pair, good: bytes, tmp_path: Path) -> None:
    """A bundle for TR-MOI imported by PK-ANF (which knows PK-MOI) is refused as not addressed to it."""
    anf = init_store(tmp_path / "anf" / "ANF.db", "--no-four-eyes", ministry="PK-ANF")
    anf.ok("contacts", "add", str(pair.path("pk.card")))
    bad = pair.path("bad.bundle")
    bad.write_bytes(good)
    before = store_fingerprint(anf.path)
    assert_refused(
        anf.cli("import", str(bad)), "bad.bundle: the bundle is addressed to TR-MOI, not to this ministry (PK-ANF)"
    )
    assert store_fingerprint(anf.path) == before


def test_unknown_sender(pair: Pair, good: bytes) -> None:
    """A bundle from a ministry with no contact card here is refused, naming `liaison contacts add`."""
    pair.tr.sql("DELETE FROM contacts WHERE code = 'PK-MOI'")
    _refused(
        pair,
        good,
        "unknown sender PK-MOI: no contact card; add it with `liaison contacts add CARD` and compare the fingerprint",
    )


def test_sender_key_not_on_the_card(pair: Pair, good: bytes) -> None:
    """A header naming a different sender key than the contact card is refused before the signature is checked."""
    i = _at(good, b'"fingerprint":"', 0)
    spoiled = flip_char(good, i)
    key = " ".join(spoiled[i : i + 64].decode()[k : k + 4] for k in range(0, 64, 4))
    _refused(pair, spoiled, f"the bundle names a sender key ({key}) that is not on PK-MOI's contact card")


def test_malformed_content_inside_a_valid_token(pair: Pair) -> None:
    """A properly signed and sealed chunk whose record lacks a field is refused, nothing imported."""
    record = good_record()
    del record["source"]
    _refused(pair, crafted(pair, [record]), "chunk 1 record 1: missing field source")


def test_red_record_inside_a_valid_bundle(pair: Pair) -> None:
    """Even a validly signed bundle may not carry TLP:RED; the whole bundle is refused."""
    _refused(
        pair,
        crafted(
            pair,
            [
                good_record(),
                good_record(uuid="7f1c2a8e-3b4d-4c5e-9f60-718293a4b5c6", reference="PK-MOI-2026-09002", tlp="RED"),
            ],
        ),
        "record PK-MOI-2026-09002 is TLP:RED, which never travels in a bundle",
    )


def test_record_claiming_the_receivers_origin(pair: Pair) -> None:
    """A bundle may not carry records claiming to originate at the receiving ministry."""
    _refused(
        pair,
        crafted(pair, [good_record(origin="TR-MOI", reference="TR-MOI-2026-09001")]),
        "record TR-MOI-2026-09001 claims to originate at this ministry (TR-MOI)",
    )


def test_amber_record_of_a_third_party(pair: Pair) -> None:
    """A sender may not pass on a third party's AMBER record; the receiver refuses the bundle."""
    _refused(
        pair,
        crafted(
            pair, [good_record(origin="PK-ANF", reference="PK-ANF-2026-09001", releasable_to=["PK-MOI", "TR-MOI"])]
        ),
        "record PK-ANF-2026-09001 from PK-ANF is TLP:AMBER and may not be re-exported by PK-MOI",
    )


def test_failure_in_the_last_chunk_imports_nothing(pair: Pair) -> None:
    """All-or-nothing: a bad record in the last chunk leaves no record of the earlier chunks behind."""
    records = [
        good_record(
            uuid=f"6f1c2a8e-3b4d-4c5e-9f60-718293{i:06d}", reference=f"PK-MOI-2026-090{i:02d}", title=f"{CANARY_PK} {i}"
        )
        for i in range(1, 300)
    ]
    records.append(
        good_record(uuid="6f1c2a8e-3b4d-4c5e-9f60-718293000999", reference="PK-MOI-2026-09999", domain="astrology")
    )
    data = crafted(pair, records)
    assert len(layout(data).chunks) == 2
    _refused(
        pair, data, "record PK-MOI-2026-09999 has domain astrology, unknown here; add it with `liaison domains add`"
    )


def test_signature_from_another_bundle(pair: Pair, good: bytes) -> None:
    """The sender's genuine signature of a different bundle does not vouch for this one."""
    other = export_chunked(LiaisonStore(pair.path("PK-twin.db")), pair.path("other.bundle"))
    _refused(pair, good[: layout(good).signature[0]] + other[layout(other).signature[0] :], SIG)
