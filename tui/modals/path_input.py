"""Ask for a file path to read or write, typed or picked in a directory tree; `enter` answers, `escape` cancels."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import DirectoryTree, Input, Static

from tui.screens.base import LiaisonModal


class PathModal(LiaisonModal):
    """Dismisses with the path typed (or picked in the tree, when `browse`), or None when cancelled."""

    DEFAULT_CSS = """
    PathModal {
        align: center middle;
        & > Vertical { width: 90; height: auto; max-height: 90%; padding: 1 2; border: thick $accent; background: $surface; }
        & DirectoryTree { height: 16; margin-top: 1; }
        & #path-keys { margin-top: 1; color: $text-muted; }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", tooltip="Close without choosing a file.", id="path.cancel"),
    ]

    def __init__(self, title: str, default: Path | str = "", *, browse: Path | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.default = str(default)
        self.browse = browse

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.title_text, markup=False, classes="modal-title")
            yield Input(value=self.default, placeholder="path to the file", id="path")
            if self.browse is not None:
                yield DirectoryTree(self.browse, id="path-tree")
            keys = (
                "enter: choose    tab: the file tree    escape: cancel"
                if self.browse is not None
                else "enter: choose    escape: cancel"
            )
            yield Static(keys, id="path-keys")

    @on(Input.Submitted, "#path")
    def _typed(self, message: Input.Submitted) -> None:
        message.stop()
        if message.value.strip():
            self.dismiss(Path(message.value.strip()).expanduser())

    @on(DirectoryTree.FileSelected)
    def _picked(self, message: DirectoryTree.FileSelected) -> None:
        message.stop()
        self.dismiss(Path(message.path))

    def action_cancel(self) -> None:
        self.dismiss(None)
