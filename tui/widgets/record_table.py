"""A virtual table over a whole result set: draws only the visible rows, asks its screen for missing pages.

Toolong's `LogLines` is the model: a `ScrollView` whose `render_line` reads from a small page cache, so
100,000 matching records cost a scrollbar, not 100,000 widgets or decrypted titles.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from store.records import RecordRow
from tui.widgets.page_cache import PageCache, PageRequest
from tui.widgets.plain import safe
from tui.widgets.record_cells import (
    DAMAGED_MARK,
    DAMAGED_STYLE,
    STATUS_COLOURS,
    STATUS_SHORT,
    Columns,
    fit_text,
    route_text,
    withdrawn_mark,
)
from tui.widgets.tlp import tlp_style

#: Rows fetched beyond the visible ones, above and below, with them (a screenful either side follows once drawn).
PREFETCH_MARGIN = 10


class RecordTable(ScrollView, can_focus=True, inherit_bindings=False):
    """Reference, date, domain, origin → recipients, TLP, status and title of every matching record, drawn on demand."""

    DEFAULT_CSS = """
    RecordTable {
        overflow-x: hidden;
        overflow-y: scroll;
        scrollbar-size-vertical: 1;
        background: $surface;
        & > .record-table--header { text-style: bold; color: $text-muted; background: $panel; }
        & > .record-table--cursor { background: $block-cursor-background; color: $block-cursor-foreground; text-style: bold; }
        & > .record-table--cursor-blurred { background: $block-cursor-blurred-background; }
        & > .record-table--placeholder { color: $text-disabled; }
    }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "record-table--header",
        "record-table--cursor",
        "record-table--cursor-blurred",
        "record-table--placeholder",
    }

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down,j", "cursor_down", "Down", show=False, tooltip="Move to the next record.", id="table.down"),
        Binding("up,k", "cursor_up", "Up", show=False, tooltip="Move to the previous record.", id="table.up"),
        Binding(
            "pagedown,ctrl+f",
            "page_down",
            "Page down",
            show=False,
            tooltip="Move one screenful down.",
            id="table.page_down",
        ),
        Binding(
            "pageup,ctrl+b", "page_up", "Page up", show=False, tooltip="Move one screenful up.", id="table.page_up"
        ),
        Binding("home,g", "first", "First", show=False, tooltip="Go to the first matching record.", id="table.first"),
        Binding("end,G", "last", "Last", show=False, tooltip="Go to the last matching record.", id="table.last"),
        Binding("enter", "open", "Open", tooltip="Open the highlighted record.", id="table.open"),
    ]

    cursor: reactive[int] = reactive(0, init=False)
    """Index of the highlighted record in the whole result set."""
    damaged: dict[int, str]
    """Why each damaged record among the fetched rows differs from its signed history, by record id."""

    class Highlighted(Message):
        """The highlighted record changed (None while its page is still being decrypted)."""

        def __init__(self, table: RecordTable, row: RecordRow | None) -> None:
            self.table = table
            self.row = row
            super().__init__()

    class Opened(Message):
        """The officer asked to open a record."""

        def __init__(self, table: RecordTable, reference: str) -> None:
            self.table = table
            self.reference = reference
            super().__init__()

    class Drawn(Message):
        """The table was drawn after a page arrived or it scrolled, for the query of `generation`."""

        def __init__(self, table: RecordTable, generation: int) -> None:
            self.table = table
            self.generation = generation
            super().__init__()

    class PagesWanted(Message):
        """The table needs these pages of the query of `generation` (replacing any fetch in flight)."""

        def __init__(self, table: RecordTable, generation: int, requests: Sequence[PageRequest]) -> None:
            self.table = table
            self.generation = generation
            self.requests = requests
            super().__init__()

    def __init__(
        self,
        *,
        page_size: int = 50,
        cached_pages: int = 8,
        fetch: Callable[[int, Sequence[PageRequest]], None] | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        #: Called at once with the pages wanted (the fetch starts before the next frame is drawn); without it the
        #: table posts `PagesWanted`, which its screen handles only after that frame.
        self.fetch = fetch
        self.cache = PageCache(page_size, cached_pages)
        self.damaged = {}
        #: The widest reference fetched so far (the reference column is never narrower: references stay whole).
        self.reference_cells = 0
        self.generation = 0
        #: How many records match (None: not known yet); until `counted`, the previous query's total or a lower
        #: bound proved by the pages already fetched.
        self.total: int | None = None
        self.counted = False
        #: The first row to show once the new query is drawn (`reset` to `release`; None: not holding back).
        self._held_top: int | None = None
        self._announce_drawn = False  # a page arrived or the view moved: post `Drawn` once drawn
        self._last_highlighted: RecordRow | None = None

    # ---- data in ------------------------------------------------------------------------------

    def reset(self, generation: int, *, keep_rows: bool = False, cursor: int | None = None) -> None:
        """Start on the query of `generation` and ask for its first rows; nothing is redrawn until `release` (or the
        first page or count arrives), so that the new rows are drawn in the first frame after the change.

        `keep_rows` draws the old rows until fresh ones arrive (the store changed, the query did not); otherwise every
        row is dropped at once and drawn as "…" until its page arrives. The old total is kept until the new one is
        counted (`counted` is False meanwhile): the scrollbar keeps its extent for those few milliseconds instead of
        collapsing and growing again (two layouts), and the first page is drawn as soon as it arrives.
        """
        self.generation = generation
        self.counted = False
        if keep_rows:
            self.cache.mark_stale()
        else:
            self.cache.clear()
            if not self.total:  # nothing to keep: "no record matches" must not show for the new query
                self.total = None
        top = round(self.scroll_y)
        if cursor is not None:
            self.set_reactive(RecordTable.cursor, max(0, cursor))
            top = min(self.cursor, max(top, self.cursor - self.visible_rows + 1))
        self._held_top = top
        self._request_visible()

    def release(self) -> None:
        """Draw the new query: scroll to where its cursor is and redraw (a no-op unless `reset` is holding back)."""
        if self._held_top is None:
            return
        top, self._held_top = self._held_top, None
        self._update_virtual_size()
        if top != round(self.scroll_y):
            self.scroll_to(y=top, animate=False, immediate=True, force=True)
        self.refresh()

    def set_total(self, generation: int, total: int) -> None:
        """How many records match the current query."""
        if generation != self.generation:
            return
        self.release()
        self.counted = True
        self._set_total(total)

    def _set_total(self, total: int) -> None:
        self.total = total
        self._update_virtual_size()
        if total and self.cursor >= total:
            self.cursor = total - 1
        self._scroll_cursor_into_view()
        self.refresh()
        self._request_visible()
        self._announce_highlight()

    def add_page(self, generation: int, page: int, rows: Sequence[RecordRow]) -> None:
        """A fetched page arrived, not yet checked for damage (`add_damage` follows); ignored if it belongs to an
        older query. A record already known to be damaged keeps its mark until its check says otherwise."""
        if generation != self.generation:
            return
        self.release()
        for row in rows:
            self.reference_cells = max(self.reference_cells, cell_len(safe(row.reference)))
        self.cache.store(page, rows)
        self._announce_drawn = True
        if not self.counted:  # the page came before the count: what it proves about the total
            end = page * self.cache.page_size + len(rows)
            if len(rows) < self.cache.page_size and (page == 0 or rows):
                self._set_total(end)  # the last page: the total is known
            elif rows and (self.total is None or self.total < end):
                self._set_total(end)  # at least this many
        self.refresh()
        self._announce_highlight()
        self._request_visible()

    def add_damage(self, generation: int, record_ids: Sequence[int], damaged: Mapping[int, str]) -> bool:
        """The damage check of fetched records: `damaged` holds why each damaged one among `record_ids` differs from
        its signed history. Returns True when a mark changed (ignored, False, for an older query)."""
        if generation != self.generation:
            return False
        changed = False
        for record_id in record_ids:
            reason = damaged.get(record_id)
            if self.damaged.get(record_id) != reason:
                changed = True
                if reason is None:
                    del self.damaged[record_id]
                else:
                    self.damaged[record_id] = reason
        if changed:
            self.refresh()
        return changed

    def fetch_failed(self) -> None:
        """The last fetch failed; allow it to be asked for again."""
        self.cache.forget_pending()

    def forget(self) -> None:
        """Drop every decrypted row (the store is being locked)."""
        self.cache.clear()
        self.damaged.clear()
        self.total = None
        self.counted = False
        self._held_top = None
        self._last_highlighted = None
        self.refresh()

    @property
    def highlighted_row(self) -> RecordRow | None:
        """The record under the cursor, if its page is at hand."""
        if self.total is None or self.cursor >= self.total:
            return None
        return self.cache.row(self.cursor)

    # ---- geometry -------------------------------------------------------------------------------

    @property
    def visible_rows(self) -> int:
        """Rows of records that fit under the header."""
        return max(1, self.scrollable_content_region.height - 1)

    def _update_virtual_size(self) -> None:
        self.virtual_size = Size(0, (self.total or 0) + 1)

    @property
    def window_rows(self) -> int:
        """The most rows the table keeps decrypted around its view: a screenful above and below once drawn."""
        return 3 * max(self.visible_rows, PREFETCH_MARGIN)

    def _request_visible(self, margin: int = PREFETCH_MARGIN) -> None:
        """Ask for the rows in view and `margin` rows either side that are not at hand."""
        if not self.is_mounted:
            return
        top = round(self.scroll_y) if self._held_top is None else self._held_top
        bottom = top + self.visible_rows + margin
        self.cache.ensure_capacity(self.window_rows)
        # Before the count arrives, fetch the first screenful anyway: count and rows then come in parallel.
        total = self.total if self.total is not None else bottom + 1
        wanted = self.cache.wanted(top - margin, bottom, total)
        if wanted and self.fetch is not None:
            self.fetch(self.generation, wanted)
        elif wanted:
            self.post_message(self.PagesWanted(self, self.generation, wanted))

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._announce_drawn = True  # once the new view is drawn, fetch around it (`on_record_table_drawn`)
        self._request_visible()

    def on_resize(self, event: events.Resize) -> None:
        self._request_visible()
        self._scroll_cursor_into_view()

    # ---- cursor ---------------------------------------------------------------------------------

    def watch_cursor(self, old: int, new: int) -> None:
        self._scroll_cursor_into_view()
        self.refresh()
        self._announce_highlight()

    def _announce_highlight(self) -> None:
        row = self.highlighted_row
        if row is not self._last_highlighted:
            self._last_highlighted = row
            self.post_message(self.Highlighted(self, row))

    def _scroll_cursor_into_view(self) -> None:
        top = round(self.scroll_y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor > top + self.visible_rows - 1:
            self.scroll_to(y=self.cursor - self.visible_rows + 1, animate=False)

    def move_to(self, index: int) -> None:
        """Put the cursor on record `index` (clamped to the result set)."""
        last = max(0, (self.total or 0) - 1)
        self.cursor = min(max(0, index), last)

    def action_cursor_down(self) -> None:
        self.move_to(self.cursor + 1)

    def action_cursor_up(self) -> None:
        self.move_to(self.cursor - 1)

    def action_page_down(self) -> None:
        self.move_to(self.cursor + self.visible_rows)

    def action_page_up(self) -> None:
        self.move_to(self.cursor - self.visible_rows)

    def action_first(self) -> None:
        self.move_to(0)

    def action_last(self) -> None:
        self.move_to((self.total or 1) - 1)

    def action_open(self) -> None:
        row = self.highlighted_row
        if row is not None:
            self.post_message(self.Opened(self, row.reference))

    def on_click(self, event: events.Click) -> None:
        if event.y < 1 or self.total is None:
            return
        index = round(self.scroll_y) + event.y - 1
        if index < self.total:
            self.move_to(index)
            if event.chain >= 2:
                self.action_open()

    # ---- drawing --------------------------------------------------------------------------------

    def render_lines(self, crop: Region) -> list[Strip]:
        lines = super().render_lines(crop)
        if self._announce_drawn:  # handled once this frame is out: work started then does not hold the frame back
            self._announce_drawn = False
            self.post_message(self.Drawn(self, self.generation))
        return lines

    def on_record_table_drawn(self, message: RecordTable.Drawn) -> None:
        """Rows are out: now fetch a screenful either side, so the next page-down or page-up is usually at hand (asked
        sooner, that fetch would compete with the rows in view)."""
        if message.table is self and message.generation == self.generation:
            self._request_visible(max(PREFETCH_MARGIN, self.visible_rows))

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        columns = Columns.fit(width, self.reference_cells)
        if y == 0:
            return self._header(columns, width)
        if self.total is None:
            return self._message("decrypting…" if y == 1 else "", width)
        if self.total == 0:
            return self._message("no record matches these filters" if y == 1 else "", width)
        index = round(self.scroll_y) + y - 1
        if index >= self.total:
            return Strip.blank(width, self.rich_style)
        row = self.cache.row(index)
        if row is None:
            return self._message("…", width)
        return self._row(row, columns, width, cursor=index == self.cursor)

    def _header(self, c: Columns, width: int) -> Strip:
        style = self.get_component_rich_style("record-table--header")
        names = [
            ("Reference", c.reference),
            ("Date", c.date),
            ("Domain", c.domain),
            ("Origin → to", c.route),
            ("TLP", c.tlp),
            ("Status", c.status),
            ("Title", c.title),
        ]
        cells = [fit_text(name, w) for name, w in names if w]
        return Strip([Segment(fit_text(" ".join(cells), width), style)], width)

    def _message(self, text: str, width: int) -> Strip:
        style = self.get_component_rich_style("record-table--placeholder")
        return Strip([Segment(fit_text(f" {text}" if text else "", width), style)], width)

    def _row(self, row: RecordRow, c: Columns, width: int, *, cursor: bool) -> Strip:
        base = self.rich_style
        if cursor:
            name = "record-table--cursor" if self.has_focus else "record-table--cursor-blurred"
            base = base + self.get_component_rich_style(name)
        space = Segment(" ", base)
        status_style = base if cursor else base + Style(color=STATUS_COLOURS.get(row.status))
        cells = [
            (safe(row.reference), c.reference, base),
            (f"{row.created_at:%Y-%m-%d}", c.date, base),
            (safe(row.domain), c.domain, base),
            (route_text(row), c.route, base),
            (row.tlp.value, c.tlp, tlp_style(row.tlp)),
            (STATUS_SHORT.get(row.status, row.status.value), c.status, status_style),
        ]
        segments: list[Segment] = []
        for text, cell_width, style in cells:
            if cell_width:
                if segments:
                    segments.append(space)
                segments.append(Segment(fit_text(text, cell_width), style))
        title_width = c.title
        if title_width:
            if segments:
                segments.append(space)
            if row.id in self.damaged and title_width > len(DAMAGED_MARK):
                segments.append(Segment(DAMAGED_MARK, base + DAMAGED_STYLE))
                title_width -= len(DAMAGED_MARK)
            segments.append(Segment(fit_text(withdrawn_mark(row) + safe(row.title), title_width), base))
        used = sum(seg.cell_length for seg in segments)
        if used < width:
            segments.append(Segment(" " * (width - used), base))
        return Strip(segments).crop(0, width)
