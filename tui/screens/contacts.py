"""Contacts: this ministry's fingerprint, the counterpart ministries whose cards are registered, adding one from a card."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Header, Static

from crypto.identity import grouped_fingerprint
from store.errors import LiaisonError
from tui.messages import BundleStepRefused, CardRead, CardWritten, ContactSaved, ContactsLoaded
from tui.screens.base import LiaisonScreen
from tui.widgets.status_line import StatusLine


class ContactsScreen(LiaisonScreen):
    """`a` adds a contact from a card file (after showing its fingerprint), `w` writes this ministry's own card."""

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
        & #identity { padding: 1 2; border: round $primary; height: auto; }
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
        yield DataTable(id="contacts", cursor_type="row")
        yield StatusLine(id="contacts-status")
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.sub_title = "Contacts"
        table = self.query_one("#contacts", DataTable)
        table.add_column("Ministry", key="code")
        table.add_column("Name", key="name")
        table.add_column("Fingerprint", key="fingerprint")
        table.add_column("Added", key="added")
        self.load_contacts()

    @work(thread=True, exclusive=True, exit_on_error=False, group="contacts", name="load contacts")
    def load_contacts(self) -> None:
        """This ministry's identity and every contact (each checked against its MAC)."""
        from store.contacts import contacts, ministry_name, own_identity

        session = self.session
        try:
            found = contacts(session)
            message = ContactsLoaded(
                session.ministry, ministry_name(session, session.ministry), own_identity(session).fingerprint, found
            )
        except LiaisonError as exc:
            self.post_message(BundleStepRefused("contacts", str(exc)))
            return
        self.post_message(message)

    @on(ContactsLoaded)
    def _loaded(self, message: ContactsLoaded) -> None:
        self.fingerprint = message.fingerprint
        self.query_one("#identity", Static).update(
            f"This ministry: {message.ministry}  {message.name}\nFingerprint:   {grouped_fingerprint(message.fingerprint)}"
        )
        table = self.query_one("#contacts", DataTable)
        table.clear()
        self.codes = []
        for contact in message.contacts:
            info: Any = contact
            self.codes.append(info.code)
            table.add_row(
                info.code, info.name, info.grouped, f"{info.added_at:%Y-%m-%d} by {info.added_by}", key=info.code
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
            self.post_message(BundleStepRefused("card", str(exc)))
            return
        self.post_message(CardRead(path, card))

    @on(CardRead)
    def _card_read(self, message: CardRead) -> None:
        from tui.modals.confirm import ConfirmModal

        card: Any = message.card
        question = (
            f"Add {card.ministry} ({card.name}) as a contact?\n\n"
            f"Fingerprint: {grouped_fingerprint(card.fingerprint)}\n\n"
            "Compare it with the fingerprint the ministry gave you over another channel."
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
            self.post_message(BundleStepRefused("add contact", str(exc)))
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
        from tui.modals.path_input import PathModal

        session = self.session
        default = session.vault.path.parent / f"{session.ministry.lower()}.card"
        self.app.push_screen(PathModal("Write this ministry's identity card to", default), callback=self._card_target)

    def _card_target(self, path: Path | None) -> None:
        if path is not None:
            self.write_card(path)

    @work(thread=True, exclusive=True, exit_on_error=False, group="card", name="write identity card")
    def write_card(self, path: Path) -> None:
        """Write the card atomically."""
        from store.contacts import export_identity

        try:
            fingerprint = export_identity(self.session, path)
        except LiaisonError as exc:
            self.post_message(BundleStepRefused("write card", str(exc)))
            return
        self.post_message(CardWritten(path, fingerprint))

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
