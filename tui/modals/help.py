"""Every key of the screen underneath, with what it does; `escape`, `?` or `q` closes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.screens.keys import KeyHelp

#: The widest the key, action and "where" columns grow, so what a key does keeps most of the room.
KEY_COLUMN, ACTION_COLUMN, WHERE_COLUMN = 14, 18, 12


class HelpModal(ModalScreen[None]):
    """The keys active on the screen the officer came from."""

    DEFAULT_CSS = """
    HelpModal {
        align: center middle;
        & > Vertical { width: 100; max-width: 100%; max-height: 100%; height: auto; border: thick $accent; background: $surface; padding: 0 1; }
        & #help-title { text-style: bold; padding: 1 0 0 0; }
        & #help-keys { height: auto; max-height: 30; }
        & #help-footer { color: $text-muted; padding: 0 0 1 0; }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "close", "Close", tooltip="Close the help.", id="help.close"),
    ]

    def __init__(self, screen_title: str, keys: Sequence[KeyHelp]) -> None:
        super().__init__()
        self.screen_title = screen_title
        self.keys = keys

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"Keys — {self.screen_title}", id="help-title", markup=False)
            with VerticalScroll(id="help-keys"):
                yield Static(self._table(), markup=False)
            yield Static("escape, ? or q closes · ctrl+p finds any action by name", id="help-footer")

    def on_mount(self) -> None:
        self.query_one("#help-keys").focus()  # the arrows, page keys, home and end scroll a long list
        self._fit()

    def on_resize(self) -> None:
        self._fit()

    def _fit(self) -> None:
        """The keys' list no taller than the room the title, the footer and the border leave (a long list scrolls
        inside it; the footer stays in view), and never taller than 30 rows."""
        room = self.size.height - 6  # the border (2), the title with its padding (2), the footer with its (2)
        self.query_one("#help-keys").styles.max_height = max(3, min(30, room))

    def _table(self) -> Table:
        table = Table(box=None, padding=(0, 2), show_edge=False, header_style="bold", expand=True)
        table.add_column("Key", no_wrap=True, style="bold", max_width=KEY_COLUMN)
        table.add_column("Action", max_width=ACTION_COLUMN)
        table.add_column("What it does", ratio=1, min_width=24)
        table.add_column("Where", style="dim", max_width=WHERE_COLUMN)
        for key in self.keys:
            table.add_row(Text(key.key), Text(key.description), Text(key.tooltip), Text(key.where))
        return table

    def action_close(self) -> None:
        self.dismiss(None)
