"""Compose or edit a record: domain, TLP, recipients, title, summary, source, notes; `ctrl+s` saves."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Checkbox, Footer, Input, Label, Select, SelectionList, Static, TextArea

from store.errors import LiaisonError
from store.records import RecordDetail
from store.service import Changes, Draft, Session
from store.text import visible
from store.vocab import Tlp
from tui.messages import SaveDone, VocabularyLoaded
from tui.present import app_error
from tui.screens.base import LiaisonModal, ResumePoint
from tui.widgets.status_line import StatusLine

DEFAULT_TLP = Tlp.AMBER.value
FIELDS = ("domain", "tlp", "releasable_to", "title", "summary", "source", "notes")
#: The form widget of each field a store error can name (`LiaisonError.field`).
FIELD_WIDGETS = {
    "domain": "#domain",
    "tlp": "#tlp",
    "releasable_to": "#releasable",
    "title": "#title",
    "summary": "#summary",
    "source": "#source",
    "notes": "#notes",
}


def values_of(detail: RecordDetail) -> dict[str, Any]:
    """The form's values for an existing record."""
    row = detail.row
    return {
        "domain": row.domain,
        "tlp": row.tlp.value,
        "releasable_to": sorted(row.releasable_to),
        "title": row.title,
        "summary": detail.summary,
        "source": detail.source,
        "notes": detail.notes,
    }


