"""Ask for a review comment: required to return a record (the box stays open until one is typed), optional to approve."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.widgets import Input

from tui.modals.prompt import PromptModal


class CommentModal(PromptModal[str | None]):
    """Dismisses with the comment typed (maybe empty when not `required`), or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = []

    def __init__(
        self,
        title: str | Text,
        *,
        required: bool = True,
        placeholder: str = "what should the author change?",
        verb: str = "send",
    ) -> None:
        super().__init__(title)
        self.required = required
        self.placeholder = placeholder
        self.verb = verb

    def compose_body(self) -> ComposeResult:
        yield Input(placeholder=self.placeholder, id="comment", select_on_focus=False)

    def keys_line(self) -> str:
        return f"enter: {self.verb}    escape: cancel"

    @on(Input.Submitted, "#comment")
    def _send(self, message: Input.Submitted) -> None:
        message.stop()
        if self.required and not message.value.strip():
            self.error = "A comment is needed: say what the author should change."
            return
        self.dismiss(message.value)

    @on(Input.Changed, "#comment")
    def _typing(self) -> None:
        self.error = ""
