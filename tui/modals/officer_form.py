"""Add an officer: name, role, and their passphrase twice (masked, never copyable); `enter` on the last field adds."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.widgets import Input, Select

from store.errors import LiaisonError
from store.vocab import Role
from tui.modals.prompt import PromptModal
from tui.present import app_error
from tui.widgets.passphrase_input import PassphraseInput


@dataclass(frozen=True)
class NewOfficer:
    """What the form asked for; the store checks the name, the role and the passphrase's strength."""

    name: str
    role: str
    passphrase: str


class AddOfficerModal(PromptModal[NewOfficer | None]):
    """Dismisses with the new officer's name, role and passphrase, or None when cancelled. `check` is the store's
    refusal asked before dismissing (`Session.check_new_officer`): a name taken or a passphrase too short is said
    inline and what was typed stays, to mend."""

    BINDINGS: ClassVar[list[BindingType]] = []
    KEYS = "tab: next field    enter (on the last field): add    escape: cancel"

    def __init__(self, title: str, check: Callable[[str, str, str], str] | None = None) -> None:
        super().__init__(title)
        self.check = check

    def compose_body(self) -> ComposeResult:
        yield Input(placeholder="name (lower case, e.g. farah)", id="officer-name")
        yield Select[str](
            [(role.value, role.value) for role in Role], value=Role.OFFICER.value, allow_blank=False, id="officer-role"
        )
        yield PassphraseInput(placeholder="their passphrase", id="officer-passphrase")
        yield PassphraseInput(placeholder="the same passphrase again", id="officer-repeat")

    @on(Input.Submitted, "#officer-name, #officer-passphrase")
    def _next(self, message: Input.Submitted) -> None:
        message.stop()
        self.focus_next()

    @on(Input.Submitted, "#officer-repeat")
    def _submitted(self, message: Input.Submitted) -> None:
        message.stop()
        name = self.query_one("#officer-name", Input).value.strip()
        role = self.query_one("#officer-role", Select).value
        first = self.query_one("#officer-passphrase", PassphraseInput)
        second = self.query_one("#officer-repeat", PassphraseInput)
        if not name:
            self.error = "Give the officer a name."
        elif first.value != second.value:
            second.forget()
            self.error = "The two passphrases differ; type it again."
        elif not first.value:
            self.error = "Give the officer a passphrase (they change it later)."
        else:
            try:
                if self.check is not None:
                    name = self.check(name, str(role), first.value)
            except LiaisonError as exc:
                self.error = app_error(exc)
                self.query_one("#officer-name" if exc.field == "officer_name" else "#officer-passphrase").focus()
                return
            self.dismiss(NewOfficer(name, str(role), first.value))
