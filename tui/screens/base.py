"""What every Liaison screen shares: the one place worker failures are reported, the session, resume points."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast

from rich.text import Text
from textual import work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.reactive import reactive
from textual.screen import ModalScreen, Screen
from textual.widgets import Input, ProgressBar, TextArea
from textual.worker import Worker, WorkerState, get_current_worker

from store.errors import LiaisonError
from store.service import Session
from tui.config import Settings
from tui.messages import ActionDone, ActionRefused
from tui.screens.keys import ShownKeys
from tui.widgets.plain import safe

if TYPE_CHECKING:
    from tui.app import LiaisonApp


ResultType = TypeVar("ResultType")


@dataclass(frozen=True)
class ResumePoint:
    """Where an officer was when the store locked, without any decrypted text (drafts are sealed)."""

    kind: str
    data: dict[str, Any] = field(default_factory=dict)


def report_error(app: App[Any], error: BaseException | None, what: str = "") -> None:
    """Show a failure as a notification: the store's one-line reason, or the exception's type for anything unexpected."""
    if error is None:
        return
    if isinstance(error, LiaisonError):
        app.notify(safe(str(error)), title=what or "Refused", severity="error", markup=False)
    else:
        app.log.error(f"{what or 'worker'} failed", error)
        app.notify(
            safe(f"{type(error).__name__}: {error}"),
            title=f"Unexpected error{f' in {what}' if what else ''}",
            severity="error",
            markup=False,
        )


class WorkerReports:
    """Mixin for screens and the app: every failed worker ends here, as a notification, never a crash."""

    #: Worker groups whose failures are only logged (a background poll that will simply try again).
    QUIET_GROUPS: frozenset[str] = frozenset()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is not WorkerState.ERROR:
            return
        node = cast("Screen[Any]", self)
        liaison = cast("LiaisonApp", node.app)
        self.worker_failed(event.worker)
        if event.worker.group in self.QUIET_GROUPS:
            node.log.warning(f"{event.worker.name} failed; will retry", event.worker.error)
            return
        if liaison.session is None and liaison.is_locking_or_locked:
            return  # a fetch that raced the lock: its failure is expected and says nothing useful
        report_error(node.app, event.worker.error, event.worker.name or event.worker.group)

    def worker_failed(self, worker: Worker[Any]) -> None:
        """Hook: undo any state that waited on `worker` (e.g. pages marked as being fetched)."""

    def freeze_cursors(self) -> None:
        """Stop text cursors blinking when the settings say so (stable snapshots)."""
        node = cast("Screen[Any]", self)
        settings = cast("LiaisonApp", node.app).settings
        if not settings.cursor_blink:
            for widget in node.query(Input):
                widget.cursor_blink = False
            for area in node.query(TextArea):
                area.cursor_blink = False


class UnlockedAccess:
    """The typed app and its unlocked session, for screens and modals that only exist while unlocked."""

    app: App[Any]

    @property
    def liaison(self) -> LiaisonApp:
        """The app, typed."""
        return cast("LiaisonApp", self.app)

    @property
    def session(self) -> Session:
        """The unlocked session; refuses once the store is locked."""
        session = self.liaison.session
        if session is None:
            raise LiaisonError("the store is locked")
        return session


class LiaisonScreen(ShownKeys, UnlockedAccess, WorkerReports, Screen[None]):
    """A full screen of the unlocked app."""

    busy: reactive[bool] = reactive(False, init=False, bindings=True)
    """True while the screen's long step runs (`while_busy`): its `.busy-progress` bar shows, its keys may wait."""

    def watch_busy(self, busy: bool) -> None:
        if busy:
            for bar in self.query(".busy-progress").results(ProgressBar):
                bar.update(total=None, progress=0)
        self.set_class(busy, "-busy")

    async def while_busy(self, worker: Worker[ResultType]) -> ResultType:
        """The worker's result, awaited with `busy` set."""
        self.busy = True
        try:
            return await worker.wait()
        finally:
            self.busy = False

    @property
    def settings(self) -> Settings:
        return self.liaison.settings

    def on_mount(self) -> None:
        self.freeze_cursors()

    REOPENS: ClassVar[bool] = False
    """True when unlocking opens this screen again, as its key opens it (no argument): a screen that holds no
    draft of its own. What its form held is not kept (it is typed again); a compose draft is kept, sealed."""

    def resume_point(self, session: Session) -> ResumePoint | None:
        """Where to bring the officer back to after unlocking (None: nowhere)."""
        return ResumePoint("screen", {"screen": type(self), "args": ()}) if self.REOPENS else None

    async def forget(self) -> None:
        """Drop every decrypted word this screen shows or caches (the store is about to lock)."""

    def on_store_changed(self) -> None:
        """Hook: the store changed (another process, or this one); reload what is shown."""

    # ---- shared actions -------------------------------------------------------------------------

    def action_new_record(self) -> None:
        """Open the compose form for a new record."""
        self.open_compose()

    def open_compose(self, existing: Any = None, draft: dict[str, Any] | None = None) -> None:
        """Push the compose/edit modal; `compose_closed` hears the outcome."""
        from tui.modals.compose import ComposeModal

        self.app.push_screen(ComposeModal(existing=existing, draft=draft), callback=self.compose_closed)

    def compose_closed(self, reference: str | None) -> None:
        """Hook: the compose modal closed, having saved `reference` (None if discarded)."""
        if reference:
            self.notify(safe(f"saved {reference}"), markup=False)

    def ask_comment_then(
        self, action: str, reference: str, title: str | Text, *, required: bool, **options: str
    ) -> None:
        """Ask for a comment (required, or optional), then run the workflow `action` on `reference`; escape cancels.

        `options` go to the comment modal (its `placeholder`, and the `verb` on its button).
        """
        from tui.modals.comment import CommentModal

        def send(comment: str | None) -> None:
            if comment is not None:
                self.workflow_starting(action, reference)
                self.run_workflow(action, reference, comment)

        if not required:
            options.setdefault("placeholder", "comment (optional)")
        self.app.push_screen(CommentModal(title, required=required, **options), callback=send)

    def workflow_starting(self, verb: str, reference: str) -> None:
        """Hook: the officer answered and the workflow `verb` is about to run on `reference`."""

    @work(thread=True, exclusive=True, exit_on_error=False, group="workflow", name="workflow action")
    def run_workflow(self, verb: str, reference: str, comment: str = "") -> None:
        """Submit, approve or return a record in the store; the store decides whether that is allowed."""
        session = self.session
        try:
            if verb == "submit":
                session.submit(reference)
            elif verb == "approve":
                session.approve(reference, comment)
            elif verb == "return":
                session.return_record(reference, comment)
            elif verb == "actioned":
                session.mark_actioned(reference, comment)
            elif verb == "close":
                session.close_record(reference, comment)
            else:
                raise ValueError(f"unknown workflow action {verb}")
        except LiaisonError as exc:
            self.post_message(ActionRefused(reference, verb, str(exc)))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(ActionDone(reference, verb))

    def on_action_done(self, message: ActionDone) -> None:
        past = {
            "submit": "submitted for review",
            "approve": "approved",
            "return": "returned to its author",
            "actioned": "marked actioned",
            "close": "closed",
        }
        self.notify(safe(f"{message.reference} {past.get(message.verb, message.verb)}"), markup=False)

    def on_action_refused(self, message: ActionRefused) -> None:
        self.notify(safe(message.reason), title=f"{message.verb} refused", severity="error", markup=False)


class LiaisonModal(ShownKeys, UnlockedAccess, WorkerReports, ModalScreen[Any]):
    """A modal of the unlocked app: it only dismisses with a value; `?` (where nothing types it) or F1 lists its keys."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "app.help", "Help", show=False, tooltip="Every key of this dialog.", id="modal.help"),
    ]

    def on_mount(self) -> None:
        self.freeze_cursors()

    def resume_point(self, session: Session) -> ResumePoint | None:
        """Where to bring the officer back to after unlocking (None: the modal is simply closed)."""
        return None
