"""The frozen v1 test vectors: every file in `tests/vectors/v1/` is read as its header says and must give
exactly its stated outcome; and the generator still writes the same bytes, so a format change shows up here.

Each file is `key: value` header lines, a blank line, then the raw bundle, receipt or card (see
`tests/vectors/README.md`). This reader uses only the header, never the generator's constants.
"""

from __future__ import annotations

import base64
import hashlib
import io
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from crypto import bundle as fmt
from crypto.card import read_card

VECTORS = Path(__file__).parent / "v1"
NAMES = sorted(p.name for p in VECTORS.iterdir())


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
    return {"records": str(len(records)), "records-sha256": digest([fmt.record_hash(r) for r in records])}


def read_receipt(fields: dict[str, str], body: bytes) -> dict[str, str]:
    envelope = fmt.read_receipt(body)
    fmt.verify_receipt(envelope, key(fields["receipt-signer-public"]))
    opened = fmt.open_receipt(envelope, key(fields["sender-exchange-private"]))
    return {
        "bundle": opened.bundle_id,
        "items": str(len(opened.items)),
        "records-sha256": digest([i[3] for i in opened.items]),
    }


def read_identity_card(fields: dict[str, str], body: bytes) -> dict[str, str]:
    card = read_card(body)
    return {"ministry": card.ministry, "fingerprint": card.fingerprint}


READERS = {
    "liaison-bundle/v1": read_bundle,
    "liaison-receipt/v1": read_receipt,
    "liaison-identity-card/v1": read_identity_card,
}


def test_there_are_vectors_of_every_kind_and_outcome() -> None:
    seen = {
        (parse((VECTORS / n).read_bytes())[0]["format"], parse((VECTORS / n).read_bytes())[0]["expect"]) for n in NAMES
    }
    assert seen == {(f, e) for f in READERS for e in ("accept", "refuse")}


@pytest.mark.parametrize("name", NAMES)
def test_vector(name: str) -> None:
    """The vector gives exactly its stated outcome: what it must yield, or its one-line error."""
    fields, body = parse((VECTORS / name).read_bytes())
    read = READERS[fields["format"]]
    try:
        got = read(fields, body)
    except fmt.BundleError as exc:
        assert fields["expect"] == "refuse", f"{name} was refused: {exc}"
        assert str(exc) == fields["error"]
        return
    assert fields["expect"] == "accept", f"{name} was accepted, expected: {fields['error']}"
    assert got == {k: fields[k] for k in got}


def test_the_generator_still_writes_these_exact_bytes() -> None:
    """Regenerating gives byte-identical files: the writers, keys and framing have not changed."""
    from tests.vectors.generate import rendered

    files = rendered()
    assert sorted(files) == NAMES
    changed = [name for name in NAMES if files[name] != (VECTORS / name).read_bytes()]
    assert changed == [], f"the format changed for {changed}: a v1 reader must still accept the committed files"


def test_the_test_keys_are_the_generators() -> None:
    """The keys in the headers are the deterministic test keys (not some real ministry's)."""
    fields, _ = parse((VECTORS / "bundle-x25519").read_bytes())
    seeded = hashlib.sha256(b"liaison test vectors v1|PK-MOI signing").digest()
    public = Ed25519PrivateKey.from_private_bytes(seeded).public_key().public_bytes_raw()
    assert key(fields["sender-signing-public"]) == public
