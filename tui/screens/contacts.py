"""Contacts: this ministry's fingerprint, the counterpart ministries whose cards are registered, adding one from a card."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Header, Static

from crypto.identity import grouped_fingerprint
from store.errors import LiaisonError
from store.files import TargetExists
from store.text import visible
from tui.messages import BundleStepRefused, CardRead, CardWritten, ContactSaved, ContactsLoaded
from tui.present import app_error
from tui.screens.base import LiaisonScreen
from tui.widgets.row_table import RowTable
from tui.widgets.status_line import StatusLine


def fingerprint_lines(fingerprint: str, *, per_line: int = 4, indent: int = 0) -> Text:
    """A fingerprint in its groups of four, `per_line` groups a line, never cut (officers read it aloud)."""
    groups = grouped_fingerprint(fingerprint).split()
    lines = [" ".join(groups[i : i + per_line]) for i in range(0, len(groups), per_line)]
    return Text(("\n" + " " * indent).join(visible(line) for line in lines), no_wrap=True)


class ContactsScreen(LiaisonScreen):
    """`a` adds a contact from a card file (after showing its fingerprint), `w` writes this ministry's own card."""

    REOPENS = True

    AUTO_FOCUS = "#contacts"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "a",
            "add_contact",
            "Add contact",
            tooltip="Register a counterpart ministry from its identity card file (admin).",
            id="contacts.add",
        ),
        Binding(
            "w",
            "write_card",
            "Write my card",
            tooltip="Write this ministry's identity card to a file for a counterpart.",
            id="contacts.write_card",
        ),
        Binding("escape", "back", "Back", tooltip="Back to the previous screen.", id="contacts.back"),
    ]

    DEFAULT_CSS = """
    ContactsScreen {
        & #identity { padding: 0 2; border: round $primary; height: auto; }
        & #contacts { height: 1fr; }
        & #contacts-status { padding: 0 2; height: auto; }
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self.fingerprint = ""
        self.codes: list[str] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("reading this ministry's identity…", id="identity", markup=False)
        yield RowTable(id="contacts", cursor_type="row")
        yield StatusLine(id="contacts-status")
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.sub_title = "Contacts"
        table = self.query_one("#contacts", DataTable)
        table.add_column("Ministry", key="code")
        table.add_column("Name", key="name")
        table.add_column("Fingerprint (read it aloud in groups)", key="fingerprint")
        self.load_contacts()

    @work(thread=True, exclusive=True, exit_on_error=False, group="contacts", name="load contacts")
    def load_contacts(self) -> None:
        """This ministry's identity and every contact (each checked against its MAC)."""
        from store.contacts import contacts, ministry_name, own_identity
        from store.identity import key_changes, pending_delivery

        session = self.session
        try:
            found = contacts(session)
            message = ContactsLoaded(
                session.ministry,
                ministry_name(session, session.ministry),
                own_identity(session).fingerprint,
                found,
                key_changes(session),
                pending_delivery(session),
            )
        except LiaisonError as exc:
            self.post_message(BundleStepRefused("contacts", app_error(exc)))
            return
        self.post_message(message)

    @on(ContactsLoaded)
    def _loaded(self, message: ContactsLoaded) -> None:
        self.fingerprint = message.fingerprint
        identity = Text.assemble(
            ("This ministry: ", "bold"),
            visible(f"{message.ministry}  {message.name}"),
            "\n",
            ("Fingerprint:   ", "bold"),
            fingerprint_lines(message.fingerprint, per_line=8, indent=15),
        )
        for pending in message.pending:
            identity.append(f"\nIdentity rotated {pending.at:%Y-%m-%d %H:%M} UTC", style="bold yellow")
            identity.append(
                visible(
                    f" — pending: {', '.join(pending.peers)} still {'holds' if len(pending.peers) == 1 else 'hold'} "
                    "the previous key until the next bundle or receipt carries the statement signed by both keys. "
                    "Previous fingerprint:"
                )
            )
            identity.append("\n" + " " * 15)
            identity.append_text(fingerprint_lines(pending.old_fingerprint, per_line=8, indent=15))
        self.query_one("#identity", Static).update(identity)
        table = self.query_one("#contacts", DataTable)
        table.clear()
        self.codes = []
        latest = {change.peer: change for change in message.changes}
        for info in message.contacts:
            self.codes.append(info.code)
            who = Text(visible(info.name))
            who.append(f"\nadded {info.added_at:%Y-%m-%d} by {visible(info.added_by)}", style="dim")
            change = latest.get(info.code)
            if change is not None:
                # short lines: the fingerprint column beside it must keep its room at 80 columns
                who.append(f"\nidentity changed {change.stated_at:%Y-%m-%d}", style="bold yellow")
                who.append("\nsigned by both keys", style="yellow")
                who.append(f"\nreceived {change.received_at:%Y-%m-%d}", style="yellow")
                who.append(f"\nprevious key {grouped_fingerprint(change.old_fingerprint)[:19]}…", style="yellow")
            table.add_row(
                Text(visible(info.code)),
                who,
                fingerprint_lines(info.fingerprint),
                key=info.code,
                height=None,
            )
        if not message.contacts:
            self._status("No contacts yet: press a to add a counterpart's identity card.")

    def _status(self, text: str, *, error: bool = False) -> None:
        self.query_one("#contacts-status", StatusLine).show(text, error=error)

    # ---- adding a contact ---------------------------------------------------------------------------

    def action_add_contact(self) -> None:
        from tui.modals.path_input import PathModal

        start = self.session.vault.path.parent
        self.app.push_screen(
            PathModal("Identity card of the counterpart ministry", browse=start), callback=self._card_chosen
        )

    def _card_chosen(self, path: Path | None) -> None:
        if path is not None:
            self.read_card(path)

    @work(thread=True, exclusive=True, exit_on_error=False, group="card", name="read identity card")
    def read_card(self, path: Path) -> None:
        """Read and check a card (format, fingerprint, self-signature) before asking to add it."""
        from store.contacts import read_card_file

        try:
            card = read_card_file(path)
        except LiaisonError as exc:
            self.post_message(BundleStepRefused("card", app_error(exc)))
            return
        self.post_message(CardRead(path, card))

    @on(CardRead)
    def _card_read(self, message: CardRead) -> None:
        from tui.modals.confirm import ConfirmModal

        card = message.card
        question = Text.assemble(
            visible(f"Add {card.ministry} ({card.name}) as a contact?"),
            "\n\nFingerprint:\n",
            fingerprint_lines(card.fingerprint, per_line=8),
            "\n\nCompare it with the fingerprint the ministry gave you over another channel.",
        )
        path = message.path

        def answer(yes: bool | None) -> None:
            if yes:
                self.save_contact(path)

        self.app.push_screen(ConfirmModal(question), callback=answer)

    @work(thread=True, exclusive=True, exit_on_error=False, group="card", name="add contact")
    def save_contact(self, path: Any) -> None:
        """Register the card (admins only; the store refuses otherwise)."""
        from store.contacts import add_contact

        try:
            added = add_contact(self.session, path)
        except LiaisonError as exc:
            self.post_message(BundleStepRefused("add contact", app_error(exc)))
            return
        self.post_message(ContactSaved(added.card.ministry, added.outcome))

    @on(ContactSaved)
    def _saved(self, message: ContactSaved) -> None:
        text = {"added": "added", "replaced": "replaced", "unchanged": "already known (same key)"}[message.outcome]
        self._status(f"{message.code}: {text}")
        self.notify(f"contact {message.code} {text}", markup=False)
        self.load_contacts()

    # ---- this ministry's card -----------------------------------------------------------------------

    def action_write_card(self) -> None:
        self.write_card_flow()

    @work(exclusive=True, exit_on_error=False, group="card-flow", name="write my card")
    async def write_card_flow(self) -> None:
        """Ask where the card goes; when the path holds a file, ask before replacing it (the store refuses what may never be)."""
        from tui.modals.confirm import overwrite_question
        from tui.modals.path_input import PathModal

        session = self.session
        default = session.vault.path.parent / f"{session.ministry.lower()}.card"
        path = await self.app.push_screen_wait(PathModal("Write this ministry's identity card to", default))
        if path is None:
            return
        outcome = await self.write_card(path, overwrite=False).wait()
        if isinstance(outcome, TargetExists):
            if not await self.app.push_screen_wait(overwrite_question(path)):
                self._status(f"nothing written: {path} already exists")
                return
            outcome = await self.write_card(path, overwrite=True).wait()
        if isinstance(outcome, LiaisonError):
            self.post_message(BundleStepRefused("write card", app_error(outcome)))
            return
        self.post_message(CardWritten(path, outcome))

    @work(thread=True, exclusive=True, exit_on_error=False, group="card", name="write identity card")
    def write_card(self, path: Path, *, overwrite: bool) -> str | LiaisonError:
        """Write the card atomically; its fingerprint, or the refusal."""
        from store.contacts import export_identity

        try:
            return export_identity(self.session, path, overwrite=overwrite)
        except LiaisonError as exc:
            return exc

    @on(CardWritten)
    def _written(self, message: CardWritten) -> None:
        self._status(f"wrote {message.path}; fingerprint {grouped_fingerprint(message.fingerprint)}")

    @on(BundleStepRefused)
    def _refused(self, message: BundleStepRefused) -> None:
        self._status(f"{message.step} refused: {message.reason}", error=True)

    def action_back(self) -> None:
        self.dismiss()

    def on_store_changed(self) -> None:
        self.load_contacts()
