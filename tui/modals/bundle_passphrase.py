"""Ask for a bundle's passphrase (masked, never copyable); `enter` answers, `escape` cancels."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.widgets import Input

from tui.modals.prompt import PromptModal
from tui.widgets.passphrase_input import PassphraseInput


class BundlePassphraseModal(PromptModal[str | None]):
    """Dismisses with the bundle passphrase typed (masked, not copyable), or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = []
    KEYS = "enter: open the bundle    escape: cancel"

    def compose_body(self) -> ComposeResult:
        yield PassphraseInput(placeholder="bundle passphrase", id="bundle-passphrase")

    @on(Input.Submitted, "#bundle-passphrase")
    def _typed(self, message: Input.Submitted) -> None:
        message.stop()
        if message.value:
            self.dismiss(message.value)
        else:
            self.error = "Type the passphrase the sender gave you, or escape to cancel."
