"""Officers: adding one (an admin), changing one's own passphrase, removing one (which rotates the data key).

Every officers row these write is signed into the audit log by `store.audit.log.finish` (role, signing public
key, slot and grant hashes, revoked): unlock refuses a row the log does not back.
"""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING

from sqlalchemy import select

from crypto.kdf import params_for_profile
from crypto.keyring import Keyring
from crypto.slot import OfficerKeys, OfficerSlot, create_slot_keys, grant_keyring
from store import policy
from store.audit.state import officer_backing_problem
from store.errors import NotFound, PolicyError, TamperError, ValidationError
from store.models import Officer
from store.vault import OfficerInfo, add_officer_row, officer_mac, passphrase_bytes
from store.vocab import Role, check_officer_name, parse_role

if TYPE_CHECKING:
    from store.service import Session


def add_officer(session: Session, name: str, role: str, passphrase: str, *, kdf_profile: str | None = None) -> None:
    """An admin adds an officer with their own passphrase; they unlock the same keyring."""
    policy.require_role(session.actor, Role.ADMIN, "manage officers")
    name = check_officer_name(name)
    parsed = parse_role(role)
    policy.check_new_passphrase(passphrase, demo=session.vault.is_demo())
    slot, _ = create_slot_keys(
        name, passphrase_bytes(passphrase), params_for_profile(kdf_profile or session.vault.kdf_profile)
    )
    with session.act("officer-add", name) as s:
        if s.get(Officer, name) is not None:
            raise ValidationError(f"officer {name} already exists")
        add_officer_row(s, session.keys(), name, parsed, slot, session.clock())


def change_passphrase(session: Session, new_passphrase: str) -> None:
    """Re-wrap the acting officer's key under a new passphrase; the old one stops working."""
    policy.check_new_passphrase(new_passphrase, demo=session.vault.is_demo())
    keys = OfficerKeys(exchange=session.officer_secret(), signing=session.audit_signer().signing_key)
    name = session.actor.name
    slot, _ = create_slot_keys(
        name, passphrase_bytes(new_passphrase), params_for_profile(session.vault.kdf_profile), keys
    )
    with session.act("passwd", name) as s:
        row = s.get(Officer, name)
        if row is None:
            raise NotFound(f"unknown officer {name}")
        row.slot = slot.to_json()
        row.signing_public = slot.signing_public
        row.mac = officer_mac(session.keys().officers_key, row.name, row.role, row.slot, row.grant, row.revoked_at)


def remove_officer(session: Session, name: str) -> int:
    """Revoke an officer: rotate the data key and re-grant it to everyone else. Returns the new key version."""
    policy.require_role(session.actor, Role.ADMIN, "manage officers")
    if name == session.actor.name:
        raise PolicyError("an admin cannot remove themselves")
    with session.act("officer-remove", name) as s:
        row = s.get(Officer, name)
        if row is None or row.revoked_at is not None:
            raise NotFound(f"no active officer {name}")
        now = session.clock()
        keys = Keyring.from_bytes(session.keys().to_bytes())  # rotate a copy: the session adopts it only once committed
        version = keys.rotate()
        row.revoked_at = now
        row.grant = "{}"
        row.mac = officer_mac(keys.officers_key, row.name, row.role, row.slot, row.grant, now)
        own_grant = session.grant
        for other in s.scalars(select(Officer).where(Officer.revoked_at.is_(None))):
            # only officers whose record authenticates get the new keys: never a row planted in the file
            if not hmac.compare_digest(
                other.mac, officer_mac(keys.officers_key, other.name, other.role, other.slot, other.grant, None)
            ):
                raise TamperError(f"officer record of {other.name} was altered outside Liaison")
            why = officer_backing_problem(s, other)
            if why is not None:
                raise TamperError(
                    f"officer record of {other.name} is not backed by the audit log (replayed or edited): {why}"
                )
            slot = OfficerSlot.from_json(other.slot)
            other.grant = grant_keyring(keys, other.name, slot.public_key)
            other.mac = officer_mac(keys.officers_key, other.name, other.role, other.slot, other.grant, None)
            if other.name == session.actor.name:
                own_grant = other.grant
    session.adopt_keys(keys, own_grant)
    return version


__all__ = ["OfficerInfo", "add_officer", "change_passphrase", "remove_officer"]
