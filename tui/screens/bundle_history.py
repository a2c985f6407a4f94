"""Bundle history: every bundle sent and received — when, to or from whom, how many records, acknowledged or not."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import DataTable, Footer, Header, Static
from textual.worker import get_current_worker

from store.errors import LiaisonError
from store.history import BundleEntry
from store.text import visible
from tui.present import app_error, plural
from tui.screens.base import LiaisonScreen
from tui.widgets.row_table import RowTable
from tui.widgets.status_line import StatusLine

#: What the direction filter shows, in the order `d` cycles through.
DIRECTIONS: tuple[str | None, ...] = (None, "sent", "received")


def acknowledged_text(entry: BundleEntry) -> Text:
    """Whether the bundle was acknowledged, and on which day (for a sent one, how many records the receipt confirmed):
    short enough that the table's first six columns fit 80 columns; the line under the table gives the time."""
    if not entry.acknowledged:
        return Text("no", style="bold yellow" if entry.direction == "sent" else "dim")
    when = f" {entry.receipt_at:%Y-%m-%d}" if entry.receipt_at else ""
    if entry.direction == "sent":
        return Text(f"yes{when} ({entry.acknowledged_records}/{entry.records})", style="green")
    return Text(f"receipt{when}", style="green")


def detail_text(entry: BundleEntry) -> Text:
    """The highlighted bundle in full, under the table: its id, who sent or imported it, the receipt's time."""
    out = Text(end="")
    out.append(f"bundle {visible(entry.bundle_id)}", style="bold")
    verb = "sent" if entry.direction == "sent" else "imported"
    out.append(f" · {verb} by {visible(entry.officer)} {entry.at:%Y-%m-%d %H:%M} UTC")
    if entry.acknowledged and entry.receipt_at is not None:
        what = "receipt processed" if entry.direction == "sent" else "receipt written"
        out.append(f" · {what} {entry.receipt_at:%Y-%m-%d %H:%M} UTC", style="green")
    elif entry.direction == "sent":
        out.append(" · no receipt yet", style="yellow")
    return out


class BundleHistoryScreen(LiaisonScreen):
    """Newest first; `d` shows sent only, received only, or both."""

    REOPENS = True

    AUTO_FOCUS = "#bundles"

    DEFAULT_CSS = """
    BundleHistoryScreen {
        & #bundles { height: 1fr; }
        & #bundles-status { padding: 0 1; }
        & #bundles-detail { padding: 0 1; height: auto; background: $boost; }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "d",
            "cycle_direction",
            "Sent/received",
            tooltip="Show sent bundles only, received only, or both.",
            id="bundles.direction",
        ),
        Binding("escape", "back", "Back", tooltip="Back to the previous screen.", id="bundles.back"),
    ]

    #: The bundles shown, by id (the line under the table describes the highlighted one).
    entries: dict[str, BundleEntry]

    #: `sent`, `received`, or None for both.
    direction: reactive[str | None] = reactive(None, init=False)

    @dataclass
    class Loaded(Message):
        """The bundle history under the direction filter."""

        entries: Sequence[BundleEntry]

    @dataclass
    class Refused(Message):
        """The store refused to list the history."""

        reason: str

    def compose(self) -> ComposeResult:
        yield Header()
        yield StatusLine("reading the bundle history…", id="bundles-status")
        yield RowTable(id="bundles", cursor_type="row", zebra_stripes=True)
        yield Static("", id="bundles-detail")
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.entries = {}
        self.sub_title = "Bundle history"
        table = self.query_one("#bundles", DataTable)
        table.add_column("When (UTC)", key="at")
        table.add_column("", key="direction")
        table.add_column("Counterpart", key="counterpart")
        table.add_column("Seq", key="seq")
        table.add_column("Records", key="records")
        table.add_column("Acknowledged", key="acknowledged")
        table.add_column("Officer", key="officer")
        table.add_column("Bundle", key="bundle")
        self.load_history()

    @work(thread=True, exclusive=True, exit_on_error=False, group="history", name="load bundle history")
    def load_history(self) -> None:
        """Every bundle in the sharing ledger, newest first."""
        try:
            entries = self.session.bundle_history(direction=self.direction)
        except LiaisonError as exc:
            self.post_message(self.Refused(app_error(exc)))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(self.Loaded(entries))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        table = self.query_one("#bundles", DataTable)
        table.clear()
        self.entries = {entry.bundle_id: entry for entry in message.entries}
        self.query_one("#bundles-detail", Static).update("")
        for entry in message.entries:
            arrow = "→ to" if entry.direction == "sent" else "← from"
            records = f"{entry.records:,}" + (f" (+{entry.withdrawals} withdrawn)" if entry.withdrawals else "")
            table.add_row(
                f"{entry.at:%Y-%m-%d %H:%M}",
                arrow,
                Text(visible(entry.counterpart)),
                str(entry.seq),
                records,
                acknowledged_text(entry),
                Text(visible(entry.officer)),
                Text(visible(entry.bundle_id[:8])),
                key=entry.bundle_id,
            )
        what = {None: "sent and received", "sent": "sent", "received": "received"}[self.direction]
        if message.entries:
            waiting = sum(1 for e in message.entries if e.direction == "sent" and not e.acknowledged)
            line = f"{plural(len(message.entries), 'bundle')} {what}"
            if waiting:
                line += f" · {waiting} sent without a receipt yet"
        else:
            line = f"No bundles {what} yet."
        self.query_one("#bundles-status", StatusLine).show(line + " · d: sent/received/both")

    @on(DataTable.RowHighlighted)
    def _highlighted(self, message: DataTable.RowHighlighted) -> None:
        entry = self.entries.get(str(message.row_key.value))
        if entry is not None:
            self.query_one("#bundles-detail", Static).update(detail_text(entry))

    @on(Refused)
    def _refused(self, message: Refused) -> None:
        self.query_one("#bundles-status", StatusLine).show(message.reason, error=True)

    def watch_direction(self, _direction: str | None) -> None:
        self.load_history()

    def action_cycle_direction(self) -> None:
        self.direction = DIRECTIONS[(DIRECTIONS.index(self.direction) + 1) % len(DIRECTIONS)]

    def action_back(self) -> None:
        self.dismiss()

    def on_store_changed(self) -> None:
        self.load_history()

    async def forget(self) -> None:
        self.query_one("#bundles", DataTable).clear()
        self.entries = {}
        self.query_one("#bundles-detail", Static).update("")
