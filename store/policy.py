"""The rules: who may do what to which record. The CLI and the TUI both ask here, so they cannot disagree."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum, StrEnum

from store.errors import PolicyError, ValidationError
from store.vocab import INBOUND_STATUSES, RELEASED_STATUSES, Role, Status, Tlp

_RANK = {Role.OFFICER: 0, Role.REVIEWER: 1, Role.ADMIN: 2}

EDITABLE = frozenset({Status.DRAFT, Status.RETURNED})
SUBMITTABLE = frozenset({Status.DRAFT, Status.RETURNED})

#: Who may move an inbound or released record to actioned/closed.
ACTIONABLE = frozenset({Status.RECEIVED})
CLOSABLE = frozenset(
    {
        Status.APPROVED,
        Status.SHARED,
        Status.ACKNOWLEDGED,
        Status.RECEIVED,
        Status.ACTIONED,
        Status.RETURNED,
        Status.DRAFT,
    }
)
#: What the origin may withdraw: a record it has shared.
WITHDRAWABLE = frozenset({Status.SHARED, Status.ACKNOWLEDGED})


class RecordAction(StrEnum):
    """What an officer can do to one record; the faces show a key only for the actions `available_actions` gives."""

    EDIT = "edit"
    SUBMIT = "submit"
    APPROVE = "approve"
    RETURN = "return"
    ACTIONED = "actioned"
    CLOSE = "close"
    WITHDRAW = "withdraw"


#: The shortest passphrase a new officer (the first admin included) may choose, in characters.
MIN_PASSPHRASE_LENGTH = 8


def check_new_passphrase(passphrase: str, *, field: str = "passphrase", demo: bool = False) -> None:
    """A new passphrase has at least `MIN_PASSPHRASE_LENGTH` characters (a demo store's printed one is exempt)."""
    if not passphrase:
        raise ValidationError("the passphrase is empty", field=field)
    if not demo and len(passphrase) < MIN_PASSPHRASE_LENGTH:
        raise ValidationError(
            f"the passphrase is too short: it needs at least {MIN_PASSPHRASE_LENGTH} characters", field=field
        )


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


def check_manage_officers(actor: Actor) -> None:
    """Only an admin adds or removes officers (asked before a face asks for a new officer's name and passphrase)."""
    require_role(actor, Role.ADMIN, "manage officers")


def check_remove_officer(actor: Actor, name: str) -> None:
    """An admin removes another officer, never themselves (asked before a face asks "remove for good?")."""
    check_manage_officers(actor)
    if name == actor.name:
        raise PolicyError("an admin cannot remove themselves")


def check_rotate_keys(actor: Actor) -> None:
    """Only an admin rotates the data key (asked before a face asks "rotate?")."""
    require_role(actor, Role.ADMIN, "rotate keys")


def _check_own(origin: str | None, own_ministry: str | None, reference: str, verb: str) -> None:
    if origin is not None and own_ministry is not None and origin != own_ministry:
        raise PolicyError(f"{reference} came from {origin}; only its origin may {verb} it", reference=reference)


def _check_authors_own_draft(
    actor: Actor,
    author: str,
    status: Status,
    reference: str,
    allowed: frozenset[Status],
    verb: str,
    done: str,
    origin: str | None,
    own_ministry: str | None,
) -> None:
    """The author alone, on a draft or returned record written here: the shared rule of edit and submit."""
    if actor.name != author:
        raise PolicyError(f"only the author ({author}) may {verb} {reference}", reference=reference)
    if status not in allowed:
        raise PolicyError(
            f"{reference} is {status.value}; only draft or returned records can be {done}", reference=reference
        )
    _check_own(origin, own_ministry, reference, verb)


def check_edit(
    actor: Actor,
    author: str,
    status: Status,
    reference: str,
    *,
    origin: str | None = None,
    own_ministry: str | None = None,
) -> None:
    """Only the author edits, and only a draft or a returned record written here."""
    _check_authors_own_draft(actor, author, status, reference, EDITABLE, "edit", "edited", origin, own_ministry)


def check_submit(
    actor: Actor,
    author: str,
    status: Status,
    reference: str,
    *,
    origin: str | None = None,
    own_ministry: str | None = None,
) -> None:
    """The author puts a draft or returned record (written here) in review."""
    _check_authors_own_draft(actor, author, status, reference, SUBMITTABLE, "submit", "submitted", origin, own_ministry)


def check_approve(
    actor: Actor,
    author: str,
    status: Status,
    reference: str,
    four_eyes: bool,
    *,
    origin: str | None = None,
    own_ministry: str | None = None,
) -> None:
    """A reviewer approves a record in review that someone else wrote (unless four-eyes is off)."""
    require_role(actor, Role.REVIEWER, "approve")
    if four_eyes and actor.name == author:
        raise PolicyError(f"four-eyes policy: {author} authored {reference}", reference=reference)
    if status is not Status.IN_REVIEW:
        raise PolicyError(f"{reference} is {status.value}, not in review", reference=reference)
    _check_own(origin, own_ministry, reference, "approve")


def check_return(
    actor: Actor,
    status: Status,
    reference: str,
    comment: str | None,
    *,
    origin: str | None = None,
    own_ministry: str | None = None,
) -> None:
    """A reviewer returns a record in review to its author, saying why (`comment=None`: is a return possible at all)."""
    require_role(actor, Role.REVIEWER, "return records")
    if status is not Status.IN_REVIEW:
        raise PolicyError(f"{reference} is {status.value}, not in review", reference=reference)
    if comment is not None and not comment.strip():
        raise PolicyError("a return needs a comment saying what to change", field="comment")
    _check_own(origin, own_ministry, reference, "return")


def check_mark_actioned(actor: Actor, status: Status, reference: str, *, withdrawn: bool = False) -> None:
    """A received record is marked actioned by any officer, unless its origin withdrew it (closing stays allowed)."""
    if withdrawn:
        raise PolicyError(
            f"{reference} was withdrawn by its origin; it can be closed but not marked actioned", reference=reference
        )
    if status not in ACTIONABLE:
        raise PolicyError(
            f"{reference} is {status.value}; only received records can be marked actioned", reference=reference
        )


def check_close(actor: Actor, status: Status, reference: str) -> None:
    """A reviewer closes a record that needs no more work."""
    require_role(actor, Role.REVIEWER, "close records")
    if status not in CLOSABLE:
        raise PolicyError(f"{reference} is {status.value} and cannot be closed", reference=reference)


def check_withdraw(actor: Actor, status: Status, reference: str, *, origin: str, own_ministry: str) -> None:
    """A reviewer of the origin withdraws a record it has shared (the receivers flag it withdrawn)."""
    require_role(actor, Role.REVIEWER, "withdraw records")
    if status not in WITHDRAWABLE:
        raise PolicyError(f"{reference} is {status.value}; only shared records can be withdrawn", reference=reference)
    _check_own(origin, own_ministry, reference, "withdraw")


def available_actions(
    actor: Actor,
    *,
    author: str,
    status: Status,
    origin: str,
    own_ministry: str,
    four_eyes: bool,
    reference: str = "",
    withdrawn: bool = False,
) -> frozenset[RecordAction]:
    """Every action `actor` may take on a record now: exactly those whose `check_*` above would pass.

    Derived from the checks themselves (not a second copy of the rules), so a face that shows only these
    keys can never offer what the store would refuse.
    """
    ref = reference or "the record"
    checks: dict[RecordAction, Callable[[], None]] = {
        RecordAction.EDIT: lambda: check_edit(actor, author, status, ref, origin=origin, own_ministry=own_ministry),
        RecordAction.SUBMIT: lambda: check_submit(actor, author, status, ref, origin=origin, own_ministry=own_ministry),
        RecordAction.APPROVE: lambda: check_approve(
            actor, author, status, ref, four_eyes, origin=origin, own_ministry=own_ministry
        ),
        RecordAction.RETURN: lambda: check_return(actor, status, ref, None, origin=origin, own_ministry=own_ministry),
        RecordAction.ACTIONED: lambda: check_mark_actioned(actor, status, ref, withdrawn=withdrawn),
        RecordAction.CLOSE: lambda: check_close(actor, status, ref),
        RecordAction.WITHDRAW: lambda: check_withdraw(actor, status, ref, origin=origin, own_ministry=own_ministry),
    }
    allowed: set[RecordAction] = set()
    for action, check in checks.items():
        try:
            check()
        except PolicyError:
            continue
        allowed.add(action)
    return frozenset(allowed)


# ---- what an import accepts -------------------------------------------------------------------------

#: Imported records dated before this are refused (no Liaison record predates it).
EARLIEST_RECORD_TIME = datetime(2000, 1, 1, tzinfo=UTC)
#: How far in the future an imported record's dates may lie (clock skew), before it is refused.
FUTURE_SLACK = timedelta(days=1)


def record_time_refusal(moment: datetime, now: datetime) -> str | None:
    """Why an imported record's timestamp is refused (`before 2000`, `in the future`), or None when it is plausible."""
    if moment < EARLIEST_RECORD_TIME:
        return f"is before {EARLIEST_RECORD_TIME:%Y}"
    if moment > now + FUTURE_SLACK:
        return "is more than a day in the future"
    return None


def may_update_held(sender: str, held_origin: str) -> bool:
    """A bundle may update (or re-label) a record we hold only when its sender is that record's origin.

    A copy forwarded by a third party (allowed for GREEN and CLEAR) never overwrites what its origin sent.
    """
    return sender == held_origin


# ---- what an export may carry -----------------------------------------------------------------------

#: The only TLP labels a record received from another ministry may be passed on under (re-export rule).
SHAREABLE_RECEIVED_TLPS = frozenset({Tlp.GREEN, Tlp.CLEAR})


class Exclusion(Enum):
    """Why a record stays out of a bundle, in the order the rules are checked (received records: the re-export rules first)."""

    NOT_APPROVED = "not approved yet"
    CLOSED = "closed"
    RED = "TLP:RED (never leaves in a bundle)"
    NOT_RELEASABLE = "not releasable to the recipient"
    FROM_RECIPIENT = "received from the recipient itself"
    NO_REEXPORT = "received AMBER+STRICT (marked no re-export)"
    RECEIVED_NOT_SHAREABLE = "received from another ministry and not GREEN or CLEAR (never re-exported)"
    ALREADY_SENT = "already sent to the recipient (latest revision)"
    WITHDRAWN = "withdrawn by its origin"


@dataclass(frozen=True)
class Candidate:
    """The plaintext tags of a record that the export rules look at."""

    id: int
    reference: str
    status: Status
    tlp: Tlp
    origin: str
    no_reexport: bool
    revision: int
    releasable: bool
    sent_revision: int | None
    withdrawn: bool = False


def exclusion(c: Candidate, local: str, recipient: str) -> Exclusion | None:
    """The first rule that keeps a record out of a bundle to the recipient, or None when it may go."""
    inbound = c.origin != local
    if c.withdrawn:
        return Exclusion.WITHDRAWN
    if c.status is Status.CLOSED:
        return Exclusion.CLOSED
    if (inbound and c.status not in INBOUND_STATUSES) or (not inbound and c.status not in RELEASED_STATUSES):
        return Exclusion.NOT_APPROVED
    if c.tlp is Tlp.RED:
        return Exclusion.RED
    if inbound:
        if c.origin == recipient:
            return Exclusion.FROM_RECIPIENT
        if c.no_reexport or c.tlp is Tlp.AMBER_STRICT:
            return Exclusion.NO_REEXPORT
        if c.tlp not in SHAREABLE_RECEIVED_TLPS:
            return Exclusion.RECEIVED_NOT_SHAREABLE
    if not c.releasable:
        return Exclusion.NOT_RELEASABLE
    if c.sent_revision is not None and c.sent_revision >= c.revision:
        return Exclusion.ALREADY_SENT
    return None


# ---- what an import accepts (the rest: dates above, text in `store.text`) -------------------------------


def import_refusal(
    *, reference: str, origin: str, releasable_to: list[str], tlp: str, no_reexport: bool, sender: str, local: str
) -> str | None:
    """Why an incoming record is refused by the sharing rules (the whole bundle with it), or None when it may enter."""
    if origin == local:
        return f"record {reference} claims to originate at this ministry ({local})"
    if local not in releasable_to:
        return f"record {reference} is not releasable to this ministry ({local})"
    if tlp == Tlp.RED.value:
        return f"record {reference} is TLP:RED, which never travels in a bundle"
    if origin != sender and (no_reexport or tlp not in {t.value for t in SHAREABLE_RECEIVED_TLPS}):
        return f"record {reference} from {origin} is TLP:{tlp} and may not be re-exported by {sender}"
    return None


def origin_copy_replaces(sender: str, held_origin: str, held_from_origin: bool) -> bool:
    """The origin's own copy replaces a copy held only from a non-origin sender (a forward, a STIX/MISP import),
    whatever the revision numbers: only the origin decides what a record says."""
    return sender == held_origin and not held_from_origin


#: The earliest year a reference may carry (like record dates); the latest is next year.
EARLIEST_REFERENCE_YEAR = EARLIEST_RECORD_TIME.year


def reference_year_refusal(year: int, now: datetime) -> str | None:
    """Why a reference's year is implausible (before 2000, after next year), or None."""
    if year < EARLIEST_REFERENCE_YEAR or year > now.year + 1:
        return f"has an implausible year {year} (expected {EARLIEST_REFERENCE_YEAR} to {now.year + 1})"
    return None
