"""The working group's meetings: the list, and one meeting's agenda with outcomes and actions (its pack:
`tui/screens/pack.py`; the text drawn: `tui/widgets/desk_text.py`).

Every read and write runs in a thread worker posting a typed message; the store decides what is allowed
(who may mark a meeting held, a due date before the meeting, an unknown owner …) and its refusal is shown on
the screen's status line. Every stored text is drawn as `rich.text.Text` through `store.text.visible`.

A desk item that differs from its signed event in the audit log (the store's `damaged`, Threat 25) is marked
`✗` in the error colour with its reason beside it (the list's status line, the meeting's text); the store
refuses to open or change a damaged meeting, and the meeting screen then shows only that refusal, in a banner,
with none of its keys offered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Footer, Header, Static
from textual.worker import get_current_worker

from store.errors import IntegrityError, LiaisonError
from store.jwg.actions import ActionInfo
from store.jwg.meetings import MeetingInfo
from store.service import Session
from store.text import visible
from tui.present import app_error, plural
from tui.screens.base import LiaisonScreen, ResumePoint
from tui.widgets.desk_text import DAMAGED, damaged_count, meeting_text
from tui.widgets.record_cells import DAMAGED_MARK
from tui.widgets.row_table import RowTable
from tui.widgets.status_line import StatusLine


class MeetingsScreen(LiaisonScreen):
    """Every meeting, oldest quarter first; `enter` opens one."""

    REOPENS = True

    AUTO_FOCUS = "#meetings"

    DEFAULT_CSS = """
    MeetingsScreen {
        & #meetings { height: 1fr; }
        & #meetings-status { padding: 0 1; }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", tooltip="Back to the previous screen.", id="meetings.back"),
    ]

    @dataclass
    class Loaded(Message):
        """The meetings and the quarters with none planned."""

        meetings: Sequence[MeetingInfo]
        unplanned: Sequence[str]
        next_quarter: str | None

    @dataclass
    class Refused(Message):
        """The store refused to list the meetings."""

        reason: str

    def __init__(self) -> None:
        super().__init__()
        #: Why each damaged meeting (by quarter) differs from its signed event; said when its row is highlighted.
        self.damaged: dict[str, str] = {}
        self.line = ""

    def compose(self) -> ComposeResult:
        yield Header()
        yield StatusLine("reading the meetings…", id="meetings-status")
        yield RowTable(id="meetings", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.sub_title = "Meetings"
        table = self.query_one("#meetings", DataTable)
        for label, key in (
            ("Quarter", "q"),
            ("Day", "day"),
            ("Status", "status"),
            ("Host", "host"),
            ("Venue", "venue"),
        ):
            table.add_column(label, key=key)
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="meetings", name="load meetings")
    def load(self) -> None:
        session = self.session
        try:
            meetings = session.meetings()
            unplanned = session.unplanned_quarters()
            nxt = session.next_meeting()
        except LiaisonError as exc:
            self.post_message(self.Refused(app_error(exc)))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(self.Loaded(meetings, unplanned, nxt.quarter if nxt else None))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        table = self.query_one("#meetings", DataTable)
        table.clear()
        self.damaged = {m.quarter: m.damaged for m in message.meetings if m.damaged is not None}
        cursor = 0
        for i, m in enumerate(message.meetings):
            if m.quarter == message.next_quarter:
                cursor = i
            if m.damaged is not None:
                quarter = Text(f"{DAMAGED_MARK}{visible(m.quarter)}", style=DAMAGED)
            else:
                quarter = Text(visible(m.quarter), style="bold" if m.quarter == message.next_quarter else "")
            table.add_row(
                quarter,
                f"{m.day:%Y-%m-%d}",
                Text(visible(m.status), style="green" if m.status == "held" else "yellow"),
                Text(visible(m.host)),
                Text(visible(m.venue)),
                key=m.quarter,
            )
        line = f"{plural(len(message.meetings), 'meeting')} · enter: open"
        if self.damaged:
            line += f" · {DAMAGED_MARK}damaged: differs from the audit log"
        if message.unplanned:
            line += f" · no meeting planned yet for {', '.join(message.unplanned)}"
        self.line = line
        self.query_one("#meetings-status", StatusLine).show(line)
        if message.meetings:
            table.move_cursor(row=cursor)

    @on(DataTable.RowHighlighted, "#meetings")
    def _highlighted(self, message: DataTable.RowHighlighted) -> None:
        """On a damaged meeting the status line says why (the store refuses to open or change it)."""
        why = self.damaged.get(str(message.row_key.value))
        status = self.query_one("#meetings-status", StatusLine)
        if why is not None:
            status.show(f"{DAMAGED_MARK}DAMAGED: {why}; it cannot be opened or changed (A, then v: verify)", error=True)
        elif self.line:
            status.show(self.line)

    @on(Refused)
    def _refused(self, message: Refused) -> None:
        self.query_one("#meetings-status", StatusLine).show(message.reason, error=True)

    @on(DataTable.RowSelected, "#meetings")
    def _open(self, message: DataTable.RowSelected) -> None:
        if message.row_key.value:
            self.app.push_screen(MeetingScreen(message.row_key.value))

    def action_back(self) -> None:
        self.dismiss()

    def on_store_changed(self) -> None:
        self.load()

    async def forget(self) -> None:
        self.query_one("#meetings", DataTable).clear()


