"""The order of the browser's work after a filter change: the first rows come first (issue 5's filter repaint).

The page is asked for at once, not after the next frame is drawn, and the sidebar's counts (a worker that would
compete with the page's fetch and redraw the sidebar first) are asked for only once the rows are in."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from store.records import RecordQuery
from store.service import Session
from tests.tui.helpers import settle, unlock
from tui.app import LiaisonApp
from tui.screens.browser import BrowserScreen
from tui.widgets.facet_sidebar import FacetSidebar
from tui.widgets.record_table import RecordTable

NARCOTICS = RecordQuery(domains=frozenset({"narcotics"}))


async def test_a_filter_asks_for_its_first_page_before_the_next_frame(make_app: Callable[..., LiaisonApp]) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await unlock(pilot)
        screen = app.screen
        assert isinstance(screen, BrowserScreen)
        asked: list[tuple[int, RecordQuery, int]] = []
        original = screen.load_pages

        def load_pages(generation: int, query: RecordQuery, requests: Any) -> None:
            asked.append((generation, query, requests[0].page))
            original(generation, query, requests)

        screen.load_pages = load_pages  # type: ignore[method-assign]
        screen.toggle_filter("domain", "narcotics")
        assert asked == [(screen.generation, NARCOTICS, 0)]  # before any message or frame
        await settle(pilot)
        assert screen.query_one(RecordTable).cache.row(0) is not None


async def test_the_sidebar_counts_wait_for_the_first_rows(
    make_app: Callable[..., LiaisonApp], reader: Session, monkeypatch: Any
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await unlock(pilot)
        screen = app.screen
        assert isinstance(screen, BrowserScreen)
        table = screen.query_one(RecordTable)
        release = threading.Event()
        facets_asked: list[RecordQuery] = []
        list_records, facet_counts = Session.list_records, Session.facet_counts

        def slow_page(self: Session, query: RecordQuery, **kwargs: Any) -> Any:
            release.wait(10)
            return list_records(self, query, **kwargs)

        def counted(self: Session, query: RecordQuery) -> Any:
            facets_asked.append(query)
            return facet_counts(self, query)

        monkeypatch.setattr(Session, "list_records", slow_page)
        monkeypatch.setattr(Session, "facet_counts", counted)
        screen.toggle_filter("domain", "narcotics")
        for _ in range(200):  # the count arrives while the page is held back, and is drawn without it
            await pilot.pause(0.01)
            if table.counted:
                break
        assert table.total == reader.count_records(NARCOTICS)
        for _ in range(10):
            await pilot.pause(0.01)
        assert facets_asked == []  # the rows are not in yet
        release.set()
        await settle(pilot)
        assert table.cache.row(0) is not None
        assert facets_asked == [NARCOTICS]
        assert screen.query_one(FacetSidebar)._counts == reader.facet_counts(NARCOTICS)
