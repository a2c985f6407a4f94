"""The review queue: records in review, oldest first, one open beside the list; approve or return each."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Footer, Header, Static
from textual.worker import get_current_worker

from store.bundles import ledger
from store.errors import LiaisonError
from store.records import RecordQuery, RecordRow
from store.service import Session
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
from tui.widgets.record_table import fit_text
from tui.widgets.record_view import RecordView
from tui.widgets.status_line import StatusLine
from tui.widgets.tlp import tlp_text

QUEUE_LIMIT = 500


class ReviewScreen(LiaisonScreen):
    """Records waiting in review; `a` approves, `r` returns with a comment, `n`/`p` move through the queue."""

    AUTO_FOCUS = "#queue"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "a",
            "approve",
            "Approve",
            tooltip="Approve the record shown (a reviewer who did not write it).",
            id="review.approve",
        ),
        Binding(
            "r", "return", "Return", tooltip="Return the record shown to its author with a comment.", id="review.return"
        ),
        Binding("n", "next", "Next", tooltip="Show the next record in the queue.", id="review.next"),
        Binding("p", "previous", "Previous", tooltip="Show the previous record in the queue.", id="review.previous"),
        Binding("escape", "back", "Back", tooltip="Back to the records browser.", id="review.back"),
    ]

    def __init__(self, reference: str | None = None) -> None:
        super().__init__()
        self.rows: Sequence[RecordRow] = ()
        self.current: str | None = reference
        self.waiting = 0

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal():
            with Vertical(id="queue-pane"):
                yield Static("loading the queue…", id="queue-title", markup=False)
                yield QueueTable(id="queue", cursor_type="row", zebra_stripes=False)
            yield RecordView(id="review-record")
        yield StatusLine(hide_when_empty=True, id="review-status")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "Review queue"
        table = self.query_one("#queue", DataTable)
        table.add_column("Reference", key="reference")
        table.add_column("Date", key="date")
        table.add_column("Author", key="author")
        table.add_column("TLP", key="tlp")
        table.add_column("Title", key="title")
        self.load_queue()

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
        table = self.query_one("#queue", DataTable)
        table.clear()
        for row in message.rows:
            table.add_row(
                row.reference,
                f"{row.created_at:%Y-%m-%d}",
                row.author,
                tlp_text(row.tlp),
                Text(fit_text(row.title, 20)),
                key=row.reference,
            )
        shown = len(message.rows)
        more = f" (oldest {shown} shown)" if self.waiting > shown else ""
        self.query_one("#queue-title", Static).update(f"{self.waiting} waiting in review{more}")
        if not message.rows:
            self.current = None
            await self.query_one(RecordView).forget()
            self.query_one("#queue-title", Static).update("Nothing waits in review.")
            return
        references = [r.reference for r in message.rows]
        index = (
            references.index(self.current) if self.current in references else min(table.cursor_row, len(references) - 1)
        )
        table.move_cursor(row=max(0, index))
        self._show(references[max(0, index)])

    @on(DataTable.RowSelected, "#queue")
    def _selected(self) -> None:
        self.action_open()

    @on(DataTable.RowHighlighted, "#queue")
    def _highlighted(self, message: DataTable.RowHighlighted) -> None:
        reference = message.row_key.value
        if reference and reference != self.current:
            self._show(reference)

    def _show(self, reference: str) -> None:
        self.current = reference
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

    def action_approve(self) -> None:
        if self.current:
            self._status("")
            self.run_workflow("approve", self.current)

    def action_return(self) -> None:
        from tui.modals.comment import CommentModal

        reference = self.current
        if not reference:
            return

        def send(comment: str | None) -> None:
            if comment is not None:
                self._status("")
                self.run_workflow("return", reference, comment)

        self.app.push_screen(CommentModal(f"Return {reference} to its author"), callback=send)

    @on(ActionDone)
    def _done(self, message: ActionDone) -> None:
        references = [r.reference for r in self.rows]
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
        self.query_one("#queue", DataTable).clear()
        await self.query_one(RecordView).forget()
