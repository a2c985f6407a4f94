"""Ask for a file path to read or write, typed or picked in a directory tree; `enter` answers, `escape` cancels."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.widgets import DirectoryTree, Input

from tui.modals.prompt import PromptModal
from tui.widgets.file_tree import FileTree


class PathModal(PromptModal[Path | None]):
    """Dismisses with the path typed (or picked in the tree, when `browse`), or None when cancelled."""

    DEFAULT_CSS = """
    PathModal {
        & > .prompt-box { width: 90; }
        & FileTree { height: 14; margin-top: 1; }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = []

    def __init__(self, title: str | Text, default: Path | str = "", *, browse: Path | None = None) -> None:
        super().__init__(title)
        self.default = str(default)
        self.browse = browse

    def compose_body(self) -> ComposeResult:
        yield Input(value=self.default, placeholder="path to the file", id="path", select_on_focus=False)
        if self.browse is not None:
            yield FileTree(self.browse, id="path-tree")

    def keys_line(self) -> str:
        return (
            "enter: choose    tab: the file tree    escape: cancel"
            if self.browse is not None
            else "enter: choose    escape: cancel"
        )

    @on(Input.Submitted, "#path")
    def _typed(self, message: Input.Submitted) -> None:
        message.stop()
        if message.value.strip():
            self.dismiss(Path(message.value.strip()).expanduser())
        else:
            self.error = "Type a path, or escape to cancel."

    @on(DirectoryTree.FileSelected)
    def _picked(self, message: DirectoryTree.FileSelected) -> None:
        message.stop()
        self.dismiss(Path(message.path))
