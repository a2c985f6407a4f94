"""A filter change on the browser draws its rows in the first frame it can (issue 5's filter repaint), and nothing
about them is lost on the way: the page asked for first is the one shown, the sidebar redraws only the lines that
change, and every row is still checked for damage (once drawn) while the store refuses a damaged record by itself."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from store.records import RecordQuery
from store.service import Session
from tests.tui.helpers import settle, unlock
from tui.app import LiaisonApp
from tui.screens.browser import BrowserScreen
from tui.screens.detail import DetailScreen
from tui.widgets.facet_sidebar import FacetSidebar
from tui.widgets.record_cells import DAMAGED_MARK
from tui.widgets.record_table import RecordTable
from tui.widgets.status_line import StatusLine

NARCOTICS = RecordQuery(domains=frozenset({"narcotics"}))


async def browser(pilot: Any) -> tuple[BrowserScreen, RecordTable]:
    await unlock(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, BrowserScreen)
    return screen, screen.query_one(RecordTable)


async def test_a_filter_after_scrolling_asks_first_for_the_rows_it_will_show(
    make_app: Callable[..., LiaisonApp],
) -> None:
    """The cursor goes back to the first row: its page is fetched first, not the pages at the old scroll position
    (which were fetched, drawn as nothing, then followed by a second fetch once the count had scrolled the table)."""
    app = make_app(page_size=10, cached_pages=3)
    async with app.run_test(size=(120, 40)) as pilot:
        screen, table = await browser(pilot)
        await pilot.press("end")
        await settle(pilot)
        assert table.scroll_y > 20
        asked: list[int] = []
        original = screen.load_pages

        def load_pages(generation: int, query: RecordQuery, requests: Any) -> None:
            asked.extend(request.page for request in requests)
            original(generation, query, requests)

        screen.load_pages = load_pages  # type: ignore[method-assign]
        screen.toggle_filter("tlp", "AMBER")
        assert asked and asked[0] == 0
        await settle(pilot)
        assert table.scroll_y == 0 and table.cursor == 0
        assert table.cache.row(0) is not None


async def test_the_sidebar_redraws_only_the_lines_that_change(make_app: Callable[..., LiaisonApp]) -> None:
    """A toggle re-renders the one value marked (not every option: that cost ~20 ms a filter change at 100k), and
    the lines drawn after the new counts are the prompts they should be, not a stale rendering."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen, _ = await browser(pilot)
        sidebar = screen.query_one(FacetSidebar)
        replaced: list[str] = []
        original = sidebar._replace_prompt

        def replace(option_id: str, prompt: Any) -> None:
            replaced.append(option_id)
            original(option_id, prompt)

        sidebar._replace_prompt = replace  # type: ignore[method-assign]
        sidebar.show_marks(NARCOTICS)
        assert replaced == ["domain:narcotics"]
        screen.toggle_filter("domain", "narcotics")
        await settle(pilot)
        drawn = {sidebar.render_line(y).text.strip() for y in range(sidebar.scrollable_content_region.height)}
        visible = range(round(sidebar.scroll_y), round(sidebar.scroll_y) + sidebar.scrollable_content_region.height)
        for index in visible:
            if index >= sidebar.option_count:
                break
            option = sidebar.get_option_at_index(index)
            facet, _, value = (option.id or "").partition(":")
            if facet in ("domain", "ministry", "tlp", "status"):
                assert sidebar._prompt(facet, value, value).plain.strip() in drawn
        assert "domain:narcotics" in replaced and len(replaced) > 1  # the counts changed too


async def test_rows_are_drawn_before_their_damage_check_and_marked_after(
    audit_app: Callable[[], LiaisonApp], audit_store: Any, monkeypatch: Any
) -> None:
    """Threat 25: the page's damage check runs once its rows are drawn; the ✗ and the legend follow as soon as it
    answers, and the sidebar's counts wait for it. Opened before the check has answered, the damaged record is
    refused by the store itself: the detail shows its DAMAGED banner, not the record."""
    from tests.tui.test_snapshots_audit import DAMAGED, attack

    attack(audit_store, "UPDATE records SET tlp = 'CLEAR' WHERE reference = ?", DAMAGED)
    release = threading.Event()
    checked: list[list[int]] = []
    damaged_among = Session.damaged_among

    def held(self: Session, ids: Any, *, full: bool = True) -> Any:
        release.wait(10)
        checked.append(list(ids))
        return damaged_among(self, ids, full=full)

    app = audit_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen, table = await browser(pilot)
        assert any(reason for reason in table.damaged.values())
        monkeypatch.setattr(Session, "damaged_among", held)
        table.damaged.clear()  # as if never seen: the next query's rows are unchecked until the check answers
        screen.toggle_filter("status", "approved")
        screen.toggle_filter("status", "approved")
        for _ in range(200):
            await pilot.pause(0.01)
            if table.generation == screen.generation and table.cache.row(0) is not None:
                break
        await pilot.pause(0.05)
        assert table.cache.row(0) is not None and checked == []
        assert not table.damaged and screen._facets_asked != screen.generation
        index = next(i for i in range(table.total or 0) if (row := table.cache.row(i)) and row.reference == DAMAGED)
        table.move_to(index)
        table.action_open()
        for _ in range(200):
            await pilot.pause(0.01)
            if isinstance(app.screen, DetailScreen) and app.screen.query_one("#detail-damaged", StatusLine).message:
                break
        assert isinstance(app.screen, DetailScreen)
        assert "DAMAGED" in app.screen.query_one("#detail-damaged", StatusLine).message
        release.set()
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen
        assert checked
        row_id = table.cache.row(index).id  # type: ignore[union-attr]
        assert row_id in table.damaged
        assert DAMAGED_MARK.strip() in screen.query_one("#result-line", StatusLine).message
        assert screen._facets_asked == screen.generation


async def test_once_drawn_the_table_holds_a_screenful_beyond_its_view(make_app: Callable[..., LiaisonApp]) -> None:
    """After the rows in view are drawn (first rows, then each page-down), the next screenful is fetched, so the next
    page-down usually draws at once instead of waiting for its page."""
    app = make_app(page_size=5, cached_pages=3)
    async with app.run_test(size=(120, 40)) as pilot:
        _, table = await browser(pilot)
        rows = table.visible_rows
        assert table.cache.row(2 * rows - 1) is not None
        await pilot.press("pagedown")
        await settle(pilot)
        top = round(table.scroll_y)
        assert top > 0
        assert all(table.cache.row(i) is not None for i in range(top, min(top + 2 * rows, table.total or 0)))
        assert len(table.cache) <= table.cache.max_pages <= table.window_rows // 5 + 1  # still a window, not all
