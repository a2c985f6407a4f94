"""Threat 7: crash or full disk during export: never a partial file at the final path, an earlier file there intact."""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Any, BinaryIO

import pytest

import store.files
from tests.bundles.conftest import Pair
from tests.liaison_helpers import store_fingerprint


class FullDisk:
    """A file that accepts `budget` bytes, then fails like a full disk."""

    def __init__(self, real: BinaryIO, budget: int) -> None:
        self.real, self.budget = real, budget

    def write(self, data: bytes) -> int:
        if len(data) > self.budget:
            raise OSError(errno.ENOSPC, "No space left on device")
        self.budget -= len(data)
        return self.real.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def __enter__(self) -> FullDisk:
        return self

    def __exit__(self, *exc: object) -> None:
        self.real.close()


@pytest.mark.parametrize("budget", [0, 100, 3000])
def test_full_disk_mid_export_leaves_the_earlier_file_intact(
    pair: Pair, monkeypatch: pytest.MonkeyPatch, budget: int
) -> None:
    """The disk fills after `budget` bytes: exit 1, earlier bundle byte-identical, no temp file, ledger unchanged."""
    out = pair.path("out.bundle")
    out.write_bytes(b"an earlier bundle the officer still needs")
    before_files = sorted(p.name for p in pair.root.iterdir())
    before = store_fingerprint(pair.pk.path)
    real_open = store.files._open_temp
    monkeypatch.setattr(store.files, "_open_temp", lambda fd: FullDisk(real_open(fd), budget))
    result = pair.pk.cli("export", "--to", "TR-MOI", "--out", str(out), "--force")
    error = f"error: cannot write {out}: No space left on device; nothing was written there"
    assert result.code == 1 and error in result.err_lines
    # the same full disk may also refuse the workstation's witness of the log: said, never hidden
    others = [line for line in result.err_lines if line != error]
    assert all(
        line.startswith("warning: this workstation could not keep the store's newest checkpoint") for line in others
    )
    assert out.read_bytes() == b"an earlier bundle the officer still needs"
    assert sorted(p.name for p in pair.root.iterdir()) == before_files
    assert store_fingerprint(pair.pk.path) == before


def test_crash_before_rename_leaves_no_partial_file(pair: Pair, monkeypatch: pytest.MonkeyPatch) -> None:
    """Killed just before the rename (simulated): no file at the final path, nothing recorded as sent."""
    out = pair.path("new.bundle")

    def crash(*_args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(store.files.os, "replace", crash)
    monkeypatch.setattr(store.files.os, "link", crash)  # a new name is published with link (no clobber)
    before = store_fingerprint(pair.pk.path)
    result = pair.pk.cli("export", "--to", "TR-MOI", "--out", str(out))
    assert result.code == 1 and "interrupted" in result.err
    assert not out.exists()
    assert [p.name for p in pair.root.iterdir() if p.name.endswith(".partial")] == []
    assert store_fingerprint(pair.pk.path) == before


def test_successful_export_replaces_an_earlier_file(pair: Pair) -> None:
    """When the write completes (and the officer asked to replace it), the new bundle takes the final name in one rename."""
    out: Path = pair.path("out.bundle")
    out.write_bytes(b"old")
    pair.pk.ok("export", "--to", "TR-MOI", "--out", str(out), "--force")
    assert out.read_bytes().startswith(b"liaison-bundle/v2\n")
    assert oct(out.stat().st_mode & 0o777) == "0o600"
