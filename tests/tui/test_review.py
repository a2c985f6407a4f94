"""The review queue: approve, return with a comment, next/previous, and refusals the store decides."""

from __future__ import annotations

from collections.abc import Callable

from textual.widgets import DataTable, Input, Static

from store.service import Session
from tests.tui.helpers import OFFICERS, settle, unlock
from tui.app import LiaisonApp
from tui.modals.comment import CommentModal
from tui.screens.review import ReviewScreen


async def open_queue(pilot: object, app: LiaisonApp, officer: str) -> ReviewScreen:
    await unlock(pilot, OFFICERS[officer])  # type: ignore[arg-type]
    await pilot.press("v")  # type: ignore[attr-defined]
    await settle(pilot)  # type: ignore[arg-type]
    screen = app.screen
    assert isinstance(screen, ReviewScreen)
    return screen


def status_text(screen: ReviewScreen) -> str:
    return str(screen.query_one("#review-status", Static).content)


async def test_approve_asks_first_then_takes_the_record_out_of_the_queue(
    make_app: Callable[..., LiaisonApp], reader: Session
) -> None:
    """`a` on the oldest record by someone else asks first; enter approves (no comment needed) and the queue moves on."""
    app = make_app(officer="kestrel")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_queue(pilot, app, "kestrel")
        queue = reader.review_queue()
        assert [r.reference for r in screen.rows] == [r.reference for r in queue]
        first = queue[0]
        assert screen.current == first.reference
        await pilot.press("a")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, CommentModal) and not modal.required
        assert reader.get_record(first.reference).row.status.value == "in-review"
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen
        assert reader.get_record(first.reference).row.status.value == "approved"
        assert first.reference not in [r.reference for r in screen.rows]
        assert screen.current == queue[1].reference
        assert screen.query_one("#queue", DataTable).row_count == len(queue) - 1


async def test_approve_with_a_comment_and_escape_approves_nothing(
    make_app: Callable[..., LiaisonApp], reader: Session
) -> None:
    """Escape at the approve question changes nothing; a comment typed there is kept with the approval."""
    app = make_app(officer="kestrel")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_queue(pilot, app, "kestrel")
        reference = screen.current
        assert reference is not None
        await pilot.press("a", "escape")
        await settle(pilot)
        assert app.screen is screen
        assert reader.get_record(reference).row.status.value == "in-review"
        await pilot.press("a", *"Matches the seizure log", "enter")
        await settle(pilot)
        detail = reader.get_record(reference)
        assert detail.row.status.value == "approved"
        assert detail.reviews[-1].action == "approve" and detail.reviews[-1].comment == "Matches the seizure log"


async def test_next_previous_and_return_with_a_comment(make_app: Callable[..., LiaisonApp], reader: Session) -> None:
    """`n`, `n`, `p` move through the queue; `r` asks for a comment and returns the record with it."""
    app = make_app(officer="kestrel")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_queue(pilot, app, "kestrel")
        queue = reader.review_queue()
        await pilot.press("n", "n", "p")
        await settle(pilot)
        target = queue[1]
        assert screen.current == target.reference
        await pilot.press("r")
        assert isinstance(app.screen, CommentModal)
        await pilot.press(*"Grade the source, please", "enter")
        await settle(pilot)
        detail = reader.get_record(target.reference)
        assert detail.row.status.value == "returned"
        assert detail.reviews[-1].action == "return" and detail.reviews[-1].comment == "Grade the source, please"


async def test_return_without_comment_keeps_the_dialog_open(
    make_app: Callable[..., LiaisonApp], reader: Session
) -> None:
    """Enter with no comment: the dialog stays, says a comment is needed, and what is typed next is the comment, not queue keys."""
    app = make_app(officer="kestrel")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_queue(pilot, app, "kestrel")
        reference = screen.current
        assert reference is not None
        await pilot.press("r", "enter")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, CommentModal)
        assert (
            str(modal.query_one(".prompt-error", Static).content)
            == "A comment is needed: say what the author should change."
        )
        assert modal.query_one(".prompt-error").display
        await pilot.press(*"an", "enter")  # `a` and `n` would approve and move on in the queue
        await settle(pilot)
        assert app.screen is screen
        detail = reader.get_record(reference)
        assert detail.row.status.value == "returned" and detail.reviews[-1].comment == "an"


