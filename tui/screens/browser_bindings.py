"""The records browser's keys (`tui.screens.browser.BrowserScreen`), each with the tooltip the help and footer show,
and the questions two of them ask."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.binding import Binding, BindingType

if TYPE_CHECKING:
    from tui.modals.comment import CommentModal

BROWSER_BINDINGS: list[BindingType] = [
    Binding(
        "slash",
        "search",
        "Search",
        tooltip="Search whole words in titles and summaries (blind index: `visa` finds visa, not visas).",
        id="records.search",
    ),
    Binding(
        "d",
        "date_range",
        "Dates",
        show=False,
        tooltip="Show only records created between two days (YYYY-MM-DD..YYYY-MM-DD, either side optional).",
        id="records.dates",
    ),
    Binding(
        "colon",
        "jump",
        "Go to",
        show=False,
        tooltip="Open a record by its reference (e.g. PK-MOI-2026-00042).",
        id="records.jump",
    ),
    Binding(
        "f",
        "focus_facets",
        "Filters",
        tooltip="Move to the facet sidebar; enter or space toggles a value.",
        id="records.facets",
    ),
    Binding("n", "new_record", "New", tooltip="Draft a new record.", id="records.new"),
    Binding("v", "review_queue", "Review", tooltip="Records waiting in review, oldest first.", id="review.open"),
    Binding(
        "x",
        "clear_filters",
        "Clear filters",
        show=False,
        tooltip="Remove every filter and the search.",
        id="records.clear",
    ),
    Binding(
        "c",
        "focus_chips",
        "Chips",
        show=False,
        tooltip="Move to the active filters to remove one.",
        id="records.chips",
    ),
    Binding(
        "backspace",
        "drop_last_filter",
        "Drop filter",
        show=False,
        tooltip="Remove the most recently listed filter.",
        id="records.drop_filter",
    ),
    Binding(
        "b",
        "toggle_sidebar",
        "Sidebar",
        show=False,
        tooltip="Hide or show the facet sidebar (more room for titles).",
        id="records.sidebar",
    ),
    Binding("o", "toggle_order", "Order", show=False, tooltip="Show newest or oldest first.", id="records.order"),
    Binding("escape", "focus_table", "Table", show=False, tooltip="Back to the records table.", id="records.table"),
]


def date_range_modal() -> CommentModal:
    """`d`: the days to filter on."""
    from tui.modals.comment import CommentModal

    return CommentModal(
        "Records created between (UTC days)",
        required=False,
        placeholder="YYYY-MM-DD..YYYY-MM-DD — either side may be empty; empty clears",
        verb="filter",
    )


def reference_modal() -> CommentModal:
    """`:`: the reference of the record to open."""
    from tui.modals.comment import CommentModal

    return CommentModal(
        "Go to the record", required=False, placeholder="its reference, e.g. PK-MOI-2026-00042", verb="open"
    )
