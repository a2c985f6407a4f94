"""Ask for a review comment (returning a record needs one); `enter` sends, `escape` cancels."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Input, Static

from tui.screens.base import LiaisonModal


class CommentModal(LiaisonModal):
    """Dismisses with the comment typed, or None when cancelled (the store judges an empty one)."""

    DEFAULT_CSS = """
    CommentModal {
        align: center middle;
        & > Vertical { width: 80; height: auto; padding: 1 2; border: thick $accent; background: $surface; }
        & #comment-keys { margin-top: 1; color: $text-muted; }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", tooltip="Close without sending.", id="comment.cancel"),
    ]

    def __init__(self, title: str) -> None:
        super().__init__()
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.title_text, markup=False, classes="modal-title")
            yield Input(placeholder="what should the author change?", id="comment")
            yield Static("enter: send    escape: cancel", id="comment-keys")

    @on(Input.Submitted, "#comment")
    def _send(self, message: Input.Submitted) -> None:
        message.stop()
        self.dismiss(message.value)

    def action_cancel(self) -> None:
        self.dismiss(None)
