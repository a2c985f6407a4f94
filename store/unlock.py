"""Unlocking a store as one officer: passphrase → key slot → grant → keyring, every check of the officer's row
and of the policy against their HMACs, and the unlock's own part of the signed audit log (genesis of an upgraded
store, a v1 slot given a signing key, failed unlocks folded in, the unlock event). `Vault.unlock` runs it.
"""

from __future__ import annotations

import hmac
import json
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session as OrmSession

from crypto.errors import (
    BadParameters,
    CryptoError,
    DecryptionFailed,
    MalformedData,
    SlotParametersChanged,
    SlotTampered,
)
from crypto.keyring import Keyring
from crypto.slot import OfficerKeys, OfficerSlot, create_slot_keys, open_grant, open_slot_keys
from store.audit import log as audit
from store.audit.state import log_problem, officer_backing_problem
from store.errors import AuthError, NotFound, TamperError
from store.models import AuditPending, Meta, Officer
from store.policy import Actor
from store.text import quote, shown
from store.vault import get_meta, officer_mac, passphrase_bytes, store_mac
from store.vocab import Role

if TYPE_CHECKING:
    from store.service import Session
    from store.vault import Vault


def unlock(vault: Vault, officer: str | None, passphrase: str) -> Session:
    """Unlock as `officer` (the only one when None): passphrase → slot → grant → keyring, then authenticate."""
    name = officer or vault.default_officer()
    with vault.db.read() as s:
        row = s.get(Officer, name)
        if row is None:
            valid = ", ".join(o.name for o in vault.officers() if not o.revoked)
            raise NotFound(f"unknown officer {shown(name)}; officers: {valid}", field="officer", value=name)
        removed = row.revoked_at
        slot_json, grant, role, mac, revoked = row.slot, row.grant, row.role, row.mac, row.revoked_at
        store_id = get_meta(s, "store_id")
        policy_doc, policy_mac = get_meta(s, "policy"), get_meta(s, "policy_mac")
    if removed is not None:
        failed_unlock(vault, name, "removed-officer")
        raise AuthError(f"officer {name} was removed on {removed:%Y-%m-%d}")
    try:
        slot = OfficerSlot.from_json(slot_json)
    except BadParameters as exc:
        raise TamperError(f"key slot of officer {name} refused before key derivation: {exc}") from None
    except MalformedData as exc:
        raise TamperError(f"key slot of officer {name} is damaged: {exc}") from None
    if slot.officer != name:
        raise TamperError(f"key slot of officer {name} belongs to {slot.officer}")
    try:
        officer_keys = open_slot_keys(slot, passphrase_bytes(passphrase))
    except SlotTampered as exc:
        raise TamperError(f"key slot of officer {name} was altered: {exc}") from None
    except SlotParametersChanged:
        failed_unlock(vault, name, "damaged-slot")
        raise AuthError(f"wrong passphrase or damaged key slot for officer {name}") from None
    except DecryptionFailed:
        failed_unlock(vault, name, "wrong-passphrase")
        raise AuthError(f"wrong passphrase for officer {name}") from None
    secret = officer_keys.exchange
    if store_id is None or policy_doc is None or policy_mac is None:
        raise TamperError("store metadata is missing")
    try:
        keyring = open_grant(grant, store_id, name, secret)
    except CryptoError:
        raise TamperError(f"keyring grant of officer {name} does not open; it was altered") from None
    if not hmac.compare_digest(mac, officer_mac(keyring.officers_key, name, role, slot_json, grant, revoked)):
        raise TamperError(f"officer record of {name} was altered outside Liaison")
    if not hmac.compare_digest(policy_mac, store_mac(keyring.derived("policy"), policy_doc)):
        refuse_unbacked(vault, name)  # a row replayed from before a full revocation opens the old master secret
        raise TamperError("store policy was altered outside Liaison")
    policy_obj = json.loads(policy_doc)
    try:
        parsed_role = Role(role)
    except ValueError:
        raise TamperError(f"officer record of {name} has an unknown role {quote(role)}") from None
    signing, log_damage = audit_unlock(
        vault,
        keyring,
        name,
        parsed_role,
        slot_json,
        slot,
        officer_keys,
        passphrase_bytes(passphrase),
        policy_obj,
        policy_doc,
    )
    vault.after_commit()  # the unlock's events committed: the witness follows
    from store.service import Session  # the session composes every capability; the vault only opens it

    return Session(
        vault,
        keyring,
        Actor(name, parsed_role),
        secret,
        policy_obj,
        grant=grant,
        signing_key=signing,
        audit_problem=log_damage,
    )


def refuse_unbacked(vault: Vault, name: str) -> None:
    """Refuse an officers row the log does not back, naming it (TamperError), else return. An officer's row
    written back from before their removal opens the keyring of that time, whose master secret a full
    revocation replaced: the store's current MACs fail under it, but the row is what is wrong."""
    with vault.db.read() as s:
        row = s.get(Officer, name)
        count, _top = audit.log_size(s)
        if row is None or (count == 0 and get_meta(s, "audit_genesis") == "pending"):
            return
        why = officer_backing_problem(s, row)
    if why is not None:
        raise TamperError(f"officer record of {name} is not backed by the audit log (replayed or edited): {why}")


