"""Stores with fixed key material, for snapshots that show fingerprints (test-only: these keys protect nothing).

`Vault.create` draws its keyring from `Keyring.generate`; inside `fixed_keyring(label)` that draws every key
from a seeded SHA-256 instead, so a store built twice has the same identity and the same fingerprint. The store
is otherwise built through its public API.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from unittest import mock

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from crypto.keyring import Keyring
from store.contacts import add_contact, identity_card
from store.service import Draft, Vault
from tests.tui.helpers import NOW, OFFICERS, fixed_clock

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


@contextmanager
def fixed_officer_keys(label: str) -> Iterator[None]:
    """Every officer signing key made inside (a new slot) is derived from `label` and a counter, in order."""
    counter = itertools.count(1)

    class SeededEd25519:
        from_private_bytes = staticmethod(Ed25519PrivateKey.from_private_bytes)

        @staticmethod
        def generate() -> Ed25519PrivateKey:
            return Ed25519PrivateKey.from_private_bytes(seeded(f"{label} officer {next(counter)}"))

    with mock.patch("crypto.slot.Ed25519PrivateKey", SeededEd25519):
        yield


class _Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


#: The audit store's records: (author, title, approved by kestrel).
AUDIT_RECORDS = (
    ("heron", "Ferry route near Gwadar used by couriers", True),
    ("heron", "Forged visa workshop in Quetta", False),
    ("demo", "Container seizure at Port Qasim", False),
    ("heron", "Night crossings at Taftan", True),
    ("heron", "Fuel smuggling dhow off Pasni", False),
    ("demo", "Extortion calls to traders in Lahore", False),
)


def build_audit_store(path: Path) -> None:
    """A PK-MOI store whose every key (identity and officers') is fixed, so its audit log draws the same fingerprints
    on every run: three officers, six records written on a day each, two approved by kestrel."""
    clock = _Clock(NOW - timedelta(days=len(AUDIT_RECORDS) + 2, hours=3))
    with fixed_keyring("PK-MOI audit"), fixed_officer_keys("PK-MOI audit"):
        vault = Vault.create(
            path, "PK-MOI", "demo", OFFICERS["demo"], clock=clock, kdf_profile="minimum", short_passphrase_ok=True
        )
        admin = vault.unlock("demo", OFFICERS["demo"])
        clock.now += timedelta(minutes=5)
        admin.add_officer("kestrel", "reviewer", OFFICERS["kestrel"])
        admin.add_officer("heron", "officer", OFFICERS["heron"])
    sessions = {"demo": admin, "heron": vault.unlock("heron", OFFICERS["heron"])}
    kestrel = vault.unlock("kestrel", OFFICERS["kestrel"])
    for day, (author, title, approved) in enumerate(AUDIT_RECORDS, 1):
        clock.now = NOW - timedelta(days=len(AUDIT_RECORDS) + 1 - day, hours=2)
        reference = sessions[author].add_record(
            Draft(
                domain="narcotics",
                tlp="AMBER",
                title=title,
                summary="Reporting indicates a pattern; corroboration requested.",
                source="Partner liaison briefing (B2)",
                notes="",
                releasable_to=("TR-MOI",),
            ),
            submit=True,
        )
        if approved:
            clock.now += timedelta(hours=1)
            kestrel.approve(reference, "consistent with earlier reporting")
    for session in (*sessions.values(), kestrel):
        session.lock()
    vault.db.checkpoint()
    vault.close()


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
