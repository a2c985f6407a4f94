"""A yes/no question; `y` or `enter` answers yes, `n` or `escape` answers no."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Static

from store.text import visible
from tui.modals.prompt import PromptModal, plain


class ConfirmModal(PromptModal[bool]):
    """Ask before something that cannot be undone; dismisses with True or False."""

    DEFAULT_CSS = """
    ConfirmModal > .prompt-box { width: 64; border: thick $warning; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y,enter", "answer(True)", "Yes", tooltip="Answer yes.", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", tooltip="Answer no.", id="confirm.no"),
    ]

    CANCEL = False
    KEYS = "y / enter: yes    n / escape: no"

    def __init__(self, question: str | Text, title: str | Text = "Are you sure?") -> None:
        super().__init__(title)
        self.question = question

    def compose_body(self) -> ComposeResult:
        yield Static(plain(self.question), classes="confirm-question")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


def overwrite_question(path: Path) -> ConfirmModal:
    """Ask before replacing an existing file (the store still refuses a store, a database, a directory or a link)."""
    return ConfirmModal(
        Text(
            f"{visible(str(path))} already exists.\n\nReplace it? (A Liaison store, any database, a directory or a link is never replaced.)"
        ),
        title="Replace the file?",
    )
