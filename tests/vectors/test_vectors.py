"""The test vectors: every file in `tests/vectors/v1/` (frozen) and `tests/vectors/v2/` is read as its header says
and must give exactly its stated outcome; and the generators still write the same bytes, so a format change
shows up here.

Each file is `key: value` header lines, a blank line, then the raw bundle, receipt or card (see
`tests/vectors/README.md`). This reader uses only the header, never the generator's constants.
"""

from __future__ import annotations

import base64
import hashlib
import io
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from crypto import bundle as fmt
from crypto.card import read_card

VECTORS = Path(__file__).parent / "v1"
VECTORS_V2 = Path(__file__).parent / "v2"
NAMES = sorted(p.name for p in VECTORS.iterdir())
NAMES_V2 = sorted(p.name for p in VECTORS_V2.iterdir())

#: v1 vectors whose refusal a v2 reader words differently, and why. Still refused; the file stays as frozen.
SUPERSEDED = {
    # a v1 reader did not know the v2 line; a v2 reader does, and finds a v1 header behind it
    "bundle-version-2": "bundle header version is not 2, the version its first line names",
}


def parse(data: bytes) -> tuple[dict[str, str], bytes]:
    """Header fields and body of one vector file."""
    head, sep, body = data.partition(b"\n\n")
    assert sep, "a vector needs a blank line between header and body"
    fields: dict[str, str] = {}
    for line in head.decode("utf-8").split("\n"):
        key, colon, value = line.partition(": ")
        assert colon and key not in fields, f"bad header line {line!r}"
        fields[key] = value
    assert fields["expect"] in ("accept", "refuse")
    assert (fields["expect"] == "refuse") == ("error" in fields)
    return fields, body


def key(text: str) -> bytes:
    return base64.urlsafe_b64decode(text.encode("ascii"))


def digest(hashes: list[str]) -> str:
    return hashlib.sha256("".join(hashes).encode("ascii")).hexdigest()


def read_bundle(fields: dict[str, str], body: bytes) -> dict[str, str]:
    reader = fmt.BundleReader(io.BytesIO(body))
    reader.verify(key(fields["sender-signing-public"]))
    if "passphrase" in fields:
        file_key = reader.file_key_from_passphrase(fields["passphrase"].encode("utf-8"))
    else:
        file_key = reader.file_key_from_identity(fields["recipient"], key(fields["recipient-exchange-private"]))
    records = [r for chunk in reader.chunks(file_key) for r in chunk]
    got = {"records": str(len(records)), "records-sha256": digest([fmt.record_hash(r) for r in records])}
    if reader.header.version == 2:
        got.update(transitions_of(reader.header.transitions, reader.header.sender_fingerprint))
    return got


def transitions_of(chain: tuple[fmt.KeyTransition, ...], fingerprint: str) -> dict[str, str]:
    """How many statements, and the key a receiver must hold for the chain to start from."""
    got = {"transitions": str(len(chain))}
    if chain:
        assert chain[-1].new.fingerprint == fingerprint
        got["previous-fingerprint"] = chain[0].old.fingerprint
    return got


def read_receipt(fields: dict[str, str], body: bytes) -> dict[str, str]:
    envelope = fmt.read_receipt(body)
    fmt.verify_receipt(envelope, key(fields["receipt-signer-public"]))
    opened = fmt.open_receipt(envelope, key(fields["sender-exchange-private"]))
    got = {
        "bundle": opened.bundle_id,
        "items": str(len(opened.items)),
        "records-sha256": digest([i[3] for i in opened.items]),
    }
    if envelope.version == 2:
        got.update(transitions_of(envelope.transitions, envelope.sender_fingerprint))
    return got


def read_identity_card(fields: dict[str, str], body: bytes) -> dict[str, str]:
    card = read_card(body)
    return {"ministry": card.ministry, "fingerprint": card.fingerprint}


READERS = {
    "liaison-bundle/v1": read_bundle,
    "liaison-receipt/v1": read_receipt,
    "liaison-identity-card/v1": read_identity_card,
}
READERS_V2 = {"liaison-bundle/v2": read_bundle, "liaison-receipt/v2": read_receipt}


@pytest.mark.parametrize(
    ("directory", "names", "readers"), [(VECTORS, NAMES, READERS), (VECTORS_V2, NAMES_V2, READERS_V2)]
)
def test_there_are_vectors_of_every_kind_and_outcome(
    directory: Path, names: list[str], readers: dict[str, object]
) -> None:
    seen = {
        (parse((directory / n).read_bytes())[0]["format"], parse((directory / n).read_bytes())[0]["expect"])
        for n in names
    }
    assert seen == {(f, e) for f in readers for e in ("accept", "refuse")}


def check(path: Path, readers: dict[str, Any], superseded: str | None = None) -> None:
    """The vector gives exactly its stated outcome: what it must yield, or its one-line error."""
    name = path.name
    fields, body = parse(path.read_bytes())
    read = readers[fields["format"]]
    try:
        got = read(fields, body)
    except fmt.BundleError as exc:
        assert fields["expect"] == "refuse", f"{name} was refused: {exc}"
        assert str(exc) == (superseded or fields["error"])
        return
    assert fields["expect"] == "accept", f"{name} was accepted, expected: {fields['error']}"
    assert got == {k: fields[k] for k in got}
    assert set(got) == {k for k in fields if k in got or k in ("transitions", "previous-fingerprint")}


@pytest.mark.parametrize("name", NAMES)
def test_vector(name: str) -> None:
    """A frozen v1 vector: read by today's (v2) reader, the outcome it states (or its superseded wording)."""
    check(VECTORS / name, READERS, SUPERSEDED.get(name))


@pytest.mark.parametrize("name", NAMES_V2)
def test_vector_v2(name: str) -> None:
    """A v2 vector: the outcome it states, word for word."""
    check(VECTORS_V2 / name, READERS_V2)


def test_the_generator_still_writes_these_exact_bytes() -> None:
    """Regenerating gives byte-identical files: the writers, keys and framing have not changed."""
    from tests.vectors.generate import rendered

    files = rendered()
    assert sorted(files) == NAMES
    changed = [name for name in NAMES if files[name] != (VECTORS / name).read_bytes()]
    assert changed == [], f"the format changed for {changed}: a v1 reader must still accept the committed files"


def test_the_v2_generator_still_writes_these_exact_bytes() -> None:
    """Regenerating the v2 set gives byte-identical files."""
    from tests.vectors.generate_v2 import rendered

    files = rendered()
    assert sorted(files) == NAMES_V2
    changed = [name for name in NAMES_V2 if files[name] != (VECTORS_V2 / name).read_bytes()]
    assert changed == [], f"the v2 format changed for {changed}"


def test_superseded_v1_vectors_are_still_refused() -> None:
    """Only refusals are reworded, never turned into acceptances."""
    for name in SUPERSEDED:
        assert parse((VECTORS / name).read_bytes())[0]["expect"] == "refuse"


def test_the_test_keys_are_the_generators() -> None:
    """The keys in the headers are the deterministic test keys (not some real ministry's)."""
    fields, _ = parse((VECTORS / "bundle-x25519").read_bytes())
    seeded = hashlib.sha256(b"liaison test vectors v1|PK-MOI signing").digest()
    public = Ed25519PrivateKey.from_private_bytes(seeded).public_key().public_bytes_raw()
    assert key(fields["sender-signing-public"]) == public
