"""The export wizard: recipient and filters, a live preview of what goes and what stays (with the reason), then the bundle."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import DataTable, Footer, Header, Input, Label, ProgressBar, Select
from textual.worker import Worker, get_current_worker

from store.bundles import ExportResult
from store.errors import LiaisonError
from store.files import TargetExists
from store.text import visible
from tui.dates import parse_date, words
from tui.messages import BundleProgress, BundleStepRefused, ExportChoicesLoaded, ExportFinished, ExportPlanned
from tui.present import app_error, export_summary, interop_export_summary
from tui.screens.base import LiaisonScreen
from tui.widgets.passphrase_input import PassphraseInput
from tui.widgets.row_table import RowTable
from tui.widgets.status_line import StatusLine

#: Rows of the preview table (the summary line counts everything).
PREVIEW_ROWS = 500
#: What the wizard writes: a sealed bundle to a contact, or a file for the ministry's own tools.
FORMATS = [("sealed bundle to a contact", "bundle"), ("STIX 2.1 file", "stix"), ("MISP event", "misp")]
#: Ceilings of a STIX or MISP file (RED never leaves; above GREEN needs a reviewer).
CEILINGS = [
    ("GREEN (and CLEAR)", "GREEN"),
    ("CLEAR only", "CLEAR"),
    ("AMBER", "AMBER"),
    ("AMBER+STRICT", "AMBER+STRICT"),
]


class ExportScreen(LiaisonScreen):
    """Choose a recipient (or a STIX/MISP file) and filters; the preview follows every change; `ctrl+s` writes."""

    REOPENS = True

    @dataclass
    class InteropPlanned(Message):
        """The preview of a STIX or MISP export for the form of `generation` (`store.interop.common.Selection`)."""

        generation: int
        selection: Any

    @dataclass
    class InteropWritten(Message):
        """A STIX or MISP file was written (`store.interop.common.ExportResult`)."""

        result: Any

    #: "bundle", "stix" or "misp": what ctrl+s writes; the form shows the fields that format needs.
    fmt: reactive[str] = reactive("bundle", init=False)

    AUTO_FOCUS = "#export-to"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "ctrl+s",
            "export",
            "Export",
            tooltip="Write the bundle of the included records (atomically) and mark them shared.",
            id="export.run",
        ),
        Binding("escape", "back", "Back", tooltip="Back to the previous screen.", id="export.back"),
    ]

    DEFAULT_CSS = """
    ExportScreen {
        & #export-form { height: auto; padding: 0 1; }
        & #export-form Horizontal { height: 1; margin-top: 1; }
        & #export-form Label { width: 18; padding: 0 1 0 0; color: $text-muted; }
        & #export-form Input, & #export-form Select { width: 1fr; }
        & #export-summary { padding: 0 1; height: auto; }
        & #export-preview { height: 1fr; }
        & #export-result { padding: 0 1; height: auto; }
    }
    ExportScreen.-short #export-form Horizontal { margin-top: 0; }
    ExportScreen #export-form .interop-only { display: none; }
    ExportScreen.-interop #export-form .interop-only { display: block; }
    ExportScreen.-interop #export-form .bundle-only { display: none; }
    """

    #: Below 32 rows the form drops the blank lines between its fields.
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]  # noqa: RUF012 (Screen declares it without ClassVar)

    def __init__(self) -> None:
        super().__init__()
        self.generation = 0
        self.plan: Any = None
        self.contacts: set[str] = set()
        self.out_edited = False
        self._auto_out = ""
        #: True after a bundle was written, until the form changes: the preview then says so, not "nothing to export".
        self.just_wrote = False

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="export-form"):
            with Horizontal():
                yield Label("Format")
                yield Select[str](FORMATS, value="bundle", allow_blank=False, id="export-format", compact=True)
            with Horizontal(classes="bundle-only"):
                yield Label("Recipient")
                yield Select[str]([], prompt="choose the ministry", id="export-to", compact=True)
            with Horizontal():
                yield Label("Updated since")
                yield Input(placeholder="YYYY-MM-DD (empty: any time)", id="export-since", compact=True)
            with Horizontal():
                yield Label("Domains")
                yield Input(placeholder="e.g. narcotics, cybercrime (empty: all)", id="export-domains", compact=True)
            with Horizontal():
                yield Label("References")
                yield Input(placeholder="only these records (empty: all that qualify)", id="export-refs", compact=True)
            with Horizontal(classes="interop-only"):
                yield Label("Highest TLP")
                yield Select[str](CEILINGS, value="GREEN", allow_blank=False, id="export-max-tlp", compact=True)
            with Horizontal(classes="bundle-only"):
                yield Label("Bundle passphrase")
                yield PassphraseInput(
                    placeholder="optional; needed when the ministry has no contact card", id="export-passphrase"
                )
            with Horizontal():
                yield Label("Write to")
                yield Input(placeholder="path of the bundle file", id="export-out", compact=True)
        yield StatusLine("Choose a recipient to see what would be included.", id="export-summary")
        yield RowTable(id="export-preview", cursor_type="row")
        yield ProgressBar(id="export-progress", classes="busy-progress", show_eta=False)
        yield StatusLine(id="export-result")
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.sub_title = "Export a bundle"
        table = self.query_one("#export-preview", DataTable)
        table.add_column("Reference", key="reference")
        table.add_column("Goes?", key="goes")
        table.add_column("Why not", key="reason")
        self.query_one("#export-passphrase", PassphraseInput).compact = True
        self.load_choices()

    @work(thread=True, exclusive=True, exit_on_error=False, group="export-choices", name="load recipients")
    def load_choices(self) -> None:
        """Ministries other than this one, marking those with a contact card."""
        from store.contacts import contacts

        session = self.session
        try:
            known = {c.code for c in contacts(session)}
            ministries = [(m.code, m.name, m.code in known) for m in session.ministries() if not m.is_self]
        except LiaisonError as exc:
            self.post_message(BundleStepRefused("recipients", app_error(exc)))
            return
        self.post_message(ExportChoicesLoaded(ministries))

    @on(ExportChoicesLoaded)
    def _choices(self, message: ExportChoicesLoaded) -> None:
        self.contacts = {code for code, _name, card in message.ministries if card}
        options = [
            (Text(visible(f"{code}  {name}{'' if card else '  (no card: passphrase only)'}")), code)
            for code, name, card in message.ministries
        ]
        self.query_one("#export-to", Select).set_options(options)

    # ---- the live preview ---------------------------------------------------------------------------

    def _recipient(self) -> str | None:
        value = self.query_one("#export-to", Select).value
        return value if isinstance(value, str) else None

    @on(Select.Changed, "#export-to")
    def _recipient_changed(self, _message: Select.Changed) -> None:
        code = self._recipient()
        self.just_wrote = False
        if code and not self.out_edited and self.fmt == "bundle":
            stamp = self.session.clock().strftime("%Y%m%d-%H%M")
            self._auto_out = str(self.session.vault.path.parent / f"to-{code.lower()}-{stamp}.bundle")
            self.query_one("#export-out", Input).value = self._auto_out
        self.refresh_plan()

    @on(Input.Changed, "#export-since, #export-domains, #export-refs")
    def _filters_changed(self, _message: Input.Changed) -> None:
        self.just_wrote = False
        self.refresh_plan()

    @on(Select.Changed, "#export-format")
    def _format_changed(self, message: Select.Changed) -> None:
        self.fmt = message.value if isinstance(message.value, str) else "bundle"

    @on(Select.Changed, "#export-max-tlp")
    def _ceiling_changed(self, _message: Select.Changed) -> None:
        self.just_wrote = False
        self.refresh_plan()

    def watch_fmt(self, fmt: str) -> None:
        self.set_class(fmt != "bundle", "-interop")
        self.just_wrote = False
        if not self.out_edited:
            stamp = self.session.clock().strftime("%Y%m%d-%H%M")
            code = self._recipient()
            if fmt == "bundle":
                self._auto_out = (
                    str(self.session.vault.path.parent / f"to-{code.lower()}-{stamp}.bundle") if code else ""
                )
            else:
                name = f"{self.session.ministry.lower()}-{stamp}.{fmt}.json"
                self._auto_out = str(self.session.vault.path.parent / name)
            self.query_one("#export-out", Input).value = self._auto_out
        self.plan = None
        self.query_one("#export-preview", DataTable).clear()
        self._summary("Choose a recipient to see what would be included." if fmt == "bundle" else "")
        self.refresh_plan()

    def _ceiling(self) -> str:
        value = self.query_one("#export-max-tlp", Select).value
        return value if isinstance(value, str) else "GREEN"

    @on(Input.Changed, "#export-out")
    def _out_changed(self, message: Input.Changed) -> None:
        self.out_edited = message.value != self._auto_out

    def refresh_plan(self) -> None:
        """Ask the store again what the form would export."""
        if self.fmt != "bundle":
            self.generation += 1
            self.plan_interop(
                self.generation,
                self._ceiling(),
                self.query_one("#export-since", Input).value,
                self.query_one("#export-domains", Input).value,
                self.query_one("#export-refs", Input).value,
            )
            return
        code = self._recipient()
        if code is None:
            return
        self.generation += 1
        self.plan_export(
            self.generation,
            code,
            self.query_one("#export-since", Input).value,
            self.query_one("#export-domains", Input).value,
            self.query_one("#export-refs", Input).value,
        )

    @work(thread=True, exclusive=True, exit_on_error=False, group="export-plan", name="preview export")
    def plan_export(self, generation: int, code: str, since: str, domains: str, refs: str) -> None:
        """The store's verdict on every candidate record (no change to the store)."""
        from store.bundles import plan_export

        try:
            plan = plan_export(self.session, code, since=parse_date(since), domains=words(domains), refs=words(refs))
        except LiaisonError as exc:
            self.post_message(BundleStepRefused("preview", app_error(exc)))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(ExportPlanned(generation, plan))

    @work(thread=True, exclusive=True, exit_on_error=False, group="export-plan", name="preview STIX/MISP export")
    def plan_interop(self, generation: int, ceiling: str, since: str, domains: str, refs: str) -> None:
        """What a STIX or MISP file would carry, and why the rest stays (no change to the store)."""
        from store.interop.common import preview_export

        try:
            selection = preview_export(
                self.session, max_tlp=ceiling, since=parse_date(since), domains=words(domains), refs=words(refs)
            )
        except LiaisonError as exc:
            self.post_message(BundleStepRefused("preview", app_error(exc)))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(self.InteropPlanned(generation, selection))

    @on(InteropPlanned)
    def _interop_planned(self, message: InteropPlanned) -> None:
        if message.generation == self.generation:
            self._show_plan(message.selection)

    @on(ExportPlanned)
    def _planned(self, message: ExportPlanned) -> None:
        if message.generation != self.generation:
            return
        self._show_plan(message.plan)

    def _show_plan(self, plan: Any) -> None:
        self.plan = plan
        if plan.damaged:
            self._summary(export_summary(plan), error=True)
        elif plan.included:
            self._summary(export_summary(plan))
        elif self.just_wrote:
            self._summary("Everything that qualified is in the bundle written below; nothing more to send now.")
        else:
            self._summary(f"nothing to export ({plan.reasons() or 'no record matches the filters'})")
        table = self.query_one("#export-preview", DataTable)
        table.clear()
        rows = 0
        for reference in plan.included_refs:
            if rows >= PREVIEW_ROWS:
                break
            table.add_row(Text(visible(reference)), "included", "", key=f"in:{reference}")
            rows += 1
        for reason, references in plan.excluded.items():
            for reference in references:
                if rows >= PREVIEW_ROWS:
                    break
                table.add_row(Text(visible(reference)), "excluded", Text(plan.label(reason)), key=f"out:{reference}")
                rows += 1

    def _summary(self, text: str, *, error: bool = False) -> None:
        self.query_one("#export-summary", StatusLine).show(text, error=error)

    # ---- writing the bundle -------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Export waits (greyed) while a file is being written."""
        return None if action == "export" and self.busy else True

    def action_export(self) -> None:
        if self.busy:
            return
        out = self.query_one("#export-out", Input).value.strip()
        if self.fmt != "bundle":
            if not out:
                self._result("Choose where to write the file first.", error=True)
                return
            self._result("")
            self.interop_flow(self.fmt, Path(out).expanduser())
            return
        code = self._recipient()
        if code is None or not out:
            self._result("Choose a recipient and where to write the bundle first.", error=True)
            return
        self._result("")
        self.export_flow(code, Path(out).expanduser())

    async def write_asking_first(self, out: Path, run: Callable[[bool], Worker[Any]]) -> Any:
        """`run(False)`'s result; when `out` holds a file, ask, then `run(True)`. None: nothing written (said why)."""
        from tui.modals.confirm import overwrite_question

        self.liaison.wrote_file(out)  # a file written into the inbox folder is never announced as an arrival
        outcome = await self.while_busy(run(False))
        if isinstance(outcome, TargetExists):
            if not await self.app.push_screen_wait(overwrite_question(out)):
                self._result(f"nothing written: {out} already exists (choose another name in Write to)")
                return None
            outcome = await self.while_busy(run(True))
        if isinstance(outcome, LiaisonError):
            self.post_message(BundleStepRefused("export", app_error(outcome)))
            return None
        return outcome

    @work(exclusive=True, exit_on_error=False, group="export-flow", name="export")
    async def export_flow(self, code: str, out: Path) -> None:
        """Write the bundle; when the path holds a file, ask before replacing it (the store refuses what may never be)."""
        form = (
            self.query_one("#export-since", Input).value,
            self.query_one("#export-domains", Input).value,
            self.query_one("#export-refs", Input).value,
            self.query_one("#export-passphrase", PassphraseInput).value or None,
        )
        outcome = await self.write_asking_first(
            out, lambda overwrite: self.run_export(code, out, *form, overwrite=overwrite)
        )
        if outcome is not None:
            self.post_message(ExportFinished(outcome))

    @work(thread=True, exclusive=True, exit_on_error=False, group="export-run", name="export bundle")
    def run_export(
        self, code: str, out: Path, since: str, domains: str, refs: str, secret: str | None, *, overwrite: bool
    ) -> ExportResult | LiaisonError:
        """Write the bundle chunk by chunk (progress reported), then record it in the sharing ledger; a refusal is returned."""
        from store.bundles import export_bundle
        from store.service import passphrase_bytes

        def progress(done: int, total: int) -> None:
            self.post_message(BundleProgress(done, total))

        try:
            return export_bundle(
                self.session,
                code,
                out,
                since=parse_date(since),
                domains=words(domains),
                refs=words(refs),
                passphrase=passphrase_bytes(secret) if secret else None,
                progress=progress,
                overwrite=overwrite,
            )
        except LiaisonError as exc:
            return exc

    @work(exclusive=True, exit_on_error=False, group="export-flow", name="export STIX/MISP")
    async def interop_flow(self, fmt: str, out: Path) -> None:
        """Write the STIX bundle or MISP event; when the path holds a file, ask before replacing it."""
        form = (
            self._ceiling(),
            self.query_one("#export-since", Input).value,
            self.query_one("#export-domains", Input).value,
            self.query_one("#export-refs", Input).value,
        )
        outcome = await self.write_asking_first(
            out, lambda overwrite: self.run_interop(fmt, out, *form, overwrite=overwrite)
        )
        if outcome is not None:
            self.post_message(self.InteropWritten(outcome))

    @work(thread=True, exclusive=True, exit_on_error=False, group="export-run", name="export STIX/MISP file")
    def run_interop(
        self, fmt: str, out: Path, ceiling: str, since: str, domains: str, refs: str, *, overwrite: bool
    ) -> Any:
        """Write the file atomically and log it; a refusal is returned."""
        from store.interop.misp import export_misp
        from store.interop.stix import export_stix

        run = export_stix if fmt == "stix" else export_misp
        try:
            return run(
                self.session,
                out,
                max_tlp=ceiling,
                since=parse_date(since),
                domains=words(domains),
                refs=words(refs),
                force=overwrite,
            )
        except LiaisonError as exc:
            return exc

    @on(InteropWritten)
    def _interop_written(self, message: InteropWritten) -> None:
        self._result(interop_export_summary(message.result))
        self.just_wrote = True
        self.refresh_plan()

    @on(BundleProgress)
    def _progress(self, message: BundleProgress) -> None:
        self.query_one("#export-progress", ProgressBar).update(total=message.total, progress=message.done)

    @on(ExportFinished)
    def _finished(self, message: ExportFinished) -> None:
        result: Any = message.result
        self._result(
            f"wrote {result.path}\nbundle {result.bundle_id} to {result.recipient} (seq {result.seq}): {export_summary(result.plan)}"
        )
        self.query_one("#export-passphrase", PassphraseInput).forget()
        self.just_wrote = True
        self.refresh_plan()

    @on(BundleStepRefused)
    def _refused(self, message: BundleStepRefused) -> None:
        if message.step == "preview":
            self.plan = None
            self.query_one("#export-preview", DataTable).clear()
            self._summary(f"preview refused: {message.reason}", error=True)
            return
        self._result(f"{message.step} refused: {message.reason}", error=True)

    def _result(self, text: str, *, error: bool = False) -> None:
        self.query_one("#export-result", StatusLine).show(text, error=error)

    def action_back(self) -> None:
        self.dismiss()

    def on_store_changed(self) -> None:
        self.refresh_plan()

    async def forget(self) -> None:
        self.query_one("#export-passphrase", PassphraseInput).forget()
        self.query_one("#export-preview", DataTable).clear()
