"""The store keyring: versioned Fernet data keys, a master secret for derived keys, and the ministry identity."""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from crypto.encoding import b64d, b64e, canonical_json, parse_json_object
from crypto.errors import DecryptionFailed, MalformedData

KEYRING_VERSION = 2
#: Version 1 keyrings (no key dates, no master version) are still read; `to_bytes` writes version 2.
READABLE_VERSIONS = (1, 2)


def _raw_private(key: Ed25519PrivateKey | X25519PrivateKey) -> bytes:
    return key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())


def hkdf_derive(secret: bytes, info: bytes, length: int = 32) -> bytes:
    """HKDF-SHA256 expansion of a secret for one named purpose."""
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info).derive(secret)


def reencrypt_token(current: Fernet, older: list[Fernet], raw_token: bytes) -> bytes | None:
    """Raw token bytes re-encrypted under `current` with their timestamp kept, or None when `current` already opens
    them; DecryptionFailed when no key does. What MultiFernet.rotate does, without trying the current key a second
    time: the first of the `older` keys (newest first) that authenticates the token opens it."""
    token = base64.urlsafe_b64encode(raw_token)
    try:
        current.decrypt(token)
        return None
    except InvalidToken:
        pass
    for fernet in older:
        try:
            plaintext = fernet.decrypt(token)
        except InvalidToken:
            continue
        except (binascii.Error, TypeError, ValueError) as exc:
            raise DecryptionFailed("token did not authenticate") from exc
        timestamp = int.from_bytes(raw_token[1:9], "big")
        return base64.urlsafe_b64decode(current.encrypt_at_time(plaintext, timestamp))
    raise DecryptionFailed("token did not authenticate")


