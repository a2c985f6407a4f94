"""The review queue's list: a small `DataTable` (at most a few hundred rows) with keys of our own."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.widgets import DataTable


class QueueTable(DataTable[object], inherit_bindings=False):
    """Records in review, one per row; `enter` opens the highlighted one."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "down,j",
            "cursor_down",
            "Down",
            show=False,
            tooltip="Highlight the next record in the queue.",
            id="queue.down",
        ),
        Binding(
            "up,k", "cursor_up", "Up", show=False, tooltip="Highlight the previous record in the queue.", id="queue.up"
        ),
        Binding(
            "pagedown",
            "page_down",
            "Page down",
            show=False,
            tooltip="Move one screenful down the queue.",
            id="queue.page_down",
        ),
        Binding(
            "pageup", "page_up", "Page up", show=False, tooltip="Move one screenful up the queue.", id="queue.page_up"
        ),
        Binding("home,g", "scroll_top", "First", show=False, tooltip="The oldest record waiting.", id="queue.first"),
        Binding("end,G", "scroll_bottom", "Last", show=False, tooltip="The newest record waiting.", id="queue.last"),
        Binding("enter", "select_cursor", "Open", tooltip="Open the highlighted record full-screen.", id="queue.open"),
    ]
