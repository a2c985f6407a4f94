"""Officers as the signed log has them, read without keys: what `officers list` and the app's officer lists show.

Each officers row is checked against the latest event the log signed for that officer (`state.row_against`: a
row written back from an older copy of the file, or edited, differs from it), that event's signer against the key
the log gives its officer at that point (`OfficerTimeline`), and the log's end against its latest checkpoint.
Without keys the checkpoint is verified with the store's public identity as the file holds it; unlock checks it
against the keyring instead (`state.log_problem`) and refuses an unbacked row (`store.unlock`). A row the log
does not back is listed with why, and with the role and removal the log last signed, never as it stands.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session as OrmSession

from store.audit.checkpoints import log_origin, log_size
from store.audit.state import SignedOfficer, last_officer_event, log_end_problem, row_against
from store.audit.timeline import OfficerTimeline, officer_events
from store.models import AuditRow, Meta, Officer

#: Why every row of a store upgraded to the signed log is unbacked until an admin's first unlock signs it.
NOT_SIGNED_YET = "the audit log is not signed yet (an admin's first unlock signs the store as it stands)"


@dataclass(frozen=True)
class Standing:
    """An officer's row against the log: backed or not (and why), and the role and removal the log signed."""

    backed: bool
    problem: str | None = None
    #: The role the log last signed for them; None when the log holds no valid signed state.
    role: str | None = None
    #: Whether the log last signed them as removed; None when the log holds no valid signed state.
    revoked: bool | None = None


def _meta(s: OrmSession, key: str) -> str | None:
    return s.execute(select(Meta.value).where(Meta.key == key)).scalar_one_or_none()


def _log_end(s: OrmSession) -> str | None:
    """Why the log's end does not hold against the store's own public identity, or None."""
    store_id, ministry, identity = _meta(s, "store_id"), _meta(s, "ministry"), _meta(s, "identity")
    if store_id is None or ministry is None or identity is None:
        return "the store's metadata is missing"
    try:
        signing = bytes.fromhex(json.loads(identity)["signing"])
    except (ValueError, KeyError, TypeError):
        return "the store's public identity is damaged"
    return log_end_problem(s, log_origin(ministry, store_id), signing)


def _signed_state(signed: SignedOfficer | None, timeline: OfficerTimeline) -> tuple[str | None, str | None]:
    """The signed state's role and why its event is not to be believed (None: it is)."""
    if signed is None or not signed.verifies or signed.state is None:
        return None, None
    why = timeline.key_problem(signed.by, signed.signer, signed.seq)
    role = signed.state.get("role")
    return (role if isinstance(role, str) else None), why


def officer_standings(s: OrmSession, rows: Sequence[Officer]) -> dict[str, Standing]:
    """Each row's standing against the signed log, by officer name."""
    count, _top = log_size(s)
    if count == 0 and _meta(s, "audit_genesis") == "pending":
        return {row.name: Standing(False, NOT_SIGNED_YET) for row in rows}
    end = _log_end(s)
    last = {row.name: last_officer_event(s, row.name) for row in rows}
    signers = {signed.by for signed in last.values() if signed is not None}
    timeline = OfficerTimeline.load(s, {row.name for row in rows} | signers)
    out: dict[str, Standing] = {}
    for row in rows:
        signed = last[row.name]
        role, key_problem = _signed_state(signed, timeline)
        why = row_against(row, signed) or key_problem or end
        if signed is None or signed.state is None or not signed.verifies or key_problem is not None:
            out[row.name] = Standing(why is None, why)
        else:
            out[row.name] = Standing(why is None, why, role, bool(signed.state.get("revoked")))
    return out


# ---- key ages, as the log recorded them ---------------------------------------------------------------------


def signing_keys_since(s: OrmSession, names: Sequence[str]) -> dict[str, tuple[bytes, datetime]]:
    """Officer `names`' signing keys as the log last signed them, and when the log first recorded each (an officer
    added, a v1 slot given its key, or an upgraded store's genesis: the key is at least that old)."""
    out: dict[str, tuple[bytes, datetime]] = {}
    for _seq, at, target, state in officer_events(s, names):
        try:
            key = bytes.fromhex(str(state.get("signing_public")))
        except ValueError:
            continue
        if target not in out or out[target][0] != key:
            out[target] = (key, at)
    return out


def identity_rotated_at(s: OrmSession, ministry: str) -> datetime | None:
    """When the log last recorded a rotation of `ministry`'s identity (None: never rotated)."""
    return s.execute(
        select(AuditRow.at)
        .where(AuditRow.target == ministry, AuditRow.action == "identity-rotate")
        .order_by(AuditRow.seq.desc())
        .limit(1)
    ).scalar_one_or_none()


__all__ = ["NOT_SIGNED_YET", "Standing", "identity_rotated_at", "officer_standings", "signing_keys_since"]
