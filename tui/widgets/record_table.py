"""A virtual table over a whole result set: draws only the visible rows, asks its screen for missing pages.

Toolong's `LogLines` is the model: a `ScrollView` whose `render_line` reads from a small page cache, so
100,000 matching records cost a scrollbar, not 100,000 widgets or decrypted titles.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from store.records import RecordRow
from store.vocab import Status
from tui.widgets.page_cache import PageCache, PageRequest
from tui.widgets.plain import plain, safe
from tui.widgets.tlp import tlp_style, tlp_text

#: Rows decrypted beyond the visible ones, above and below, so a key press rarely waits.
PREFETCH_MARGIN = 10
STATUS_COLOURS: dict[Status, str] = {
    Status.DRAFT: "#9E9E9E",
    Status.IN_REVIEW: "#5FAFFF",
    Status.RETURNED: "#FF87D7",
    Status.APPROVED: "#87D787",
    Status.SHARED: "#87D7AF",
    Status.ACKNOWLEDGED: "#87D7AF",
    Status.RECEIVED: "#D7AFFF",
    Status.ACTIONED: "#AFAFD7",
    Status.CLOSED: "#767676",
}


#: Statuses as the table shows them: short enough never to be cut (the preview line under the table spells them out).
STATUS_SHORT: dict[Status, str] = {
    Status.DRAFT: "draft",
    Status.IN_REVIEW: "review",
    Status.RETURNED: "returned",
    Status.APPROVED: "approved",
    Status.SHARED: "shared",
    Status.ACKNOWLEDGED: "acked",
    Status.RECEIVED: "received",
    Status.ACTIONED: "actioned",
    Status.CLOSED: "closed",
}
#: The narrowest title column the table accepts before it drops the date.
MIN_TITLE = 24


@dataclass(frozen=True)
class Columns:
    """Cell widths of each column for one table width; 0 hides a column (the preview line still shows it)."""

    reference: int = 17
    date: int = 10
    domain: int = 17
    route: int = 22
    tlp: int = 12
    status: int = 8
    title: int = 20

    @classmethod
    def fit(cls, width: int, reference: int = 0) -> Columns:
        """The title first: it keeps at least two fifths of the row; domain, then route, get what is left, else hide.

        Reference, TLP and status are never cut (statuses use their short forms); the reference column is as wide
        as `reference` (the widest reference drawn: a reference is an identifier, up to 30 characters) and the
        title gives way to it. The date goes only when even the title's minimum would not fit.
        """
        reference = max(cls.reference, reference)
        tlp, status = cls.tlp, cls.status
        date = cls.date
        min_title = max(MIN_TITLE, width * 2 // 5)
        fixed = reference + 1 + date + 1 + tlp + 1 + status + 1
        if width - fixed < MIN_TITLE:
            date = 0
            fixed -= cls.date + 1
        spare = width - fixed - min_title
        widths = {"domain": 0, "route": 0}
        for name, full, floor in (("domain", 17, 12), ("route", 22, 14)):
            if spare >= full + 1:
                widths[name] = full
            elif spare >= floor + 1:
                widths[name] = spare - 1
            spare -= widths[name] + 1 if widths[name] else 0
        title = max(1, width - fixed - sum(w + 1 for w in widths.values() if w))
        return cls(
            reference=reference, date=date, domain=widths["domain"], route=widths["route"], status=status, title=title
        )


def fit_text(text: str, width: int) -> str:
    """`text` cut with an ellipsis or padded to exactly `width` cells."""
    if width <= 0:
        return ""
    if cell_len(text) > width:
        return set_cell_size(text, width - 1) + "…"
    return set_cell_size(text, width)


#: Before the title of a record that differs from its signed history, in the error colour (the detail says why;
#: the legend is on the result line above the table).
DAMAGED_MARK = "✗ "

#: Before the title of a record its origin withdrew (the detail says who, when and why).
WITHDRAWN_MARK = "WITHDRAWN · "


DAMAGED_STYLE = Style(color="red", bold=True)


def withdrawn_mark(row: RecordRow) -> str:
    """`WITHDRAWN_MARK` for a record its origin withdrew, else nothing."""
    return WITHDRAWN_MARK if row.withdrawn else ""


def route_text(row: RecordRow) -> str:
    """Origin → recipients, as the table shows it (control characters drawn visibly)."""
    return safe(f"{row.origin}→{','.join(row.releasable_to) or '—'}")


def preview_text(row: RecordRow, damage: str | None) -> Text:
    """The two lines under the table: the highlighted record's reference, TLP, route, status and author, its title,
    and why it is damaged when it is."""
    return Text.assemble(
        plain(row.reference, "bold"),
        "  ",
        tlp_text(row.tlp, prefix=True),
        "  ",
        plain(f"{row.domain} · {route_text(row)} · {row.status.value} · by {row.author}"),
        "\n",
        plain(f"{DAMAGED_MARK}DAMAGED · ", "bold red") if damage else "",
        plain(row.title, "bold"),
        plain(f" · {damage}", "red") if damage else "",
    )


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
        self.total: int | None = None
        self._last_highlighted: RecordRow | None = None

    # ---- data in ------------------------------------------------------------------------------

    def reset(self, generation: int, *, keep_rows: bool = False, cursor: int | None = None) -> None:
        """Start showing the query of `generation`; `keep_rows` draws the old rows until fresh ones arrive."""
        self.generation = generation
        if keep_rows:
            self.cache.mark_stale()
        else:
            self.cache.clear()
            self.total = None
            self._update_virtual_size()
        if cursor is not None:
            self.set_reactive(RecordTable.cursor, max(0, cursor))
        self.refresh()
        self._request_visible()

    def set_total(self, generation: int, total: int) -> None:
        """How many records match the current query."""
        if generation != self.generation:
            return
        self.total = total
        self._update_virtual_size()
        if total and self.cursor >= total:
            self.cursor = total - 1
        self._scroll_cursor_into_view()
        self.refresh()
        self._request_visible()
        self._announce_highlight()

    def add_page(
        self, generation: int, page: int, rows: Sequence[RecordRow], damaged: Mapping[int, str] | None = None
    ) -> None:
        """A fetched page arrived (with the damaged among its records); ignored if it belongs to an older query."""
        if generation != self.generation:
            return
        for row in rows:
            self.reference_cells = max(self.reference_cells, cell_len(safe(row.reference)))
            reason = (damaged or {}).get(row.id)
            if reason is None:
                self.damaged.pop(row.id, None)
            else:
                self.damaged[row.id] = reason
        self.cache.store(page, rows)
        self.refresh()
        self._announce_highlight()
        self._request_visible()

    def fetch_failed(self) -> None:
        """The last fetch failed; allow it to be asked for again."""
        self.cache.forget_pending()

    def forget(self) -> None:
        """Drop every decrypted row (the store is being locked)."""
        self.cache.clear()
        self.damaged.clear()
        self.total = None
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

    def _request_visible(self) -> None:
        if not self.is_mounted:
            return
        top = round(self.scroll_y)
        bottom = top + self.visible_rows + PREFETCH_MARGIN
        self.cache.ensure_capacity(self.visible_rows + 2 * PREFETCH_MARGIN)
        # Before the count arrives, fetch the first screenful anyway: count and rows then come in parallel.
        total = self.total if self.total is not None else bottom + 1
        wanted = self.cache.wanted(top - PREFETCH_MARGIN, bottom, total)
        if wanted and self.fetch is not None:
            self.fetch(self.generation, wanted)
        elif wanted:
            self.post_message(self.PagesWanted(self, self.generation, wanted))

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
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
