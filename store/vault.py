"""The store file opened but locked (`Vault`): create, open, list officers, unlock into a `Session` (the unlock
itself, with its checks and its signed events, is `store.unlock`).

Also the small pieces every capability shares: the clock, passphrase normalisation, the store's metadata
rows and the HMACs that authenticate the officers table and the policy.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import unicodedata
import uuid as uuidlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session as OrmSession

from crypto.encoding import canonical_json
from crypto.identity import PublicIdentity, public_identity
from crypto.kdf import params_for_profile
from crypto.keyring import Keyring
from crypto.slot import OfficerSlot, create_slot_keys, grant_keyring
from store import policy
from store.audit import log as audit
from store.audit.standing import Standing, officer_standings
from store.audit.witness import Rollback, Witness, after_commit, check_at_open
from store.db import Database, publish_no_clobber
from store.errors import StoreFileError, ValidationError
from store.models import Meta, Ministry, Officer
from store.reference import MinistryInfo
from store.vocab import Role, check_label, check_ministry_code, check_officer_name

if TYPE_CHECKING:
    from store.service import Session

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    """The current time, UTC."""
    return datetime.now(UTC)


def passphrase_bytes(passphrase: str) -> bytes:
    """Passphrases are NFC-normalised UTF-8 so the same words typed on two keyboards unlock alike."""
    return unicodedata.normalize("NFC", passphrase).encode("utf-8")


@dataclass(frozen=True)
class OfficerInfo:
    """An officer as listed (no key material). When the signed log does not back the officers row (`backed`
    False, `problem` saying why: a row replayed from an older copy of the file, or edited), `role` and `revoked`
    are what the log last signed for that officer, when it holds a valid signed state, not the row's."""

    name: str
    role: Role
    created_at: datetime
    revoked: bool
    backed: bool = True
    problem: str | None = None

    @property
    def active(self) -> bool:
        """Listed as able to act: not removed, and the log backs the row."""
        return self.backed and not self.revoked


def _listed(row: Officer, standing: Standing) -> OfficerInfo:
    """An officers row as listed: its role and removal as the log signed them when the log does not back it."""
    role, revoked = row.role, row.revoked_at is not None
    if not standing.backed:
        role = standing.role or role
        revoked = revoked or bool(standing.revoked)
    try:
        parsed = Role(role)
    except ValueError:
        parsed = Role.OFFICER  # an unknown role in the file: listed as the least one, and not backed
    return OfficerInfo(row.name, parsed, row.created_at, revoked, standing.backed, standing.problem)


def store_mac(key: bytes, obj: Any) -> str:
    return hmac.new(key, canonical_json(obj), hashlib.sha256).hexdigest()


def officer_mac(key: bytes, name: str, role: str, slot: str, grant: str, revoked: datetime | None) -> str:
    return store_mac(key, ["officer", name, role, slot, grant, revoked.isoformat() if revoked else None])


def get_meta(s: OrmSession, key: str) -> str | None:
    return s.execute(select(Meta.value).where(Meta.key == key)).scalar_one_or_none()


def set_meta(s: OrmSession, key: str, value: str) -> None:
    row = s.get(Meta, key)
    if row is None:
        s.add(Meta(key=key, value=value))
    else:
        row.value = value


