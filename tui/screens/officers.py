"""Officers and keys (admins): who may unlock the store, with what role; the keys' ages; add, remove, rotate.

Every change is the store's (`Session.add_officer`, `remove_officer`, `rotate_data_key`, `key_status`): it refuses a
non-admin, an admin removing themselves, a weak passphrase. Removal (a full revocation: new keys, the search index
rebuilt) and rotation (every ciphertext re-encrypted) run in a worker thread with a progress bar; a refusal is one
line on the status line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable, Footer, Header, ProgressBar, Static

from crypto.identity import grouped_fingerprint
from store import policy
from store.errors import LiaisonError
from store.keys import KeyStatus, RotationReport
from store.vault import OfficerInfo
from tui.messages import BundleProgress
from tui.modals.officer_form import NewOfficer
from tui.present import app_error, plural
from tui.screens.base import LiaisonScreen
from tui.widgets.plain import plain
from tui.widgets.row_table import RowTable
from tui.widgets.status_line import StatusLine


def age_text(status: KeyStatus, created: datetime | None) -> str:
    """`N days` since `created`, or `age unknown`."""
    days = status.age_days(created)
    return "age unknown" if days is None else plural(days, "day")


def keys_text(status: KeyStatus) -> Text:
    """The data key in use and its age against the policy, older keys still held, the master secret, the ministry
    identity, a cut rotation. Each officer's signing key age is a column of the officers table (`signing_ages`)."""
    current = status.current
    text = Text()
    text.append("Data key ", style="bold")
    text.append(f"v{current.version}, {age_text(status, current.created)} old")
    text.append(f" (policy: rotate after {plural(status.key_max_age_days, 'day')})", style="dim")
    if status.overdue:
        text.append("\nOLDER THAN THE POLICY: R rotates it", style="bold red")
    older = [k for k in status.data_keys if not k.current]
    if older:
        text.append("\nStill held: ", style="bold")
        text.append(", ".join(f"v{k.version} ({age_text(status, k.created)})" for k in older))
    text.append("\nMaster secret ", style="bold")
    text.append(f"v{status.master_version}, {age_text(status, status.master_created)} old")
    text.append("\nMinistry identity ", style="bold")
    text.append(f"{age_text(status, status.identity_created)} old")
    text.append(f" ({grouped_fingerprint(status.identity_fingerprint[:16])}…)", style="dim")
    if status.job is not None:
        text.append("\nA rotation started ", style="bold yellow")
        text.append(f"{status.job.started:%Y-%m-%d %H:%M} UTC by ", style="bold yellow")
        text.append_text(plain(status.job.officer, "bold yellow"))
        text.append(" was cut short: R finishes it.", style="bold yellow")
    return text


def signing_ages(status: KeyStatus | None) -> dict[str, str]:
    """Each active officer's signing key age, by name, as the store's key status gives it."""
    if status is None:
        return {}
    return {k.officer: age_text(status, k.created) for k in status.signing_keys}


def rotation_said(report: RotationReport) -> str:
    """The status line after a rotation: the new version, what was re-encrypted and retired, what was left."""
    said = f"data key now v{report.version}: {plural(report.reencrypted, 'value')} re-encrypted"
    if report.resumed:
        said += " (an interrupted rotation finished)"
    if report.retired:
        said += ", retired " + ", ".join(f"v{v}" for v in report.retired)
    if report.damaged:
        said += f"; {plural(len(report.damaged), 'damaged value')} no key opens, left as they were"
    if report.unsigned:
        said += f"; {plural(len(report.unsigned), 'item')} already differing from the log stay damaged"
    return said


