"""A row table whose Home and End go to the first and last row (a `DataTable`'s own scroll sideways)."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.widgets import DataTable


class RowTable(DataTable[object]):
    """The lists of officers, contacts, meetings, bundles and an export's preview: `DataTable` with `home`/`end`
    moving the row cursor to the first/last row, as in the record browser and the review queue."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("home", "scroll_top", "First", show=False, tooltip="Go to the first row.", id="rows.first"),
        Binding("end", "scroll_bottom", "Last", show=False, tooltip="Go to the last row.", id="rows.last"),
    ]
