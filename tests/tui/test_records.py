"""Reading a record, composing and editing one, and the inline refusal when the store says no."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from textual.widgets import Input, Markdown, Select, Static, TextArea

from store.records import RecordQuery
from store.service import Session, Vault
from tests.tui.helpers import open_screen, settle, unlock
from tui.app import LiaisonApp
from tui.modals.compose import ComposeModal
from tui.modals.confirm import ConfirmModal
from tui.screens.browser import BrowserScreen
from tui.screens.detail import DetailScreen
from tui.widgets.record_table import RecordTable


def markdown_text(screen: DetailScreen) -> str:
    return screen.query_one("#record-summary", Markdown).source


async def test_open_a_record_and_read_its_summary(make_app: Callable[..., LiaisonApp], reader: Session) -> None:
    """Enter on the highlighted row opens the record: header, Markdown summary, ledger and revisions."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await unlock(pilot)
        await pilot.press("j", "enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DetailScreen)
        expected = reader.get_record(reader.list_records(limit=2)[1].reference)
        assert screen.reference == expected.row.reference
        assert markdown_text(screen) == expected.summary
        header = str(screen.query_one("#record-header", Static).content)
        assert expected.row.reference in header and expected.row.title in header
        assert f"TLP:{expected.row.tlp.value}" in header
        ledger = screen.query_one("#record-ledger", Static).render()
        assert ledger is not None
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, BrowserScreen)
        assert isinstance(app.focused, RecordTable)


async def test_compose_and_save_by_keyboard(make_app: Callable[..., LiaisonApp], reader: Session) -> None:
    """`n`, a title, a domain chosen from the select, a summary, ctrl+s: the record exists in the store and in the list."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await unlock(pilot)
        before = reader.count_records()
        await pilot.press("n")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, ComposeModal)
        await pilot.press(*"Dhow sightings off Jiwani", "ctrl+s")
        await settle(pilot)
        error = modal.query_one("#compose-error", Static)
        assert "unknown domain" in str(error.content)
        assert modal.query_one("#domain", Select).has_class("-invalid")
        assert app.focused is modal.query_one("#domain")
        await pilot.press("enter", "down", "down", "enter")  # open the select, take the second domain
        assert modal.query_one("#domain", Select).value == "coast-guard"
        modal.query_one("#summary", TextArea).focus()
        await pilot.press(*"Three dhows seen at night.")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, BrowserScreen)
        assert reader.count_records() == before + 1
        newest = reader.list_records(limit=1)[0]
        assert newest.title == "Dhow sightings off Jiwani"
        assert newest.domain == "coast-guard" and newest.tlp.value == "AMBER" and newest.status.value == "draft"
        assert reader.get_record(newest.reference).summary == "Three dhows seen at night."
        table = app.screen.query_one(RecordTable)
        assert table.highlighted_row is not None and table.highlighted_row.reference == newest.reference


async def test_empty_title_is_refused_inline(make_app: Callable[..., LiaisonApp], reader: Session) -> None:
    """The store's reason appears in the form, the title field is marked, nothing is written."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await unlock(pilot)
        before = reader.count_records()
        await pilot.press("n")
        await settle(pilot)
        modal = app.screen
        modal.query_one("#domain", Select).value = "narcotics"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ComposeModal)
        assert str(modal.query_one("#compose-error", Static).content) == "the title is empty"
        assert modal.query_one("#title", Input).has_class("-invalid")
        assert reader.count_records() == before


async def test_escape_asks_before_discarding(make_app: Callable[..., LiaisonApp], reader: Session) -> None:
    """Escape on a changed form asks; `n` keeps it, `y` discards it and nothing is saved."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await unlock(pilot)
        before = reader.count_records()
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"half a thought", "escape")
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("n")
        assert isinstance(app.screen, ComposeModal)
        await pilot.press("escape", "y")
        await settle(pilot)
        assert isinstance(app.screen, BrowserScreen)
        assert reader.count_records() == before


async def test_escape_on_an_untouched_form_closes_at_once(make_app: Callable[..., LiaisonApp]) -> None:
    """Nothing typed, nothing to lose: escape closes without asking."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await unlock(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, BrowserScreen)


