"""The rules of `store/policy.py`, table-driven: one row per case, each rule tested directly (no CLI)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from store import policy
from store.errors import PolicyError
from store.policy import Actor, RecordAction
from store.vocab import Role, Status, Tlp
from tests.liaison_helpers import LiaisonStore

HERE = "PK-MOI"
THERE = "TR-MOI"
ALICE = Actor("alice", Role.ADMIN)
BOB = Actor("bob", Role.REVIEWER)
CAROL = Actor("carol", Role.OFFICER)

A = RecordAction

# actor, author, status, origin, four_eyes → the actions available
AVAILABLE = [
    # the author's own draft: edit, submit; a reviewer may also close it
    (CAROL, "carol", Status.DRAFT, HERE, True, {A.EDIT, A.SUBMIT}),
    (BOB, "bob", Status.DRAFT, HERE, True, {A.EDIT, A.SUBMIT, A.CLOSE}),
    # someone else's draft: nothing for an officer, close for a reviewer
    (CAROL, "bob", Status.DRAFT, HERE, True, set()),
    (BOB, "carol", Status.DRAFT, HERE, True, {A.CLOSE}),
    (BOB, "carol", Status.RETURNED, HERE, True, {A.CLOSE}),
    (CAROL, "carol", Status.RETURNED, HERE, True, {A.EDIT, A.SUBMIT}),
    # in review: a reviewer who did not write it approves or returns; four-eyes keeps the author from approving
    (BOB, "carol", Status.IN_REVIEW, HERE, True, {A.APPROVE, A.RETURN}),
    (BOB, "bob", Status.IN_REVIEW, HERE, True, {A.RETURN}),
    (BOB, "bob", Status.IN_REVIEW, HERE, False, {A.APPROVE, A.RETURN}),
    (CAROL, "bob", Status.IN_REVIEW, HERE, True, set()),
    (CAROL, "carol", Status.IN_REVIEW, HERE, False, set()),
    # released: a reviewer closes; once shared, the origin's reviewer may withdraw it
    (BOB, "carol", Status.APPROVED, HERE, True, {A.CLOSE}),
    (BOB, "carol", Status.SHARED, HERE, True, {A.CLOSE, A.WITHDRAW}),
    (ALICE, "carol", Status.ACKNOWLEDGED, HERE, True, {A.CLOSE, A.WITHDRAW}),
    (CAROL, "carol", Status.SHARED, HERE, True, set()),
    # received from another ministry: any officer marks it actioned, a reviewer closes; nobody edits or withdraws
    (CAROL, "someone", Status.RECEIVED, THERE, True, {A.ACTIONED}),
    (BOB, "someone", Status.RECEIVED, THERE, True, {A.ACTIONED, A.CLOSE}),
    (BOB, "bob", Status.RECEIVED, THERE, True, {A.ACTIONED, A.CLOSE}),  # a foreign author named like us gains nothing
    (BOB, "someone", Status.ACTIONED, THERE, True, {A.CLOSE}),
    (CAROL, "someone", Status.ACTIONED, THERE, True, set()),
    # a foreign record in an outbound status (a crafted store): still nothing the origin alone may do
    (BOB, "bob", Status.DRAFT, THERE, False, {A.CLOSE}),
    (BOB, "carol", Status.IN_REVIEW, THERE, False, set()),
    (BOB, "carol", Status.SHARED, THERE, False, {A.CLOSE}),
    # closed: nothing for anyone
    (ALICE, "alice", Status.CLOSED, HERE, False, set()),
]


@pytest.mark.parametrize(("actor", "author", "status", "origin", "four_eyes", "expected"), AVAILABLE)
def test_available_actions(
    actor: Actor, author: str, status: Status, origin: str, four_eyes: bool, expected: set[RecordAction]
) -> None:
    got = policy.available_actions(
        actor, author=author, status=status, origin=origin, own_ministry=HERE, four_eyes=four_eyes
    )
    assert got == frozenset(expected)


def _check_passes(
    action: RecordAction, actor: Actor, author: str, status: Status, origin: str, four_eyes: bool
) -> bool:
    ref = "PK-MOI-2026-00001"
    calls = {
        A.EDIT: lambda: policy.check_edit(actor, author, status, ref, origin=origin, own_ministry=HERE),
        A.SUBMIT: lambda: policy.check_submit(actor, author, status, ref, origin=origin, own_ministry=HERE),
        A.APPROVE: lambda: policy.check_approve(
            actor, author, status, ref, four_eyes, origin=origin, own_ministry=HERE
        ),
        A.RETURN: lambda: policy.check_return(actor, status, ref, "please fix", origin=origin, own_ministry=HERE),
        A.ACTIONED: lambda: policy.check_mark_actioned(actor, status, ref),
        A.CLOSE: lambda: policy.check_close(actor, status, ref),
        A.WITHDRAW: lambda: policy.check_withdraw(actor, status, ref, origin=origin, own_ministry=HERE),
    }
    try:
        calls[action]()
    except PolicyError:
        return False
    return True


def test_available_actions_agree_with_every_check() -> None:
    """Over every combination, an action is offered exactly when its check passes (the keys never lie)."""
    for actor, author, status, origin, four_eyes in itertools.product(
        (ALICE, BOB, CAROL), ("alice", "bob", "carol"), Status, (HERE, THERE), (True, False)
    ):
        offered = policy.available_actions(
            actor, author=author, status=status, origin=origin, own_ministry=HERE, four_eyes=four_eyes
        )
        for action in RecordAction:
            assert (action in offered) == _check_passes(action, actor, author, status, origin, four_eyes), (
                actor,
                author,
                status,
                origin,
                action,
            )


# check, arguments → the refusal (or None when allowed)
REFUSALS = [
    (policy.check_edit, (CAROL, "bob", Status.DRAFT, "R-1"), {}, "only the author (bob) may edit R-1"),
    (
        policy.check_edit,
        (CAROL, "carol", Status.APPROVED, "R-1"),
        {},
        "R-1 is approved; only draft or returned records can be edited",
    ),
    (
        policy.check_edit,
        (CAROL, "carol", Status.DRAFT, "R-1"),
        {"origin": THERE, "own_ministry": HERE},
        "R-1 came from TR-MOI; only its origin may edit it",
    ),
    (policy.check_edit, (CAROL, "carol", Status.RETURNED, "R-1"), {}, None),
    (policy.check_submit, (BOB, "carol", Status.DRAFT, "R-1"), {}, "only the author (carol) may submit R-1"),
    (
        policy.check_submit,
        (CAROL, "carol", Status.IN_REVIEW, "R-1"),
        {},
        "R-1 is in-review; only draft or returned records can be submitted",
    ),
    (policy.check_approve, (CAROL, "bob", Status.IN_REVIEW, "R-1", True), {}, "role officer may not approve"),
    (policy.check_approve, (BOB, "bob", Status.IN_REVIEW, "R-1", True), {}, "four-eyes policy: bob authored R-1"),
    (policy.check_approve, (BOB, "carol", Status.DRAFT, "R-1", True), {}, "R-1 is draft, not in review"),
    (policy.check_approve, (BOB, "bob", Status.IN_REVIEW, "R-1", False), {}, None),
    (policy.check_return, (BOB, Status.IN_REVIEW, "R-1", "  "), {}, "a return needs a comment saying what to change"),
    (policy.check_return, (CAROL, Status.IN_REVIEW, "R-1", "fix"), {}, "role officer may not return records"),
    (policy.check_return, (BOB, Status.APPROVED, "R-1", "fix"), {}, "R-1 is approved, not in review"),
    (
        policy.check_mark_actioned,
        (CAROL, Status.SHARED, "R-1"),
        {},
        "R-1 is shared; only received records can be marked actioned",
    ),
    (policy.check_mark_actioned, (CAROL, Status.RECEIVED, "R-1"), {}, None),
    (policy.check_close, (CAROL, Status.RECEIVED, "R-1"), {}, "role officer may not close records"),
    (policy.check_close, (BOB, Status.IN_REVIEW, "R-1"), {}, "R-1 is in-review and cannot be closed"),
    (policy.check_close, (BOB, Status.CLOSED, "R-1"), {}, "R-1 is closed and cannot be closed"),
    (
        policy.check_withdraw,
        (BOB, Status.APPROVED, "R-1"),
        {"origin": HERE, "own_ministry": HERE},
        "R-1 is approved; only shared records can be withdrawn",
    ),
    (
        policy.check_withdraw,
        (BOB, Status.SHARED, "R-1"),
        {"origin": THERE, "own_ministry": HERE},
        "R-1 came from TR-MOI; only its origin may withdraw it",
    ),
    (
        policy.check_withdraw,
        (CAROL, Status.SHARED, "R-1"),
        {"origin": HERE, "own_ministry": HERE},
        "role officer may not withdraw records",
    ),
    (policy.check_withdraw, (BOB, Status.ACKNOWLEDGED, "R-1"), {"origin": HERE, "own_ministry": HERE}, None),
]


@pytest.mark.parametrize(("check", "args", "kwargs", "refusal"), REFUSALS)
def test_checks(check: object, args: tuple[object, ...], kwargs: dict[str, str], refusal: str | None) -> None:
    if refusal is None:
        check(*args, **kwargs)  # type: ignore[operator]
        return
    with pytest.raises(PolicyError) as info:
        check(*args, **kwargs)  # type: ignore[operator]
    assert str(info.value) == refusal


def test_session_gives_the_actions_of_a_record(team_store: LiaisonStore) -> None:
    ref = team_store.add("Actions", officer="carol")
    for officer, expected in (("carol", {A.EDIT, A.SUBMIT}), ("bob", {A.CLOSE}), ("alice", {A.CLOSE})):
        session = team_store.session(officer)
        try:
            assert session.available_actions(ref) == frozenset(expected)
            assert session.available_actions(ref.lower()) == frozenset(expected)
        finally:
            session.vault.close()
    team_store.ok("submit", ref, officer="carol")
    session = team_store.session("bob")
    try:
        assert session.available_actions(ref) == frozenset({A.APPROVE, A.RETURN})
        session.approve(ref)
        assert session.available_actions(ref) == frozenset({A.CLOSE})
    finally:
        session.vault.close()


# ---- what an export may carry (policy.exclusion) -----------------------------------------------------

E = policy.Exclusion


def _candidate(**changes: object) -> policy.Candidate:
    values: dict[str, object] = {
        "id": 1,
        "reference": "R",
        "status": Status.APPROVED,
        "tlp": Tlp.AMBER,
        "origin": HERE,
        "no_reexport": False,
        "revision": 1,
        "releasable": True,
        "sent_revision": None,
        "withdrawn": False,
    }
    values.update(changes)
    return policy.Candidate(**values)  # type: ignore[arg-type]


# candidate changes → the first rule keeping it out of a bundle to TR-MOI (None: it goes)
EXCLUSIONS = [
    ({}, None),
    ({"status": Status.SHARED, "sent_revision": 1, "revision": 2}, None),
    ({"status": Status.DRAFT}, E.NOT_APPROVED),
    ({"status": Status.IN_REVIEW}, E.NOT_APPROVED),
    ({"status": Status.CLOSED}, E.CLOSED),
    ({"tlp": Tlp.RED}, E.RED),
    ({"releasable": False}, E.NOT_RELEASABLE),
    ({"status": Status.SHARED, "sent_revision": 1}, E.ALREADY_SENT),
    ({"withdrawn": True}, E.WITHDRAWN),
    # received records: the re-export rule
    ({"origin": "PK-ANF", "status": Status.RECEIVED, "tlp": Tlp.GREEN}, None),
    ({"origin": "PK-ANF", "status": Status.ACTIONED, "tlp": Tlp.CLEAR}, None),
    ({"origin": "PK-ANF", "status": Status.RECEIVED, "tlp": Tlp.AMBER}, E.RECEIVED_NOT_SHAREABLE),
    ({"origin": "PK-ANF", "status": Status.RECEIVED, "tlp": Tlp.AMBER_STRICT}, E.NO_REEXPORT),
    ({"origin": "PK-ANF", "status": Status.RECEIVED, "tlp": Tlp.GREEN, "no_reexport": True}, E.NO_REEXPORT),
    ({"origin": "PK-ANF", "status": Status.RECEIVED, "tlp": Tlp.RED}, E.RED),
    ({"origin": THERE, "status": Status.RECEIVED, "tlp": Tlp.GREEN}, E.FROM_RECIPIENT),
    ({"origin": "PK-ANF", "status": Status.APPROVED, "tlp": Tlp.GREEN}, E.NOT_APPROVED),
]


@pytest.mark.parametrize(("changes", "expected"), EXCLUSIONS)
def test_export_exclusion(changes: dict[str, object], expected: policy.Exclusion | None) -> None:
    assert policy.exclusion(_candidate(**changes), HERE, THERE) is expected


def test_the_re_export_rule_is_defined_once() -> None:
    assert frozenset({Tlp.GREEN, Tlp.CLEAR}) == policy.SHAREABLE_RECEIVED_TLPS


# ---- what an import accepts (policy.import_refusal, may_update_held, record_time_refusal) ------------------

# origin, releasable_to, tlp, no_reexport, sender → the refusal (received by TR-MOI)
IMPORTS = [
    ("PK-MOI", ["TR-MOI"], "AMBER", False, "PK-MOI", None),
    ("PK-ANF", ["TR-MOI"], "GREEN", False, "PK-MOI", None),
    ("PK-ANF", ["TR-MOI"], "CLEAR", False, "PK-MOI", None),
    ("TR-MOI", ["PK-MOI"], "AMBER", False, "PK-MOI", "record R claims to originate at this ministry (TR-MOI)"),
    ("PK-MOI", ["PK-ANF"], "AMBER", False, "PK-MOI", "record R is not releasable to this ministry (TR-MOI)"),
    ("PK-MOI", ["TR-MOI"], "RED", False, "PK-MOI", "record R is TLP:RED, which never travels in a bundle"),
    (
        "PK-ANF",
        ["TR-MOI"],
        "AMBER",
        False,
        "PK-MOI",
        "record R from PK-ANF is TLP:AMBER and may not be re-exported by PK-MOI",
    ),
    (
        "PK-ANF",
        ["TR-MOI"],
        "GREEN",
        True,
        "PK-MOI",
        "record R from PK-ANF is TLP:GREEN and may not be re-exported by PK-MOI",
    ),
]


@pytest.mark.parametrize(("origin", "releasable_to", "tlp", "no_reexport", "sender", "refusal"), IMPORTS)
def test_import_refusal(
    origin: str, releasable_to: list[str], tlp: str, no_reexport: bool, sender: str, refusal: str | None
) -> None:
    got = policy.import_refusal(
        reference="R",
        origin=origin,
        releasable_to=releasable_to,
        tlp=tlp,
        no_reexport=no_reexport,
        sender=sender,
        local=THERE,
    )
    assert got == refusal


@pytest.mark.parametrize(
    ("sender", "held_origin", "may"),
    [("PK-ANF", "PK-ANF", True), ("TR-MOI", "PK-ANF", False), ("PK-MOI", "PK-ANF", False)],
)
def test_only_a_records_origin_updates_it(sender: str, held_origin: str, may: bool) -> None:
    assert policy.may_update_held(sender, held_origin) is may


NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("moment", "refusal"),
    [
        (NOW, None),
        (NOW + timedelta(hours=23), None),
        (NOW + timedelta(days=1, seconds=1), "is more than a day in the future"),
        (datetime(9999, 12, 31, tzinfo=UTC), "is more than a day in the future"),
        (datetime(2000, 1, 1, tzinfo=UTC), None),
        (datetime(1999, 12, 31, 23, 59, tzinfo=UTC), "is before 2000"),
    ],
)
def test_record_time_refusal(moment: datetime, refusal: str | None) -> None:
    assert policy.record_time_refusal(moment, NOW) == refusal
