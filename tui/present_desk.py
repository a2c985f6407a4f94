"""The `--json` shapes of the working-group desk (`liaison actions list`, `meetings list/show`): a contract, like
the record shapes of `tui.present`, kept apart so that module stays about records, bundles and the log."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tui.present import when_json

if TYPE_CHECKING:
    from store.jwg.actions import ActionInfo
    from store.jwg.meetings import MeetingInfo

__all__ = ["action_json", "meeting_json"]


def action_json(action: ActionInfo) -> dict[str, Any]:
    """`liaison actions list --json` objects (a contract: id, title, domain, owner, due, status, meeting …);
    `damaged` is why it differs from its signed event (edited outside Liaison), null when intact."""
    return {
        "id": action.id,
        "title": action.title,
        "domain": action.domain,
        "owner": action.owner,
        "officer": action.officer or None,
        "due": action.due.isoformat(),
        "status": action.status,
        "meeting": action.meeting,
        "records": list(action.records),
        "origin": action.origin,
        "note": action.note or None,
        "overdue": action.overdue,
        "status_at": when_json(action.status_at) if action.status_at is not None else None,
        "damaged": action.damaged,
    }


def meeting_json(meeting: MeetingInfo, *, detail: bool = False) -> dict[str, Any]:
    """`liaison meetings list/show --json` objects; `show` adds minutes, agenda and the carried-forward actions."""
    obj: dict[str, Any] = {
        "quarter": meeting.quarter,
        "date": meeting.day.isoformat(),
        "venue": meeting.venue,
        "host": meeting.host,
        "status": meeting.status,
        "origin": meeting.origin,
        "damaged": meeting.damaged,
    }
    if detail:
        obj["minutes"] = meeting.minutes
        obj["agenda"] = [
            {
                "id": i.id,
                "domain": i.domain,
                "outcome": i.outcome,
                "text": i.text,
                "action": i.action,
                "origin": i.origin,
                "damaged": i.damaged,
            }
            for i in meeting.agenda
        ]
        obj["carried_forward"] = [action_json(a) for a in meeting.carried]
    return obj
