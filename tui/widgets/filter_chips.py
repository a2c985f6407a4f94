"""The active filters as a row of removable chips (`enter`/`delete` on a chip removes it)."""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import HorizontalScroll
from textual.message import Message
from textual.widgets import Label, Static

from store.records import RecordQuery
from tui.widgets.facet_sidebar import FACET_ATTRS, FACET_TITLES
from tui.widgets.plain import plain


def query_chips(query: RecordQuery) -> list[tuple[str, str]]:
    """(facet, value) of every active filter, search last."""
    chips = [(facet, value) for facet, attr in FACET_ATTRS.items() for value in sorted(getattr(query, attr))]
    if query.since is not None:
        chips.append(("since", f"{query.since:%Y-%m-%d}"))
    if query.until is not None:
        chips.append(("until", f"{query.until - timedelta(days=1):%Y-%m-%d}"))
    if query.search.strip():
        chips.append(("search", query.search.strip()))
    return chips


def result_text(query: RecordQuery, total: int) -> str:
    """The browser's result line for `total` records matching `query`: how many, under how many filters, in which
    order."""
    order = "newest first" if query.order == "newest" else "oldest first"
    noun = "record" if total == 1 else "records"
    filters = len(query_chips(query))
    verb = "matches" if total == 1 else "match"
    scope = f" {verb} {filters} filter{'s' if filters != 1 else ''}" if filters else " in the store"
    return f"{total:,} {noun}{scope} · {order}"


class Chip(Static, can_focus=True):
    """One active filter."""

    DEFAULT_CSS = """
    Chip {
        width: auto;
        height: 1;
        margin: 0 1 0 0;
        padding: 0 1;
        background: $boost;
        color: $text;
        &:focus { background: $accent; color: $text; text-style: bold; }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter,delete,backspace,x", "remove", "Remove filter", tooltip="Remove this filter.", id="chip.remove"),
        Binding(
            "left,h",
            "app.focus_previous",
            "Previous",
            show=False,
            tooltip="Focus the previous filter.",
            id="chip.previous",
        ),
        Binding("right,l", "app.focus_next", "Next", show=False, tooltip="Focus the next filter.", id="chip.next"),
    ]

    class Removed(Message):
        """The officer removed this filter."""

        def __init__(self, facet: str, value: str) -> None:
            self.facet = facet
            self.value = value
            super().__init__()

    def __init__(self, facet: str, value: str) -> None:
        title = {"search": "search whole words", "since": "from", "until": "to"}.get(facet) or FACET_TITLES[
            facet
        ].lower()
        super().__init__(plain(f"{title}: {value} ✕"), markup=False)
        self.facet = facet
        self.value = value
        self.tooltip = "enter or delete removes this filter"

    def action_remove(self) -> None:
        self.post_message(self.Removed(self.facet, self.value))


class FilterChips(HorizontalScroll, can_focus=False):
    """Every active filter as a chip; shows a hint when there are none."""

    DEFAULT_CSS = """
    FilterChips {
        height: 1;
        scrollbar-size: 0 0;
        & > .no-filters { color: $text-muted; }
    }
    """

    def compose(self) -> ComposeResult:
        yield Label("no filters — f: facets, /: search", classes="no-filters")

    async def show(self, query: RecordQuery) -> None:
        """Replace the chips with those of `query`."""
        chips = query_chips(query)
        focused_index = next((i for i, c in enumerate(self.query(Chip)) if c.has_focus), None)
        await self.remove_children()
        if not self.is_attached:  # its screen was closed meanwhile (the app is leaving)
            return
        if chips:
            await self.mount_all(Chip(facet, value) for facet, value in chips)
            if focused_index is not None:
                self.query(Chip)[min(focused_index, len(chips) - 1)].focus()
        else:
            await self.mount(Label("no filters — f: facets, /: search", classes="no-filters"))
