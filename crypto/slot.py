"""Officer key slots (passphrase → officer keys) and grants (officer key → keyring), LUKS-style.

A slot wraps the officer's private keys under an Argon2id-derived key: the X25519 exchange key (which opens
the officer's grant) and, since slot v2, the Ed25519 signing key the officer signs audit events with. The slot
header (version, officer name, KDF parameters, public keys) is repeated inside the ciphertext and compared
after decryption, so any edit of the header — `signing_public` included, or a v2 slot relabelled v1 — is
detected, and each public key is checked against the private key it belongs to. The slot also carries an
unkeyed check of its KDF parameters (`kdf_check`), compared before any key derivation, so a slot whose
parameters were edited (or damaged) is refused as "wrong passphrase or damaged key slot" instead of a plain
wrong passphrase; slots written before the check existed have none and are read as before. v1 slots (no
signing key) still parse and open, with `OfficerKeys.signing` None; `create_slot` always writes v2. A grant
seals the keyring to the officer's public key, so an admin can grant or rotate the keyring for an officer
without knowing their passphrase.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass, field, replace
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from crypto.encoding import b64d, b64e, canonical_json, parse_json_object
from crypto.errors import DecryptionFailed, MalformedData, SlotParametersChanged, SlotTampered
from crypto.kdf import KdfParams
from crypto.keyring import Keyring, hkdf_derive
from crypto.seal import open_sealed, public_bytes_x25519, seal

#: The version `create_slot` writes: v2 carries the officer's Ed25519 signing key beside the X25519 key.
SLOT_VERSION = 2
#: Versions that parse and open (v1: exchange key only).
SLOT_VERSIONS = (1, 2)
MAX_SLOT_BYTES = 8192
#: A slot's officer name is shown in errors before anything is authenticated: it must be short and printable.
MAX_OFFICER = 64
KDF_CHECK_CONTEXT = b"liaison/slot/v1/kdf-check\n"
_HEX64 = re.compile(r"[0-9a-f]{64}")


def kdf_check(params: KdfParams) -> str:
    """The unkeyed check of a slot's KDF parameters (hex SHA-256 of their canonical JSON)."""
    return hashlib.sha256(KDF_CHECK_CONTEXT + canonical_json(params.to_dict())).hexdigest()


@dataclass(frozen=True, repr=False)
class OfficerKeys:
    """An officer's private keys as a slot holds them: X25519 `exchange`, Ed25519 `signing` (None in a v1 slot)."""

    exchange: bytes
    signing: bytes | None

    @property
    def exchange_public(self) -> bytes:
        """The X25519 public key (what grants are sealed to)."""
        return public_bytes_x25519(X25519PrivateKey.from_private_bytes(self.exchange).public_key())

    @property
    def signing_public(self) -> bytes | None:
        """The Ed25519 public key (what the log records for the officer), or None without a signing key."""
        if self.signing is None:
            return None
        return Ed25519PrivateKey.from_private_bytes(self.signing).public_key().public_bytes_raw()

    def __repr__(self) -> str:
        """Never the private keys."""
        return f"OfficerKeys(exchange=<secret>, signing={'<secret>' if self.signing else None})"


@dataclass(frozen=True)
class OfficerSlot:
    """A passphrase-protected wrapping of one officer's private keys."""

    officer: str
    params: KdfParams
    public_key: bytes
    wrapped: bytes
    #: The check the slot was read with (None for slots written before checks existed); written fresh by `to_json`.
    stored_check: str | None = field(default=None, compare=False)
    #: The officer's Ed25519 public key (v2); None marks a v1 slot, which holds no signing key.
    signing_public: bytes | None = None

    @property
    def version(self) -> int:
        """1 for a slot without a signing key, 2 otherwise."""
        return 1 if self.signing_public is None else 2

    def header(self) -> dict[str, Any]:
        """The authenticated header: everything but the ciphertext."""
        header: dict[str, Any] = {
            "v": self.version,
            "officer": self.officer,
            "kdf": self.params.to_dict(),
            "public": b64e(self.public_key),
        }
        if self.signing_public is not None:
            header["signing_public"] = b64e(self.signing_public)
        return header

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
        version = obj.get("v")
        if isinstance(version, bool) or version not in SLOT_VERSIONS:
            raise MalformedData("unsupported key slot version")
        if version == 1 and "signing_public" in obj:
            raise MalformedData("a v1 key slot holds no signing key")
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
            signing_public=b64d(obj.get("signing_public"), length=32) if version == 2 else None,
        )


