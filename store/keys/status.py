"""Key status and the key-age policy: each data key's version and age, the master secret's, an unfinished rotation
(`key_status`, admins), the notice the app shows when the data key is older than the policy (`key_notice`), and
setting that policy (`set_key_max_age`); the policy document read and written under its MAC.
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session as OrmSession

from crypto.encoding import canonical_json
from crypto.identity import public_identity
from crypto.keyring import Keyring
from store import policy
from store.audit.history import signer_fingerprint
from store.audit.standing import identity_rotated_at, signing_keys_since
from store.errors import TamperError, ValidationError
from store.keys.job import RotationJob, missing_job, parse_time, read_job
from store.vault import get_meta, set_meta, store_mac
from store.vocab import Role

if TYPE_CHECKING:
    from store.service import Session


DEFAULT_KEY_MAX_AGE_DAYS = 365
MAX_KEY_MAX_AGE_DAYS = 3650


@dataclass(frozen=True)
class DataKeyInfo:
    """One data key: its version, when it was made (None when unknown), and whether new data is written under it."""

    version: int
    created: datetime | None
    current: bool


@dataclass(frozen=True)
class SigningKeyInfo:
    """An active officer's signing key: its fingerprint (as `audit log` shows signers) and since when the log holds
    it (None when the log has no event for it)."""

    officer: str
    role: str
    fingerprint: str
    created: datetime | None


@dataclass(frozen=True)
class KeyStatus:
    """The store's keys as an admin sees them (no key material)."""

    data_keys: tuple[DataKeyInfo, ...]
    master_version: int
    master_created: datetime | None
    key_max_age_days: int
    job: RotationJob | None
    now: datetime
    #: The ministry identity's fingerprint and when it was made (the store's creation or its last rotation).
    identity_fingerprint: str = ""
    identity_created: datetime | None = None
    #: Each active officer's signing key, by name.
    signing_keys: tuple[SigningKeyInfo, ...] = ()

    @property
    def current(self) -> DataKeyInfo:
        """The key new data is written under."""
        return next(k for k in self.data_keys if k.current)

    def age_days(self, created: datetime | None) -> int | None:
        """Whole days since `created`."""
        return None if created is None else max(0, (self.now - created).days)

    @property
    def overdue(self) -> bool:
        """True when a data key still in use is older than the policy allows: the current one, or an older one that
        still holds what was written before an officer's removal (which makes a new key and re-encrypts nothing)."""
        ages = [self.age_days(k.created) for k in self.data_keys]
        return any(age is not None and age > self.key_max_age_days for age in ages)


def verified_policy(s: OrmSession, keys: Keyring) -> dict[str, Any]:
    """The store's policy document, checked against its MAC (TamperError when it was altered in the file)."""
    doc, mac = get_meta(s, "policy"), get_meta(s, "policy_mac")
    if doc is None or mac is None or not hmac.compare_digest(mac, store_mac(keys.derived("policy"), doc)):
        raise TamperError("store policy was altered outside Liaison")
    parsed = json.loads(doc)
    if not isinstance(parsed, dict):
        raise TamperError("store policy was altered outside Liaison")
    return parsed


def write_policy(s: OrmSession, keys: Keyring, doc: dict[str, Any]) -> None:
    """Write the policy document with its MAC under `keys`."""
    text = canonical_json(doc).decode()
    set_meta(s, "policy", text)
    set_meta(s, "policy_mac", store_mac(keys.derived("policy"), text))


def key_max_age(doc: dict[str, Any]) -> int:
    """The policy's maximum data-key age in days (the default when the policy predates the setting)."""
    value = doc.get("key_max_age_days", DEFAULT_KEY_MAX_AGE_DAYS)
    return value if isinstance(value, int) and not isinstance(value, bool) else DEFAULT_KEY_MAX_AGE_DAYS


