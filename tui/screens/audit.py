"""The signed audit log: filter by record, officer, action and day; `v` verifies the whole store in a worker."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import DataTable, Footer, Header, Input, ProgressBar, Select
from textual.worker import get_current_worker

from store.audit.history import AuditEntry, AuditQuery
from store.audit.verify import AuditReport
from store.errors import LiaisonError, ValidationError
from store.text import visible
from tui.dates import parse_date
from tui.messages import BundleProgress
from tui.present import app_error, plural
from tui.screens.base import LiaisonScreen
from tui.widgets.record_cells import fit_text
from tui.widgets.status_line import StatusLine

#: The newest events the table lists (the filters narrow what they are drawn from).
SHOWN_EVENTS = 2000
#: The table's columns: label, key. The sequence number, the key fingerprint and a record's reference in "About" are
#: always whole; officer and action are cut at `NAME_CELLS`, other targets in "About" at `ABOUT_CELLS` (with an
#: ellipsis), and when the table is short of room less still (`fit_columns`).
COLUMNS = (
    ("#", "seq"),
    ("When (UTC)", "at"),
    ("Officer", "officer"),
    ("Action", "action"),
    ("Key", "key"),
    ("About", "about"),
)
NAME_CELLS = 16
ABOUT_CELLS = 40
#: The narrowest an officer or action name, or a target that is no reference, is cut to when room is short.
MIN_CELLS = 6
#: How far an action name is cut before the time gives way.
ACTION_CELLS = 12
#: The time as drawn, then the forms it takes when room is short: the day, then the day without its year.
TIME_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d", "%m-%d")
_TIME_CELLS = {"%Y-%m-%d %H:%M": 16, "%Y-%m-%d": 10, "%m-%d": 5}


@dataclass(frozen=True)
class Fit:
    """How the audit table's cells are cut for one width: the time's format, then cells of officer, action and a
    target in "About" that is no record reference (references are never cut)."""

    time: str
    officer: int
    action: int
    other: int


def fit_columns(width: int, *, seq: int, key: int, officer: int, action: int, reference: int, other: int) -> Fit:
    """The cuts that fit rows of these widest values (in cells) in `width` cells, each cell after a space.

    The sequence number, the key and the references are whole; officer and action at most `NAME_CELLS`, other
    targets at most `ABOUT_CELLS`. When that is too wide, in this order: other targets give way down to the
    references' width, the action down to `ACTION_CELLS` (our own names, known by their start), the time to its
    day, the action and then the officer down to `MIN_CELLS`, and the day to its month and day. Past that (no
    legal values need it at 80 columns) the table scrolls sideways."""
    cells = {"officer": min(officer, NAME_CELLS), "action": min(action, NAME_CELLS), "other": min(other, ABOUT_CELLS)}
    time = TIME_FORMATS[0]

    def over() -> int:
        fit = Fit(time, cells["officer"], cells["action"], cells["other"])
        return sum(column_widths(fit, seq=seq, key=key, reference=reference).values()) - width

    def give(name: str, floor: int) -> None:
        cells[name] = max(min(cells[name], floor), cells[name] - max(0, over()))

    give("other", max(reference, MIN_CELLS))
    give("action", ACTION_CELLS)
    if over() > 0:
        time = TIME_FORMATS[1]
    give("action", MIN_CELLS)
    give("officer", MIN_CELLS)
    if over() > 0:
        time = TIME_FORMATS[2]
    return Fit(time, cells["officer"], cells["action"], cells["other"])


def column_widths(fit: Fit, *, seq: int, key: int, reference: int) -> dict[str, int]:
    """Each column's width in cells (by key) for rows cut as `fit` says: its widest cell or its label, whichever
    is wider (the time's label gives way to its short forms), and the space before each."""
    label = {key: cell_len(text) for text, key in COLUMNS}
    widest = {
        "seq": seq,
        "at": _TIME_CELLS[fit.time],
        "officer": fit.officer,
        "action": fit.action,
        "key": key,
        "about": max(reference, fit.other),
    }
    return {k: 1 + (v if k == "at" else max(v, label[k])) for k, v in widest.items()}


def clip(text: str, cells: int) -> str:
    """`text` as it is when it fits in `cells`, else cut with an ellipsis."""
    return text if cell_len(text) <= cells else fit_text(text, cells)


#: How the row of a bad event is drawn.
BAD_STYLE = "bold white on dark_red"


def verify_summary(report: AuditReport, shown: bool) -> str:
    """One or two lines: intact (what was checked), or how many problems and the first one."""
    checked = f"{plural(report.events, 'event')} and {plural(report.records, 'record')} checked"
    if report.checkpoint_size is not None and report.checkpoint_time is not None:
        checked += f"; last checkpoint {report.checkpoint_size} at {report.checkpoint_time:%Y-%m-%d %H:%M} UTC"
    if report.ok:
        return f"intact: {checked}"
    first = report.problems[0]
    where = f"event #{first.seq}" if first.seq is not None else f"record {first.reference}"
    if first.seq is not None and first.reference:
        where += f" ({first.reference})"
    note = "" if shown or first.seq is None else " — not among the events listed (clear the filters)"
    return f"DAMAGED: {plural(len(report.problems), 'problem')}; first: {where}: {first.reason}{note}\n{checked}"


class EventTable(DataTable[Any]):
    """The log's events; `enter` opens the record the highlighted event is about (listed in the help)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter",
            "select_cursor",
            "Open",
            show=False,
            tooltip="Open the record the highlighted event is about.",
            id="audit.open",
        ),
    ]


class AuditScreen(LiaisonScreen):
    """Newest event first; the filters apply as they are typed; enter on an event about a record opens it."""

    REOPENS = True

    AUTO_FOCUS = "#audit-events"

    DEFAULT_CSS = """
    AuditScreen {
        & #audit-filters { height: 1; padding: 0 1; }
        & #audit-filters Input { width: 1fr; max-width: 30; margin-right: 1; }
        & #audit-filters #audit-record { min-width: 18; max-width: 30; }
        & #audit-filters #audit-action { width: 22; margin-right: 1; }
        & #audit-filters #audit-since { width: 18; max-width: 18; margin-right: 0; }
        & #audit-events { height: 1fr; }
        & #audit-status { padding: 0 1; }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "v",
            "verify",
            "Verify",
            tooltip="Check every event's signature, the chain, the checkpoints and every record against the log.",
            id="audit.verify",
        ),
        Binding("f", "focus_filters", "Filter", tooltip="Move to the filters (record first).", id="audit.filters"),
        Binding(
            "escape",
            "back",
            "Back",
            tooltip="Back to the previous screen (or from a filter to the list).",
            id="audit.back",
        ),
    ]

    @dataclass
    class EventsLoaded(Message):
        """The events matching the filters of `generation`, oldest first, and the action names to filter by."""

        generation: int
        entries: Sequence[AuditEntry]
        actions: Sequence[str]

    @dataclass
    class Verified(Message):
        """The outcome of a full verification."""

        report: AuditReport

    @dataclass
    class Refused(Message):
        """The store refused to list or verify; `reason` is its one line."""

        step: str
        reason: str

    def __init__(self, record: str | None = None, *, verify: bool = False) -> None:
        super().__init__()
        self._verify_on_mount = verify
        self.generation = 0
        self.entries: list[AuditEntry] = []
        self.report: AuditReport | None = None
        self._record = record or ""
        self._actions: tuple[str, ...] = ()
        self._drawn_fit: Fit | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="audit-filters"):
            # Placeholders name the filters (labels would leave too little room at 80 columns).
            yield Input(
                self._record,
                placeholder="record",
                id="audit-record",
                compact=True,
                tooltip="A record's reference: its events only.",
            )
            yield Input(placeholder="officer", id="audit-officer", compact=True, tooltip="Events by this officer only.")
            yield Select[str]([], prompt="any action", id="audit-action", compact=True)
            yield Input(
                placeholder="since YYYY-MM-DD",
                id="audit-since",
                compact=True,
                tooltip="Events on or after this day (UTC).",
            )
        yield EventTable(id="audit-events", cursor_type="row", zebra_stripes=True, cell_padding=0)
        yield ProgressBar(id="audit-progress", classes="busy-progress", show_eta=False)
        yield StatusLine("v verifies the whole store against this log", id="audit-status")
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.sub_title = "Signed audit log"
        self._add_columns(self.query_one("#audit-events", DataTable))
        self.load_events()
        if self._verify_on_mount:
            self.action_verify()

    # ---- listing --------------------------------------------------------------------------------

    def audit_query(self) -> AuditQuery:
        """The filters as typed, as the store's query; a day that is not YYYY-MM-DD is refused."""
        action = self.query_one("#audit-action", Select).value
        return AuditQuery(
            record=self.query_one("#audit-record", Input).value.strip() or None,
            officer=self.query_one("#audit-officer", Input).value.strip() or None,
            action=action if isinstance(action, str) else None,
            since=parse_date(self.query_one("#audit-since", Input).value),
            limit=SHOWN_EVENTS,
        )

    def load_events(self) -> None:
        """List the events of the current filters (a refused filter says why on the status line)."""
        self.generation += 1
        try:
            query = self.audit_query()
        except ValidationError as exc:
            self._status(app_error(exc), error=True)
            return
        self.fetch_events(self.generation, query)

    @work(thread=True, exclusive=True, exit_on_error=False, group="audit-list", name="list audit events")
    def fetch_events(self, generation: int, query: AuditQuery) -> None:
        session = self.session
        try:
            entries = session.audit_log(query)
            actions = session.audit_actions()
        except LiaisonError as exc:
            self.post_message(self.Refused("list", app_error(exc)))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(self.EventsLoaded(generation, entries, actions))

    @on(EventsLoaded)
    def _events_loaded(self, message: AuditScreen.EventsLoaded) -> None:
        if message.generation != self.generation:
            return
        select = self.query_one("#audit-action", Select)
        actions = tuple(message.actions)
        if actions != self._actions and not select.expanded:
            # Only when the names changed: resetting the options resets the choice (and filters again).
            self._actions = actions
            chosen = select.value
            with select.prevent(Select.Changed):
                select.set_options([(Text(visible(a)), a) for a in actions])
                if isinstance(chosen, str) and chosen in actions:
                    select.value = chosen
        self.entries = list(reversed(message.entries))
        self._draw()
        if self.report is None:
            shown = len(self.entries)
            more = " (the newest)" if shown >= SHOWN_EVENTS else ""
            self._status(f"{plural(shown, 'event')}{more} · v verifies the whole store against this log")
        else:  # the verification's verdict again (a refused filter's error, now corrected, is not left showing)
            self._status(verify_summary(self.report, self._first_bad() is not None), error=not self.report.ok)

    def _bad_seqs(self) -> set[int]:
        if self.report is None:
            return set()
        return {p.seq for p in self.report.problems if p.seq is not None}

    @staticmethod
    def _add_columns(table: DataTable[Text], widths: dict[str, int] | None = None) -> None:
        """The columns, each as wide as `widths` says (set, not sized by the cells as they arrive: a redraw racing
        a reload left them at their labels' widths), or sized by their cells before anything is listed."""
        for label, key in COLUMNS:
            table.add_column(Text(f" {label}"), key=key, width=widths[key] if widths else None)

    def _fit(self) -> tuple[Fit, dict[str, int]]:
        """How this table's cells are cut at its current width (its vertical scrollbar's room kept), and the
        columns' widths then."""
        table = self.query_one("#audit-events", DataTable)
        width = table.size.width - table.styles.scrollbar_size_vertical

        def widest(values: Iterable[str]) -> int:
            return max((cell_len(v) for v in values), default=0)

        entries = self.entries
        whole = {
            "seq": widest(str(e.seq) for e in entries),
            "key": widest(e.signer_fingerprint for e in entries),
            "reference": widest(visible(e.record_reference) for e in entries if e.record_reference),
        }
        fit = fit_columns(
            width,
            **whole,
            officer=widest(visible(e.officer) for e in entries),
            action=widest(visible(e.action) for e in entries),
            other=widest(visible(e.target) for e in entries if not e.record_reference),
        )
        return fit, column_widths(fit, **whole)

    def _draw(self, *, keep_cursor: bool = False) -> None:
        table = self.query_one("#audit-events", DataTable)
        at = table.cursor_row if keep_cursor and table.row_count else None
        table.clear(columns=True)  # the columns too: their widths only ever grow
        fit, widths = self._fit()
        self._add_columns(table, widths)
        self._drawn_fit = fit
        bad = self._bad_seqs()
        for entry in self.entries:
            style = BAD_STYLE if entry.seq in bad else ""
            about = (
                visible(entry.record_reference) if entry.record_reference else clip(visible(entry.target), fit.other)
            )
            cells = (
                str(entry.seq),
                entry.at.strftime(fit.time),
                clip(visible(entry.officer), fit.officer),
                clip(visible(entry.action), fit.action),
                entry.signer_fingerprint,
                about,
            )
            table.add_row(*(Text(f" {cell}", style=style) for cell in cells), key=str(entry.seq))
        first = self._first_bad()
        if first is not None:
            table.move_cursor(row=table.get_row_index(str(first)))
        elif at is not None and table.row_count:
            table.move_cursor(row=min(at, table.row_count - 1))

    def on_resize(self) -> None:
        """A new width may cut the cells differently (references stay whole at every width): once laid out, see."""
        self.call_after_refresh(self._refit)

    def _refit(self) -> None:
        if self.entries and self._fit()[0] != self._drawn_fit:
            self._draw(keep_cursor=True)

    def _first_bad(self) -> int | None:
        """The first bad event's seq, when it is listed."""
        if self.report is None or not self.report.problems:
            return None
        seq = self.report.problems[0].seq
        return seq if seq is not None and any(e.seq == seq for e in self.entries) else None

    @on(Input.Changed, "#audit-record, #audit-officer, #audit-since")
    @on(Select.Changed, "#audit-action")
    def _filters_changed(self) -> None:
        self.load_events()

    # ---- verifying ------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Verify waits (greyed) while a verification runs."""
        return None if action == "verify" and self.busy else True

    def action_verify(self) -> None:
        if not self.busy:
            self._status("verifying every signature, the chain, the checkpoints and every record…")
            self.verify_flow()

    @work(exclusive=True, exit_on_error=False, group="audit-flow", name="verify")
    async def verify_flow(self) -> None:
        report = await self.while_busy(self.run_verify())
        if isinstance(report, LiaisonError):
            self.post_message(self.Refused("verify", app_error(report)))
        elif report is not None:
            self.post_message(self.Verified(report))

    @work(thread=True, exclusive=True, exit_on_error=False, group="audit-verify", name="verify the store")
    def run_verify(self) -> AuditReport | LiaisonError:
        """The whole verification (one read transaction), reporting progress; a refusal is returned."""

        def progress(done: int, total: int) -> None:
            self.post_message(BundleProgress(done, total))

        try:
            return self.session.audit_verify(progress=progress)
        except LiaisonError as exc:
            return exc

    @on(BundleProgress)
    def _progress(self, message: BundleProgress) -> None:
        self.query_one("#audit-progress", ProgressBar).update(total=message.total, progress=message.done)

    @on(Verified)
    def _verified(self, message: AuditScreen.Verified) -> None:
        self.report = message.report
        self._draw()
        self._status(verify_summary(message.report, self._first_bad() is not None), error=not message.report.ok)

    @on(Refused)
    def _refused(self, message: AuditScreen.Refused) -> None:
        self._status(f"{message.step} refused: {message.reason}", error=True)

    # ---- navigation -----------------------------------------------------------------------------

    @on(DataTable.RowSelected, "#audit-events")
    def _open(self, message: DataTable.RowSelected) -> None:
        from tui.screens.detail import DetailScreen

        seq = int(str(message.row_key.value))
        entry = next((e for e in self.entries if e.seq == seq), None)
        if entry is not None and entry.record_reference:
            self.app.push_screen(DetailScreen(entry.record_reference))

    def action_focus_filters(self) -> None:
        self.query_one("#audit-record", Input).focus()

    def action_back(self) -> None:
        if isinstance(self.focused, Input | Select):
            self.query_one("#audit-events", DataTable).focus()
        else:
            self.dismiss()

    def on_store_changed(self) -> None:
        self.load_events()

    async def forget(self) -> None:
        self.entries = []
        self.report = None
        self.query_one("#audit-events", DataTable).clear()

    def _status(self, text: str, *, error: bool = False) -> None:
        self.query_one("#audit-status", StatusLine).show(text, error=error)
