"""A yes/no question; `y` or `enter` answers yes, `n` or `escape` answers no."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static


class ConfirmModal(ModalScreen[bool]):
    """Ask before something that cannot be undone; dismisses with True or False."""

    DEFAULT_CSS = """
    ConfirmModal {
        align: center middle;
        & > Vertical { width: 56; height: auto; padding: 1 2; border: thick $warning; background: $surface; }
        & #confirm-keys { margin-top: 1; color: $text-muted; }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y,enter", "answer(True)", "Yes", tooltip="Answer yes.", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", tooltip="Answer no.", id="confirm.no"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.question, markup=False)
            yield Static("y / enter: yes    n / escape: no", id="confirm-keys")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
