"""The base of the small prompt modals (confirm, comment, path, bundle passphrase): a titled box that only dismisses."""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar, cast

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.reactive import reactive
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from store.text import visible
from tui.screens.keys import ShownKeys

ResultType = TypeVar("ResultType")


def plain(text: str | Text) -> Text:
    """`text` drawn exactly as written: never read as markup, control and bidi characters shown visibly."""
    if isinstance(text, Text):
        return text
    return Text(visible(text, multiline=True))


class PromptModal(ShownKeys, ModalScreen[ResultType]):
    """A title, the subclass's body, an inline error line and a keys line; `escape` dismisses with `CANCEL`.

    Subclasses only call `dismiss(value)`; callers pass `callback=` or use `push_screen_wait` in a worker.
    """

    DEFAULT_CSS = """
    PromptModal {
        align: center middle;
        & > .prompt-box {
            width: 80; max-width: 100%; height: auto; max-height: 100%;
            padding: 1 2; border: thick $accent; background: $surface;
        }
        & .prompt-title { text-style: bold; color: $text-accent; margin-bottom: 1; }
        & .prompt-error { color: $text-error; margin-top: 1; display: none; }
        & .prompt-error.-shown { display: block; }
        & .prompt-keys { margin-top: 1; color: $text-muted; }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", tooltip="Close without answering.", id="prompt.cancel"),
        Binding("question_mark", "app.help", "Help", show=False, tooltip="Every key of this dialog.", id="prompt.help"),
    ]

    #: What `escape` dismisses with.
    CANCEL: ClassVar[object] = None
    #: The keys line under the box.
    KEYS: ClassVar[str] = "escape: cancel"

    #: The inline error under the body (empty: hidden).
    error: reactive[str] = reactive("", init=False)

    def __init__(self, title: str | Text) -> None:
        super().__init__()
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical(classes="prompt-box"):
            yield Static(plain(self.title_text), classes="prompt-title")
            yield from self.compose_body()
            yield Static("", classes="prompt-error")
            yield Static(self.keys_line(), classes="prompt-keys", markup=False)

    def on_mount(self) -> None:
        """Text cursors stop blinking when the settings say so (stable snapshots)."""
        settings = getattr(self.app, "settings", None)
        if settings is not None and not settings.cursor_blink:
            for field in self.query(Input):
                field.cursor_blink = False

    def compose_body(self) -> ComposeResult:
        """The widgets between the title and the keys line."""
        yield from ()

    def keys_line(self) -> str:
        """The keys line under the box."""
        return self.KEYS

    def watch_error(self, text: str) -> None:
        line = self.query_one(".prompt-error", Static)
        line.update(plain(text))
        line.set_class(bool(text), "-shown")

    def action_cancel(self) -> None:
        self.dismiss(cast(Any, self.CANCEL))
