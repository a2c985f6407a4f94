"""The meeting pack screen: the brief for one meeting as it would be written (preview), written to a file or a PDF,
or sealed for the counterpart in a bundle (`liaison meetings pack` in the app).

The store writes (atomically, through `store.files.check_target`) and refuses what may never be; the screen asks
where, and before replacing a file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
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
from store.files import TargetExists
from store.text import visible
from tui.present import app_error
from tui.screens.base import LiaisonScreen
from tui.widgets.status_line import StatusLine


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
