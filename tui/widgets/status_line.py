"""The one status line of a screen: what just happened, or what went wrong, drawn as text (never markup)."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from store.text import visible


class StatusLine(Static):
    """A message or an error (`show(text, error=True)`); `hide_when_empty` takes no room while there is nothing to say."""

    DEFAULT_CSS = """
    StatusLine {
        height: auto;
        padding: 0 1;
        &.-error { color: $text-error; }
        &.-hide-empty.-empty { display: none; }
    }
    """

    message: reactive[str] = reactive("")
    """What the line says (control and bidi characters are drawn visibly, never raw)."""

    error: reactive[bool] = reactive(False)
    """True when `message` is an error (drawn in the error colour)."""

    def __init__(
        self,
        message: str = "",
        *,
        error: bool = False,
        hide_when_empty: bool = False,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes, markup=False)
        self.set_class(hide_when_empty, "-hide-empty")
        self.set_reactive(StatusLine.message, message)
        self.set_reactive(StatusLine.error, error)
        self.watch_message(message)
        self.watch_error(error)

    def show(self, message: str, *, error: bool = False) -> None:
        """Say `message` (an error when `error`)."""
        self.error = error
        self.message = message

    def clear(self) -> None:
        """Say nothing."""
        self.show("")

    def watch_message(self, message: str) -> None:
        self.update(Text(visible(message, multiline=True)))
        self.set_class(not message, "-empty")

    def watch_error(self, error: bool) -> None:
        self.set_class(error, "-error")