@dataclass
class Keyring:
    """Everything secret about a store; serialized only inside officer grants, never in plaintext on disk."""

    store_id: str
    data_keys: dict[int, bytes]
    current_version: int
    master: bytes
    signing_key: bytes
    exchange_key: bytes
    #: X25519 keys of identities this ministry rotated away from (newest first): kept only to open bundles and
    #: receipts a counterpart sealed to them before it learnt the new key. Retired signing keys are not kept.
    retired_exchange: list[bytes] = field(default_factory=list)
    #: When each data key was made (ISO 8601 UTC, as the store's clock gave it); absent for keys of a v1 keyring.
    created: dict[int, str] = field(default_factory=dict)
    #: Which master secret this is (1 for the store's first; +1 at each full revocation) and when it was made.
    master_version: int = 1
    master_created: str | None = None
    _fernet_cache: MultiFernet | None = field(default=None, repr=False, compare=False)
    _current_cache: Fernet | None = field(default=None, repr=False, compare=False)
    _older_cache: list[Fernet] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def generate(cls, store_id: str, created: str | None = None) -> Keyring:
        """A fresh random keyring for a new store (`created`: the time to record for its keys)."""
        return cls(
            store_id=store_id,
            data_keys={1: Fernet.generate_key()},
            current_version=1,
            master=os.urandom(32),
            signing_key=_raw_private(Ed25519PrivateKey.generate()),
            exchange_key=_raw_private(X25519PrivateKey.generate()),
            created={1: created} if created else {},
            master_created=created,
        )

    def copy(self) -> Keyring:
        """An independent copy (rotate a copy; adopt it only once the store committed it)."""
        return Keyring.from_bytes(self.to_bytes())

    def to_bytes(self) -> bytes:
        """Canonical serialization (to be sealed, never written as is)."""
        obj: dict[str, Any] = {
            "v": KEYRING_VERSION,
            "store_id": self.store_id,
            "data_keys": {str(v): k.decode("ascii") for v, k in sorted(self.data_keys.items())},
            "current": self.current_version,
            "master": b64e(self.master),
            "sign": b64e(self.signing_key),
            "exchange": b64e(self.exchange_key),
            "created": {str(v): c for v, c in sorted(self.created.items()) if v in self.data_keys},
            "master_version": self.master_version,
            "master_created": self.master_created,
        }
        if self.retired_exchange:  # absent until the first identity rotation (older keyrings read alike)
            obj["retired_exchange"] = [b64e(k) for k in self.retired_exchange]
        return canonical_json(obj)

    @classmethod
    def from_bytes(cls, data: bytes) -> Keyring:
        """Parse a keyring serialized by `to_bytes`."""
        obj = parse_json_object(data)
        format_version = obj.get("v")
        if format_version not in READABLE_VERSIONS or isinstance(format_version, bool):
            raise MalformedData("unsupported keyring version")
        raw_keys = obj.get("data_keys")
        if not isinstance(raw_keys, dict) or not raw_keys:
            raise MalformedData("keyring has no data keys")
        keys: dict[int, bytes] = {}
        for version, key in raw_keys.items():
            if not isinstance(key, str) or not (version.isascii() and version.isdigit()):  # int() refuses "²"
                raise MalformedData("bad data key entry")
            b64d(key, length=32)
            keys[int(version)] = key.encode("ascii")
        current = obj.get("current")
        if not isinstance(current, int) or current not in keys:
            raise MalformedData("keyring current version missing")
        store_id = obj.get("store_id")
        if not isinstance(store_id, str):
            raise MalformedData("keyring store id missing")
        retired = obj.get("retired_exchange", [])
        if not isinstance(retired, list):
            raise MalformedData("bad retired exchange keys")
        created: dict[int, str] = {}
        master_version: Any = 1
        master_created: Any = None
        if format_version == 2:
            raw_created = obj.get("created")
            if not isinstance(raw_created, dict):
                raise MalformedData("keyring key dates missing")
            for key_version, when in raw_created.items():
                if not isinstance(when, str) or not (key_version.isascii() and key_version.isdigit()):
                    raise MalformedData("bad key date entry")
                created[int(key_version)] = when
            master_version, master_created = obj.get("master_version"), obj.get("master_created")
            if not isinstance(master_version, int) or isinstance(master_version, bool) or master_version < 1:
                raise MalformedData("keyring master version missing")
            if master_created is not None and not isinstance(master_created, str):
                raise MalformedData("bad master date")
        return cls(
            store_id=store_id,
            data_keys=keys,
            current_version=current,
            master=b64d(obj.get("master"), length=32),
            signing_key=b64d(obj.get("sign"), length=32),
            exchange_key=b64d(obj.get("exchange"), length=32),
            retired_exchange=[b64d(k, length=32) for k in retired],
            created=created,
            master_version=master_version,
            master_created=master_created,
        )

    def rotate(self, created: str | None = None) -> int:
        """Add a new data key and make it current; older keys stay for reading old tokens."""
        version = max(self.data_keys) + 1
        self.data_keys[version] = Fernet.generate_key()
        if created:
            self.created[version] = created
        self.current_version = version
        self._fernet_cache = None
        self._current_cache = None
        self._older_cache = None
        return version

    def rotate_identity(self) -> tuple[bytes, bytes]:
        """A new ministry identity (Ed25519 and X25519); returns the old (signing, exchange) private keys.

        The old exchange key is kept in `retired_exchange` (to open what was sealed to it); the old signing key
        is returned for the caller to sign the key-transition statement, and not kept.
        """
        old = (self.signing_key, self.exchange_key)
        self.retired_exchange.insert(0, self.exchange_key)
        self.signing_key = _raw_private(Ed25519PrivateKey.generate())
        self.exchange_key = _raw_private(X25519PrivateKey.generate())
        return old

    def retire_old_keys(self) -> list[int]:
        """Drop every data key but the current one (once nothing is encrypted under them); returns their versions."""
        old = sorted(v for v in self.data_keys if v != self.current_version)
        for version in old:
            del self.data_keys[version]
            self.created.pop(version, None)
        self._fernet_cache = None
        self._older_cache = None
        return old

    def rotate_master(self, created: str | None = None) -> int:
        """Replace the master secret, so every derived key (index, officers, policy, contacts) changes."""
        self.master = os.urandom(32)
        self.master_version += 1
        self.master_created = created
        for name in ("index_key", "audit_key", "officers_key"):
            self.__dict__.pop(name, None)
        return self.master_version

    @property
    def fernet(self) -> MultiFernet:
        """MultiFernet with the current key first, so new tokens use it and old ones still decrypt."""
        if self._fernet_cache is None:
            order = [
                self.current_version,
                *sorted((v for v in self.data_keys if v != self.current_version), reverse=True),
            ]
            self._fernet_cache = MultiFernet([Fernet(self.data_keys[v]) for v in order])
        return self._fernet_cache

    def _older_fernets(self) -> list[Fernet]:
        """The keys other than the current one, newest first (the order `fernet` tries them in)."""
        if self._older_cache is None:
            older = sorted((v for v in self.data_keys if v != self.current_version), reverse=True)
            self._older_cache = [Fernet(self.data_keys[v]) for v in older]
        return self._older_cache

    def encrypt(self, plaintext: bytes) -> bytes:
        """Fernet-encrypt under the current data key; returns the raw (base64-decoded) token bytes."""
        return base64.urlsafe_b64decode(self.fernet.encrypt(plaintext))

    def reencrypt(self, raw_token: bytes) -> bytes | None:
        """The token re-encrypted under the current data key (same timestamp), or None when it already is."""
        if self._current_cache is None:
            self._current_cache = Fernet(self.data_keys[self.current_version])
        return reencrypt_token(self._current_cache, self._older_fernets(), raw_token)

    def decrypt(self, raw_token: bytes) -> bytes:
        """Decrypt raw token bytes written by `encrypt` (any key version)."""
        try:
            return self.fernet.decrypt(base64.urlsafe_b64encode(raw_token))
        except (InvalidToken, binascii.Error, TypeError, ValueError) as exc:
            raise DecryptionFailed("token did not authenticate") from exc

    def derived(self, purpose: str) -> bytes:
        """A 32-byte key for one named purpose, derived from the master secret."""
        return hkdf_derive(self.master, b"liaison/" + purpose.encode("ascii") + b"/v1")

    @cached_property
    def index_key(self) -> bytes:
        """Key of the blind search index."""
        return self.derived("search-index")

    @cached_property
    def audit_key(self) -> bytes:
        """Key of the audit chain."""
        return self.derived("audit-chain")

    @cached_property
    def officers_key(self) -> bytes:
        """Key that authenticates the officers table (names, roles, slots)."""
        return self.derived("officers")
