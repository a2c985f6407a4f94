"""Record an outcome of a meeting: a domain, the text, and (when an owner ministry is given) an action with its due date."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Input, Label

from tui.modals.prompt import PromptModal


@dataclass(frozen=True)
class OutcomeForm:
    """What the officer typed; the store checks every field (domain, owner, due date) when it is saved."""

    domain: str
    text: str
    owner: str
    due: str


class OutcomeModal(PromptModal[OutcomeForm | None]):
    """Four fields; `enter` in the last one (or `ctrl+s`) answers. Empty owner: a decision without an action."""

    DEFAULT_CSS = """
    OutcomeModal {
        & Label { margin-top: 1; color: $text-muted; }
        & Input { background: $boost; }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", tooltip="Record the outcome.", id="outcome.save"),
    ]
    KEYS = "tab: next field    enter on due date / ctrl+s: save    escape: cancel"

    def __init__(self, title: str | Text, *, domain: str = "", owner: str = "", due: str = "") -> None:
        super().__init__(title)
        self.defaults = OutcomeForm(domain, "", owner, due)

    def compose_body(self) -> ComposeResult:
        yield Label("Domain")
        yield Input(value=self.defaults.domain, id="outcome-domain", placeholder="e.g. border", compact=True)
        yield Label("Outcome / action (one line)")
        yield Input(id="outcome-text", placeholder="what was agreed", compact=True)
        yield Label("Action for (ministry code; empty: a decision, no action)")
        yield Input(value=self.defaults.owner, id="outcome-owner", placeholder="e.g. TR-MOI", compact=True)
        yield Label("Due (YYYY-MM-DD)")
        yield Input(value=self.defaults.due, id="outcome-due", placeholder="YYYY-MM-DD", compact=True)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#outcome-text", Input).focus()

    def form(self) -> OutcomeForm:
        return OutcomeForm(
            *(self.query_one(f"#outcome-{name}", Input).value.strip() for name in ("domain", "text", "owner", "due"))
        )

    @on(Input.Submitted)
    def _submitted(self, message: Input.Submitted) -> None:
        message.stop()
        if message.input.id == "outcome-due":
            self.action_save()
        else:
            self.focus_next()

    def action_save(self) -> None:
        form = self.form()
        if not form.text:
            self.error = "Type what was agreed, or escape to cancel."
            return
        self.dismiss(form)