async def test_own_records_are_marked_and_can_be_hidden(make_app: Callable[..., LiaisonApp], reader: Session) -> None:
    """The admin's own records read `you` in the author column; `m` hides them and shows them again."""
    queue = reader.review_queue()
    own = [r.reference for r in queue if r.author == "demo"]
    assert own and len(own) < len(queue)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_queue(pilot, app, "demo")
        table = screen.query_one("#queue", DataTable)
        authors = {r.reference: str(table.get_cell(r.reference, "author")) for r in queue}
        assert {ref for ref, author in authors.items() if author == "you"} == set(own)
        title = str(screen.query_one("#queue-title", Static).content)
        assert f"{len(own)} yours, marked 'you' (m hides them)" in title
        await pilot.press("m")
        await settle(pilot)
        assert table.row_count == len(queue) - len(own)
        assert not set(own) & {r.reference for r in screen.shown}
        assert screen.current not in own
        assert f"{len(own)} yours, hidden (m shows them)" in str(screen.query_one("#queue-title", Static).content)
        await pilot.press("m")
        await settle(pilot)
        assert table.row_count == len(queue)


async def test_four_eyes_refusal_is_shown(make_app: Callable[..., LiaisonApp], reader: Session) -> None:
    """The admin cannot approve their own record: the store's four-eyes reason appears, nothing changes."""
    own = next(r for r in reader.review_queue() if r.author == "demo")
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_queue(pilot, app, "demo")
        while screen.current != own.reference:
            await pilot.press("n")
            await settle(pilot)
        await pilot.press("a", "enter")
        await settle(pilot)
        assert status_text(screen) == f"approve refused: four-eyes policy: demo authored {own.reference}"
        assert reader.get_record(own.reference).row.status.value == "in-review"


async def test_officer_role_may_not_approve(make_app: Callable[..., LiaisonApp], reader: Session) -> None:
    """An officer (not a reviewer) sees the role refusal."""
    app = make_app(officer="heron")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_queue(pilot, app, "heron")
        reference = screen.current
        assert reference is not None
        await pilot.press("a", "enter")
        await settle(pilot)
        assert status_text(screen) == "approve refused: role officer may not approve"
        assert reader.get_record(reference).row.status.value == "in-review"


async def test_comment_modal_escape_sends_nothing(make_app: Callable[..., LiaisonApp], reader: Session) -> None:
    """Escape in the comment modal returns nothing to the store."""
    app = make_app(officer="kestrel")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_queue(pilot, app, "kestrel")
        reference = screen.current
        assert reference is not None
        await pilot.press("r")
        modal = app.screen
        assert isinstance(modal, CommentModal)
        modal.query_one("#comment", Input).value = "never sent"
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen
        assert reader.get_record(reference).row.status.value == "in-review"


async def test_narrow_queue_stacks_the_record_under_the_list(make_app: Callable[..., LiaisonApp]) -> None:
    """At 80×24 the record pane sits under the queue at full width (readable), not squeezed beside it."""
    app = make_app(officer="kestrel")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_queue(pilot, app, "kestrel")
        queue_pane, record = screen.query_one("#queue-pane").region, screen.query_one("#review-record").region
        assert screen.has_class("-narrow")
        assert record.y >= queue_pane.bottom and record.width >= 78 and record.height >= 6
        assert screen.query_one("#queue", DataTable).row_count > 0


async def test_enter_opens_the_highlighted_record(make_app: Callable[..., LiaisonApp]) -> None:
    """`enter` on the queue opens the record full-screen; escape comes back to the queue."""
    from tui.screens.detail import DetailScreen

    app = make_app(officer="kestrel")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_queue(pilot, app, "kestrel")
        await pilot.press("j", "enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
        assert app.screen.reference == screen.current
        await pilot.press("escape")
        assert app.screen is screen


async def test_approve_from_the_detail_asks_first_like_the_queue(
    make_app: Callable[..., LiaisonApp], reader: Session
) -> None:
    """`a` in a record's detail asks first (escape approves nothing); a comment typed there goes with the approval."""
    from tui.screens.detail import DetailScreen

    app = make_app(officer="kestrel")
    async with app.run_test(size=(120, 40)) as pilot:
        await unlock(pilot, OFFICERS["kestrel"])
        reference = reader.review_queue()[0].reference
        await app.push_screen(DetailScreen(reference))
        await settle(pilot)
        detail = app.screen
        assert isinstance(detail, DetailScreen)
        await pilot.press("a")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, CommentModal) and not modal.required
        assert reader.get_record(reference).row.status.value == "in-review"
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is detail
        assert reader.get_record(reference).row.status.value == "in-review"
        await pilot.press("a", *"Checked against the log", "enter")
        await settle(pilot)
        record = reader.get_record(reference)
        assert record.row.status.value == "approved"
        assert record.reviews[-1].action == "approve" and record.reviews[-1].comment == "Checked against the log"