class MeetingScreen(LiaisonScreen):
    """One meeting: `a` records an outcome (with an action), `h` marks it held, `p` previews and writes its pack."""

    AUTO_FOCUS = "#meeting-body"

    DEFAULT_CSS = """
    MeetingScreen {
        & #meeting-body { height: 1fr; padding: 0 1; }
        & #meeting-status { padding: 0 1; }
        & #meeting-damaged { background: $error-muted; color: $text-error; text-style: bold; }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "a",
            "add_outcome",
            "Outcome",
            tooltip="Record an outcome, with an action for a ministry.",
            id="meeting.outcome",
        ),
        Binding(
            "h",
            "mark_held",
            "Held",
            tooltip="Mark this meeting held (the planning ministry, not before its day).",
            id="meeting.held",
        ),
        Binding("p", "pack", "Pack", tooltip="Preview the meeting pack and write it to a file.", id="meeting.pack"),
        Binding("escape", "back", "Back", tooltip="Back to the meetings.", id="meeting.back"),
    ]

    @dataclass
    class Loaded(Message):
        """The meeting with its agenda, its actions, and defaults for a new outcome."""

        meeting: MeetingInfo
        actions: Sequence[ActionInfo]
        counterpart: str
        domain: str

    @dataclass
    class Said(Message):
        """A line for the status line (an error when `error`)."""

        text: str
        error: bool = False

    @dataclass
    class Damaged(Message):
        """The store refused to show the meeting: it differs from its signed event (`reason` says how)."""

        reason: str

    def __init__(self, quarter: str) -> None:
        super().__init__()
        self.quarter = quarter
        self.defaults: tuple[str, str, str] = ("", "", "")
        #: The last thing done on this screen, kept on the status line when the meeting reloads.
        self.notice = ""
        #: True once the meeting is shown: its keys act only on a meeting the store let us read.
        self.shown = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield StatusLine(error=True, hide_when_empty=True, id="meeting-damaged")
        yield StatusLine("reading the meeting…", id="meeting-status")
        with VerticalScroll(id="meeting-body", can_focus=True):
            yield Static("", id="meeting-text")
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.sub_title = f"Meeting {visible(self.quarter)}"
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="meeting", name="load meeting")
    def load(self, said: str = "") -> None:
        session = self.session
        try:
            m = session.meeting(self.quarter)
            actions = session.actions(meeting=m.quarter)
            own = session.ministry
            others = sorted({x.host for x in session.meetings()} - {own})
            domains = [slug for slug, _label in session.domains()]
        except IntegrityError as exc:  # the meeting (or the log) differs from what was signed: the store refuses it
            self.post_message(self.Damaged(app_error(exc)))
            return
        except LiaisonError as exc:
            self.post_message(self.Said(app_error(exc), error=True))
            return
        counterpart = others[0] if others else ""
        domain = m.agenda[-1].domain if m.agenda else (domains[0] if domains else "")
        if not get_current_worker().is_cancelled:
            self.post_message(self.Loaded(m, actions, counterpart, domain))
            if said:
                self.post_message(self.Said(said))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        m = message.meeting
        self.defaults = (message.domain, message.counterpart, f"{m.day + timedelta(days=30):%Y-%m-%d}")
        self.shown = True
        self.refresh_bindings()
        self.query_one("#meeting-damaged", StatusLine).clear()
        self.query_one("#meeting-text", Static).update(meeting_text(m, message.actions))
        line = f"{plural(len(m.agenda), 'agenda item')} · {plural(len(message.actions), 'action')}"
        damaged = damaged_count(m, message.actions)
        if damaged:
            line += f" · {DAMAGED_MARK}{damaged} damaged (differ from the audit log: not acted on, not sent)"
        line += " · a: outcome  h: held  p: pack"
        self.query_one("#meeting-status", StatusLine).show(f"{self.notice} · {line}" if self.notice else line)

    @on(Damaged)
    def _damaged(self, message: Damaged) -> None:
        self.shown = False
        self.refresh_bindings()
        self.query_one("#meeting-text", Static).update("")
        self.query_one("#meeting-damaged", StatusLine).show(
            f"{DAMAGED_MARK}DAMAGED — {message.reason}. The meeting cannot be opened or changed, and is not sent to "
            "the counterpart; A then v checks the whole store.",
            error=True,
        )
        self.query_one("#meeting-status", StatusLine).show("escape: back to the meetings")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Outcome, held and pack only on a meeting the store showed (none on a damaged one)."""
        return self.shown or action not in {"add_outcome", "mark_held", "pack"}

    @on(Said)
    def _said(self, message: Said) -> None:
        self.notice = "" if message.error else message.text
        self.query_one("#meeting-status", StatusLine).show(message.text, error=message.error)

    def action_add_outcome(self) -> None:
        from tui.modals.outcome import OutcomeModal

        domain, owner, due = self.defaults
        self.app.push_screen(
            OutcomeModal(Text(f"Outcome of the meeting {visible(self.quarter)}"), domain=domain, owner=owner, due=due),
            callback=self._outcome,
        )

    def _outcome(self, form: object) -> None:
        from tui.modals.outcome import OutcomeForm

        if isinstance(form, OutcomeForm):
            self.save_outcome(form)

    @work(thread=True, exclusive=True, exit_on_error=False, group="meeting-write", name="record outcome")
    def save_outcome(self, form: object) -> None:
        """An action for `owner` (added to the agenda by the store), or a decision when no owner is given."""
        from tui.modals.outcome import OutcomeForm

        assert isinstance(form, OutcomeForm)
        session = self.session
        try:
            if form.owner:
                code = session.add_action(form.text, form.domain, form.owner, form.due, meeting=self.quarter)
                said = f"action {code} for {form.owner} recorded (it travels in the next bundle to the counterpart)"
            else:
                session.add_agenda_item(self.quarter, form.domain, form.text, "decision")
                said = "decision recorded"
        except LiaisonError as exc:
            self.post_message(self.Said(f"outcome not recorded: {app_error(exc)}", error=True))
            return
        self.load(said)

    def action_mark_held(self) -> None:
        self.mark_held()

    @work(thread=True, exclusive=True, exit_on_error=False, group="meeting-write", name="mark meeting held")
    def mark_held(self) -> None:
        try:
            self.session.mark_meeting_held(self.quarter)
        except LiaisonError as exc:
            self.post_message(self.Said(f"not marked held: {app_error(exc)}", error=True))
            return
        self.load(f"meeting {self.quarter} marked held")

    def action_pack(self) -> None:
        from tui.screens.pack import PackScreen

        self.app.push_screen(PackScreen(self.quarter))

    def action_back(self) -> None:
        self.dismiss()

    def on_store_changed(self) -> None:
        self.load()

    def resume_point(self, session: Session) -> ResumePoint:
        """Unlocking opens this meeting again (its quarter is a plaintext tag, nothing decrypted is kept)."""
        return ResumePoint("screen", {"screen": MeetingScreen, "args": (self.quarter,)})

    async def forget(self) -> None:
        self.query_one("#meeting-text", Static).update("")
