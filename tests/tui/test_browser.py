"""The records browser: facets by keyboard, chips, search, and a window over the result set (never all of it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from textual.binding import Binding
from textual.widgets import Input, Static

from store.records import RecordQuery
from store.service import Session
from tests.tui.helpers import SEARCH_CANARY, settle, unlock
from tui.app import LiaisonApp
from tui.screens.browser import BrowserScreen
from tui.screens.detail import DetailScreen
from tui.widgets.facet_sidebar import FacetSidebar
from tui.widgets.filter_chips import Chip
from tui.widgets.record_table import RecordTable
from tui.widgets.status_line import StatusLine


def visible_rows(table: RecordTable) -> list[Any]:
    rows = []
    top = round(table.scroll_y)
    for index in range(top, min(top + table.visible_rows, table.total or 0)):
        row = table.cache.row(index)
        assert row is not None, f"row {index} is on screen but was not fetched"
        rows.append(row)
    return rows


async def toggle(pilot: Any, facet: str, value: str) -> None:
    """Move to the sidebar, highlight a value by keyboard, press space."""
    await pilot.press("f")
    sidebar = pilot.app.screen.query_one(FacetSidebar)
    target = sidebar.get_option_index(f"{facet}:{value}")
    while sidebar.highlighted != target:
        await pilot.press("down" if (sidebar.highlighted or 0) < target else "up")
    await pilot.press("space")
    await settle(pilot)


async def test_filter_by_domain_then_tlp(make_app: Callable[..., LiaisonApp], reader: Session) -> None:
    """Toggling a domain then a TLP in the sidebar filters the table, shows two chips and live counts."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await unlock(pilot)
        screen = app.screen
        assert isinstance(screen, BrowserScreen)
        table = screen.query_one(RecordTable)
        assert table.total == reader.count_records()

        await toggle(pilot, "domain", "narcotics")
        expected = RecordQuery(domains=frozenset({"narcotics"}))
        assert screen.record_query == expected
        assert table.total == reader.count_records(expected)
        assert {r.domain for r in visible_rows(table)} == {"narcotics"}

        await toggle(pilot, "tlp", "RED")
        both = RecordQuery(domains=frozenset({"narcotics"}), tlps=frozenset({"RED"}))
        assert screen.record_query == both
        assert table.total == reader.count_records(both) > 0
        assert {(r.domain, r.tlp.value) for r in visible_rows(table)} == {("narcotics", "RED")}
        assert [(c.facet, c.value) for c in screen.query(Chip)] == [("domain", "narcotics"), ("tlp", "RED")]
        facets = reader.facet_counts(both)
        sidebar = screen.query_one(FacetSidebar)
        assert sidebar._counts == facets

        await pilot.press("c", "delete")  # focus the first chip and remove it
        await settle(pilot)
        assert screen.record_query == RecordQuery(tlps=frozenset({"RED"}))
        await pilot.press("x")
        await settle(pilot)
        assert screen.record_query == RecordQuery()
        assert not screen.query(Chip)


async def test_search_finds_the_record_and_explains_a_useless_query(make_app: Callable[..., LiaisonApp]) -> None:
    """`/` then words searches the blind index; a query with no searchable word is refused inline."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await unlock(pilot)
        screen = app.screen
        table = screen.query_one(RecordTable)
        await pilot.press("slash", *SEARCH_CANARY.lower(), "enter")
        await settle(pilot)
        assert screen.record_query.search == SEARCH_CANARY.lower()
        assert table.total == 1
        assert SEARCH_CANARY in visible_rows(table)[0].title
        assert app.focused is table
        assert [(c.facet, c.value) for c in screen.query(Chip)] == [("search", SEARCH_CANARY.lower())]

        await pilot.press("slash", "ctrl+a", "ctrl+k", "x", "enter")
        await settle(pilot)
        assert table.total == 0
        result = screen.query_one("#result-line", Static)
        assert "nothing to search for" in str(result.content)
        assert result.has_class("-error")


async def test_paging_decrypts_only_a_window(
    make_app: Callable[..., LiaisonApp], reader: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PageDown/End walk the whole result set while at most `cached_pages` pages of titles are held, fetched page by page."""
    app = make_app(page_size=10, cached_pages=3)
    calls: list[dict[str, Any]] = []
    original = Session.list_records

    def spy(self: Session, query: RecordQuery | None = None, **kwargs: Any) -> Any:
        calls.append(kwargs)
        return original(self, query or RecordQuery(), **kwargs)

    monkeypatch.setattr(Session, "list_records", spy)
    async with app.run_test(size=(120, 24)) as pilot:
        await unlock(pilot)
        table = app.screen.query_one(RecordTable)
        total = reader.count_records()
        assert table.total == total
        assert all(call["limit"] == 10 for call in calls)
        await pilot.press("pagedown", "pagedown")
        await settle(pilot)
        assert table.cursor == 2 * table.visible_rows
        assert any(call.get("after") is not None for call in calls), "sequential pages should use the keyset cursor"
        await pilot.press("end")
        await settle(pilot)
        assert table.cursor == total - 1
        assert table.highlighted_row is not None
        assert table.highlighted_row.reference == reader.list_records(limit=1, offset=total - 1)[0].reference
        window = table.window_rows
        assert len(table.cache) <= table.cache.max_pages <= window // 10 + 2
        assert table.cache.decrypted_rows <= table.cache.max_pages * 10 < total
        await pilot.press("home", "j", "j", "k")
        await settle(pilot)
        assert table.cursor == 1
        assert [r.reference for r in visible_rows(table)][:3] == [r.reference for r in reader.list_records(limit=3)]


