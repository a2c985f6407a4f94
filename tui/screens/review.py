"""The review queue: records in review, oldest first, one open beside (or, when narrow, under) the list; approve or return each."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.widgets import DataTable, Footer, Header, Static
from textual.worker import get_current_worker

from store.bundles import ledger
from store.errors import LiaisonError
from store.records import RecordQuery, RecordRow
from store.service import Session
from store.text import visible
from store.vocab import Status
from tui.messages import (
    ActionDone,
    ActionRefused,
    QueueLoaded,
    RecordLoaded,
    RecordUnavailable,
)
from tui.screens.base import LiaisonScreen, ResumePoint
from tui.widgets.queue_table import QueueTable
from tui.widgets.record_cells import fit_text
from tui.widgets.record_view import RecordView
from tui.widgets.status_line import StatusLine
from tui.widgets.tlp import tlp_text

QUEUE_LIMIT = 500
#: Cells the queue's columns other than the title take (reference, author, TLP, cell padding, scrollbar).
FIXED_COLUMNS = 17 + 8 + 12 + 2 * 4 - 1
#: Below this width the record is shown under the queue, not beside it.
NARROW = 110
#: The widest the queue gets beside the record.
QUEUE_MAX = 84
#: How the author column shows the officer's own records (four-eyes: someone else approves them).
YOU = "you"


class ReviewScreen(LiaisonScreen):
    """Records waiting in review; `a` approves (asking first), `r` returns with a comment, `n`/`p` move, `m` hides your own."""

    AUTO_FOCUS = "#queue"

    DEFAULT_CSS = """
    ReviewScreen {
        & #review-panes { height: 1fr; }
        & #queue-pane { width: 1fr; max-width: 84; }
        & #queue-title { padding: 0 1; color: $text-accent; text-style: bold; height: auto; }
        & #queue { height: 1fr; }
        & #review-record { width: 1fr; border-left: vkey $primary; }
        & #review-status.-error { background: $error 15%; }
    }
    ReviewScreen.-narrow {
        & #review-panes { layout: vertical; }
        & #queue-pane { width: 100%; max-width: 100%; height: 2fr; max-height: 12; }
        & #review-record { width: 100%; height: 3fr; border-left: none; border-top: hkey $primary; }
    }
    """

    #: Below `NARROW` columns the record is shown under the queue, not beside it.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (NARROW, "-wide")]  # noqa: RUF012 (Screen declares it without ClassVar)

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "a",
            "approve",
            "Approve",
            tooltip="Approve the record shown, after confirming (an optional comment goes with it).",
            id="review.approve",
        ),
        Binding(
            "r",
            "return",
            "Return",
            tooltip="Return the record shown to its author with a comment (required).",
            id="review.return",
        ),
        Binding("n", "next", "Next", tooltip="Show the next record in the queue.", id="review.next"),
        Binding("p", "previous", "Previous", tooltip="Show the previous record in the queue.", id="review.previous"),
        Binding(
            "m",
            "toggle_own",
            "Hide/show mine",
            tooltip="Hide or show your own records (someone else must approve them).",
            id="review.toggle_own",
        ),
        Binding("escape", "back", "Back", tooltip="Back to the records browser.", id="review.back"),
    ]

    #: True when the officer's own records are left out of the list.
    hide_own: reactive[bool] = reactive(False, bindings=True, init=False)

    def __init__(self, reference: str | None = None) -> None:
        super().__init__()
        self.rows: Sequence[RecordRow] = ()
        self.shown: list[RecordRow] = []
        self.current: str | None = reference
        self.waiting = 0
        self._title_width = 0
        #: The reference the record pane shows (or is loading).
        self.viewing: str | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="review-panes"):
            with Vertical(id="queue-pane"):
                yield Static("loading the queue…", id="queue-title", markup=False)
                yield QueueTable(id="queue", cursor_type="row", zebra_stripes=False)
            yield RecordView(id="review-record")
        yield StatusLine(hide_when_empty=True, id="review-status")
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.sub_title = "Review queue"
        table = self.query_one("#queue", DataTable)
        table.add_column("Reference", key="reference")
        table.add_column("Author", key="author")
        table.add_column("TLP", key="tlp")
        table.add_column("Title", key="title")
        self.load_queue()

    @property
    def officer(self) -> str:
        """The officer reviewing."""
        return self.session.actor.name

    @work(thread=True, exclusive=True, exit_on_error=False, group="queue", name="load review queue")
    def load_queue(self) -> None:
        """The oldest records in review (titles decrypted) and how many wait in all."""
        session = self.session
        rows = session.review_queue(limit=QUEUE_LIMIT)
        waiting = session.count_records(RecordQuery(statuses=frozenset({Status.IN_REVIEW.value})))
        if not get_current_worker().is_cancelled:
            self.post_message(QueueLoaded(rows, waiting))

    @on(QueueLoaded)
    async def _queue_loaded(self, message: QueueLoaded) -> None:
        self.rows = message.rows
        self.waiting = message.waiting
        await self._fill()

    def _title_cells(self) -> int:
        """The title column's width: what the queue pane leaves (the pane is the whole width when narrow, else half)."""
        width = self.size.width or self.app.size.width
        pane = width - 3 if width < NARROW else min(QUEUE_MAX, width // 2)
        return max(12, pane - FIXED_COLUMNS)

    async def _fill(self) -> None:
        """Draw the queue (without the officer's own records when `hide_own`) and keep the cursor on the record shown."""
        officer = self.officer
        table = self.query_one("#queue", DataTable)
        self._title_width = self._title_cells()
        self.shown = [r for r in self.rows if not (self.hide_own and r.author == officer)]
        table.clear()
        for row in self.shown:
            own = row.author == officer
            table.add_row(
                Text(row.reference),
                Text(YOU, style="bold") if own else Text(fit_text(visible(row.author), 8).rstrip()),
                tlp_text(row.tlp),
                Text(fit_text(visible(row.title), self._title_width)),
                key=row.reference,
            )
        self._update_title()
        if not self.shown:
            self.current = self.viewing = None
            await self.query_one(RecordView).forget()
            return
        references = [r.reference for r in self.shown]
        index = (
            references.index(self.current)
            if self.current in references
            else min(max(table.cursor_row, 0), len(references) - 1)
        )
        table.move_cursor(row=index)
        if references[index] != self.viewing:
            self._show(references[index])

    def _update_title(self) -> None:
        officer = self.officer
        own = sum(1 for r in self.rows if r.author == officer)
        if not self.rows:
            text = "Nothing waits in review."
        else:
            more = f" (oldest {len(self.rows)} shown)" if self.waiting > len(self.rows) else ""
            text = f"{self.waiting} waiting in review{more}"
            if own:
                text += (
                    f" · {own} yours, hidden (m shows them)"
                    if self.hide_own
                    else f" · {own} yours, marked '{YOU}' (m hides them)"
                )
        self.query_one("#queue-title", Static).update(text)

    async def on_resize(self, _event: events.Resize) -> None:
        if self.rows and self._title_cells() != self._title_width:
            await self._fill()

    async def watch_hide_own(self, _hide: bool) -> None:
        await self._fill()

    def action_toggle_own(self) -> None:
        self.hide_own = not self.hide_own

    @on(DataTable.RowSelected, "#queue")
    def _selected(self) -> None:
        self.action_open()

    @on(DataTable.RowHighlighted, "#queue")
    def _highlighted(self, message: DataTable.RowHighlighted) -> None:
        reference = message.row_key.value
        if reference and reference != self.current:
            self._show(reference)

    def _show(self, reference: str) -> None:
        self.current = self.viewing = reference
        self.load_record(reference)

    @work(thread=True, exclusive=True, exit_on_error=False, group="record", name="read record")
    def load_record(self, reference: str) -> None:
        """Read and decrypt the record under review (an audited read)."""
        session = self.session
        try:
            detail = session.get_record(reference)
            sharing = ledger(session, reference)
        except LiaisonError as exc:
            self.post_message(RecordUnavailable(reference, str(exc)))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(RecordLoaded(detail, sharing))

    @on(RecordLoaded)
    async def _record_loaded(self, message: RecordLoaded) -> None:
        if message.detail.row.reference == self.current:
            await self.query_one(RecordView).show(message.detail, message.ledger)

    @on(RecordUnavailable)
    def _record_unavailable(self, message: RecordUnavailable) -> None:
        self._status(message.reason, error=True)

    def _status(self, text: str, *, error: bool = False) -> None:
        self.query_one("#review-status", StatusLine).show(text, error=error)

    def action_next(self) -> None:
        self.query_one("#queue", DataTable).action_cursor_down()

    def action_previous(self) -> None:
        self.query_one("#queue", DataTable).action_cursor_up()

    def action_open(self) -> None:
        from tui.screens.detail import DetailScreen

        if self.current:
            self.app.push_screen(DetailScreen(self.current))

    def action_back(self) -> None:
        self.dismiss()

    def _row(self, reference: str) -> RecordRow | None:
        return next((r for r in self.rows if r.reference == reference), None)

    def _heading(self, verb: str, reference: str) -> Text:
        row = self._row(reference)
        title = f" — {visible(row.title)}" if row is not None else ""
        return Text(f"{verb} {reference}{title}")

    def action_approve(self) -> None:
        if self.current:
            heading = self._heading("Approve", self.current)
            self.ask_comment_then("approve", self.current, heading, required=False, verb="approve")

    def action_return(self) -> None:
        if self.current:
            heading = self._heading("Return to its author:", self.current)
            self.ask_comment_then("return", self.current, heading, required=True, verb="return")

    def workflow_starting(self, verb: str, reference: str) -> None:
        self._status("")

    @on(ActionDone)
    def _done(self, message: ActionDone) -> None:
        references = [r.reference for r in self.shown]
        if message.reference in references:
            following = references[references.index(message.reference) + 1 :]
            self.current = following[0] if following else None
        self.load_queue()

    @on(ActionRefused)
    def _refused(self, message: ActionRefused) -> None:
        self._status(f"{message.verb} refused: {message.reason}", error=True)

    def on_store_changed(self) -> None:
        self.load_queue()

    def resume_point(self, session: Session) -> ResumePoint:
        return ResumePoint("review", {"reference": self.current})

    async def forget(self) -> None:
        self.rows, self.shown, self.viewing = (), [], None
        self.query_one("#queue", DataTable).clear()
        await self.query_one(RecordView).forget()
