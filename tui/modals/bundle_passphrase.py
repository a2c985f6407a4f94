"""Ask for a bundle's passphrase (masked, never copyable); `enter` answers, `escape` cancels."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Input, Static

from tui.screens.base import LiaisonModal
from tui.widgets.passphrase_input import PassphraseInput


class BundlePassphraseModal(LiaisonModal):
    """Dismisses with the bundle passphrase typed (masked, not copyable), or None when cancelled."""

    DEFAULT_CSS = """
    BundlePassphraseModal {
        align: center middle;
        & > Vertical { width: 70; height: auto; padding: 1 2; border: thick $accent; background: $surface; }
        & #bundle-passphrase-keys { margin-top: 1; color: $text-muted; }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", tooltip="Close without a passphrase.", id="bundle_passphrase.cancel"),
    ]

    def __init__(self, title: str) -> None:
        super().__init__()
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.title_text, markup=False, classes="modal-title")
            yield PassphraseInput(placeholder="bundle passphrase", id="bundle-passphrase")
            yield Static("enter: open the bundle    escape: cancel", id="bundle-passphrase-keys")

    @on(Input.Submitted, "#bundle-passphrase")
    def _typed(self, message: Input.Submitted) -> None:
        message.stop()
        if message.value:
            self.dismiss(message.value)

    def action_cancel(self) -> None:
        self.dismiss(None)
