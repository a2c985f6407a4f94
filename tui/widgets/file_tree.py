"""A directory tree for picking bundles, receipts and cards: stores and their SQLite side files are never offered."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from textual.widgets import DirectoryTree

#: Names a file picker never lists: Liaison stores and SQLite's side files (picking one is never what is meant).
HIDDEN_SUFFIXES = (".db", ".db-wal", ".db-shm", "-wal", "-shm", "-journal", ".partial")


class FileTree(DirectoryTree):
    """`DirectoryTree` without hidden files, stores (`.db`) or SQLite side files (`-wal`, `-shm`, `-journal`)."""

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        return [p for p in paths if not p.name.startswith(".") and not p.name.endswith(HIDDEN_SUFFIXES)]
