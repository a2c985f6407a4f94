"""The desk summary's meeting line: the next meeting planned, and the meetings whose day passed without being
marked held (so a desk whose last meeting is past never reads as if none had been planned).

`desk_summary(session)` reads the calendar once; `DeskSummary.not_held_line()` is the sentence both faces show
(the dashboard's "Next meeting", `meetings list`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import date

    from store.jwg.meetings import MeetingInfo
    from store.service import Session


@dataclass(frozen=True)
class DeskSummary:
    """`next`: the first planned meeting from `today` on (None: none). `not_held`: the planned meetings whose day is
    before `today` — passed but not marked held — oldest first. `ministry`: this store's, which marks held only the
    meetings it planned (`meetings held Q`); the counterpart marks its own."""

    today: date
    ministry: str
    next: MeetingInfo | None
    not_held: tuple[MeetingInfo, ...]

    def not_held_parts(self) -> tuple[str, str] | None:
        """What passed and what to do, for the latest meeting passed and not marked held (None when there is none):
        (`2026-Q4 (2026-11-30) passed, not marked held`, `meetings held 2026-Q4`), the second also saying how many
        earlier meetings are in the same state. A meeting the counterpart planned is theirs to mark held."""
        if not self.not_held:
            return None
        last = self.not_held[-1]
        what = f"{last.quarter} ({last.day}) passed, not marked held"
        how = (
            f"meetings held {last.quarter}"
            if last.origin == self.ministry
            else f"{last.origin} planned it, marks it held"
        )
        earlier = len(self.not_held) - 1
        if earlier:
            how += f" ({earlier} earlier {'meeting' if earlier == 1 else 'meetings'} not marked held either)"
        return what, how

    def not_held_line(self) -> str | None:
        """`2026-Q4 (2026-11-30) passed, not marked held: meetings held 2026-Q4`, or None."""
        parts = self.not_held_parts()
        return None if parts is None else ": ".join(parts)


def desk_summary(session: Session) -> DeskSummary:
    """The summary of the calendar as of today (the store's clock)."""
    today = session.clock().date()
    planned = [m for m in session.meetings() if m.status == "planned"]
    upcoming = [m for m in planned if m.day >= today]
    passed = tuple(m for m in planned if m.day < today)
    return DeskSummary(today, session.ministry, upcoming[0] if upcoming else None, passed)
