"""Import: pick a bundle or receipt, see the verified sender, fingerprint and record count, then import with progress."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DirectoryTree, Footer, Header, Input, Label, ProgressBar, Select, Static
from textual.worker import get_current_worker

from store.bundles import BundlePreview, ImportResult, ReceiptPreview, ReceiptResult
from store.errors import LiaisonError
from store.files import TargetExists
from store.text import visible
from tui.inbox import receipt_default
from tui.messages import BundleChecked, BundleProgress, BundleStepRefused, ImportFinished
from tui.present import app_error, import_summary, interop_import_summary, outcome_summary
from tui.screens.base import LiaisonScreen
from tui.widgets.file_tree import FileTree
from tui.widgets.plain import preview_text
from tui.widgets.status_line import StatusLine

#: The choices a STIX or MISP import may need, by the `.field` of the store's refusal: (select id, label).
CHOICES: dict[str, tuple[str, str]] = {
    "as": ("import-as", "Received from (ministry)"),
    "tlp": ("import-tlp", "TLP when unmarked"),
    "domain": ("import-domain", "Domain"),
}

#: The TLPs an unmarked item may be given (RED never comes in through a file).
UNMARKED_TLPS = [("CLEAR", "CLEAR"), ("GREEN", "GREEN"), ("AMBER", "AMBER"), ("AMBER+STRICT", "AMBER+STRICT")]


class ImportScreen(LiaisonScreen):
    """Enter on a file checks it (signature before anything is decrypted); `ctrl+s` imports what was checked."""

    REOPENS = True
    AUTO_FOCUS = "#import-tree"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "ctrl+s",
            "import",
            "Import",
            tooltip="Import the checked bundle (or process the receipt) in one transaction.",
            id="import.run",
        ),
        Binding(
            "ctrl+o",
            "focus_path",
            "Type a path",
            tooltip="Type the path of the file instead of picking it.",
            id="import.path",
        ),
        Binding("escape", "back", "Back", tooltip="Back to the previous screen.", id="import.back"),
    ]

    DEFAULT_CSS = """
    ImportScreen {
        & #import-left { width: 2fr; max-width: 60; }
        & #import-tree { height: 1fr; }
        & #import-right { width: 3fr; padding: 0 1; }
        & #import-preview { border: round $primary; padding: 0 1; height: auto; min-height: 8; }
        & #import-progress { margin: 1 0; }
        & #import-choices { height: auto; }
        & #import-choices Horizontal { height: 1; display: none; }
        & #import-choices Horizontal.-needed { display: block; }
        & #import-choices Label { width: 26; padding: 0 1 0 0; color: $text-muted; }
        & #import-choices Select { width: 1fr; }
        & ToastRack { dock: top; align: right top; }  /* a notice never hides the result line at the bottom */
    }
    ImportScreen.-narrow {
        & #import-panes { layout: vertical; }
        & #import-left { width: 100%; max-width: 100%; height: 1fr; }
        & #import-right { width: 100%; height: auto; }
        & #import-preview { min-height: 4; }
        & #import-progress { margin: 0; }
    }
    """

    #: Below 100 columns the preview is shown under the file tree.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]  # noqa: RUF012 (Screen declares it without ClassVar)

    @dataclass
    class ReceiptChecked(Message):
        """A receipt's sender and signature were verified, and it answers a bundle this ministry sent."""

        preview: ReceiptPreview

    @dataclass
    class InteropChecked(Message):
        """A STIX or MISP file passed a dry run of its import (`store.interop.common.ImportResult`) under `choices`."""

        kind: str
        result: Any
        choices: dict[str, str | None]

    @dataclass
    class InteropNeeds(Message):
        """A STIX or MISP file's dry run needs a choice (`field`: "as", "tlp" or "domain") made under `choices`."""

        kind: str
        field: str
        reason: str
        choices: dict[str, str | None]

    @dataclass
    class ImportChoicesLoaded(Message):
        """The ministries (code, name) an import may be received from, and the domains (slug, label)."""

        ministries: list[tuple[str, str]]
        domains: list[tuple[str, str]]

    @dataclass
    class InteropImported(Message):
        """A STIX or MISP file was imported (`store.interop.common.ImportResult`)."""

        result: Any

    @dataclass
    class ReceiptWritten(Message):
        """A receipt for an imported bundle was written to `path`, to be sent back to `peer`."""

        path: Path
        peer: str

    def __init__(self, start: Path | None = None) -> None:
        super().__init__()
        self.start = start
        self.path: Path | None = None
        self.bundle: BundlePreview | None = None
        self.receipt: ReceiptPreview | None = None
        self.imported: ImportResult | None = None
        #: "stix" or "misp" once such a file passed its dry run.
        self.interop: str | None = None
        #: "stix" or "misp" while such a file waits for choices (or for its dry run with them).
        self.interop_pending: str | None = None
        #: The choices ("as", "tlp", "domain") the passing dry run was made with; ctrl+s imports with them.
        self.interop_choices: dict[str, str | None] = {}

    def compose(self) -> ComposeResult:
        start = self.start or self.session.vault.path.parent
        yield Header()
        with Horizontal(id="import-panes"):
            with Vertical(id="import-left"):
                yield Input(
                    placeholder="path of a bundle, receipt, STIX or MISP file — enter checks it", id="import-path"
                )
                yield FileTree(start, id="import-tree")
            with Vertical(id="import-right"):
                yield Static(
                    "Pick a bundle or a receipt: enter checks its signature and shows who sent it.",
                    id="import-preview",
                    markup=False,
                )
                with Vertical(id="import-choices"):
                    for name, (select_id, label) in CHOICES.items():
                        with Horizontal(id=f"{select_id}-row"):
                            yield Label(label)
                            options = UNMARKED_TLPS if name == "tlp" else []
                            yield Select[str](options, prompt="choose", id=select_id, compact=True)
                yield ProgressBar(id="import-progress", classes="busy-progress", show_eta=False)
                yield StatusLine(id="import-result")
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.sub_title = "Import a bundle or receipt"
        self.load_choices()

    @work(thread=True, exclusive=True, exit_on_error=False, group="import-choices", name="load import choices")
    def load_choices(self) -> None:
        """The ministries other than this one, and the domains, for the choices a STIX or MISP file may need."""
        session = self.session
        try:
            ministries = [(m.code, m.name) for m in session.ministries() if not m.is_self]
            domains = session.domains()
        except LiaisonError as exc:
            self.post_message(BundleStepRefused("load", app_error(exc)))
            return
        self.post_message(self.ImportChoicesLoaded(ministries, domains))

    @on(ImportChoicesLoaded)
    def _choices_loaded(self, message: ImportChoicesLoaded) -> None:
        self.query_one("#import-as", Select).set_options(
            (Text(visible(f"{code}  {name}")), code) for code, name in message.ministries
        )
        self.query_one("#import-domain", Select).set_options(
            (Text(visible(f"{slug}  {label}" if label and label != slug else slug)), slug)
            for slug, label in message.domains
        )

    def choices(self) -> dict[str, str | None]:
        """The choices made for the file (None where none is made or none was needed)."""
        made: dict[str, str | None] = {}
        for name, (select_id, _label) in CHOICES.items():
            select = self.query_one(f"#{select_id}", Select)
            needed = self.query_one(f"#{select_id}-row").has_class("-needed")
            made[name] = str(select.value) if needed and select.value is not Select.BLANK else None
        return made

    @on(Select.Changed, "#import-as, #import-tlp, #import-domain")
    def _choice_changed(self, message: Select.Changed) -> None:
        message.stop()
        if self.path is None or self.interop_pending is None or message.value is Select.BLANK:
            return
        self.interop = None
        self._result("")
        self.query_one("#import-preview", Static).update(Text(f"checking {visible(self.path.name)}…"))
        self.inspect(self.path, self.choices())

    # ---- checking a file ----------------------------------------------------------------------------

    @on(DirectoryTree.FileSelected, "#import-tree")
    def _picked(self, message: DirectoryTree.FileSelected) -> None:
        message.stop()
        self.check(Path(message.path))

    @on(Input.Submitted, "#import-path")
    def _typed(self, message: Input.Submitted) -> None:
        message.stop()
        if message.value.strip():
            self.check(Path(message.value.strip()).expanduser())

    def action_focus_path(self) -> None:
        self.query_one("#import-path", Input).focus()

    def check(self, path: Path) -> None:
        """Forget the previous choice and verify `path`."""
        self.path, self.bundle, self.receipt, self.imported, self.interop = path, None, None, None, None
        self.interop_pending, self.interop_choices = None, {}
        for select_id, _label in CHOICES.values():
            self.query_one(f"#{select_id}-row").remove_class("-needed")
            self.query_one(f"#{select_id}", Select).clear()
        self._result("")
        self.query_one("#import-preview", Static).update(Text(f"checking {visible(path.name)}…"))
        self.inspect(path, {})

    @work(thread=True, exclusive=True, exit_on_error=False, group="bundle", name="check bundle")
    def inspect(self, path: Path, choices: dict[str, str | None]) -> None:
        """Recipient, sender contact and signature checked; nothing decrypted yet (a receipt is opened, not processed).

        A STIX or MISP file gets a dry run of its import with `choices`; when the store says it needs one more
        (the `.field` of its refusal), the screen offers it.
        """
        from store.bundles import preview_bundle, preview_receipt
        from store.interop.common import InteropRefused
        from store.interop.formats import file_format, import_interop

        try:
            kind = file_format(path)
            if kind in ("stix", "misp"):
                try:
                    checked = import_interop(
                        self.session,
                        path,
                        as_code=choices.get("as"),
                        tlp=choices.get("tlp"),
                        domain=choices.get("domain"),
                        preview=True,
                    )
                except InteropRefused as exc:
                    if exc.field not in CHOICES or choices.get(exc.field) is not None:
                        raise
                    if not get_current_worker().is_cancelled:
                        self.post_message(self.InteropNeeds(kind, exc.field, app_error(exc), choices))
                    return
                if not get_current_worker().is_cancelled:
                    self.post_message(self.InteropChecked(kind, checked, choices))
                return
            if kind == "receipt":
                receipt = preview_receipt(self.session, path)
                if not get_current_worker().is_cancelled:
                    self.post_message(self.ReceiptChecked(receipt))
                return
            preview = preview_bundle(self.session, path)
        except LiaisonError as exc:
            self.post_message(BundleStepRefused("check", app_error(exc)))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(BundleChecked(preview))

    @on(BundleChecked)
    def _checked(self, message: BundleChecked) -> None:
        p = message.preview
        self.bundle = p
        notes = []
        if p.already_imported:
            notes.append("Already imported: importing again changes nothing.")
        elif not p.has_own_stanza and p.has_passphrase_stanza:
            notes.append("Protected by a passphrase: ctrl+s asks for it.")
        notes.append("ctrl+s: import")
        lines = [
            ("Bundle", p.bundle_id),
            ("From", f"{p.sender}  {p.sender_name}  (signature verified)"),
            ("Fingerprint", p.grouped_fingerprint),
            ("Sequence", str(p.seq)),
            ("Records", f"{p.records:,}"),
            ("Created", f"{p.created:%Y-%m-%d %H:%M} UTC"),
        ]
        self.query_one("#import-preview", Static).update(preview_text(lines, notes))

    @on(InteropChecked)
    def _interop_checked(self, message: InteropChecked) -> None:
        if self.interop_pending is not None and message.choices != self.choices():
            return  # the dry run of choices changed since
        self.interop, self.interop_choices = message.kind, message.choices
        what = "STIX 2.1 bundle" if message.kind == "stix" else "MISP event"
        self.query_one("#import-preview", Static).update(
            Text(
                f"{what} {visible(message.result.path.name)} (not signed: know where it came from)\n"
                f"{interop_import_summary(message.result)}\nctrl+s: import"
            )
        )

    @on(InteropNeeds)
    def _interop_needs(self, message: InteropNeeds) -> None:
        if self.interop_pending is not None and message.choices != self.choices():
            return
        self.interop, self.interop_pending = None, message.kind
        select_id, label = CHOICES[message.field]
        self.query_one(f"#{select_id}-row").add_class("-needed")
        what = "STIX 2.1 bundle" if message.kind == "stix" else "MISP event"
        name = self.path.name if self.path is not None else ""
        self.query_one("#import-preview", Static).update(
            Text(f"{what} {visible(name)} (not signed: know where it came from)\nChoose “{label}” to import it.")
        )
        self._result(message.reason, error=True)
        self.query_one(f"#{select_id}", Select).focus()

    @on(ReceiptChecked)
    def _receipt_checked(self, message: ReceiptChecked) -> None:
        r = message.preview
        self.receipt = r
        lines = [
            ("Receipt for", f"bundle {r.bundle_id} ({r.records:,} records sent)"),
            ("From", f"{r.sender}  {r.sender_name}  (signature verified)"),
            ("Fingerprint", r.grouped_fingerprint),
            ("Received", f"{r.received_at:%Y-%m-%d %H:%M} UTC"),
        ]
        notes = ["Already processed: processing again changes nothing."] if r.already_processed else []
        notes.append("ctrl+s: mark what arrived acknowledged")
        self.query_one("#import-preview", Static).update(preview_text(lines, notes))

    # ---- importing -------------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Import waits (greyed) while one runs."""
        return None if action == "import" and self.busy else True

    def action_import(self) -> None:
        if self.busy:
            return
        if self.path is not None and self.interop is not None:
            self._result("")
            self.run_interop(self.path, self.interop_choices)
            return
        if self.path is not None and self.interop_pending is not None:
            self._result("Make the choices the file needs first.", error=True)
            return
        if self.path is None or (self.bundle is None and self.receipt is None):
            self._result("Pick a bundle or receipt first (enter on a file).", error=True)
            return
        self.import_flow(self.path)

    @work(thread=True, exclusive=True, exit_on_error=False, group="bundle", name="import STIX/MISP")
    def run_interop(self, path: Path, choices: dict[str, str | None]) -> None:
        """Import a STIX bundle or MISP event all-or-nothing (the checks of its dry run, again, under the write lock)."""
        from store.interop.formats import import_interop

        try:
            result = import_interop(
                self.session, path, as_code=choices.get("as"), tlp=choices.get("tlp"), domain=choices.get("domain")
            )
        except LiaisonError as exc:
            self.post_message(BundleStepRefused("import", app_error(exc)))
            return
        self.post_message(self.InteropImported(result))

    @on(InteropImported)
    def _interop_imported(self, message: InteropImported) -> None:
        self._result(interop_import_summary(message.result))

    @work(exclusive=True, exit_on_error=False, group="import-flow", name="import")
    async def import_flow(self, path: Path) -> None:
        """Ask for the bundle passphrase when one is needed, import, then offer to write the receipt."""
        from tui.modals.bundle_passphrase import BundlePassphraseModal

        bundle = self.bundle
        secret: str | None = None
        if (
            bundle is not None
            and not bundle.already_imported
            and not bundle.has_own_stanza
            and bundle.has_passphrase_stanza
        ):
            secret = await self.app.push_screen_wait(BundlePassphraseModal(Text(f"Passphrase of {visible(path.name)}")))
            if secret is None:
                return
        self._result("")
        outcome = await self.while_busy(self.run_import(path, bundle is not None, secret))
        if isinstance(outcome, LiaisonError):
            self.post_message(BundleStepRefused("import", app_error(outcome)))
            return
        self.post_message(ImportFinished(outcome))
        if isinstance(outcome, ImportResult):
            self.imported = outcome
            await self.offer_receipt(outcome)

    @work(thread=True, exclusive=True, exit_on_error=False, group="bundle", name="import bundle")
    def run_import(
        self, path: Path, is_bundle: bool, secret: str | None
    ) -> ImportResult | ReceiptResult | LiaisonError:
        """Import all-or-nothing (or process a receipt), reporting progress chunk by chunk; a refusal is returned."""
        from store.bundles import import_bundle, process_receipt
        from store.service import passphrase_bytes

        def progress(done: int, total: int) -> None:
            self.post_message(BundleProgress(done, total))

        session = self.session
        try:
            if not is_bundle:
                return process_receipt(session, path)
            return import_bundle(
                session, path, passphrase=passphrase_bytes(secret) if secret else None, progress=progress
            )
        except LiaisonError as exc:
            return exc

    async def offer_receipt(self, result: ImportResult) -> None:
        """Say what the import did, then ask whether to write the signed receipt, and where (never over a file unasked)."""
        from tui.modals.confirm import ConfirmModal, overwrite_question
        from tui.modals.path_input import PathModal

        said = import_summary(result)
        if result.already_imported:
            question = f"{said}\n\nWrite its receipt again for {result.sender} (if the first one was lost)?"
        else:
            question = f"{said}\n\nWrite a signed receipt for {result.sender}, sealed to its key?"
        if not await self.app.push_screen_wait(ConfirmModal(Text(visible(question, multiline=True)), title="Receipt")):
            return
        default = receipt_default(result.path, result.sender, result.bundle_id, self.settings.inbox)
        target = await self.app.push_screen_wait(PathModal("Write the receipt to", default))
        if target is None:
            return
        self.liaison.wrote_file(target)  # never announced as an inbox arrival; the outbox made if needed
        written = await self.write_receipt(result.bundle_id, target, overwrite=False).wait()
        if isinstance(written, TargetExists):
            if not await self.app.push_screen_wait(overwrite_question(target)):
                self._result(f"{said}\nno receipt written: {target} already exists")
                return
            written = await self.write_receipt(result.bundle_id, target, overwrite=True).wait()
        if isinstance(written, LiaisonError):
            self.post_message(BundleStepRefused("receipt", app_error(written)))
            return
        self.post_message(self.ReceiptWritten(written, result.sender))

    @work(thread=True, exclusive=True, exit_on_error=False, group="receipt", name="write receipt")
    def write_receipt(self, bundle_id: str, path: Path, *, overwrite: bool) -> Path | LiaisonError:
        """Sign and seal the receipt, written atomically (the store's one check decides what may be replaced)."""
        from store.bundles import write_receipt_file

        try:
            return write_receipt_file(self.session, bundle_id, path, overwrite=overwrite)
        except LiaisonError as exc:
            return exc

    @on(BundleProgress)
    def _progress(self, message: BundleProgress) -> None:
        self.query_one("#import-progress", ProgressBar).update(total=message.total, progress=message.done)

    @on(ImportFinished)
    def _finished(self, message: ImportFinished) -> None:
        self._result(outcome_summary(message.result))

    @on(ReceiptWritten)
    def _receipt_written(self, message: ReceiptWritten) -> None:
        summary = self.query_one("#import-result", StatusLine).message
        self._result(f"{summary}\nwrote receipt {message.path}; send it back to {message.peer}")

    @on(BundleStepRefused)
    def _refused(self, message: BundleStepRefused) -> None:
        if message.step == "check":
            self.path, self.bundle, self.receipt, self.interop, self.interop_pending = None, None, None, None, None
            self.query_one("#import-preview", Static).update("Refused: nothing was decrypted or imported.")
        self._result(f"{message.step} refused: {message.reason}", error=True)

    def _result(self, text: str, *, error: bool = False) -> None:
        self.query_one("#import-result", StatusLine).show(text, error=error)

    def action_back(self) -> None:
        self.dismiss()