def key_status(session: Session) -> KeyStatus:
    """Each data key's version and age, the master secret's, the age policy, and any unfinished rotation."""
    policy.require_role(session.actor, Role.ADMIN, "see key status")
    keys = session.keys()
    active = [o for o in session.vault.officers() if o.active]
    with session.db.read() as s:
        doc = verified_policy(s, keys)
        store_created = parse_time(get_meta(s, "created_at"))
        job = read_job(s, keys)
        identity_created = identity_rotated_at(s, session.ministry) or store_created
        since = signing_keys_since(s, [o.name for o in active])
    signing = tuple(
        SigningKeyInfo(
            o.name,
            o.role.value,
            signer_fingerprint(since[o.name][0]) if o.name in since else "",
            since[o.name][1] if o.name in since else None,
        )
        for o in active
    )
    data = tuple(
        DataKeyInfo(version, created, version == keys.current_version)
        for version, created in _data_keys_created(keys, store_created).items()
    )
    master_created = parse_time(keys.master_created) or (store_created if keys.master_version == 1 else None)
    return KeyStatus(
        data,
        keys.master_version,
        master_created,
        key_max_age(doc),
        job,
        session.clock(),
        public_identity(keys.signing_key, keys.exchange_key).fingerprint,
        identity_created,
        signing,
    )


def _data_keys_created(keys: Keyring, store_created: datetime | None) -> dict[int, datetime | None]:
    """When each data key still held was made, oldest version first (the store's first key: the store's creation)."""
    first = min(keys.data_keys)
    return {
        version: parse_time(keys.created.get(version)) or (store_created if version == 1 == first else None)
        for version in sorted(keys.data_keys)
    }


def key_notice(session: Session) -> str | None:
    """The notice the app shows when the data key is older than the policy or a rotation was interrupted."""
    keys = session.keys()
    with session.db.read() as s:
        doc = verified_policy(s, keys)
        store_created = parse_time(get_meta(s, "created_at"))
        job = read_job(s, keys)
        missing = missing_job(s, keys) if job is None else None
    if job is not None:
        return "A key rotation was interrupted; an admin should run it again to finish re-encrypting the store."
    if missing is not None:
        return f"The store is damaged: {missing}."
    limit = key_max_age(doc)
    now = session.clock()
    # every version still held: an officer's removal makes a new key but leaves what was written before under the old
    created = _data_keys_created(keys, store_created)
    ages = {v: (now - when).days for v, when in created.items() if when is not None}
    overdue = [v for v in created if ages.get(v, 0) > limit]
    if not overdue:
        return None
    oldest = overdue[0]
    if oldest == keys.current_version:
        return (
            f"The data key is {ages[oldest]} days old, older than this store's policy of {limit} days; "
            "an admin should rotate it."
        )
    return (
        f"Data key version {oldest}, still holding what was written before version {keys.current_version}, is "
        f"{ages[oldest]} days old, older than this store's policy of {limit} days; an admin should rotate the data key."
    )


def set_key_max_age(session: Session, days: int) -> None:
    """An admin sets how many days a data key may serve before the app asks for a rotation."""
    policy.require_role(session.actor, Role.ADMIN, "change the store's policy")
    if isinstance(days, bool) or not 1 <= days <= MAX_KEY_MAX_AGE_DAYS:
        raise ValidationError(
            f"key-max-age must be between 1 and {MAX_KEY_MAX_AGE_DAYS} days, not {days}",
            field="key_max_age",
            value=days,
        )
    with session.act("policy-set", "key-max-age") as s:
        keys = session.keys()
        doc = verified_policy(s, keys)
        doc["key_max_age_days"] = days
        write_policy(s, keys, doc)


__all__ = [
    "DEFAULT_KEY_MAX_AGE_DAYS",
    "MAX_KEY_MAX_AGE_DAYS",
    "DataKeyInfo",
    "KeyStatus",
    "SigningKeyInfo",
    "key_max_age",
    "key_notice",
    "key_status",
    "set_key_max_age",
    "verified_policy",
    "write_policy",
]
