"""The desk's rules, pure functions (who may change what), so the store and the import share them."""

from __future__ import annotations

from store.errors import PolicyError

MEETING_STATUSES = ("planned", "held")
ACTION_STATUSES = ("open", "done", "dropped")
OUTCOMES = ("information", "decision", "action")


def check_status_change(own_ministry: str, owner: str, code: str, status: str) -> None:
    """Only the owner ministry marks its action done or dropped, and only while it is open."""
    if own_ministry != owner:
        raise PolicyError(f"action {code} is owned by {owner}; only {owner} may change its status", reference=code)
    if status != "open":
        raise PolicyError(f"action {code} is already {status}", reference=code)


def check_meeting_update(own_ministry: str, origin: str, quarter: str) -> None:
    """A meeting's header (date, venue, status, minutes) is kept by the ministry that planned it."""
    if own_ministry != origin:
        raise PolicyError(
            f"the meeting of {quarter} was planned by {origin}; only {origin} updates it", reference=quarter
        )