def failed_unlock(vault: Vault, name: str, reason: str) -> None:
    """Keep a failed unlock (no keys yet to sign it): the next successful unlock folds it into the log — not in a
    store this workstation refuses as rolled back, opened only to be verified or accepted."""
    if vault.rollback is not None:
        return
    with vault.db.write() as s:
        s.add(AuditPending(at=vault.clock(), officer=name[:64], reason=reason))


def audit_unlock(
    vault: Vault,
    keyring: Keyring,
    name: str,
    role: Role,
    slot_json: str,
    slot: OfficerSlot,
    keys: OfficerKeys,
    passphrase: bytes,
    policy_obj: dict[str, Any],
    policy_doc: str,
) -> tuple[bytes | None, str | None]:
    """The unlock's part of the audit log, in one transaction; returns the officer's signing key and, when the
    log's end does not hold, why (then nothing is appended, and the session refuses every action).

    - The log's end must hold (contiguous, its latest checkpoint signed by this ministry's identity key) and
      the officer's row must be the one the log last signed for them: a replayed or edited row refuses unlock.
    - A store upgraded from before the log (meta `audit_genesis` pending, no event yet) is signed as it
      stands by the first admin who unlocks it (genesis events for every officer, contact and record); a
      non-admin is refused until then. The working-group desk likewise, once, by the first admin unlock after
      desk signing came (`store.jwg.signed.desk_genesis`).
    - An officer whose key slot predates signing keys (slot v1) gets one now: the slot is rewritten under
      the same passphrase with the same X25519 key, and the new public key is logged (`officer-key`).
    - Failed unlocks kept since the last success are folded in (`unlock-failed`), then the unlock itself.
    - A store this workstation refuses as rolled back, opened anyway to be verified or accepted, is left as it
      is: the `accept-rollback` event is the first thing written to it.
    """
    ministry = policy_obj["ministry"]
    now = vault.clock()
    with vault.db.write() as s:
        row = s.get(Officer, name)
        if row is None or row.slot != slot_json:
            raise AuthError(f"officer {name} changed while unlocking; try again")
        count, _top = audit.log_size(s)
        genesis = count == 0 and get_meta(s, "audit_genesis") == "pending"
        if genesis and role is not Role.ADMIN:
            raise AuthError(
                "this store was upgraded to the signed audit log: an admin must unlock it once to sign its current state"
            )
        if not genesis:
            why = officer_backing_problem(s, row)
            if why is not None:
                raise TamperError(
                    f"officer record of {name} is not backed by the audit log (replayed or edited): {why}"
                )
        problem = None if genesis else log_problem(s, keyring, ministry)
        if problem is not None:  # the unlock goes on, to let the log be checked; nothing is appended to it
            return keys.signing, problem
        if vault.rollback is not None:  # opened to be verified or accepted: nothing is written until accepted
            return keys.signing, None
        events: list[audit.PendingEvent] = []
        signing = keys.signing
        if signing is None:
            upgraded, keys = create_slot_keys(name, passphrase, slot.params, keys)
            assert keys.signing is not None
            signing = keys.signing
            row.slot = upgraded.to_json()
            row.signing_public = keys.signing_public
            row.mac = officer_mac(keyring.officers_key, row.name, row.role, row.slot, row.grant, row.revoked_at)
            s.flush()
            if not genesis:
                events.append(audit.PendingEvent("officer-key", name, officer_name=name))
        if genesis:
            fill_signing_publics(s)
            events += audit.genesis_events(s, name, policy_doc)
            s.execute(delete(Meta).where(Meta.key == "audit_genesis"))
        if role is Role.ADMIN:  # once: a desk that predates desk signing is signed as it stands
            from store.jwg.signed import desk_genesis

            events += desk_genesis(s)
        for pending in s.scalars(select(AuditPending).order_by(AuditPending.id)):
            events.append(
                audit.PendingEvent("unlock-failed", pending.officer, data={"reason": pending.reason}, at=pending.at)
            )
            s.delete(pending)
        events.append(audit.PendingEvent("unlock", name))
        audit.append(s, audit.Signer(name, signing, keyring, ministry, now), events)
    return signing, None


def fill_signing_publics(s: OrmSession) -> None:
    """Before genesis: an officers row without a signing public key takes its slot's (a store downgraded and
    upgraded again keeps v2 slots but lost the column); a v1 slot has none until its officer's next unlock."""
    for row in s.scalars(select(Officer).where(Officer.signing_public.is_(None))):
        try:
            row.signing_public = OfficerSlot.from_json(row.slot).signing_public
        except (BadParameters, MalformedData):
            continue
    s.flush()
