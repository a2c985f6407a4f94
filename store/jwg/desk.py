"""`JwgDesk`: the working-group methods of `store.service.Session` (Session inherits them).

Every method is one user action through `Session.act` (one transaction, logged), takes and returns plain
values, and raises `store.errors` exceptions with `.field` set (`quarter`, `date`, `venue`, `host`, `title`,
`domain`, `owner`, `due`, `meeting`, `record`, `id`, `reason`, …) for the faces' hints.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

import store.jwg.signed  # noqa: F401  (registers the flush hook that signs every desk row an action writes)

if TYPE_CHECKING:
    from store.jwg.actions import ActionInfo
    from store.jwg.meetings import MeetingInfo
    from store.jwg.stats import DeskStats
    from store.jwg.summary import DeskSummary
    from store.service import Session


class JwgDesk:
    """Meetings, agenda, actions and the desk's statistics, as Session methods."""

    def _s(self) -> Session:
        return self  # type: ignore[return-value]

    # ---- meetings -------------------------------------------------------------------------------

    def add_meeting(self, quarter: str, day: str | date, venue: str, host: str) -> MeetingInfo:
        """Plan the meeting of `quarter` (`2026-Q4`) on `day` (inside the quarter) at `venue`, hosted by ministry `host`."""
        from store.jwg.meetings import add_meeting

        return add_meeting(self._s(), quarter, day, venue, host)

    def meetings(self) -> list[MeetingInfo]:
        """Every meeting, oldest quarter first (without agenda)."""
        from store.jwg.meetings import list_meetings

        return list_meetings(self._s())

    def meeting(self, quarter: str) -> MeetingInfo:
        """One meeting with its agenda items and the actions carried forward onto it."""
        from store.jwg.meetings import meeting_detail

        return meeting_detail(self._s(), quarter)

    def mark_meeting_held(self, quarter: str) -> None:
        """The planning ministry marks its meeting held (not before its day)."""
        from store.jwg.meetings import mark_held

        mark_held(self._s(), quarter)

    def set_meeting_minutes(self, quarter: str, minutes: str) -> None:
        """The planning ministry records the meeting's minutes (encrypted)."""
        from store.jwg.meetings import set_minutes

        set_minutes(self._s(), quarter, minutes)

    def add_agenda_item(
        self, quarter: str, domain: str, text: str, outcome: str = "information", action: str | None = None
    ) -> str:
        """An agenda item of a meeting in `domain` with its outcome (`information`, `decision`, or `action` naming
        the action's id); returns the item's id. Adding an action with a meeting adds its agenda item itself."""
        from store.jwg.meetings import add_agenda_item

        return add_agenda_item(self._s(), quarter, domain, text, outcome, action)

    def unplanned_quarters(self, ahead: int = 4) -> list[str]:
        """The quarters from this one on (`ahead` of them) that have no meeting planned yet."""
        from store.jwg.meetings import unplanned_quarters

        return unplanned_quarters(self._s(), ahead)

    def next_meeting(self) -> MeetingInfo | None:
        """The first planned meeting from today on, or None."""
        return self.desk_summary().next

    def desk_summary(self) -> DeskSummary:
        """The next planned meeting and the meetings passed but not marked held (`store.jwg.summary`)."""
        from store.jwg.summary import desk_summary

        return desk_summary(self._s())

    # ---- actions --------------------------------------------------------------------------------

    def add_action(
        self,
        title: str,
        domain: str,
        owner: str,
        due: str | date,
        *,
        officer: str | None = None,
        meeting: str | None = None,
        records: tuple[str, ...] = (),
    ) -> str:
        """Agree an action; returns its id (`PK-MOI-A7`). With `meeting` the due date may not precede it."""
        from store.jwg.actions import add_action

        return add_action(
            self._s(), title, domain, owner, due, officer=officer, meeting=meeting, records=tuple(records)
        )

    def actions(
        self, *, overdue: bool = False, meeting: str | None = None, owner: str | None = None
    ) -> list[ActionInfo]:
        """Actions by due date, optionally only overdue ones, one meeting's, or one owner ministry's."""
        from store.jwg.actions import list_actions

        return list_actions(self._s(), overdue=overdue, meeting=meeting, owner=owner)

    def action(self, action_id: str) -> ActionInfo:
        """One action."""
        from store.jwg.actions import get_action

        return get_action(self._s(), action_id)

    def mark_action_done(self, action_id: str, comment: str = "") -> None:
        """The owner ministry marks its open action done (PolicyError for any other ministry)."""
        from store.jwg.actions import mark_done

        mark_done(self._s(), action_id, comment)

    def drop_action(self, action_id: str, reason: str) -> None:
        """The owner ministry drops its open action, with a reason."""
        from store.jwg.actions import drop

        drop(self._s(), action_id, reason)

    def desk_damaged(self) -> list[str]:
        """Why each damaged desk item (meeting, agenda item, action, received pack) differs from the signed audit
        log, one line each naming the item (`action PK-MOI-A3 differs from its signed event #57: status, …`), in a
        stable order; empty when the desk is intact (Threat 25). The cheap check `actions list` marks with: no
        ciphertext is decrypted; every row's latest event is verified (one Ed25519 verification per row)."""
        from sqlalchemy import select

        from store.jwg.models import Action, AgendaItem, Meeting, Pack
        from store.jwg.signed import desk_damage

        s_ = self._s()
        s_.keys()  # an unlocked session only; a plain read (nothing is decrypted, nothing written)
        with s_.db.read() as s:
            rows = [
                *s.scalars(select(Meeting)),
                *s.scalars(select(AgendaItem)),
                *s.scalars(select(Action)),
                *s.scalars(select(Pack)),
            ]
            return sorted(desk_damage(s_, s, rows).values())

    def desk_counterparts(self) -> list[str]:
        """The working group's parties other than this ministry (who receive the desk and may get a pack)."""
        from store.jwg.sync import desk_parties

        s_ = self._s()
        with s_.db.read() as s:
            return sorted(desk_parties(s) - {s_.ministry})

    # ---- statistics (no decryption) --------------------------------------------------------------

    def desk_stats(self, **kwargs: Any) -> DeskStats:
        """Counts and medians for the dashboard and the pack (`store.jwg.stats.desk_stats`)."""
        from store.jwg.stats import desk_stats

        return desk_stats(self._s(), **kwargs)
