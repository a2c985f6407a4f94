"""Officers: adding one (an admin), changing one's own passphrase, removing one (full revocation, in `store.keys`).

Every officers row these write is signed into the audit log by `store.audit.log.finish` (role, signing public
key, slot and grant hashes, revoked): unlock refuses a row the log does not back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crypto.kdf import params_for_profile
from crypto.slot import OfficerKeys, create_slot_keys
from store import keys, policy
from store.audit import state as audit_state
from store.errors import NotFound, TamperError, ValidationError
from store.models import Officer
from store.vault import OfficerInfo, add_officer_row, officer_mac, passphrase_bytes
from store.vocab import check_officer_name, parse_role

if TYPE_CHECKING:
    from store.keys import Progress
    from store.service import Session


def check_new_officer(session: Session, name: str, role: str, passphrase: str) -> str:
    """What `add_officer` refuses before it derives the new slot's key (seconds): the actor's role, the name (and
    that no officer has it), the role and the passphrase's strength. Returns the name as it will be stored. A
    form asks this first, so a refusal leaves what was typed there to mend."""
    policy.check_manage_officers(session.actor)
    name = check_officer_name(name)
    parse_role(role)
    policy.check_new_passphrase(passphrase, demo=session.vault.is_demo())
    with session.db.read() as s:
        if s.get(Officer, name) is not None:
            raise ValidationError(f"officer {name} already exists", field="officer_name", value=name)
    return name


def add_officer(session: Session, name: str, role: str, passphrase: str, *, kdf_profile: str | None = None) -> None:
    """An admin adds an officer with their own passphrase; they unlock the same keyring."""
    name = check_new_officer(session, name, role, passphrase)
    parsed = parse_role(role)
    slot, _ = create_slot_keys(
        name, passphrase_bytes(passphrase), params_for_profile(kdf_profile or session.vault.kdf_profile)
    )
    with session.act("officer-add", name) as s:
        if s.get(Officer, name) is not None:
            raise ValidationError(f"officer {name} already exists", field="officer_name", value=name)
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
        # the row as it stands now, not as it was at unlock: an edit in the file since (a role raised, an old slot
        # written back) would otherwise be signed into the log as current by this change
        why = audit_state.officer_backing_problem(s, row)
        if why is not None:
            raise TamperError(f"officer record of {name} is not backed by the audit log (replayed or edited): {why}")
        row.slot = slot.to_json()
        row.signing_public = slot.signing_public
        row.mac = officer_mac(session.keys().officers_key, row.name, row.role, row.slot, row.grant, row.revoked_at)


def remove_officer(session: Session, name: str, *, progress: Progress | None = None) -> int:
    """Revoke an officer fully (`store.keys.revoke_officer`): new data key and master secret, index rebuilt,
    MACs re-derived, grants re-issued to the others, the officer's signing key revoked in the log. Returns the
    new data key version."""
    return keys.revoke_officer(session, name, progress=progress)


__all__ = ["OfficerInfo", "add_officer", "change_passphrase", "remove_officer"]
