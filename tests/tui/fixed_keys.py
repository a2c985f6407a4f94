"""Stores with fixed key material, for snapshots that show fingerprints (test-only: these keys protect nothing).

`Vault.create` draws its keyring from `Keyring.generate`; inside `fixed_keyring(label)` that draws every key
from a seeded SHA-256 instead, so a store built twice has the same identity and the same fingerprint. The store
is otherwise built through its public API.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from crypto.keyring import Keyring
from store.contacts import add_contact, identity_card
from store.service import Vault
from tests.tui.helpers import OFFICERS, fixed_clock

SEED = b"liaison tui snapshot keys"


def seeded(label: str) -> bytes:
    """32 deterministic bytes for `label`."""
    return hashlib.sha256(SEED + b"|" + label.encode()).digest()


def _raw(key: Ed25519PrivateKey | X25519PrivateKey) -> bytes:
    return key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())


@contextmanager
def fixed_keyring(label: str) -> Iterator[None]:
    """Every keyring generated inside has keys derived from `label` (the store id stays as given)."""

    def generate(store_id: str) -> Keyring:
        return Keyring(
            store_id=store_id,
            data_keys={1: base64.urlsafe_b64encode(seeded(f"{label} data"))},
            current_version=1,
            master=seeded(f"{label} master"),
            signing_key=_raw(Ed25519PrivateKey.from_private_bytes(seeded(f"{label} signing"))),
            exchange_key=_raw(X25519PrivateKey.from_private_bytes(seeded(f"{label} exchange"))),
        )

    with mock.patch.object(Keyring, "generate", staticmethod(generate)):
        yield


def build_contacts_stores(root: Path) -> tuple[Path, Path]:
    """`root/pk.db` (PK-MOI, admin `demo`) knowing TR-MOI's card, and that card `root/tr.card`, all from fixed keys."""
    pk_path, tr_card = root / "pk.db", root / "tr.card"
    with fixed_keyring("TR-MOI"):
        tr_vault = Vault.create(
            root / "tr.db", "TR-MOI", "elif", "elif-pass", four_eyes=False, clock=fixed_clock, kdf_profile="minimum"
        )
    with fixed_keyring("PK-MOI"):
        pk_vault = Vault.create(
            pk_path,
            "PK-MOI",
            "demo",
            OFFICERS["demo"],
            clock=fixed_clock,
            kdf_profile="minimum",
            short_passphrase_ok=True,
        )
    tr = tr_vault.unlock("elif", "elif-pass")
    pk = pk_vault.unlock("demo", OFFICERS["demo"])
    tr_card.write_bytes(identity_card(tr))
    add_contact(pk, tr_card)
    for session, vault in ((tr, tr_vault), (pk, pk_vault)):
        session.lock()
        vault.db.checkpoint()
        vault.close()
    return pk_path, tr_card
