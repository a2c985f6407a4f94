"""The table's page cache: which pages to fetch, keyset cursors, LRU eviction, and forgetting on lock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from store.records import RecordRow
from store.vocab import Status, Tlp
from tui.widgets.page_cache import PageCache, PageRequest
from tui.widgets.record_cells import Columns

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def rows(page: int, size: int = 10) -> list[RecordRow]:
    return [
        RecordRow(
            id=10_000 - (page * size + i),
            reference=f"PK-MOI-2026-{page * size + i:05d}",
            uuid="u",
            domain="narcotics",
            origin="PK-MOI",
            releasable_to=(),
            tlp=Tlp.GREEN,
            status=Status.DRAFT,
            author="demo",
            created_at=T0 - timedelta(hours=page * size + i),
            updated_at=T0,
            revision=1,
            title=f"title {page * size + i}",
        )
        for i in range(size)
    ]


def test_wanted_pages_use_offsets_then_keyset_cursors() -> None:
    """A cold window asks by offset; a page after a cached full page asks by keyset cursor."""
    cache = PageCache(page_size=10, max_pages=4)
    assert cache.wanted(0, 14, total=100) == [PageRequest(0, 0), PageRequest(1, 10)]
    assert cache.wanted(0, 14, total=100) is None, "pages in flight are not asked for twice"
    cache.store(0, rows(0))
    last = rows(0)[-1]
    assert cache.wanted(5, 25, total=100) == [PageRequest(1, 0, (last.created_at, last.id)), PageRequest(2, 20)]


def test_wanted_is_clipped_to_the_result_set() -> None:
    cache = PageCache(page_size=10)
    assert cache.wanted(-10, 500, total=12) == [PageRequest(0, 0), PageRequest(1, 10)]
    assert cache.wanted(0, 10, total=0) is None


def test_lru_drops_the_least_recently_read_page() -> None:
    cache = PageCache(page_size=10, max_pages=2)
    cache.store(0, rows(0))
    cache.store(1, rows(1))
    assert cache.row(3) is not None  # touch page 0
    cache.store(2, rows(2))
    assert cache.row(15) is None and cache.row(3) is not None and cache.row(25) is not None


def test_capacity_grows_to_hold_a_window() -> None:
    cache = PageCache(page_size=10, max_pages=2)
    cache.ensure_capacity(45)
    assert cache.max_pages == 6


def test_stale_rows_are_drawn_until_fresh_ones_arrive_and_clear_forgets_all() -> None:
    cache = PageCache(page_size=10)
    cache.store(0, rows(0))
    cache.mark_stale()
    assert len(cache) == 0 and cache.row(0) == rows(0)[0]
    assert cache.wanted(0, 5, total=10) == [PageRequest(0, 0)]
    cache.clear()
    assert cache.row(0) is None and cache.decrypted_rows == 0


def test_columns_keep_the_title_readable() -> None:
    """The title keeps two fifths of the row (at least 24 cells); domain and route take what is left, statuses are never cut."""
    from store.vocab import Status
    from tui.widgets.record_cells import STATUS_SHORT

    wide = Columns.fit(160)
    assert wide.route == 22 and wide.domain == 17 and wide.title >= 64
    hidden_sidebar_120 = Columns.fit(119)
    assert hidden_sidebar_120.title >= 47 and hidden_sidebar_120.route == 0
    narrow = Columns.fit(79)  # 80 columns, sidebar hidden
    assert narrow.route == 0 and narrow.domain == 0 and narrow.date == 10 and narrow.title >= 24
    tiny = Columns.fit(51)  # 80 columns with the sidebar shown
    assert tiny.date == 0 and tiny.title >= 10
    for width in (51, 79, 119, 160):
        columns = Columns.fit(width)
        assert columns.status >= max(len(s) for s in STATUS_SHORT.values())
        used = (
            columns.reference
            + columns.date
            + columns.domain
            + columns.route
            + columns.tlp
            + columns.status
            + columns.title
        )
        assert used + sum(1 for w in (columns.date, columns.domain, columns.route) if w) + 3 == width
    assert set(STATUS_SHORT) == set(Status)


def test_the_longest_reference_stays_whole_and_the_title_gives_way() -> None:
    """A reference is an identifier: the longest the format allows (`TR-ABCDEFGHIJKL-2026-000000001`, 30 cells)
    gets its whole width at 80, 120 and 200 columns; the title (and at 80 the date, which the preview line shows)
    give way, the title keeps its minimum, and the row still fits."""
    from tui.widgets.record_cells import fit_text

    longest = "TR-ABCDEFGHIJKL-2026-000000001"
    for width in (79, 119, 199):
        columns = Columns.fit(width, len(longest))
        assert columns.reference == len(longest)
        assert fit_text(longest, columns.reference) == longest
        used = sum(
            w + 1
            for w in (columns.reference, columns.date, columns.domain, columns.route, columns.tlp, columns.status)
            if w
        )
        assert used + columns.title <= width and columns.title >= 24
    assert Columns.fit(79, 12).reference == Columns.reference  # a short reference keeps the usual column
