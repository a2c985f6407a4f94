"""The records browser (home): facet sidebar, search, filter chips and a virtual table over every match."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.timer import Timer
from textual.widgets import Footer, Header, Input, Static
from textual.worker import Worker, get_current_worker

from store.errors import LiaisonError
from store.records import RecordQuery, RecordRow
from store.service import Session
from tui.dates import parse_day_range
from tui.messages import VocabularyLoaded
from tui.screens.base import LiaisonScreen, ResumePoint
from tui.screens.browser_bindings import BROWSER_BINDINGS, date_range_modal, reference_modal
from tui.widgets.facet_sidebar import FacetSidebar, selected_values
from tui.widgets.filter_chips import Chip, FilterChips, query_chips, result_text
from tui.widgets.page_cache import PageRequest
from tui.widgets.plain import safe
from tui.widgets.record_cells import DAMAGED_MARK, preview_text
from tui.widgets.record_table import RecordTable
from tui.widgets.status_line import StatusLine

#: Below this many columns the facet sidebar starts hidden, so the title column keeps its room (`b` or `f` shows it).
SIDEBAR_MIN_WIDTH = 100
#: Seconds a new query's marks, chips, result line and emptied table wait for its first page, so that all are drawn
#: in one frame with its rows: Textual draws the frame after a frame 17–33 ms later, and a frame drawn for the marks
#: alone held the rows back by that much.
QUERY_SHOWN_WITHIN = 0.1


class BrowserScreen(LiaisonScreen):
    """Every record the officer may see, filtered by facets and search, a window of it decrypted at a time."""

    AUTO_FOCUS = "#records"

    DEFAULT_CSS = """
    BrowserScreen {
        & #browser-main { width: 1fr; }
        & #search-bar { height: 1; margin: 1 0 0 0; }
        & #search-key { width: 3; padding: 0 1; color: $text-accent; text-style: bold; }
        & #search { width: 1fr; }
        & #chips { margin: 1 0 0 1; }
        & #result-line { height: 1; padding: 0 1; color: $text-muted; }
        & #result-line.-error { color: $text-error; }
        & #records { height: 1fr; }
        & #preview { height: 2; padding: 0 1; background: $panel; }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = BROWSER_BINDINGS

    @dataclass
    class PageLoaded(Message):
        """One page of the browser, titles decrypted, for the query of `generation` (checked for damage next)."""

        generation: int
        page: int
        rows: Sequence[RecordRow]

    @dataclass
    class DamageChecked(Message):
        """The damaged records among `record_ids` (rows drawn for the query of `generation`), each with its reason."""

        generation: int
        record_ids: Sequence[int]
        damaged: Mapping[int, str]

    @dataclass
    class CountLoaded(Message):
        """How many records match the query of `generation` (drawn with its first page, or on arrival after it)."""

        generation: int
        total: int

    @dataclass
    class FacetsLoaded(Message):
        """The live facet counts under the query of `generation` (sent after the total)."""

        generation: int
        facets: Mapping[str, Mapping[str, int]]

    @dataclass
    class QueryRefused(Message):
        """The store refused the browser's query (e.g. a search with no searchable word)."""

        generation: int
        reason: str

    sidebar_shown: reactive[bool | None] = reactive(None)
    """The officer's choice for the facet sidebar (None: shown when the screen is wide enough)."""

    def __init__(self, query: RecordQuery | None = None, cursor: int = 0) -> None:
        super().__init__()
        self.record_query = query or RecordQuery()
        self.generation = 0
        self._initial_cursor = cursor
        self._total: int | None = None
        # the generations counted, with rows in and checked for damage, facets asked
        self._counted = self._rows_in = self._facets_asked = 0
        self._shown = self._chips_shown = 0  # the generations whose marks and result line, and chips, are drawn
        self._unchecked: list[int] = []  # records whose rows arrived, to check for damage once drawn
        self._show_timer: Timer | None = None
        self._counting_line = False  # the result line says "counting…" until the new total is in
        self._result_text = ""

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal():
            yield FacetSidebar(id="facets")
            with Vertical(id="browser-main"):
                with Horizontal(id="search-bar"):
                    yield Static("/", id="search-key")
                    yield Input(
                        placeholder="search whole words in titles and summaries — enter applies, escape returns",
                        id="search",
                        compact=True,
                    )
                yield FilterChips(id="chips")
                yield StatusLine(id="result-line")
                yield RecordTable(
                    id="records",
                    page_size=self.settings.page_size,
                    cached_pages=self.settings.cached_pages,
                    fetch=self._fetch_pages,
                )
                yield Static("", id="preview", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        session = self.session
        self.sub_title = safe(f"{session.actor.name} ({session.actor.role.value}) · {session.ministry}")
        self.watch_sidebar_shown(self.sidebar_shown)
        self.load_vocabulary()
        self.apply_query(self.record_query, cursor=self._initial_cursor)

    # ---- queries --------------------------------------------------------------------------------

    def apply_query(self, query: RecordQuery, *, keep_rows: bool = False, cursor: int = 0) -> None:
        """Show `query`: new generation, fresh counts, pages fetched as the table asks for them (the first at once);
        what is drawn of it waits for its first page (`_show_query`)."""
        changed = query != self.record_query
        self.record_query = query
        self.generation += 1
        self.workers.cancel_group(self, "damage")  # checks not yet started for an older query need not run
        self._unchecked = []
        self.query_one(RecordTable).reset(self.generation, keep_rows=keep_rows and not changed, cursor=cursor)
        self.load_counts(self.generation, query)
        self._counting_line = changed or not keep_rows
        if self._show_timer is not None:
            self._show_timer.stop()
        self._show_timer = self.set_timer(QUERY_SHOWN_WITHIN, partial(self._show_query, self.generation))

    def _show_query(self, generation: int) -> None:
        """Draw the query of `generation` (once): the sidebar's marks, the search, the result line, the table (with
        the total if counted), then the chips. Called by its first page, a refusal, or QUERY_SHOWN_WITHIN."""
        if generation != self.generation or self._shown == generation:
            return
        self._shown = generation
        if self._show_timer is not None:
            self._show_timer.stop()
        query = self.record_query
        self.query_one(FacetSidebar).show_marks(query)
        search = self.query_one("#search", Input)
        if not search.has_focus:
            search.value = query.search
        table = self.query_one(RecordTable)
        table.release()
        if self._counted == generation:
            table.set_total(generation, self._total or 0)
            self._show_legend()
        elif self._counting_line:
            self._show_result_line("counting…")
        if not table.total:  # no rows to wait for (`_drawn` shows the chips after the rows otherwise)
            self._chips_shown = generation
            self._show_chips(query)

    def _show_chips(self, query: RecordQuery) -> None:
        """Mount the chips of `query` (after its rows: it lays the screen out). A failure is reported, not fatal: the
        app may be leaving (a hang-up) while they mount."""
        self.run_worker(self.query_one(FilterChips).show(query), group="chips", exclusive=True, exit_on_error=False)

    @work(thread=True, exclusive=True, exit_on_error=False, group="vocabulary", name="load vocabulary")
    def load_vocabulary(self) -> None:
        """Domains and ministries for the sidebar."""
        session = self.session
        domains = session.domains()
        ministries = [(m.code, m.name, m.is_self) for m in session.ministries()]
        self.post_message(VocabularyLoaded(domains, ministries))

    @work(thread=True, exclusive=True, exit_on_error=False, group="counts", name="count records")
    def load_counts(self, generation: int, query: RecordQuery) -> None:
        """How many records match (no decryption); the table needs it to draw its scrollbar and last row."""
        try:
            total = self.session.count_records(query)
        except LiaisonError as exc:
            self.post_message(self.QueryRefused(generation, str(exc)))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(self.CountLoaded(generation, total))

    @work(thread=True, exclusive=True, exit_on_error=False, group="facets", name="count facets")
    def load_facets(self, generation: int, query: RecordQuery) -> None:
        """The sidebar's live counts, fetched after the total so the first rows are not kept waiting."""
        try:
            facets = self.session.facet_counts(query)
        except LiaisonError:
            return  # the count worker reports the same refusal
        if not get_current_worker().is_cancelled:
            self.post_message(self.FacetsLoaded(generation, facets))

    @work(thread=True, exclusive=True, exit_on_error=False, group="pages", name="decrypt page")
    def load_pages(self, generation: int, query: RecordQuery, requests: Sequence[PageRequest]) -> None:
        """Fetch and decrypt the titles of the pages the table lacks, one page at a time (each page is checked for
        damage once its rows are drawn: `check_damage`)."""
        session: Session = self.session
        worker = get_current_worker()
        size = self.settings.page_size
        for request in requests:
            if worker.is_cancelled:
                return
            try:
                rows = session.list_records(
                    query, limit=size, offset=request.offset, after=request.after, keep_unreadable=True
                )
            except LiaisonError as exc:
                self.post_message(self.QueryRefused(generation, str(exc)))
                return
            self.post_message(self.PageLoaded(generation, request.page, rows))

    @work(thread=True, exit_on_error=False, group="damage", name="check page")
    def check_damage(self, generation: int, record_ids: Sequence[int]) -> None:
        """Which of a page's records differ from their signed history (`damaged_among`'s cheap check, ~18 ms of CPU
        for 50 records), run once the page's rows are drawn so it does not hold them back. Until it answers the rows
        carry no mark; opening, acting on or exporting a damaged record is refused by the store itself
        (`Session.require_intact`, the export's own check), whatever the table shows."""
        if get_current_worker().is_cancelled:
            return
        try:
            damaged = self.session.damaged_among(record_ids, full=False)
        except LiaisonError as exc:
            self.post_message(self.QueryRefused(generation, str(exc)))
            return
        self.post_message(self.DamageChecked(generation, record_ids, damaged))

    def worker_failed(self, worker: Worker[Any]) -> None:
        if worker.group == "pages":
            self.query_one(RecordTable).fetch_failed()
        if worker.group in ("pages", "damage"):
            self._rows_in = self.generation  # no rows or marks are coming: the counts need not wait for them
            self._load_facets_after_rows()

    def _fetch_pages(self, generation: int, requests: Sequence[PageRequest]) -> None:
        if generation == self.generation:
            self.load_pages(generation, self.record_query, requests)

    @on(PageLoaded)
    def _page_loaded(self, message: BrowserScreen.PageLoaded) -> None:
        if message.generation != self.generation:
            return
        self._show_query(message.generation)
        self.query_one(RecordTable).add_page(message.generation, message.page, message.rows)
        self._unchecked.extend(row.id for row in message.rows)

    @on(RecordTable.Drawn)
    def _drawn(self, message: RecordTable.Drawn) -> None:
        """The rows are out: check them for damage, and show the chips (their mounting lays the screen out)."""
        if message.generation != self.generation:
            return
        if self._unchecked:
            self.check_damage(message.generation, self._unchecked)
            self._unchecked = []
        if self._chips_shown != message.generation:
            self._chips_shown = message.generation
            self._show_chips(self.record_query)

    @on(DamageChecked)
    def _damage_checked(self, message: BrowserScreen.DamageChecked) -> None:
        if message.generation != self.generation:
            return
        table = self.query_one(RecordTable)
        if table.add_damage(message.generation, message.record_ids, message.damaged):
            self._show_legend()
            row = table.highlighted_row
            if row is not None and row.id in message.record_ids:
                self._show_preview(row)
        self._rows_in = message.generation
        self._load_facets_after_rows()

    def _load_facets_after_rows(self) -> None:
        """The sidebar's counts once the query's first rows are drawn and checked for damage (asked sooner, they
        compete with the page's fetch, drawing and check for the interpreter, and redraw the sidebar first), or once
        counted when nothing matches."""
        done = self._facets_asked == self.generation or self._counted != self.generation
        if not done and (self._rows_in == self.generation or not self._total):
            self._facets_asked = self.generation
            self.call_after_refresh(self.load_facets, self.generation, self.record_query)

    @on(FacetsLoaded)
    def _facets_loaded(self, message: BrowserScreen.FacetsLoaded) -> None:
        if message.generation == self.generation:
            self.query_one(FacetSidebar).show_counts(self.record_query, message.facets)

    @on(CountLoaded)
    def _count_loaded(self, message: BrowserScreen.CountLoaded) -> None:
        if message.generation != self.generation:
            return
        self._total, self._counted = message.total, message.generation
        self._result_text = result_text(self.record_query, message.total)
        if self._shown == message.generation:  # else drawn with the first page (`_show_query`)
            self.query_one(RecordTable).set_total(message.generation, message.total)
            self._show_legend()
        self._load_facets_after_rows()

    @on(QueryRefused)
    def _query_refused(self, message: BrowserScreen.QueryRefused) -> None:
        if message.generation != self.generation:
            return
        self._show_query(message.generation)
        self.query_one(RecordTable).set_total(message.generation, 0)
        self._show_result_line(message.reason, error=True)

    @on(VocabularyLoaded)
    def _vocabulary_loaded(self, message: VocabularyLoaded) -> None:
        sidebar = self.query_one(FacetSidebar)
        sidebar.set_vocabulary(
            [slug for slug, _ in message.domains], [code for code, _, is_self in message.ministries if not is_self]
        )

    def _show_legend(self) -> None:
        """The result line, with the damage legend when a damaged record was fetched."""
        if not self._result_text:
            return
        legend = f" · {DAMAGED_MARK.strip()} damaged" if self.query_one(RecordTable).damaged else ""
        self._show_result_line(self._result_text + legend)

    def _show_result_line(self, text: str, *, error: bool = False) -> None:
        self.query_one("#result-line", StatusLine).show(text, error=error)

    # ---- the table ------------------------------------------------------------------------------

    @on(RecordTable.Highlighted)
    def _highlighted(self, message: RecordTable.Highlighted) -> None:
        self._show_preview(message.row)

    def _show_preview(self, row: RecordRow | None) -> None:
        damage = self.query_one(RecordTable).damaged.get(row.id) if row is not None else None
        self.query_one("#preview", Static).update("" if row is None else preview_text(row, damage), layout=False)

    @on(RecordTable.Opened)
    def _open(self, message: RecordTable.Opened) -> None:
        from tui.screens.detail import DetailScreen

        self.app.push_screen(DetailScreen(message.reference))

    # ---- filters --------------------------------------------------------------------------------

    @on(FacetSidebar.Toggled)
    def _toggled(self, message: FacetSidebar.Toggled) -> None:
        self.apply_query(self.record_query.toggled(message.facet, message.value))

    @on(Chip.Removed)
    def _chip_removed(self, message: Chip.Removed) -> None:
        self._remove_filter(message.facet, message.value)
        if len(query_chips(self.record_query)) == 0:
            self.query_one(RecordTable).focus()

    def facet_values(self) -> list[tuple[str, str]]:
        """Every (facet, value) the sidebar offers."""
        return self.query_one(FacetSidebar).values

    def filters_on(self, facet: str, value: str) -> bool:
        """True when the list is filtered on this value."""
        return value in selected_values(self.record_query, facet)

    def toggle_filter(self, facet: str, value: str) -> None:
        """Add or remove one facet filter."""
        self.apply_query(self.record_query.toggled(facet, value))

    def _remove_filter(self, facet: str, value: str) -> None:
        if facet == "search":
            self.apply_query(dataclasses.replace(self.record_query, search=""))
        elif facet == "since":
            self.apply_query(dataclasses.replace(self.record_query, since=None))
        elif facet == "until":
            self.apply_query(dataclasses.replace(self.record_query, until=None))
        else:
            self.apply_query(self.record_query.toggled(facet, value))

    @on(Input.Submitted, "#search")
    def _search(self, message: Input.Submitted) -> None:
        message.stop()
        self.apply_query(dataclasses.replace(self.record_query, search=message.value.strip()))
        self.query_one(RecordTable).focus()

    def action_date_range(self) -> None:
        """Ask for a day range and filter on it (an empty answer clears it)."""

        def chosen(answer: str | None) -> None:
            if answer is None:
                return
            try:
                since, until = parse_day_range(answer)
            except ValueError as exc:
                self._show_result_line(str(exc), error=True)
                return
            self.apply_query(dataclasses.replace(self.record_query, since=since, until=until))

        self.app.push_screen(date_range_modal(), callback=chosen)

    def action_jump(self) -> None:
        """Ask for a reference and open that record."""
        from tui.screens.detail import DetailScreen

        def chosen(answer: str | None) -> None:
            if answer and answer.strip():
                self.app.push_screen(DetailScreen(answer.strip().upper()))

        self.app.push_screen(reference_modal(), callback=chosen)

    def action_search(self) -> None:
        self.query_one("#search", Input).focus()

    def action_focus_facets(self) -> None:
        self.sidebar_shown = True
        self.query_one(FacetSidebar).focus()

    def action_toggle_sidebar(self) -> None:
        self.sidebar_shown = not self.query_one(FacetSidebar).display

    def watch_sidebar_shown(self, shown: bool | None) -> None:
        """Show or hide the facet sidebar; None: automatic (hidden below `SIDEBAR_MIN_WIDTH` columns)."""
        if not self.is_mounted:
            return
        sidebar = self.query_one(FacetSidebar)
        sidebar.display = shown if shown is not None else self.size.width >= SIDEBAR_MIN_WIDTH
        if not sidebar.display and sidebar.has_focus:
            self.query_one(RecordTable).focus()

    def on_resize(self) -> None:
        if self.sidebar_shown is None:
            self.watch_sidebar_shown(None)

    def action_focus_table(self) -> None:
        search = self.query_one("#search", Input)
        if search.has_focus:
            search.value = self.record_query.search
        self.query_one(RecordTable).focus()

    def action_focus_chips(self) -> None:
        chips = self.query(Chip)
        if chips:
            chips.first().focus()

    def action_clear_filters(self) -> None:
        self.apply_query(RecordQuery(order=self.record_query.order))

    def action_drop_last_filter(self) -> None:
        chips = query_chips(self.record_query)
        if chips:
            self._remove_filter(*chips[-1])

    def action_toggle_order(self) -> None:
        if self.record_query.order == "newest":
            self.apply_query(dataclasses.replace(self.record_query, order="oldest"))
        else:
            self.apply_query(dataclasses.replace(self.record_query, order="newest"))

    def action_review_queue(self) -> None:
        from tui.screens.review import ReviewScreen

        self.app.push_screen(ReviewScreen())

    # ---- lifecycle ------------------------------------------------------------------------------

    def on_store_changed(self) -> None:
        self.apply_query(self.record_query, keep_rows=True, cursor=self.query_one(RecordTable).cursor)

    def compose_closed(self, reference: str | None) -> None:
        super().compose_closed(reference)
        if reference:
            self.on_store_changed()

    def resume_point(self, session: Session) -> ResumePoint:
        return ResumePoint("browser", {"query": self.record_query, "cursor": self.query_one(RecordTable).cursor})

    async def forget(self) -> None:
        self.query_one(RecordTable).forget()
        self.query_one("#preview", Static).update("")
        self.query_one("#search", Input).value = ""