async def test_edit_own_draft_and_submit_it(make_app: Callable[..., LiaisonApp], reader: Session) -> None:
    """From the detail view: `e` edits the title (a new revision), `s` puts the draft in review."""
    drafts = reader.list_records(RecordQuery(statuses=frozenset({"draft"})))
    own = next(r for r in drafts if r.author == "demo")
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await unlock(pilot)
        await app.push_screen(DetailScreen(own.reference))
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, ComposeModal)
        assert modal.query_one("#title", Input).value == own.title
        await pilot.press("end", *" (revised)", "ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
        detail = reader.get_record(own.reference)
        assert detail.row.title == f"{own.title} (revised)"
        assert len(detail.revisions) == 2
        await pilot.press("s")
        await settle(pilot)
        assert reader.get_record(own.reference).row.status.value == "in-review"
        assert app.screen.detail is not None and app.screen.detail.row.status.value == "in-review"


async def test_editing_someone_elses_record_is_not_offered(
    make_app: Callable[..., LiaisonApp], reader: Session
) -> None:
    """The store would refuse an edit by a non-author, so `e` is not offered: no footer key, no form, one revision."""
    other = next(r for r in reader.list_records(RecordQuery(statuses=frozenset({"draft"}))) if r.author != "demo")
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await unlock(pilot)
        screen = await open_screen(pilot, DetailScreen(other.reference))
        offered = {b.binding.action for b in screen.active_bindings.values()}
        assert "edit" not in offered and "approve" not in offered and "back" in offered
        await pilot.press("e")
        await settle(pilot)
        assert app.screen is screen
        assert len(reader.get_record(other.reference).revisions) == 1


async def test_detail_shows_the_sharing_ledger(make_app: Callable[..., LiaisonApp], demo_path: Path) -> None:
    """An acknowledged record of the demo store lists the bundle it went out in, when, and when it was acknowledged."""
    from store.bundles import ledger

    vault = Vault.open(demo_path)
    session = vault.unlock("demo", "demo")
    acknowledged = session.list_records(
        RecordQuery(statuses=frozenset({"acknowledged"}), ministries=frozenset({"TR-MOI"})), limit=5
    )
    record = next(r for r in acknowledged if ledger(session, r.reference))
    entry = ledger(session, record.reference)[0]
    session.lock()
    vault.close()
    assert entry.acknowledged_at is not None
    app = make_app("demo", path=demo_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await unlock(pilot, "demo")
        await app.push_screen(DetailScreen(record.reference))
        await settle(pilot)
        console = Console(width=200, record=True, file=io.StringIO())
        console.print(app.screen.query_one("#record-ledger", Static).content)
        text = console.export_text()
        assert isinstance(app.screen, DetailScreen)
        assert f"sent {entry.at:%Y-%m-%d %H:%M} UTC" in text
        assert f"acknowledged {entry.acknowledged_at:%Y-%m-%d %H:%M} UTC" in text


async def test_inbound_record_is_marked_actioned_then_closed_in_the_app(
    make_app: Callable[..., LiaisonApp], demo_path: Path
) -> None:
    """A received record offers `m` (actioned) and `c` (close) with an optional comment, not edit/submit/approve;
    its ledger does not list this ministry as "releasable · not sent yet"."""
    vault = Vault.open(demo_path)
    session = vault.unlock("demo", "demo")
    inbound = session.list_records(RecordQuery(statuses=frozenset({"received"})), limit=1)[0]
    own = session.ministry
    session.lock()
    vault.close()
    app = make_app("demo", path=demo_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await unlock(pilot)
        screen = await open_screen(pilot, DetailScreen(inbound.reference))
        offered = {b.binding.action for b in screen.active_bindings.values()}
        assert {"actioned", "close"} <= offered
        assert not {"edit", "submit", "approve"} & offered
        ledger_text = str(screen.query_one("#record-ledger", Static).render())
        assert f"{own}  releasable · not sent yet" not in ledger_text
        await pilot.press("m")
        await settle(pilot)
        await pilot.press(*"passed to the border unit", "enter")
        await settle(pilot)
        assert screen.detail is not None and screen.detail.row.status.value == "actioned"
        assert screen.detail.reviews[-1].comment == "passed to the border unit"
        offered = {b.binding.action for b in screen.active_bindings.values()}
        assert "actioned" not in offered and "close" in offered
        await pilot.press("c")
        await settle(pilot)
        await pilot.press("enter")  # no comment: allowed
        await settle(pilot)
        assert screen.detail is not None and screen.detail.row.status.value == "closed"
