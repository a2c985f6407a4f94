"""The working-group dashboard: next meeting, review queue, overdue actions, shares and acknowledgements as charts.

Everything comes from `Session.desk_stats` (plaintext tags, the sharing ledger and action dates: nothing is
decrypted) plus the meeting calendar, read in one thread worker that posts `DashboardScreen.Loaded`.
`t` shows every chart as a table; tab moves between the panels.

Once the numbers are drawn, a second worker asks the store which desk items differ from their signed events in
the audit log (`Session.desk_damaged`, Threat 25): a banner names each with why (the counts above still include
them, as the file holds them; the store refuses to act on them and never sends them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Footer, Header, Static
from textual.worker import get_current_worker

from store.errors import LiaisonError
from store.jwg.quarter import Quarter
from store.records import RecordQuery
from store.text import visible
from store.vocab import Status
from tui.present import app_error, plural
from tui.screens.base import LiaisonScreen
from tui.widgets.charts import Chart, ChartPanel, rows_of
from tui.widgets.record_cells import DAMAGED_MARK
from tui.widgets.status_line import StatusLine

#: How many quarters the trend covers (two years).
TREND_QUARTERS = 8
#: How many damaged desk items the banner names (the rest are counted).
DAMAGE_LINES = 4


@dataclass(frozen=True)
class DashboardData:
    """What the dashboard shows, computed off the UI thread."""

    today: date
    quarter: str
    next_meeting: str | None
    next_day: date | None
    next_venue: str
    next_host: str
    #: The latest meeting passed and not marked held: (what, how to mark it), or None (`DeskSummary.not_held_parts`).
    not_held: tuple[str, str] | None
    in_review: int
    unplanned: tuple[str, ...]
    overdue: Chart
    domains: Chart
    counterparts: Chart
    trend: Chart
    unacked: Chart
    ack_days: Chart


def compute(session: object) -> DashboardData:
    """Read the dashboard's numbers from the store (no record is decrypted; the next meeting's venue is)."""
    from store.service import Session

    assert isinstance(session, Session)
    today = session.clock().date()
    q = Quarter.of(today)
    start = datetime(q.first_day.year, q.first_day.month, q.first_day.day, tzinfo=UTC)
    nq = q.next().first_day
    stats = session.desk_stats(since=start, until=datetime(nq.year, nq.month, nq.day, tzinfo=UTC), today=today)
    desk = session.desk_summary()
    nxt = desk.next
    in_review = session.count_records(RecordQuery(statuses=frozenset({Status.IN_REVIEW})))
    unplanned = tuple(session.unplanned_quarters())

    owners = sorted(stats.overdue)
    overdue = Chart("Overdue actions by owner", ("overdue",), *rows_of(owners, [[stats.overdue[o]] for o in owners]))

    domains = sorted({d for d, _w, _c in stats.shares})
    per_domain = [
        [sum(n for (d2, w, _c), n in stats.shares.items() if d2 == d and w == way) for way in ("sent", "received")]
        for d in domains
    ]
    domain_chart = Chart(f"Shares per domain, {q}", ("sent", "received"), *rows_of(domains, per_domain))

    peers = sorted({c for _d, _w, c in stats.shares})
    per_peer = [
        [sum(n for (_d, w, c2), n in stats.shares.items() if c2 == c and w == way) for way in ("sent", "received")]
        for c in peers
    ]
    peer_chart = Chart(f"Shares per counterpart, {q}", ("sent", "received"), *rows_of(peers, per_peer))

    quarters = [str(q.shifted(-i)) for i in range(TREND_QUARTERS - 1, -1, -1)]
    trend_rows = [[stats.shares_by_quarter.get((qq, way), 0) for way in ("sent", "received")] for qq in quarters]
    trend = Chart(
        "Shares per quarter, last two years", ("sent", "received"), *rows_of(quarters, trend_rows), kind="columns"
    )

    unacked_peers = sorted({c for _d, c in stats.unacknowledged})
    unacked = Chart(
        "Shared, not yet acknowledged (by counterpart)",
        ("records",),
        *rows_of(
            unacked_peers, [[sum(n for (_d, c2), n in stats.unacknowledged.items() if c2 == c)] for c in unacked_peers]
        ),
        note=f"{plural(sum(stats.unacknowledged.values()), 'record')} shared and still unacknowledged",
    )
    ack_quarters = [qq for qq in quarters if qq in stats.median_ack_days]
    ack_days = Chart(
        "Median days shared → acknowledged, per quarter",
        ("days",),
        *rows_of(ack_quarters, [[stats.median_ack_days[qq]] for qq in ack_quarters]),
        unit=" d",
    )
    return DashboardData(
        today,
        str(q),
        nxt.quarter if nxt else None,
        nxt.day if nxt else None,
        nxt.venue if nxt else "",
        nxt.host if nxt else "",
        desk.not_held_parts(),
        in_review,
        unplanned,
        overdue,
        domain_chart,
        peer_chart,
        trend,
        unacked,
        ack_days,
    )


def summary_text(data: DashboardData) -> Text:
    """The counts at the top: next meeting and countdown, review queue, unplanned quarters."""
    out = Text(end="")
    out.append("Next meeting  ", style="bold")
    if data.next_meeting and data.next_day:
        days = (data.next_day - data.today).days
        when = "today" if days == 0 else ("tomorrow" if days == 1 else f"in {days} days")
        out.append(f"{data.next_meeting} · {data.next_day:%Y-%m-%d} · ")
        out.append(when, style="bold green" if days > 7 else "bold yellow")
        out.append(" · ")
        out.append(visible(data.next_venue))
        out.append(f" (host {visible(data.next_host)})", style="dim")
    if data.not_held is not None:
        # the last meeting passed without being marked held: say so rather than "none planned"
        what, how = data.not_held
        if data.next_meeting and data.next_day:
            out.append("\nLast meeting  ", style="bold")
        out.append(visible(what), style="bold yellow")
        out.append("\nMark it held  ", style="bold")
        out.append(visible(how))
    elif not (data.next_meeting and data.next_day):
        out.append("none planned", style="bold yellow")
    out.append("\nIn review     ", style="bold")
    out.append(plural(data.in_review, "record") + " waiting", style="bold yellow" if data.in_review else "")
    out.append("\nNo meeting    ", style="bold")
    if data.unplanned:
        out.append(", ".join(data.unplanned) + " (no meeting planned yet)", style="bold yellow")
    else:
        out.append("every quarter of the coming year has a meeting planned", style="green")
    return out


class DashboardScreen(LiaisonScreen):
    """Charts and counts of the working-group desk; `t` table/chart, `m` meetings, tab between panels."""

    REOPENS = True

    AUTO_FOCUS = "#dash-overdue"

    DEFAULT_CSS = """
    DashboardScreen {
        & #dash-body { height: 1fr; }
        & #dash-summary { padding: 0 1; height: auto; }
        & #dash-status { padding: 0 1; }
        & #dash-damaged { background: $error-muted; color: $text-error; text-style: bold; }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "t", "toggle_table", "Table/chart", tooltip="Show the numbers as tables, or as charts.", id="desk.table"
        ),
        Binding("m", "meetings", "Meetings", tooltip="The working group's meetings.", id="desk.meetings"),
        Binding("escape", "back", "Back", tooltip="Back to the previous screen.", id="desk.back"),
    ]

    PANELS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("dash-overdue", "overdue"),
        ("dash-domains", "domains"),
        ("dash-counterparts", "counterparts"),
        ("dash-trend", "trend"),
        ("dash-unacked", "unacked"),
        ("dash-ackdays", "ack_days"),
    )

    @dataclass
    class Loaded(Message):
        """The dashboard's numbers."""

        data: DashboardData

    @dataclass
    class Refused(Message):
        """The store refused to compute them."""

        reason: str

    @dataclass
    class DeskChecked(Message):
        """Why each damaged desk item differs from its signed event (empty: the desk is intact)."""

        damaged: list[str]

    def compose(self) -> ComposeResult:
        yield Header()
        yield StatusLine(error=True, hide_when_empty=True, id="dash-damaged")
        yield StatusLine("reading the desk's numbers…", id="dash-status", hide_when_empty=True)
        with VerticalScroll(id="dash-body"):
            yield Static("", id="dash-summary")
            for panel_id, _attr in self.PANELS:
                yield ChartPanel("…", id=panel_id)
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.sub_title = "Dashboard"
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="dashboard", name="load dashboard")
    def load(self) -> None:
        """Compute the numbers off the UI thread."""
        try:
            data = compute(self.session)
        except LiaisonError as exc:
            self.post_message(self.Refused(app_error(exc)))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(self.Loaded(data))

    @work(thread=True, exclusive=True, exit_on_error=False, group="dashboard-check", name="check desk")
    def check_desk(self) -> None:
        """Which desk items the store finds damaged (after the numbers: it verifies a signature per item)."""
        try:
            damaged = self.session.desk_damaged()
        except LiaisonError as exc:
            self.post_message(self.Refused(app_error(exc)))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(self.DeskChecked(damaged))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        data = message.data
        self.query_one("#dash-summary", Static).update(summary_text(data))
        for panel_id, attr in self.PANELS:
            panel = self.query_one(f"#{panel_id}", ChartPanel)
            chart: Chart = getattr(data, attr)
            panel.border_title = chart.title
            panel.chart = chart
        self.query_one("#dash-status", StatusLine).show(
            f"{data.today:%Y-%m-%d} · {data.quarter} · t: tables · m: meetings · tab: next panel"
        )
        # after the charts are on screen: the check verifies a signature per desk item, and its thread would
        # otherwise compete with the first paint for the interpreter
        self.call_after_refresh(self.check_desk)

    @on(DeskChecked)
    def _checked(self, message: DeskChecked) -> None:
        banner = self.query_one("#dash-damaged", StatusLine)
        if not message.damaged:
            banner.clear()
            return
        n = len(message.damaged)
        reasons = list(dict.fromkeys(message.damaged))  # a damaged log gives every item the same reason
        lines = [
            f"{DAMAGED_MARK}DAMAGED — {plural(n, 'desk item')} {'differs' if n == 1 else 'differ'} from the signed "
            "audit log (counted here as the file holds them; never acted on or sent; A then v checks the store):",
            *(f"  {why}" for why in reasons[:DAMAGE_LINES]),
        ]
        if len(reasons) > DAMAGE_LINES:
            lines.append(f"  … and {len(reasons) - DAMAGE_LINES} more (the meetings screen marks each)")
        banner.show("\n".join(lines), error=True)

    @on(Refused)
    def _refused(self, message: Refused) -> None:
        self.query_one("#dash-status", StatusLine).show(message.reason, error=True)

    def action_toggle_table(self) -> None:
        for panel in self.query(ChartPanel):
            panel.as_table = not panel.as_table

    def action_meetings(self) -> None:
        from tui.screens.meetings import MeetingsScreen

        self.app.push_screen(MeetingsScreen())

    def action_back(self) -> None:
        self.dismiss()

    def on_store_changed(self) -> None:
        self.load()

    async def forget(self) -> None:
        self.query_one("#dash-summary", Static).update("")
        for panel in self.query(ChartPanel):
            panel.chart = None
