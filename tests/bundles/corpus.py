"""Build good bundles through the store and take them apart: regions, frames and re-signed or crafted variants."""

from __future__ import annotations

import shutil
import struct
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

from crypto import bundle as fmt
from crypto.card import read_card
from crypto.encoding import canonical_json
from crypto.keyring import Keyring
from tests.bundles.conftest import Pair
from tests.liaison_helpers import PASSPHRASES, LiaisonStore


@dataclass(frozen=True)
class Layout:
    """Byte ranges of a bundle's regions."""

    header: tuple[int, int]
    chunks: list[tuple[int, int, int]]  # (frame start, token start, token end)
    signature: tuple[int, int]  # the 64 signature bytes (the frame tag is one byte before)


def layout(data: bytes) -> Layout:
    """Where the header, each chunk token and the signature are."""
    pos = len(fmt.VERSION_LINE)
    (length,) = struct.unpack(">I", data[pos : pos + 4])
    header = (pos + 4, pos + 4 + length)
    chunks = []
    p = header[1]
    while data[p] == fmt.FRAME_CHUNK:
        (n,) = struct.unpack(">I", data[p + 1 : p + 5])
        chunks.append((p, p + 5, p + 5 + n))
        p += 5 + n
    assert data[p] == fmt.FRAME_SIGNATURE
    return Layout(header, chunks, (p + 1, p + 65))


def flip_char(data: bytes, index: int) -> bytes:
    """Replace one base64 or hex character by another valid one, so only authentication can notice."""
    old = data[index]
    alphabet = (
        b"0123456789abcdef"
        if old in b"0123456789abcdef"
        else b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    )
    assert old in alphabet, f"byte {index} ({chr(old)!r}) is not base64 or hex"
    new = alphabet[(alphabet.index(old) + 1) % len(alphabet)]
    return data[:index] + bytes([new]) + data[index + 1 :]


def with_header(data: bytes, header: bytes) -> bytes:
    """Replace the header bytes (and its length prefix)."""
    lay = layout(data)
    pos = len(fmt.VERSION_LINE)
    return data[:pos] + struct.pack(">I", len(header)) + header + data[lay.header[1] :]


def export_chunked(store: LiaisonStore, out: Path, chunk_records: int = 3, *refs: str) -> bytes:
    """Export PK-MOI → TR-MOI through the store API with small chunks, so the bundle has several."""
    from store.bundles import export_bundle

    session = store.session("alice")
    try:
        export_bundle(session, "TR-MOI", out, refs=refs, chunk_records=chunk_records)
    finally:
        session.vault.close()
    return out.read_bytes()


def twin(pair: Pair, name: str) -> LiaisonStore:
    """A copy of the PK-MOI store as it is now: same keys, same sequence numbers, driven from a workstation of
    its own (this one's witness would call the copy a rollback once the original moves on)."""
    copy = pair.root / name
    shutil.copyfile(pair.pk.path, copy)
    return LiaisonStore(copy, workstation=pair.root / f"{name}.workstation")


class _RawWriter(fmt.BundleWriter):
    """A writer that skips record validation: the sender's own key signs whatever it is given."""

    def add(self, record: dict[str, Any]) -> str:
        encoded = canonical_json(record)
        if len(self._pending) >= self.chunk_records:
            self._flush(final=False)
        self._pending.append(encoded)
        self._pending_bytes += len(encoded)
        self._written += 1
        return ""


def crafted(pair: Pair, records: list[dict[str, Any]], *, seq: int = 50) -> bytes:
    """A bundle signed with PK-MOI's real key and sealed to TR-MOI, carrying exactly `records` (valid or not)."""
    return crafted_by(pair.pk, pair.root / "tr.card", records, seq=seq)


def crafted_by(
    sender: LiaisonStore,
    recipient_card: Path,
    records: list[dict[str, Any]],
    *,
    seq: int = 50,
    keys_of: Callable[[Keyring], tuple[bytes, bytes]] | None = None,
    transitions: tuple[fmt.KeyTransition, ...] = (),
    version: int = fmt.FORMAT_VERSION,
    checkpoint: Callable[[Keyring], tuple[str, tuple[fmt.Proof, ...]]] | None = None,
) -> bytes:
    """The modified writer of a hostile counterpart: a bundle signed with `sender`'s own real keys (a genuine
    signature from a known contact) and sealed to the ministry of `recipient_card`, carrying exactly `records`.

    `keys_of` picks other (signing, exchange) private keys to sign and name as the sender's (given the store's
    keyring); `transitions` go in the header as they are; `checkpoint` makes the (note, proofs) to carry, given
    the store's keyring (so a lying log can be signed with the store's real key); `version` 1 writes a v1 file."""
    import io

    from crypto.identity import public_identity

    card = read_card(recipient_card.read_bytes())
    vault_session = sender.session("alice")
    try:
        keys = vault_session.keyring
        code = vault_session.ministry
        signing_key, exchange_key = keys_of(keys) if keys_of else (keys.signing_key, keys.exchange_key)
        note, proofs = checkpoint(keys) if checkpoint else (None, ())
        identity = public_identity(signing_key, exchange_key)
        out = io.BytesIO()
        bundle_id = fmt.new_bundle_id()
        file_key = fmt.new_file_key()
        # the modified writer does not check its own header (statements with a bad signature go out as given)
        with mock.patch("crypto.bundle.writer.parse_header"):
            writer = _RawWriter(
                out,
                bundle_id=bundle_id,
                sender=code,
                sender_fingerprint=identity.fingerprint,
                recipients=[fmt.Recipient(card.ministry, seq)],
                stanzas=[fmt.x25519_stanza(bundle_id, card.ministry, card.identity.exchange_public, file_key)],
                records=len(records),
                signing_key=signing_key,
                file_key=file_key,
                created=datetime.now(UTC),
                transitions=transitions,
                version=version,
                checkpoint=note,
                proofs=proofs,
            )
        for rec in records:
            writer.add(rec)
        writer.finish()
        return out.getvalue()
    finally:
        vault_session.vault.close()


def good_record(**changes: Any) -> dict[str, Any]:
    """A well-formed record object from PK-MOI, releasable to TR-MOI."""
    now = fmt.format_time(datetime.now(UTC))
    rec = {
        "uuid": "6f1c2a8e-3b4d-4c5e-9f60-718293a4b5c6",
        "reference": "PK-MOI-2026-09001",
        "domain": "narcotics",
        "origin": "PK-MOI",
        "releasable_to": ["TR-MOI"],
        "tlp": "AMBER",
        "no_reexport": False,
        "revision": 1,
        "author": "alice",
        "created_at": now,
        "updated_at": now,
        "title": "Zanzibarite crafted",
        "summary": "Zanzibarite body",
        "source": "",
    }
    rec.update(changes)
    return rec


__all__ = [
    "PASSPHRASES",
    "crafted",
    "crafted_by",
    "export_chunked",
    "flip_char",
    "good_record",
    "layout",
    "twin",
    "with_header",
]
