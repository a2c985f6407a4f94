"""The working group's meetings: the list, one meeting's agenda with outcomes and actions, and its pack (preview, write).

Every read and write runs in a thread worker posting a typed message; the store decides what is allowed
(who may mark a meeting held, a due date before the meeting, an unknown owner …) and its refusal is shown on
the screen's status line. Every stored text is drawn as `rich.text.Text` through `store.text.visible`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Footer, Header, Static
from textual.worker import get_current_worker

from store.errors import LiaisonError
from store.files import TargetExists
from store.jwg.actions import ActionInfo
from store.jwg.meetings import MeetingInfo
from store.text import visible
from tui.present import app_error, plural
from tui.screens.base import LiaisonScreen
from tui.widgets.status_line import StatusLine

STATUS_STYLE = {"open": "bold", "done": "green", "dropped": "dim"}


class MeetingsScreen(LiaisonScreen):
    """Every meeting, oldest quarter first; `enter` opens one."""

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

    def compose(self) -> ComposeResult:
        yield Header()
        yield StatusLine("reading the meetings…", id="meetings-status")
        yield DataTable(id="meetings", cursor_type="row", zebra_stripes=True)
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
        cursor = 0
        for i, m in enumerate(message.meetings):
            if m.quarter == message.next_quarter:
                cursor = i
            table.add_row(
                Text(visible(m.quarter), style="bold" if m.quarter == message.next_quarter else ""),
                f"{m.day:%Y-%m-%d}",
                Text(visible(m.status), style="green" if m.status == "held" else "yellow"),
                Text(visible(m.host)),
                Text(visible(m.venue)),
                key=m.quarter,
            )
        if message.meetings:
            table.move_cursor(row=cursor)
        line = f"{plural(len(message.meetings), 'meeting')} · enter: open"
        if message.unplanned:
            line += f" · no meeting planned yet for {', '.join(message.unplanned)}"
        self.query_one("#meetings-status", StatusLine).show(line)

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


def action_line(a: ActionInfo) -> Text:
    """`PK-MOI-A7  TR-MOI  due 2026-12-01  open  title` (overdue in red)."""
    out = Text(end="")
    out.append(f"{visible(a.id)}  ", style="bold")
    out.append(f"{visible(a.owner)}  ")
    out.append(f"due {a.due:%Y-%m-%d}  ", style="bold red" if a.overdue else "")
    out.append(f"{visible(a.status)}{' (overdue)' if a.overdue else ''}  ", style=STATUS_STYLE.get(a.status, ""))
    out.append(visible(a.title))
    if a.note:
        out.append(f" — {visible(a.note)}", style="dim")
    return out


def meeting_text(m: MeetingInfo, actions: Sequence[ActionInfo]) -> Text:
    """The meeting: header, agenda per domain with outcomes (and the action each names), actions, carried forward."""
    by_code = {a.id: a for a in actions}
    out = Text(end="")
    out.append(f"{visible(m.quarter)}  {m.day:%Y-%m-%d}  ", style="bold")
    out.append(visible(m.venue))
    out.append(f"  host {visible(m.host)}  ", style="dim")
    out.append(visible(m.status), style="green" if m.status == "held" else "yellow")
    out.append("\n")
    if m.minutes:
        out.append("\nMinutes\n", style="bold underline")
        out.append(visible(m.minutes, multiline=True) + "\n")
    out.append("\nAgenda\n", style="bold underline")
    if not m.agenda:
        out.append("  nothing on the agenda yet (a: record an outcome)\n", style="dim")
    domain = None
    for item in m.agenda:
        if item.domain != domain:
            domain = item.domain
            out.append(f"\n  {visible(domain)}\n", style="bold cyan")
        out.append(f"    [{visible(item.outcome)}] ", style="magenta")
        out.append(visible(item.text, multiline=False))
        if item.action:
            a = by_code.get(item.action)
            out.append(f"  → {visible(item.action)}", style="bold")
            if a is not None:
                out.append(f" {visible(a.owner)} due {a.due:%Y-%m-%d} {visible(a.status)}", style="dim")
        out.append("\n")
    out.append("\nActions agreed\n", style="bold underline")
    if not actions:
        out.append("  none\n", style="dim")
    for a in actions:
        out.append("  ")
        out.append_text(action_line(a))
        out.append("\n")
    out.append("\nCarried forward (open on this meeting's day)\n", style="bold underline")
    if not m.carried:
        out.append("  none\n", style="dim")
    for a in m.carried:
        out.append("  ")
        out.append_text(action_line(a))
        out.append("\n")
    return out


class MeetingScreen(LiaisonScreen):
    """One meeting: `a` records an outcome (with an action), `h` marks it held, `p` previews and writes its pack."""

    AUTO_FOCUS = "#meeting-body"

    DEFAULT_CSS = """
    MeetingScreen {
        & #meeting-body { height: 1fr; padding: 0 1; }
        & #meeting-status { padding: 0 1; }
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

    def __init__(self, quarter: str) -> None:
        super().__init__()
        self.quarter = quarter
        self.defaults: tuple[str, str, str] = ("", "", "")
        #: The last thing done on this screen, kept on the status line when the meeting reloads.
        self.notice = ""

    def compose(self) -> ComposeResult:
        yield Header()
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
        self.query_one("#meeting-text", Static).update(meeting_text(m, message.actions))
        line = f"{plural(len(m.agenda), 'agenda item')} · {plural(len(message.actions), 'action')} · a: outcome  h: held  p: pack"
        self.query_one("#meeting-status", StatusLine).show(f"{self.notice} · {line}" if self.notice else line)

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
        self.app.push_screen(PackScreen(self.quarter))

    def action_back(self) -> None:
        self.dismiss()

    def on_store_changed(self) -> None:
        self.load()

    async def forget(self) -> None:
        self.query_one("#meeting-text", Static).update("")


class PackScreen(LiaisonScreen):
    """The meeting pack as it would be written (Markdown source, drawn as plain text); `w` writes it to a file
    (a PDF when the name ends in `.pdf`), `s` seals it for the counterpart in a bundle."""

    AUTO_FOCUS = "#pack-body"

    DEFAULT_CSS = """
    PackScreen {
        & #pack-body { height: 1fr; padding: 0 1; }
        & #pack-status { padding: 0 1; }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "w",
            "write",
            "Write",
            tooltip="Write the pack to a Markdown file (or a PDF: name it .pdf).",
            id="pack.write",
        ),
        Binding("s", "seal", "Seal", tooltip="Seal the pack for the counterpart in a bundle.", id="pack.seal"),
        Binding("escape", "back", "Back", tooltip="Back to the meeting.", id="pack.back"),
    ]

    @dataclass
    class Loaded(Message):
        """The pack's text."""

        text: str

    @dataclass
    class Said(Message):
        """A line for the status line (an error when `error`)."""

        text: str
        error: bool = False

    def __init__(self, quarter: str) -> None:
        super().__init__()
        self.quarter = quarter

    def compose(self) -> ComposeResult:
        yield Header()
        yield StatusLine("preparing the pack…", id="pack-status")
        with VerticalScroll(id="pack-body", can_focus=True):
            yield Static("", id="pack-text")
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.sub_title = f"Pack {visible(self.quarter)}"
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="pack", name="prepare pack")
    def load(self) -> None:
        from store.jwg.pack import meeting_pack

        try:
            text = meeting_pack(self.session, self.quarter)
        except LiaisonError as exc:
            self.post_message(self.Said(app_error(exc), error=True))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(self.Loaded(text))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        self.query_one("#pack-text", Static).update(Text(visible(message.text, multiline=True)))
        self.query_one("#pack-status", StatusLine).show(
            "preview (record titles left out) · w: write to a file (.md, or .pdf) · s: seal for the counterpart"
        )

    @on(Said)
    def _said(self, message: Said) -> None:
        self.query_one("#pack-status", StatusLine).show(message.text, error=message.error)

    def action_write(self) -> None:
        self.write_flow()

    @work(exclusive=True, exit_on_error=False, group="pack-flow", name="write pack")
    async def write_flow(self) -> None:
        """Ask where; when the path holds a file, ask before replacing it (the store refuses what may never be)."""
        from tui.modals.confirm import overwrite_question
        from tui.modals.path_input import PathModal

        default = self.session.vault.path.parent / f"pack-{self.quarter.lower()}.md"
        path = await self.app.push_screen_wait(PathModal("Write the meeting pack to", default))
        if path is None:
            return
        outcome = await self.write_pack(path, overwrite=False).wait()
        if isinstance(outcome, TargetExists):
            if not await self.app.push_screen_wait(overwrite_question(path)):
                self.post_message(self.Said(f"nothing written: {path} already exists"))
                return
            outcome = await self.write_pack(path, overwrite=True).wait()
        if isinstance(outcome, LiaisonError):
            self.post_message(self.Said(f"pack not written: {app_error(outcome)}", error=True))
            return
        self.post_message(self.Said(f"wrote {outcome}"))

    @work(thread=True, exclusive=True, exit_on_error=False, group="pack-write", name="write pack file")
    def write_pack(self, path: Path, *, overwrite: bool, recipient: str | None = None) -> Path | LiaisonError:
        """Write atomically through `store.files.check_target` (a PDF for a `.pdf` name, a sealed bundle for a
        `recipient`); the path written, or the refusal."""
        from store.jwg.pack import seal_pack, write_pack

        try:
            if recipient is not None:
                return seal_pack(self.session, self.quarter, recipient, path, overwrite=overwrite).path
            pdf = path.suffix.lower() == ".pdf"
            return write_pack(self.session, self.quarter, path, overwrite=overwrite, pdf=pdf)
        except LiaisonError as exc:
            return exc

    def action_seal(self) -> None:
        self.seal_flow()

    @work(exclusive=True, exit_on_error=False, group="pack-flow", name="seal pack")
    async def seal_flow(self) -> None:
        """Seal for the group's counterpart (the one party besides us); ask where, and before replacing a file."""
        from tui.modals.confirm import overwrite_question
        from tui.modals.path_input import PathModal

        parties = self.session.desk_counterparts()
        if len(parties) != 1:
            named = ", ".join(parties) or "none yet"
            self.post_message(
                self.Said(
                    f"the group has {len(parties)} counterparts ({named}): seal with "
                    f"liaison meetings pack {self.quarter} --seal-to CODE",
                    error=True,
                )
            )
            return
        code = parties[0]
        default = self.session.vault.path.parent / f"pack-{self.quarter.lower()}-to-{code.lower()}.bundle"
        path = await self.app.push_screen_wait(PathModal(f"Seal the meeting pack for {code} into", default))
        if path is None:
            return
        outcome = await self.write_pack(path, overwrite=False, recipient=code).wait()
        if isinstance(outcome, TargetExists):
            if not await self.app.push_screen_wait(overwrite_question(path)):
                self.post_message(self.Said(f"nothing written: {path} already exists"))
                return
            outcome = await self.write_pack(path, overwrite=True, recipient=code).wait()
        if isinstance(outcome, LiaisonError):
            self.post_message(self.Said(f"pack not sealed: {app_error(outcome)}", error=True))
            return
        self.post_message(self.Said(f"wrote {outcome}: the pack sealed for {code} (send it like any bundle)"))

    def action_back(self) -> None:
        self.dismiss()

    async def forget(self) -> None:
        self.query_one("#pack-text", Static).update("")
