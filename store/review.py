"""The review workflow: submit, approve, return, mark actioned, close — and which of these an officer may take now.

The rules are `store.policy`'s; each step here is one audited action that checks them against the stored record.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from store import policy
from store.audit import log as audit
from store.authoring import find_record
from store.models import Record, ReviewEvent
from store.text import check_block
from store.vocab import Status, stored_status

if TYPE_CHECKING:
    from store.service import Session


def _transition(
    session: Session,
    action: str,
    reference: str,
    check: Callable[[Record], None],
    new_status: Status,
    comment: str = "",
) -> None:
    comment = check_block("comment", comment) if comment else ""
    with session.act(action, reference.upper()) as s:
        rec = find_record(s, reference)
        session.require_intact(s, rec)
        check(rec)
        now = session.clock()
        rec.status, rec.updated_at = new_status.value, now
        comment_ct = session.seal(comment) if comment else None
        s.add(ReviewEvent(record_id=rec.id, officer=session.actor.name, action=action, at=now, comment_ct=comment_ct))
        audit.note(s, record_id=rec.id, wrote={"comment": comment_ct} if comment_ct else None, detail=comment or None)


def submit(session: Session, reference: str) -> None:
    """Put a draft or returned record in review."""
    actor, own = session.actor, session.ministry
    _transition(
        session,
        "submit",
        reference,
        lambda r: policy.check_submit(
            actor, r.author, stored_status(r.status, r.reference), r.reference, origin=r.origin, own_ministry=own
        ),
        Status.IN_REVIEW,
    )


def approve(session: Session, reference: str, comment: str = "") -> None:
    """Approve a record in review (role and four-eyes permitting)."""
    actor, own, four_eyes = session.actor, session.ministry, session.four_eyes
    _transition(
        session,
        "approve",
        reference,
        lambda r: policy.check_approve(
            actor,
            r.author,
            stored_status(r.status, r.reference),
            r.reference,
            four_eyes,
            origin=r.origin,
            own_ministry=own,
        ),
        Status.APPROVED,
        comment,
    )


def return_record(session: Session, reference: str, comment: str) -> None:
    """Send a record in review back to its author with a comment."""
    actor, own = session.actor, session.ministry
    _transition(
        session,
        "return",
        reference,
        lambda r: policy.check_return(
            actor, stored_status(r.status, r.reference), r.reference, comment, origin=r.origin, own_ministry=own
        ),
        Status.RETURNED,
        comment,
    )


def mark_actioned(session: Session, reference: str, comment: str = "") -> None:
    """Record that a received record was acted upon."""
    from sqlalchemy.orm import object_session

    from store.withdrawals import withdrawal_in  # a record its origin withdrew is closed, never actioned

    actor = session.actor

    def check(r: Record) -> None:
        s = object_session(r)
        withdrawn = s is not None and withdrawal_in(session, s, r.uuid) is not None
        policy.check_mark_actioned(actor, stored_status(r.status, r.reference), r.reference, withdrawn=withdrawn)

    _transition(session, "actioned", reference, check, Status.ACTIONED, comment)


def close_record(session: Session, reference: str, comment: str = "") -> None:
    """Close a record that needs no more work."""
    actor = session.actor
    _transition(
        session,
        "close",
        reference,
        lambda r: policy.check_close(actor, stored_status(r.status, r.reference), r.reference),
        Status.CLOSED,
        comment,
    )


def available_actions(session: Session, reference: str) -> frozenset[policy.RecordAction]:
    """The actions the acting officer may take on `reference` now (the faces show only these keys)."""
    from store.withdrawals import withdrawal_in  # a withdrawn record cannot be withdrawn again, nor marked actioned

    with session.db.read() as s:
        rec = find_record(s, reference)
        withdrawn = withdrawal_in(session, s, rec.uuid) is not None
        actions = policy.available_actions(
            session.actor,
            author=rec.author,
            status=stored_status(rec.status, rec.reference),
            origin=rec.origin,
            own_ministry=session.ministry,
            four_eyes=session.four_eyes,
            reference=rec.reference,
            withdrawn=withdrawn,
        )
        if policy.RecordAction.WITHDRAW in actions and withdrawn:
            actions = actions - {policy.RecordAction.WITHDRAW}
        return actions


__all__ = ["approve", "available_actions", "close_record", "mark_actioned", "return_record", "submit"]