async def test_order_and_sidebar_toggles(make_app: Callable[..., LiaisonApp], reader: Session) -> None:
    """`o` flips newest/oldest first; `b` hides the sidebar and brings it back."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await unlock(pilot)
        table = app.screen.query_one(RecordTable)
        await pilot.press("o")
        await settle(pilot)
        assert table.highlighted_row is not None
        assert table.highlighted_row.reference == reader.list_records(RecordQuery(order="oldest"), limit=1)[0].reference
        sidebar = app.screen.query_one(FacetSidebar)
        await pilot.press("b")
        assert not sidebar.display
        await pilot.press("f")
        assert sidebar.display and sidebar.has_focus


async def test_escape_from_search_restores_the_applied_search(make_app: Callable[..., LiaisonApp]) -> None:
    """Typing in the search field and pressing escape leaves the query as it was."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await unlock(pilot)
        await pilot.press("slash", "a", "b", "c", "escape")
        await settle(pilot)
        assert app.screen.record_query.search == ""
        assert app.screen.query_one("#search", Input).value == ""
        assert isinstance(app.focused, RecordTable)


async def test_date_range_filter_from_the_app(make_app: Callable[..., LiaisonApp], reader: Session) -> None:
    """`d` asks for a day range; the list and its count follow it, a chip shows it, a bad day is refused inline."""
    from datetime import UTC, datetime

    since, until = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)
    expected = reader.count_records(RecordQuery(since=since, until=until))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await unlock(pilot)
        screen = app.screen
        assert isinstance(screen, BrowserScreen)
        await pilot.press("d")
        await settle(pilot)
        await pilot.press(*"2026-01-01..2026-01-31", "enter")
        await settle(pilot)
        assert screen.record_query.since == since and screen.record_query.until == until
        assert screen.query_one(RecordTable).total == expected
        assert {(c.facet, c.value) for c in screen.query(Chip)} == {("since", "2026-01-01"), ("until", "2026-01-31")}
        await pilot.press("d")
        await settle(pilot)
        await pilot.press(*"2026-13-01", "enter")
        await settle(pilot)
        line = screen.query_one("#result-line", StatusLine)
        assert line.error and line.message == "first day '2026-13-01' is not a date; expected YYYY-MM-DD"
        assert screen.record_query.since == since  # the refused range changed nothing


async def test_jump_to_a_reference(make_app: Callable[..., LiaisonApp], reader: Session) -> None:
    """`:` then a reference (any case) opens that record."""
    target = reader.list_records(RecordQuery(order="oldest"), limit=1)[0].reference
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await unlock(pilot)
        await pilot.press("colon")
        await settle(pilot)
        await pilot.press(*target.lower(), "enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen) and app.screen.reference == target
        assert app.screen.detail is not None and app.screen.detail.row.reference == target


def test_search_says_it_matches_whole_words() -> None:
    """The search field and its key say that search matches whole words (the blind index has no prefixes)."""
    search = next(b for b in BrowserScreen.BINDINGS if isinstance(b, Binding) and b.action == "search")
    assert "whole words" in search.tooltip
