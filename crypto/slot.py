"""Officer key slots (passphrase → officer key) and grants (officer key → keyring), LUKS-style.

A slot wraps the officer's private X25519 key under an Argon2id-derived key; the slot header
(officer name, KDF parameters, public key) is repeated inside the ciphertext and compared after
decryption, so any edit of the header is detected. The slot also carries an unkeyed check of its KDF
parameters (`kdf_check`), compared before any key derivation, so a slot whose parameters were edited
(or damaged) is refused as "wrong passphrase or damaged key slot" instead of a plain wrong passphrase;
slots written before the check existed have none and are read as before. A grant seals the keyring to the officer's public
key, so an admin can grant or rotate the keyring for an officer without knowing their passphrase.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from crypto.encoding import b64d, b64e, canonical_json, parse_json_object
from crypto.errors import DecryptionFailed, MalformedData, SlotParametersChanged, SlotTampered
from crypto.kdf import KdfParams
from crypto.keyring import Keyring, hkdf_derive
from crypto.seal import open_sealed, public_bytes_x25519, seal

SLOT_VERSION = 1
MAX_SLOT_BYTES = 8192
#: A slot's officer name is shown in errors before anything is authenticated: it must be short and printable.
MAX_OFFICER = 64
KDF_CHECK_CONTEXT = b"liaison/slot/v1/kdf-check\n"
_HEX64 = re.compile(r"[0-9a-f]{64}")


def kdf_check(params: KdfParams) -> str:
    """The unkeyed check of a slot's KDF parameters (hex SHA-256 of their canonical JSON)."""
    return hashlib.sha256(KDF_CHECK_CONTEXT + canonical_json(params.to_dict())).hexdigest()


@dataclass(frozen=True)
class OfficerSlot:
    """A passphrase-protected wrapping of one officer's private key."""

    officer: str
    params: KdfParams
    public_key: bytes
    wrapped: bytes
    #: The check the slot was read with (None for slots written before checks existed); written fresh by `to_json`.
    stored_check: str | None = field(default=None, compare=False)

    def header(self) -> dict[str, Any]:
        """The authenticated header: everything but the ciphertext."""
        return {
            "v": SLOT_VERSION,
            "officer": self.officer,
            "kdf": self.params.to_dict(),
            "public": b64e(self.public_key),
        }

    def to_json(self) -> str:
        """Serialized form for the officers table."""
        fields = {**self.header(), "kdf_check": kdf_check(self.params), "wrapped": self.wrapped.decode("ascii")}
        return canonical_json(fields).decode("utf-8")

    @classmethod
    def from_json(cls, text: str) -> OfficerSlot:
        """Parse a stored slot; absurd KDF parameters are refused here, before any derivation."""
        data = text.encode("utf-8")
        if len(data) > MAX_SLOT_BYTES:
            raise MalformedData("key slot too large")
        obj = parse_json_object(data)
        if obj.get("v") != SLOT_VERSION:
            raise MalformedData("unsupported key slot version")
        officer, wrapped = obj.get("officer"), obj.get("wrapped")
        if not isinstance(officer, str) or not isinstance(wrapped, str):
            raise MalformedData("key slot fields missing")
        if not 1 <= len(officer) <= MAX_OFFICER or not officer.isprintable():
            raise MalformedData("key slot officer name is not a short printable name")
        if not wrapped.isascii():
            raise MalformedData("key slot ciphertext is not base64 text")
        check = obj.get("kdf_check")
        if check is not None and not (isinstance(check, str) and _HEX64.fullmatch(check)):
            raise MalformedData("key slot parameter check is not 64 hex digits")
        return cls(
            officer=officer,
            params=KdfParams.from_dict(obj.get("kdf")),
            public_key=b64d(obj.get("public"), length=32),
            wrapped=wrapped.encode("ascii"),
            stored_check=check,
        )


def _slot_fernet(passphrase: bytes, params: KdfParams) -> Fernet:
    stretched = params.derive(passphrase)
    return Fernet(base64.urlsafe_b64encode(hkdf_derive(stretched, b"liaison/slot/v1")))


def create_slot(
    officer: str, passphrase: bytes, params: KdfParams, private_key: bytes | None = None
) -> tuple[OfficerSlot, bytes]:
    """Make a slot for `officer`; returns it with the officer's private X25519 key (new unless given)."""
    sk = X25519PrivateKey.from_private_bytes(private_key) if private_key else X25519PrivateKey.generate()
    raw_sk = sk.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    public = public_bytes_x25519(sk.public_key())
    unsigned = OfficerSlot(officer=officer, params=params, public_key=public, wrapped=b"")
    inner = canonical_json({"header": unsigned.header(), "secret": b64e(raw_sk)})
    wrapped = _slot_fernet(passphrase, params).encrypt(inner)
    return OfficerSlot(officer=officer, params=params, public_key=public, wrapped=wrapped), raw_sk


def open_slot(slot: OfficerSlot, passphrase: bytes) -> bytes:
    """Return the officer's private key; DecryptionFailed on a wrong passphrase, SlotTampered on an edited slot.

    SlotParametersChanged (a DecryptionFailed) when the KDF parameters no longer match the slot's check: raised
    before the KDF runs (after the bounds check), since deriving under edited parameters cannot succeed.
    """
    slot.params.validate()
    if slot.stored_check is not None and slot.stored_check != kdf_check(slot.params):
        raise SlotParametersChanged("wrong passphrase or damaged key slot")
    try:
        inner = _slot_fernet(passphrase, slot.params).decrypt(slot.wrapped)
    except InvalidToken as exc:
        raise DecryptionFailed("wrong passphrase") from exc
    try:
        obj = parse_json_object(inner)
        secret = b64d(obj.get("secret"), length=32)
    except MalformedData as exc:
        raise SlotTampered(f"its sealed copy is malformed ({exc})") from exc
    if obj.get("header") != slot.header():
        raise SlotTampered("key slot header does not match its sealed copy")
    derived_public = public_bytes_x25519(X25519PrivateKey.from_private_bytes(secret).public_key())
    if derived_public != slot.public_key:
        raise SlotTampered("key slot public key does not match")
    return secret


def _grant_info(store_id: str, officer: str) -> bytes:
    return canonical_json({"purpose": "liaison/grant/v1", "store": store_id, "officer": officer})


def grant_keyring(keyring: Keyring, officer: str, officer_public: bytes) -> str:
    """Seal the keyring to an officer's public key; the grant is bound to the store and officer name."""
    epk, token = seal(officer_public, keyring.to_bytes(), _grant_info(keyring.store_id, officer))
    return canonical_json({"v": 1, "epk": b64e(epk), "token": token.decode("ascii")}).decode("utf-8")


def open_grant(grant: str, store_id: str, officer: str, private_key: bytes) -> Keyring:
    """Recover the keyring from an officer's grant."""
    obj = parse_json_object(grant.encode("utf-8"))
    token = obj.get("token")
    if obj.get("v") != 1 or not isinstance(token, str) or not token.isascii():
        raise MalformedData("unsupported grant")
    plain = open_sealed(
        private_key, b64d(obj.get("epk"), length=32), token.encode("ascii"), _grant_info(store_id, officer)
    )
    keyring = Keyring.from_bytes(plain)
    if keyring.store_id != store_id:
        raise DecryptionFailed("grant belongs to another store")
    return keyring