class Vault:
    """An opened store whose keys are still locked: enough to list officers and to unlock."""

    def __init__(
        self, db: Database, clock: Clock = utcnow, *, kdf_profile: str | None = None, state_dir: Path | None = None
    ) -> None:
        self.db = db
        self.clock = clock
        #: The key-derivation profile for new key slots and bundle passphrases (None: the default); the
        #: faces choose it (the store reads no environment variable).
        self.kdf_profile = kdf_profile
        #: Where this workstation keeps the newest checkpoint of the store's log (`store.audit.witness`);
        #: None (no state directory given by the face): no rollback check, no witness written.
        self.witness: Witness | None = Witness(state_dir) if state_dir is not None else None
        #: A rollback found at open by a face that asked to look anyway (`allow_rollback`), else None.
        self.rollback: Rollback | None = None
        #: Why the witness could not be written after the last change, for the face to show; None when it was.
        self.witness_problem: str | None = None

    @property
    def path(self) -> Path:
        return self.db.path

    @classmethod
    def open(
        cls,
        path: Path | str,
        clock: Clock = utcnow,
        *,
        kdf_profile: str | None = None,
        state_dir: Path | None = None,
        allow_rollback: bool = False,
    ) -> Vault:
        """Open an existing store (migrating it if it is older); refuses anything else untouched.

        With a `state_dir`, a store whose log is behind or not an extension of the checkpoint this workstation
        saw is refused (`RolledBack`), unless `allow_rollback` (then `vault.rollback` says what was found).
        """
        vault = cls(Database.open(Path(path)), clock, kdf_profile=kdf_profile, state_dir=state_dir)
        try:
            vault.rollback = check_at_open(vault, allow_rollback=allow_rollback)
        except BaseException:
            vault.close()
            raise
        return vault

    def after_commit(self) -> None:
        """Called once a change committed: keep the store's newest checkpoint outside the file (never raises)."""
        after_commit(self)

    @classmethod
    def create(
        cls,
        path: Path | str,
        ministry: str,
        officer: str,
        passphrase: str,
        *,
        four_eyes: bool = True,
        ministry_name: str | None = None,
        clock: Clock = utcnow,
        extra_meta: dict[str, str] | None = None,
        kdf_profile: str | None = None,
        short_passphrase_ok: bool = False,
        state_dir: Path | None = None,
    ) -> Vault:
        """Create a store for `ministry` with `officer` as its first admin; the file appears whole or not at all.

        `short_passphrase_ok` is for throwaway stores (tests); a demo store (`extra_meta` demo) is exempt too.
        """
        path = Path(path)
        if path.exists() or path.is_symlink():
            raise StoreFileError(f"{path} already exists; refusing to touch it")
        code = check_ministry_code(ministry)
        name = check_officer_name(officer)
        label = check_label("ministry_name", ministry_name) if ministry_name else None
        policy.check_new_passphrase(passphrase, demo=short_passphrase_ok or (extra_meta or {}).get("demo") == "1")
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_name(f".{path.name}.creating-{os.getpid()}")
        for leftover in (tmp, tmp.with_name(tmp.name + "-wal"), tmp.with_name(tmp.name + "-shm")):
            leftover.unlink(missing_ok=True)
        db: Database | None = None
        try:
            db = Database.create_file(tmp)  # inside the try: a Ctrl-C during the schema migration cleans up too
            os.chmod(tmp, 0o600)
            keyring = Keyring.generate(str(uuidlib.uuid4()))
            now = clock()
            with db.write() as s:
                known = s.get(Ministry, code)
                if known is None:
                    if not label:
                        valid = ", ".join(s.scalars(select(Ministry.code).order_by(Ministry.code)))
                        raise ValidationError(
                            f"unknown ministry {code}; valid: {valid}", field="ministry_name_needed", value=code
                        )
                    s.add(Ministry(code=code, name=label))
                policy_doc = canonical_json(
                    {"store_id": keyring.store_id, "ministry": code, "four_eyes": four_eyes}
                ).decode()
                identity = public_identity(keyring.signing_key, keyring.exchange_key)
                for key, value in {
                    "store_id": keyring.store_id,
                    "ministry": code,
                    "policy": policy_doc,
                    "policy_mac": store_mac(keyring.derived("policy"), policy_doc),
                    "changes": "0",
                    "created_at": now.isoformat(),
                    "identity": json.dumps(
                        {"signing": identity.signing_public.hex(), "exchange": identity.exchange_public.hex()}
                    ),
                    **(extra_meta or {}),
                }.items():
                    s.add(Meta(key=key, value=value))
                slot, officer_keys = create_slot_keys(
                    name, passphrase_bytes(passphrase), params_for_profile(kdf_profile)
                )
                add_officer_row(s, keyring, name, Role.ADMIN, slot, now)
                assert officer_keys.signing is not None  # a new slot always holds a signing key
                # the log starts with its first admin (self-signed, anchored by the ministry's checkpoint)
                audit.append(
                    s,
                    audit.Signer(name, officer_keys.signing, keyring, code, now),
                    [
                        audit.PendingEvent("officer-add", name, officer_name=name),
                        audit.PendingEvent("init", code, data={"four_eyes": four_eyes}),
                    ],
                )
            db.checkpoint()
        except BaseException:
            if db is not None:
                db.close()
            for leftover in (tmp, tmp.with_name(tmp.name + "-wal"), tmp.with_name(tmp.name + "-shm")):
                leftover.unlink(missing_ok=True)
            raise
        db.close()
        publish_no_clobber(tmp, path)
        return cls.open(path, clock, kdf_profile=kdf_profile, state_dir=state_dir)

    def close(self) -> None:
        """Release the file."""
        self.db.close()

    def __enter__(self) -> Vault:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def ministry(self) -> str:
        """The code of the ministry that owns this store."""
        with self.db.read() as s:
            code = get_meta(s, "ministry")
        if code is None:
            raise StoreFileError(f"{self.path} has no ministry; it is damaged")
        return code

    def officers(self) -> list[OfficerInfo]:
        """Every officer, active ones first (names and roles are not secret)."""
        with self.db.read() as s:
            rows = s.scalars(select(Officer).order_by(Officer.revoked_at.is_not(None), Officer.name)).all()
            standings = officer_standings(s, rows)
        listed = [_listed(o, standings[o.name]) for o in rows]
        return sorted(listed, key=lambda o: (o.revoked, o.name))  # a row the log says was removed goes with them

    def ministries(self) -> list[MinistryInfo]:
        """Every known sharing party (codes and names are not secret: no unlock needed)."""
        own = self.ministry
        with self.db.read() as s:
            return [
                MinistryInfo(m.code, m.name, m.code == own) for m in s.scalars(select(Ministry).order_by(Ministry.code))
            ]

    def default_officer(self) -> str:
        """The only active officer; otherwise an error asking to choose."""
        active = [o.name for o in self.officers() if not o.revoked]
        if len(active) == 1:
            return active[0]
        raise ValidationError(f"several officers ({', '.join(active)})", field="officer_choice")

    def is_demo(self) -> bool:
        """True for a store built by `liaison demo` (meta `demo` = 1): its officers and passphrase are public."""
        with self.db.read() as s:
            return get_meta(s, "demo") == "1"

    def change_counter(self) -> int:
        """A number that grows with every change any process commits (the TUI polls it)."""
        with self.db.read() as s:
            return int(get_meta(s, "changes") or 0)

    def public_identity(self) -> PublicIdentity:
        """The store's ministry identity (public halves only)."""
        with self.db.read() as s:
            raw = get_meta(s, "identity")
        if raw is None:
            raise StoreFileError("store has no identity")
        data = json.loads(raw)
        return PublicIdentity(bytes.fromhex(data["signing"]), bytes.fromhex(data["exchange"]))

    def unlock(self, officer: str | None, passphrase: str) -> Session:
        """Unlock as `officer` (the only one when None): passphrase → slot → grant → keyring, then authenticate
        (`store.unlock`)."""
        from store.unlock import unlock  # builds on this module's MACs and metadata

        return unlock(self, officer, passphrase)


def add_officer_row(s: OrmSession, keyring: Keyring, name: str, role: Role, slot: OfficerSlot, now: datetime) -> None:
    """A new officers row: the slot, a grant of the keyring, the MAC, and the slot's signing public key."""
    slot_json = slot.to_json()
    grant = grant_keyring(keyring, name, slot.public_key)
    s.add(
        Officer(
            name=name,
            role=role.value,
            slot=slot_json,
            grant=grant,
            mac=officer_mac(keyring.officers_key, name, role.value, slot_json, grant, None),
            created_at=now,
            signing_public=slot.signing_public,
        )
    )


__all__ = [
    "Clock",
    "OfficerInfo",
    "Vault",
    "add_officer_row",
    "get_meta",
    "officer_mac",
    "passphrase_bytes",
    "set_meta",
    "store_mac",
    "utcnow",
]
