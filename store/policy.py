"""The rules: who may do what to which record. The CLI and the TUI both ask here, so they cannot disagree."""

from __future__ import annotations

from dataclasses import dataclass

from store.errors import PolicyError
from store.vocab import Role, Status

_RANK = {Role.OFFICER: 0, Role.REVIEWER: 1, Role.ADMIN: 2}

EDITABLE = frozenset({Status.DRAFT, Status.RETURNED})
SUBMITTABLE = frozenset({Status.DRAFT, Status.RETURNED})

#: Who may move an inbound or released record to actioned/closed.
ACTIONABLE = frozenset({Status.RECEIVED})
CLOSABLE = frozenset({Status.APPROVED, Status.SHARED, Status.ACKNOWLEDGED, Status.RECEIVED, Status.ACTIONED, Status.RETURNED, Status.DRAFT})


@dataclass(frozen=True)
class Actor:
    """The officer on whose behalf an action runs."""

    name: str
    role: Role

    def at_least(self, role: Role) -> bool:
        """True when this officer's role includes the powers of `role`."""
        return _RANK[self.role] >= _RANK[role]


def require_role(actor: Actor, role: Role, verb: str) -> None:
    """Refuse unless the actor holds `role` or higher."""
    if not actor.at_least(role):
        raise PolicyError(f"role {actor.role.value} may not {verb}")


def check_edit(actor: Actor, author: str, status: Status, reference: str) -> None:
    """Only the author edits, and only a draft or a returned record."""
    if actor.name != author:
        raise PolicyError(f"only the author ({author}) may edit {reference}")
    if status not in EDITABLE:
        raise PolicyError(f"{reference} is {status.value}; only draft or returned records can be edited")


def check_submit(actor: Actor, author: str, status: Status, reference: str) -> None:
    """The author puts a draft or returned record in review."""
    if actor.name != author:
        raise PolicyError(f"only the author ({author}) may submit {reference}")
    if status not in SUBMITTABLE:
        raise PolicyError(f"{reference} is {status.value}; only draft or returned records can be submitted")


def check_approve(actor: Actor, author: str, status: Status, reference: str, four_eyes: bool) -> None:
    """A reviewer approves a record in review that someone else wrote (unless four-eyes is off)."""
    require_role(actor, Role.REVIEWER, "approve")
    if four_eyes and actor.name == author:
        raise PolicyError(f"four-eyes policy: {author} authored {reference}")
    if status is not Status.IN_REVIEW:
        raise PolicyError(f"{reference} is {status.value}, not in review")


def check_return(actor: Actor, status: Status, reference: str, comment: str) -> None:
    """A reviewer returns a record in review to its author, saying why."""
    require_role(actor, Role.REVIEWER, "return records")
    if status is not Status.IN_REVIEW:
        raise PolicyError(f"{reference} is {status.value}, not in review")
    if not comment.strip():
        raise PolicyError("a return needs a comment saying what to change")


def check_mark_actioned(actor: Actor, status: Status, reference: str) -> None:
    """A received record is marked actioned by any officer."""
    if status not in ACTIONABLE:
        raise PolicyError(f"{reference} is {status.value}; only received records can be marked actioned")


def check_close(actor: Actor, status: Status, reference: str) -> None:
    """A reviewer closes a record that needs no more work."""
    require_role(actor, Role.REVIEWER, "close records")
    if status not in CLOSABLE:
        raise PolicyError(f"{reference} is {status.value} and cannot be closed")