def _slot_fernet(passphrase: bytes, params: KdfParams) -> Fernet:
    stretched = params.derive(passphrase)
    return Fernet(base64.urlsafe_b64encode(hkdf_derive(stretched, b"liaison/slot/v1")))


def create_slot_keys(
    officer: str, passphrase: bytes, params: KdfParams, keys: OfficerKeys | None = None
) -> tuple[OfficerSlot, OfficerKeys]:
    """Make a v2 slot for `officer` holding `keys` (new keys when None; a new signing key when it has none).

    Given keys keep an officer's identity across a passphrase change; a v1 officer's keys gain a signing key.
    """
    exchange = X25519PrivateKey.from_private_bytes(keys.exchange) if keys is not None else X25519PrivateKey.generate()
    signing = (
        Ed25519PrivateKey.from_private_bytes(keys.signing)
        if keys is not None and keys.signing is not None
        else Ed25519PrivateKey.generate()
    )
    exchange_raw = exchange.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    signing_raw = signing.private_bytes_raw()
    unsigned = OfficerSlot(
        officer=officer,
        params=params,
        public_key=public_bytes_x25519(exchange.public_key()),
        wrapped=b"",
        signing_public=signing.public_key().public_bytes_raw(),
    )
    inner = canonical_json({"header": unsigned.header(), "secret": b64e(exchange_raw), "signing": b64e(signing_raw)})
    wrapped = _slot_fernet(passphrase, params).encrypt(inner)
    return replace(unsigned, wrapped=wrapped), OfficerKeys(exchange=exchange_raw, signing=signing_raw)


def create_slot(
    officer: str,
    passphrase: bytes,
    params: KdfParams,
    private_key: bytes | None = None,
    signing_key: bytes | None = None,
) -> tuple[OfficerSlot, bytes]:
    """Make a v2 slot for `officer`; returns it with the officer's private X25519 key.

    Each key is new unless given (`private_key`: X25519, `signing_key`: Ed25519); the signing key's public half
    is `slot.signing_public`. `create_slot_keys` returns both private keys.
    """
    if signing_key is not None and private_key is None:
        raise ValueError("a signing key is kept only with the exchange key it was created with")
    keys = OfficerKeys(private_key, signing_key) if private_key is not None else None
    slot, held = create_slot_keys(officer, passphrase, params, keys)
    return slot, held.exchange


def open_slot_keys(slot: OfficerSlot, passphrase: bytes) -> OfficerKeys:
    """Return the officer's private keys (signing None for a v1 slot).

    DecryptionFailed on a wrong passphrase; SlotTampered on an edited slot (any header field, or a public key
    that does not belong to its private key). SlotParametersChanged (a DecryptionFailed) when the KDF
    parameters no longer match the slot's check: raised before the KDF runs (after the bounds check), since
    deriving under edited parameters cannot succeed.
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
        signing = b64d(obj.get("signing"), length=32) if "signing" in obj else None
    except MalformedData as exc:
        raise SlotTampered(f"its sealed copy is malformed ({exc})") from exc
    if obj.get("header") != slot.header():
        raise SlotTampered("key slot header does not match its sealed copy")
    if (signing is None) != (slot.signing_public is None):
        raise SlotTampered("key slot signing key does not match its version")
    derived_public = public_bytes_x25519(X25519PrivateKey.from_private_bytes(secret).public_key())
    if derived_public != slot.public_key:
        raise SlotTampered("key slot public key does not match")
    keys = OfficerKeys(exchange=secret, signing=signing)
    if keys.signing_public != slot.signing_public:
        raise SlotTampered("key slot signing public key does not match")
    return keys


def open_slot(slot: OfficerSlot, passphrase: bytes) -> bytes:
    """Return the officer's private X25519 key (see `open_slot_keys`, which also returns the signing key)."""
    return open_slot_keys(slot, passphrase).exchange


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
