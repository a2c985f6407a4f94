"""Each officer's signed state (role, signing key, revoked) along the audit log: what a signature is checked
against (was this the officer's key, and their role, at that point of the log)."""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session as OrmSession

from crypto.keyring import Keyring
from store.audit.events import OFFICER_STATE_ACTIONS
from store.models import AuditRow, Officer

__all__ = ["OfficerTimeline", "event_data", "officer_events"]


@dataclass
class OfficerTimeline:
    """Each officer's signed state (role, signing key, revoked) after every officer event of the log."""

    states: dict[str, list[tuple[int, dict[str, Any]]]] = field(default_factory=dict)
    #: officer → why their states here are not those of their officers row (`anchor`), for those that differ
    unanchored: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, s: OrmSession, names: Iterable[str] | None = None, keyring: Keyring | None = None) -> OfficerTimeline:
        """Every officer's states; only those of `names` when given (read through the target index, not the log).

        `keyring`: the states are also held to the officers rows, whose MACs only the store's keys make (`anchor`):
        a check that does not prove the log's bodies against its signed root (a record's or a desk item's cheap
        check) must not take an officer's key from a body edited in the file."""
        timeline = cls()
        for seq, _at, officer, state in officer_events(s, names):
            timeline.states.setdefault(officer, []).append((seq, state))
        if keyring is not None:
            timeline.anchor(s, keyring)
        return timeline

    def anchor(self, s: OrmSession, keyring: Keyring) -> None:
        """Hold each officer's states to their officers row, checked by its MAC: every signing key the log gives
        them is the one their key slot holds (an officer's key never changes once made), and their latest state is
        removed exactly when the row is. An officer whose states differ is `unanchored`: nothing they signed holds."""
        from crypto.errors import CryptoError
        from crypto.slot import OfficerSlot
        from store.vault import officer_mac

        rows = {row.name: row for row in s.scalars(select(Officer).where(Officer.name.in_(sorted(self.states))))}
        for name, states in self.states.items():
            row = rows.get(name)
            if row is None:
                self.unanchored[name] = f"officer {name} has events in the log but no officers row"
                continue
            mac = officer_mac(keyring.officers_key, row.name, row.role, row.slot, row.grant, row.revoked_at)
            if not hmac.compare_digest(mac, row.mac):
                self.unanchored[name] = f"officer {name}'s row was altered outside Liaison"
                continue
            try:
                slot_key = OfficerSlot.from_json(row.slot).signing_public
            except (CryptoError, ValueError):
                slot_key = None
            keys = {state.get("signing_public") for _seq, state in states} - {None}
            if keys - {slot_key.hex() if slot_key is not None else None}:
                self.unanchored[name] = f"the signing key the audit log gives {name} is not their key slot's (edited)"
            elif bool(states[-1][1].get("revoked")) != (row.revoked_at is not None):
                self.unanchored[name] = f"the audit log's removal of {name} differs from their officers row (edited)"

    def state_at(self, name: str, seq: int) -> dict[str, Any] | None:
        """Officer `name`'s signed state as of event `seq` (that event included)."""
        found = None
        for at, state in self.states.get(name, []):
            if at > seq:
                break
            found = state
        return found

    def key_problem(self, name: str, signer: bytes, seq: int) -> str | None:
        """Why `signer` was not officer `name`'s key at event `seq`, or None."""
        if name in self.unanchored:
            return f"event #{seq} is signed by {name}, but {self.unanchored[name]}"
        state = self.state_at(name, seq)
        if state is None:
            return f"event #{seq} is signed for {name}, whom the log never added"
        if state.get("signing_public") != bytes(signer).hex():
            return f"event #{seq} is not signed by {name}'s key at that point of the log"
        if state.get("revoked"):
            return f"event #{seq} is signed by {name} after their removal"
        return None

    def role_at(self, name: str, seq: int) -> str | None:
        state = self.state_at(name, seq)
        return None if state is None else state.get("role")


def officer_events(
    s: OrmSession, names: Iterable[str] | None = None
) -> Iterator[tuple[int, datetime, str, dict[str, Any]]]:
    """(seq, time, officer, signed state) of every officer-state event in log order, only `names`' when given (read
    through the target index); an event whose state names another officer than its target is skipped."""
    query = select(AuditRow.seq, AuditRow.at, AuditRow.target, AuditRow.body).where(
        AuditRow.action.in_(sorted(OFFICER_STATE_ACTIONS))
    )
    if names is not None:
        query = query.where(AuditRow.target.in_(sorted(set(names))))
    for seq, at, target, body in s.execute(query.order_by(AuditRow.seq)):
        state = event_data(body).get("officer_state")
        if isinstance(state, dict) and state.get("officer") == target:
            yield int(seq), at, target, state


def event_data(body: bytes) -> dict[str, Any]:
    """An event body's `data` object ({} when the body is not JSON or has none)."""
    try:
        obj = json.loads(body)
    except ValueError:
        return {}
    data = obj.get("data") if isinstance(obj, dict) else None
    return data if isinstance(data, dict) else {}
