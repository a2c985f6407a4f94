"""Import: pick a bundle or receipt, see the verified sender, fingerprint and record count, then import with progress."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import DirectoryTree, Footer, Header, Input, ProgressBar, Static
from textual.worker import get_current_worker

from store.errors import LiaisonError
from tui.messages import BundleChecked, BundleProgress, BundleStepRefused, ImportFinished, ReceiptPicked, ReceiptWritten
from tui.present import outcome_summary
from tui.screens.base import LiaisonScreen
from tui.widgets.status_line import StatusLine


class ImportScreen(LiaisonScreen):
    """Enter on a file checks it (signature before anything is decrypted); `ctrl+s` imports what was checked."""

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
        & #import-left { width: 50%; }
        & #import-tree { height: 1fr; }
        & #import-right { width: 1fr; padding: 0 1; }
        & #import-preview { border: round $primary; padding: 0 1; height: auto; min-height: 8; }
        & #import-progress { margin: 1 0; }
        & #import-result { height: auto; }
    }
    """

    def __init__(self, start: Path | None = None) -> None:
        super().__init__()
        self.start = start
        self.path: Path | None = None
        self.kind: str | None = None
        self.preview: Any = None
        self.imported: Any = None

    def compose(self) -> ComposeResult:
        start = self.start or self.session.vault.path.parent
        yield Header()
        with Horizontal():
            with Vertical(id="import-left"):
                yield Input(placeholder="path of a bundle or receipt — enter checks it", id="import-path")
                yield DirectoryTree(start, id="import-tree")
            with Vertical(id="import-right"):
                yield Static(
                    "Pick a bundle or a receipt: enter checks its signature and shows who sent it.",
                    id="import-preview",
                    markup=False,
                )
                yield ProgressBar(id="import-progress", show_eta=False)
                yield StatusLine(id="import-result")
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.sub_title = "Import a bundle or receipt"
        self.query_one("#import-progress").display = False

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
        self.path, self.kind, self.preview, self.imported = path, None, None, None
        self._result("")
        self.query_one("#import-preview", Static).update(f"checking {path.name}…")
        self.inspect(path)

    @work(thread=True, exclusive=True, exit_on_error=False, group="bundle", name="check bundle")
    def inspect(self, path: Path) -> None:
        """Recipient, sender contact and signature checked; nothing decrypted yet."""
        from store.bundles import file_kind, preview_bundle

        try:
            if file_kind(path) == "receipt":
                self.post_message(ReceiptPicked(path))
                return
            preview = preview_bundle(self.session, path)
        except LiaisonError as exc:
            self.post_message(BundleStepRefused("check", str(exc)))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(BundleChecked(preview))

    @on(BundleChecked)
    def _checked(self, message: BundleChecked) -> None:
        p: Any = message.preview
        self.kind, self.preview = "bundle", p
        lines = [
            f"Bundle {p.bundle_id}",
            f"From:         {p.sender}  {p.sender_name}  (signature verified)",
            f"Fingerprint:  {p.grouped_fingerprint}",
            f"Sequence:     {p.seq}",
            f"Records:      {p.records:,}",
            f"Created:      {p.created:%Y-%m-%d %H:%M} UTC",
        ]
        if p.already_imported:
            lines.append("Already imported: importing again changes nothing.")
        elif not p.has_own_stanza and p.has_passphrase_stanza:
            lines.append("Protected by a passphrase: ctrl+s asks for it.")
        lines.append("ctrl+s: import")
        self.query_one("#import-preview", Static).update("\n".join(lines))

    @on(ReceiptPicked)
    def _receipt_picked(self, message: ReceiptPicked) -> None:
        self.kind = "receipt"
        self.query_one("#import-preview", Static).update(
            f"Receipt {Path(str(message.path)).name}\nctrl+s: check its signature and mark what arrived acknowledged"
        )

    # ---- importing -------------------------------------------------------------------------------------

    def action_import(self) -> None:
        from tui.modals.bundle_passphrase import BundlePassphraseModal

        if self.path is None or self.kind is None:
            self._result("Pick a bundle or receipt first (enter on a file).", error=True)
            return
        if self.kind == "receipt":
            self.run_import(self.path, None)
            return
        preview: Any = self.preview
        if not preview.already_imported and not preview.has_own_stanza and preview.has_passphrase_stanza:
            path = self.path

            def with_passphrase(secret: str | None) -> None:
                if secret is not None:
                    self.run_import(path, secret)

            self.app.push_screen(BundlePassphraseModal(f"Passphrase of {path.name}"), callback=with_passphrase)
            return
        self.run_import(self.path, None)

    @work(thread=True, exclusive=True, exit_on_error=False, group="bundle", name="import bundle")
    def run_import(self, path: Path, secret: str | None) -> None:
        """Import all-or-nothing (or process a receipt), reporting progress chunk by chunk."""
        from store.bundles import import_bundle, process_receipt
        from store.service import passphrase_bytes

        session = self.session
        try:
            if self.kind == "receipt":
                result: Any = process_receipt(session, path)
            else:
                result = import_bundle(
                    session,
                    path,
                    passphrase=passphrase_bytes(secret) if secret else None,
                    progress=lambda d, t: self.post_message(BundleProgress(d, t)),
                )
        except LiaisonError as exc:
            self.post_message(BundleStepRefused("import", str(exc)))
            return
        self.post_message(ImportFinished(result))

    @on(BundleProgress)
    def _progress(self, message: BundleProgress) -> None:
        bar = self.query_one("#import-progress", ProgressBar)
        bar.display = True
        bar.update(total=message.total, progress=message.done)

    @on(ImportFinished)
    def _finished(self, message: ImportFinished) -> None:
        from tui.modals.confirm import ConfirmModal

        result: Any = message.result
        self._result(outcome_summary(result))
        if self.kind != "bundle":
            return
        self.imported = result

        def answer(yes: bool | None) -> None:
            if yes:
                self.ask_receipt_path()

        self.app.push_screen(
            ConfirmModal(f"Write a signed receipt for {result.sender}, sealed to its key?"), callback=answer
        )

    def ask_receipt_path(self) -> None:
        """Ask where the receipt goes (beside the bundle by default)."""
        from tui.modals.path_input import PathModal

        result: Any = self.imported
        default = result.path.with_name(f"receipt-{result.sender.lower()}-{result.bundle_id[:8]}.receipt")

        def chosen(path: Path | None) -> None:
            if path is not None:
                self.write_receipt(result.bundle_id, result.sender, path)

        self.app.push_screen(PathModal("Write the receipt to", default), callback=chosen)

    @work(thread=True, exclusive=True, exit_on_error=False, group="bundle", name="write receipt")
    def write_receipt(self, bundle_id: str, sender: str, path: Path) -> None:
        """Sign and seal the receipt, written atomically."""
        from store.bundles import write_receipt_file

        try:
            written = write_receipt_file(self.session, bundle_id, path)
        except LiaisonError as exc:
            self.post_message(BundleStepRefused("receipt", str(exc)))
            return
        self.post_message(ReceiptWritten(written, sender))

    @on(ReceiptWritten)
    def _receipt_written(self, message: ReceiptWritten) -> None:
        summary = self.query_one("#import-result", StatusLine).message
        self._result(f"{summary}\nwrote receipt {message.path}; send it back to {message.peer}")

    @on(BundleStepRefused)
    def _refused(self, message: BundleStepRefused) -> None:
        if message.step == "check":
            self.path, self.kind, self.preview = None, None, None
            self.query_one("#import-preview", Static).update("Refused: nothing was decrypted or imported.")
        self.query_one("#import-progress").display = False
        self._result(f"{message.step} refused: {message.reason}", error=True)

    def _result(self, text: str, *, error: bool = False) -> None:
        self.query_one("#import-result", StatusLine).show(text, error=error)

    def action_back(self) -> None:
        self.dismiss()
