"""One record in full: summary as Markdown, tags, releasability, sharing ledger and revision history."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Footer, Header

from store.bundles import ledger
from store.errors import LiaisonError
from store.policy import RecordAction
from store.records import RecordDetail
from store.service import Session
from tui.messages import ActionDone, ActionRefused, RecordLoaded, RecordUnavailable
from tui.screens.base import LiaisonScreen, ResumePoint
from tui.widgets.plain import safe
from tui.widgets.record_view import RecordView
from tui.widgets.status_line import StatusLine


class DetailScreen(LiaisonScreen):
    """A decrypted record; edit, submit, approve or return it from here (the store decides who may)."""

    AUTO_FOCUS = "RecordView"

    DEFAULT_CSS = """
    DetailScreen {
        & #detail-error { background: $error 15%; }
        & #detail-damaged { background: $error-muted; color: $text-error; text-style: bold; }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,backspace", "back", "Back", tooltip="Back to the list.", id="detail.back"),
        Binding(
            "e", "edit", "Edit", tooltip="Edit this record (its author, while draft or returned).", id="detail.edit"
        ),
        Binding("s", "submit", "Submit", tooltip="Put this draft in review.", id="detail.submit"),
        Binding(
            "a",
            "approve",
            "Approve",
            tooltip="Approve this record, after confirming (a reviewer who did not write it; optional comment).",
            id="detail.approve",
        ),
        Binding(
            "r", "return", "Return", tooltip="Return this record to its author with a comment.", id="detail.return"
        ),
        Binding(
            "m",
            "actioned",
            "Actioned",
            tooltip="Mark this received record actioned, with an optional comment.",
            id="detail.actioned",
        ),
        Binding(
            "c",
            "close",
            "Close",
            tooltip="Close this record: no more work needed (a reviewer), with an optional comment.",
            id="detail.close",
        ),
    ]

    #: Each workflow key and the store's action it needs: the key is offered only when the store allows it.
    ACTION_NEEDS: ClassVar[dict[str, RecordAction]] = {
        "edit": RecordAction.EDIT,
        "submit": RecordAction.SUBMIT,
        "approve": RecordAction.APPROVE,
        "return": RecordAction.RETURN,
        "actioned": RecordAction.ACTIONED,
        "close": RecordAction.CLOSE,
    }

    allowed: reactive[frozenset[RecordAction]] = reactive(frozenset(), bindings=True)
    """What the officer may do to this record now, as the store says (the footer, `?` and the palette follow it)."""

    @dataclass
    class ActionsLoaded(Message):
        """The actions the store allows the officer on `reference` now."""

        reference: str
        actions: frozenset[RecordAction]

    def __init__(self, reference: str, scroll_y: float = 0.0) -> None:
        super().__init__()
        self.reference = reference
        self.detail: RecordDetail | None = None
        self._restore_scroll = scroll_y

    def compose(self) -> ComposeResult:
        yield Header()
        yield StatusLine(error=True, hide_when_empty=True, id="detail-damaged")
        yield StatusLine(error=True, hide_when_empty=True, id="detail-error")
        yield RecordView(id="record")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = safe(self.reference)
        self.load_record()

    @work(thread=True, exclusive=True, exit_on_error=False, group="record", name="read record")
    def load_record(self) -> None:
        """Read and decrypt the record (an audited read)."""
        session = self.session
        try:
            damage = session.record_damage(self.reference)
            history = session.record_history(self.reference)
        except LiaisonError as exc:
            self.post_message(RecordUnavailable(self.reference, str(exc)))
            return
        try:
            detail = session.get_record(self.reference)
            sharing = ledger(session, self.reference)
            actions = session.available_actions(self.reference)
            activity = session.record_activity(self.reference)
            withdrawal = session.withdrawal(self.reference)
        except LiaisonError as exc:
            self.post_message(RecordUnavailable(self.reference, str(exc), history, damage))
            return
        self.post_message(self.ActionsLoaded(self.reference, actions))
        self.post_message(RecordLoaded(detail, sharing, activity, withdrawal, history, damage))

    @on(ActionsLoaded)
    def _actions_loaded(self, message: DetailScreen.ActionsLoaded) -> None:
        self.allowed = message.actions

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Workflow keys only where the store would allow them (hidden from the footer and `?` otherwise)."""
        needed = self.ACTION_NEEDS.get(action)
        return needed is None or needed in self.allowed

    def may(self, action: str) -> bool:
        """True when the workflow action `action` is offered now."""
        return bool(self.check_action(action, ()))

    @on(RecordLoaded)
    async def _loaded(self, message: RecordLoaded) -> None:
        self.detail = message.detail
        self.query_one("#detail-error", StatusLine).clear()
        self._show_damage(message.damage)
        view = self.query_one(RecordView)
        await view.show(
            message.detail,
            message.ledger,
            self.session.ministry,
            activity=message.activity,
            withdrawal=message.withdrawal,
            history=message.history,
        )
        if self._restore_scroll:
            view.scroll_to(y=self._restore_scroll, animate=False)
            self._restore_scroll = 0.0

    @on(RecordUnavailable)
    def _unavailable(self, message: RecordUnavailable) -> None:
        self._show_damage(message.damage)
        if message.damage is None:
            self.query_one("#detail-error", StatusLine).show(message.reason, error=True)
        else:  # refused because it is damaged: the banner says why
            self.allowed = frozenset()
            self.query_one(RecordView).withhold(message.history)

    def _show_damage(self, damage: str | None) -> None:
        """The banner of a record that differs from its signed history (nothing when it is intact)."""
        banner = self.query_one("#detail-damaged", StatusLine)
        if damage is None:
            banner.clear()
        else:
            banner.show(
                f"DAMAGED — this record differs from its signed history: {damage}. It cannot be acted on or "
                "exported; A then v checks the whole store.",
                error=True,
            )

    def action_back(self) -> None:
        self.dismiss()

    def action_edit(self) -> None:
        if self.detail is not None and self.may("edit"):
            self.open_compose(existing=self.detail)

    def action_submit(self) -> None:
        if self.may("submit"):
            self.run_workflow("submit", self.reference)

    def action_approve(self) -> None:
        self._with_comment("approve", f"Approve {self.reference}", required=False, verb="approve")

    def action_return(self) -> None:
        self._with_comment("return", f"Return {self.reference} to its author", required=True)

    def action_actioned(self) -> None:
        self._with_comment("actioned", f"Mark {self.reference} actioned", required=False, verb="mark actioned")

    def action_close(self) -> None:
        self._with_comment("close", f"Close {self.reference}", required=False, verb="close")

    def _with_comment(self, action: str, title: str, *, required: bool, **options: str) -> None:
        """Ask for a comment, then run `action` (escape cancels); offered only when the store allows it."""
        if self.may(action):
            self.ask_comment_then(action, self.reference, safe(title), required=required, **options)

    @on(ActionDone)
    @on(ActionRefused)
    def _after_action(self) -> None:
        self.load_record()

    def compose_closed(self, reference: str | None) -> None:
        super().compose_closed(reference)
        if reference:
            self.load_record()

    def on_store_changed(self) -> None:
        self.load_record()

    def resume_point(self, session: Session) -> ResumePoint:
        return ResumePoint("detail", {"reference": self.reference, "scroll_y": self.query_one(RecordView).scroll_y})

    async def forget(self) -> None:
        self.detail = None
        self.allowed = frozenset()
        await self.query_one(RecordView).forget()
