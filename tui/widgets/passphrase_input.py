"""A masked passphrase field whose text cannot be copied, cut or selected out of it."""

from __future__ import annotations

from typing import ClassVar

from textual.widgets import Input


class PassphraseInput(Input):
    """`Input(password=True)` only masks what is drawn; this one also refuses copy, cut and selection."""

    ALLOW_SELECT: ClassVar[bool] = False

    def __init__(self, *, placeholder: str = "passphrase", id: str | None = None) -> None:
        super().__init__(placeholder=placeholder, password=True, id=id, select_on_focus=False)

    def action_copy(self) -> None:
        """Copying a passphrase to the clipboard is refused."""

    def action_cut(self) -> None:
        """Cutting a passphrase to the clipboard is refused."""

    def forget(self) -> None:
        """Clear the field."""
        self.value = ""