class ComposeModal(LiaisonModal):
    """Dismisses with the saved reference, or None when the officer discards the form."""

    DEFAULT_CSS = """
    ComposeModal {
        align: center middle;
        & #compose-box {
            width: 100%; max-width: 110; height: 100%; max-height: 36;
            padding: 0 2; border: thick $accent; background: $surface;
        }
        & .modal-title { text-style: bold; color: $text-accent; margin: 0; }
        & .compose-row { height: 1; margin-top: 1; }
        & .compose-row Select, & .compose-row Input { width: 1fr; }
        & .compose-label { width: 9; color: $text-muted; padding: 0 1 0 0; }
        & .compose-label.short { width: 5; margin-left: 2; }
        & .compose-label.wide { width: 100%; height: 1; }
        & #tlp { width: 18; }
        & #compose-middle { height: 1fr; margin-top: 1; }
        & #releasable-pane { width: 2fr; max-width: 40; margin-right: 2; }
        & #releasable { height: 1fr; background: $boost; }
        & #summary-pane { width: 3fr; }
        & #summary { height: 1fr; background: $boost; }
        & #submit { margin-top: 1; }
        & #compose-error { margin-top: 1; padding: 0; }
        & #compose-keys { color: $text-muted; margin-top: 1; }
        & .-invalid, & .-invalid > SelectCurrent { background: $error 30%; }
    }
    ComposeModal.-short {
        & .compose-row, & #compose-middle, & #submit, & #compose-error { margin-top: 0; }
        & #compose-keys { display: none; }
    }
    """

    #: Below 30 rows the form drops its blank lines and keys line (the footer and F1 still show the keys).
    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall")]  # noqa: RUF012 (Screen declares it without ClassVar)

    @dataclass
    class Refused(Message):
        """The store refused the form: its one-line reason and the field it names (if any)."""

        reason: str
        field: str | None

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", tooltip="Save the record (validated by the store).", id="compose.save"),
        Binding(
            "escape",
            "discard",
            "Discard",
            tooltip="Close; asks first when something was changed.",
            id="compose.discard",
        ),
    ]

    def __init__(self, existing: RecordDetail | None = None, draft: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.reference: str | None = existing.row.reference if existing else (draft or {}).get("reference")
        self.original: dict[str, Any] | None = values_of(existing) if existing else None
        self._pending_values: dict[str, Any] = dict(draft["values"]) if draft else dict(self.original or {})
        self._submit_initially = bool(draft.get("submit")) if draft else False
        self._restored = draft is not None
        self._initial: dict[str, Any] | None = None
        self.saving = False

    def compose(self) -> ComposeResult:
        heading = Text(f"Edit {visible(self.reference)}" if self.reference else "New record")
        with Vertical(id="compose-box"):
            yield Static(heading, classes="modal-title")
            with Horizontal(classes="compose-row"):
                yield Label("Domain", classes="compose-label")
                yield Select[str]([], prompt="choose a domain", id="domain", compact=True)
                yield Label("TLP", classes="compose-label short")
                yield Select[str](
                    [(t.value, t.value) for t in Tlp], value=DEFAULT_TLP, allow_blank=False, id="tlp", compact=True
                )
            with Horizontal(classes="compose-row"):
                yield Label("Title", classes="compose-label")
                yield Input(
                    placeholder="one line, no sensitive detail beyond what the TLP allows",
                    id="title",
                    compact=True,
                    select_on_focus=False,
                )
            with Horizontal(id="compose-middle"):
                with Vertical(id="releasable-pane"):
                    yield Label("Releasable to", classes="compose-label wide")
                    yield SelectionList[str](id="releasable", compact=True)
                with Vertical(id="summary-pane"):
                    yield Label("Summary (Markdown)", classes="compose-label wide")
                    yield TextArea(
                        id="summary", soft_wrap=True, show_line_numbers=False, tab_behavior="focus", compact=True
                    )
            with Horizontal(classes="compose-row"):
                yield Label("Source", classes="compose-label")
                yield Input(
                    placeholder="how the information was obtained, and its grading",
                    id="source",
                    compact=True,
                    select_on_focus=False,
                )
            with Horizontal(classes="compose-row"):
                yield Label("Notes", classes="compose-label")
                yield Input(
                    placeholder="internal notes (encrypted like everything else)",
                    id="notes",
                    compact=True,
                    select_on_focus=False,
                )
            yield Checkbox("Submit for review when saved", value=self._submit_initially, id="submit", compact=True)
            yield StatusLine(error=True, hide_when_empty=True, id="compose-error")
            yield Static(
                "ctrl+s: save    escape: discard    tab: next field    space: tick a ministry", id="compose-keys"
            )
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#submit").display = self.reference is None
        self.query_one("#title", Input).focus()
        self.load_vocabulary()

    @work(thread=True, exclusive=True, exit_on_error=False, group="vocabulary", name="load vocabulary")
    def load_vocabulary(self) -> None:
        """Domains and counterpart ministries to choose from."""
        session = self.session
        ministries = [(m.code, m.name, m.is_self) for m in session.ministries()]
        self.post_message(VocabularyLoaded(session.domains(), ministries))

    @on(VocabularyLoaded)
    def _vocabulary(self, message: VocabularyLoaded) -> None:
        self.query_one("#domain", Select).set_options([(Text(visible(label)), slug) for slug, label in message.domains])
        releasable = self.query_one("#releasable", SelectionList)
        releasable.clear_options()
        releasable.add_options(
            [(Text(visible(f"{code}  {name}")), code) for code, name, is_self in message.ministries if not is_self]
        )
        if releasable.option_count:
            releasable.highlighted = 0
        self._fill(self._pending_values)
        self._initial = {} if self._restored else self.values()

    def _fill(self, values: dict[str, Any]) -> None:
        if values.get("domain"):
            self.query_one("#domain", Select).value = values["domain"]
        if values.get("tlp"):
            self.query_one("#tlp", Select).value = values["tlp"]
        releasable = self.query_one("#releasable", SelectionList)
        for code in values.get("releasable_to", []):
            releasable.select(code)
        self.query_one("#title", Input).value = values.get("title", "")
        self.query_one("#summary", TextArea).text = values.get("summary", "")
        self.query_one("#source", Input).value = values.get("source", "")
        self.query_one("#notes", Input).value = values.get("notes", "")

    def values(self) -> dict[str, Any]:
        """What the form holds now."""
        domain = self.query_one("#domain", Select).value
        tlp = self.query_one("#tlp", Select).value
        return {
            "domain": domain if isinstance(domain, str) else "",
            "tlp": tlp if isinstance(tlp, str) else "",
            "releasable_to": sorted(self.query_one("#releasable", SelectionList).selected),
            "title": self.query_one("#title", Input).value,
            "summary": self.query_one("#summary", TextArea).text,
            "source": self.query_one("#source", Input).value,
            "notes": self.query_one("#notes", Input).value,
        }

    @property
    def dirty(self) -> bool:
        """True when the officer changed something since the form opened."""
        return self._initial is not None and self.values() != self._initial

    # ---- saving ---------------------------------------------------------------------------------

    def action_save(self) -> None:
        if self.saving or self._initial is None:
            return
        self.saving = True
        self._show_error("")
        submit = self.query_one("#submit", Checkbox).value and self.reference is None
        self.save(self.values(), submit)

    @work(thread=True, exclusive=True, exit_on_error=False, group="save", name="save record")
    def save(self, values: dict[str, Any], submit: bool) -> None:
        """Hand the form to the store, which validates and encrypts it."""
        session = self.session
        try:
            if self.reference is None:
                reference = session.add_record(Draft(**values), submit=submit)
            else:
                changed = {k: v for k, v in values.items() if self.original is None or v != self.original.get(k)}
                session.edit_record(self.reference, Changes(**changed))
                reference = self.reference
        except LiaisonError as exc:
            self.post_message(self.Refused(app_error(exc), exc.field))
            return
        self.post_message(SaveDone(reference))

    @on(SaveDone)
    def _saved(self, message: SaveDone) -> None:
        self.saving = False
        self.dismiss(message.reference)

    @on(Refused)
    def _refused(self, message: Refused) -> None:
        self.saving = False
        self._show_error(message.reason)
        selector = FIELD_WIDGETS.get(message.field or "")
        if selector is not None:
            field = self.query_one(selector, Widget)
            field.add_class("-invalid")
            field.focus()

    def worker_failed(self, worker: Any) -> None:
        self.saving = False

    def _show_error(self, text: str) -> None:
        self.query_one("#compose-error", StatusLine).show(text, error=True)
        if not text:
            for widget in self.query(".-invalid"):
                widget.remove_class("-invalid")

    # ---- leaving --------------------------------------------------------------------------------

    def action_discard(self) -> None:
        if not self.dirty:
            self.dismiss(None)
            return
        from tui.modals.confirm import ConfirmModal

        def answer(discard: bool | None) -> None:
            if discard:
                self.dismiss(None)

        self.app.push_screen(ConfirmModal("Discard the changes to this record?"), callback=answer)

    def resume_point(self, session: Session) -> ResumePoint | None:
        """The form sealed under the store's key, so no plaintext waits in memory while locked."""
        if self._initial is None or not self.dirty:
            return None
        draft = {
            "reference": self.reference,
            "values": self.values(),
            "submit": self.query_one("#submit", Checkbox).value,
        }
        return ResumePoint("compose", {"sealed": session.seal(json.dumps(draft))})


def unseal_draft(session: Session, point: ResumePoint) -> dict[str, Any]:
    """The form a `compose` resume point sealed."""
    draft: dict[str, Any] = json.loads(session.open_text(point.data["sealed"], "draft"))
    return draft