class OfficersScreen(LiaisonScreen):
    """The officers (removed ones dimmed) and the keys' ages; a, x, R change them."""

    REOPENS = True

    AUTO_FOCUS = "#officers"

    DEFAULT_CSS = """
    OfficersScreen {
        & #officers-keys { padding: 0 1; height: auto; }
        & #officers { height: 1fr; margin-top: 1; }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "add", "Add", tooltip="Add an officer with a role and their own passphrase.", id="officers.add"),
        Binding(
            "x",
            "remove",
            "Remove",
            tooltip="Remove the highlighted officer for good: new keys, the search index rebuilt, the others re-granted.",
            id="officers.remove",
        ),
        Binding(
            "R",
            "rotate",
            "Rotate keys",
            tooltip="A new data key; every ciphertext re-encrypted under it (resumable), the old key retired.",
            id="officers.rotate",
        ),
        Binding("escape", "back", "Back", tooltip="Back to the previous screen.", id="officers.back"),
    ]

    @dataclass
    class Loaded(Message):
        """The officers, and the key status (None with `refused`: the store would not show it)."""

        officers: Sequence[OfficerInfo]
        status: KeyStatus | None
        refused: str = ""

    @dataclass
    class Done(Message):
        """A change went through; `said` is what the status line says."""

        said: str

    @dataclass
    class Refused(Message):
        """The store refused; `reason` is its one line."""

        step: str
        reason: str

    def __init__(self) -> None:
        super().__init__()
        self.officers: list[OfficerInfo] = []
        self.status: KeyStatus | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="officers-keys", markup=False)
        yield RowTable(id="officers", cursor_type="row", zebra_stripes=True)
        yield ProgressBar(id="officers-progress", classes="busy-progress", show_eta=False)
        yield StatusLine(id="officers-status")
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.sub_title = "Officers and keys"
        table = self.query_one("#officers", DataTable)
        columns = (("Officer", "name"), ("Role", "role"), ("Added", "added"), ("Signing key", "key"), ("", "state"))
        for label, key in columns:
            table.add_column(label, key=key)
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="officers", name="list officers and keys")
    def load(self) -> None:
        session = self.session
        try:
            officers = session.officers()
        except LiaisonError as exc:
            self.post_message(self.Refused("list", app_error(exc)))
            return
        try:
            self.post_message(self.Loaded(officers, session.key_status()))
        except LiaisonError as exc:
            self.post_message(self.Loaded(officers, None, app_error(exc)))

    @on(Loaded)
    def _loaded(self, message: OfficersScreen.Loaded) -> None:
        self.officers, self.status = list(message.officers), message.status
        keys = self.query_one("#officers-keys", Static)
        if message.status is not None:
            keys.update(keys_text(message.status))
        else:
            keys.update(plain(f"Key status: {message.refused}", "dim"))
        table = self.query_one("#officers", DataTable)
        chosen = self._chosen()
        row = table.cursor_row
        table.clear()
        me = self.session.actor.name
        ages = signing_ages(message.status)
        for officer in sorted(message.officers, key=lambda o: (o.revoked, o.name)):
            style = "dim" if officer.revoked else ""
            state = Text("removed" if officer.revoked else "you" if officer.name == me else "", style=style)
            if not officer.backed:  # a row replayed or edited in the file: its role and removal are the log's
                state.append((" " if state else "") + "✗ not backed by the log", style="bold red")
            table.add_row(
                plain(officer.name, style),
                Text(officer.role.value, style=style),
                Text(f"{officer.created_at:%Y-%m-%d}", style=style),
                Text(ages.get(officer.name, ""), style=style),
                state,
                key=officer.name,
            )
        if chosen is not None and chosen.name in table.rows:
            table.move_cursor(row=table.get_row_index(chosen.name))  # the same officer, wherever the order put them
        elif table.row_count:
            table.move_cursor(row=min(max(row, 0), table.row_count - 1))

    def _chosen(self) -> OfficerInfo | None:
        table = self.query_one("#officers", DataTable)
        if not table.row_count:
            return None
        name = str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        return next((o for o in self.officers if o.name == name), None)

    # ---- changes ------------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """While keys change, the other changes wait (greyed)."""
        return None if action in {"add", "remove", "rotate"} and self.busy else True

    def action_add(self) -> None:
        from tui.modals.officer_form import AddOfficerModal

        if self.busy:
            return
        try:  # the store's rule, asked before the form: no name and passphrase to type when the answer is no
            policy.check_manage_officers(self.session.actor)
        except LiaisonError as exc:
            self.post_message(self.Refused("add", app_error(exc)))
            return
        self.app.push_screen(AddOfficerModal("Add an officer", self.session.check_new_officer), callback=self._add)

    def _add(self, new: NewOfficer | None) -> None:
        if new is not None:
            self._status(f"adding {new.name}…")
            self.add_flow(new)

    @work(exclusive=True, exit_on_error=False, group="officers-flow", name="add officer")
    async def add_flow(self, new: NewOfficer) -> None:
        """The new officer's key slot is made from their passphrase (a slow KDF): in a thread, busy meanwhile."""
        outcome = await self.while_busy(self.run_add(new))
        if isinstance(outcome, LiaisonError):
            self.post_message(self.Refused("add", app_error(outcome)))
        else:
            self.post_message(self.Done(f"added {new.name} ({new.role}); they unlock with the passphrase you gave"))

    @work(thread=True, exclusive=True, exit_on_error=False, group="officers-run", name="add officer")
    def run_add(self, new: NewOfficer) -> LiaisonError | None:
        try:
            self.session.add_officer(new.name, new.role, new.passphrase)
        except LiaisonError as exc:
            return exc
        return None

    def action_remove(self) -> None:
        officer = self._chosen()
        if officer is None or self.busy:
            return
        if officer.revoked:
            self._status(f"{officer.name} was removed already", error=True)
            return
        try:  # the store's rule, asked before the question: nothing to confirm when the answer is no
            policy.check_remove_officer(self.session.actor, officer.name)
        except LiaisonError as exc:
            self.post_message(self.Refused("remove", app_error(exc)))
            return
        self.remove_flow(officer.name)

    @work(exclusive=True, exit_on_error=False, group="officers-flow", name="remove officer")
    async def remove_flow(self, name: str) -> None:
        """Ask, then revoke with a progress bar (new keys, the index rebuilt, everything re-granted)."""
        from tui.modals.confirm import ConfirmModal

        question = (
            f"Remove {name} for good? A new data key and master secret are made, the search index is rebuilt under "
            f"them and the keys are granted again to everyone else: {name}'s passphrase (and any copy of the file "
            f"taken before) opens nothing written afterwards. What {name} already read or copied stays with them. "
            "What was written before stays under the old data key until you rotate it (R), and the ministry "
            "identity is unchanged (liaison identity rotate): do both if they are not trusted."
        )
        if not await self.app.push_screen_wait(ConfirmModal(question, title=f"Remove {name}")):
            return
        self._status(f"removing {name}: new keys, rebuilding the search index…")
        outcome = await self.while_busy(self.run_remove(name))
        if isinstance(outcome, LiaisonError):
            self.post_message(self.Refused("remove", app_error(outcome)))
        elif outcome is not None:
            self.post_message(self.Done(f"removed {name}; new keys (data key v{outcome}), search index rebuilt"))

    @work(thread=True, exclusive=True, exit_on_error=False, group="officers-run", name="revoke officer")
    def run_remove(self, name: str) -> int | LiaisonError:
        def progress(done: int, total: int) -> None:
            self.post_message(BundleProgress(done, total))

        try:
            return self.session.remove_officer(name, progress=progress)
        except LiaisonError as exc:
            return exc

    def action_rotate(self) -> None:
        if self.busy:
            return
        try:  # the store's rule, asked before the question: nothing to confirm when the answer is no
            policy.check_rotate_keys(self.session.actor)
        except LiaisonError as exc:
            self.post_message(self.Refused("rotate", app_error(exc)))
            return
        self.rotate_flow()

    @work(exclusive=True, exit_on_error=False, group="officers-flow", name="rotate keys")
    async def rotate_flow(self) -> None:
        """Ask, then rotate with a progress bar; the app stays usable (the work runs in a thread)."""
        from tui.modals.confirm import ConfirmModal

        resuming = self.status is not None and self.status.job is not None
        question = (
            "Finish the rotation that was cut short?"
            if resuming
            else "Make a new data key and re-encrypt every ciphertext under it? If it is cut short, R finishes it; "
            "the old key is retired at the end."
        )
        if not await self.app.push_screen_wait(ConfirmModal(question, title="Rotate the data key")):
            return
        self._status("rotating: re-encrypting every ciphertext…")
        outcome = await self.while_busy(self.run_rotate())
        if isinstance(outcome, LiaisonError):
            self.post_message(self.Refused("rotate", app_error(outcome)))
        elif outcome is not None:
            self.post_message(self.Done(rotation_said(outcome)))

    @work(thread=True, exclusive=True, exit_on_error=False, group="officers-run", name="rotate data key")
    def run_rotate(self) -> RotationReport | LiaisonError:
        def progress(done: int, total: int) -> None:
            self.post_message(BundleProgress(done, total))

        try:
            return self.session.rotate_data_key(progress=progress)
        except LiaisonError as exc:
            return exc

    @on(BundleProgress)
    def _progress(self, message: BundleProgress) -> None:
        self.query_one("#officers-progress", ProgressBar).update(total=message.total, progress=message.done)

    @on(Done)
    def _done(self, message: OfficersScreen.Done) -> None:
        self._status(message.said)
        self.load()
        self.liaison.show_key_notice()  # an "interrupted rotation" or key-age notice may no longer hold

    @on(Refused)
    def _refused(self, message: OfficersScreen.Refused) -> None:
        self._status(f"{message.step} refused: {message.reason}", error=True)
        if message.step != "list":
            self.load()

    def _status(self, text: str, *, error: bool = False) -> None:
        self.query_one("#officers-status", StatusLine).show(text, error=error)

    def action_back(self) -> None:
        if self.busy:  # its outcome (and any refusal) is said here: leaving would lose it
            self._status("keys are changing: this screen stays until it ends (the bar above shows how far)")
            return
        self.dismiss()

    def on_store_changed(self) -> None:
        if not self.busy:
            self.load()

    async def forget(self) -> None:
        self.officers = []
        self.status = None
        self.query_one("#officers", DataTable).clear()
        self.query_one("#officers-keys", Static).update("")
