"""Each officer's signed state (role, signing key, revoked) along the audit log: what a signature is checked
against (was this the officer's key, and their role, at that point of the log)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session as OrmSession

from store.audit.events import OFFICER_STATE_ACTIONS
from store.models import AuditRow

__all__ = ["OfficerTimeline", "event_data", "officer_events"]


@dataclass
class OfficerTimeline:
    """Each officer's signed state (role, signing key, revoked) after every officer event of the log."""

    states: dict[str, list[tuple[int, dict[str, Any]]]] = field(default_factory=dict)

    @classmethod
    def load(cls, s: OrmSession, names: Iterable[str] | None = None) -> OfficerTimeline:
        """Every officer's states; only those of `names` when given (read through the target index, not the log)."""
        timeline = cls()
        for seq, _at, officer, state in officer_events(s, names):
            timeline.states.setdefault(officer, []).append((seq, state))
        return timeline

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
