"""Threat 17: a file that is not a Liaison store, a corrupt store, a store from a newer schema.

Each is refused with a clear one-line error, and the file's bytes are untouched: same SHA-256, and no
`-wal`, `-shm` or journal left beside it by us.
"""

from __future__ import annotations

import os
import random
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from store.db import head_revision
from store.errors import StoreFileError
from store.service import Vault
from tests.liaison_helpers import PASSPHRASES, LiaisonStore, directory_snapshot, init_store, run_cli

#: Commands a user might try on the file: reads, writes, admin, and opening the app.
COMMANDS = [
    ["list"],
    ["list", "--json", "--search", "heroin"],
    ["show", "PK-MOI-2026-00001", "--json"],
    ["add", "--domain", "narcotics", "--tlp", "red", "--title", "A new record"],
    ["edit", "PK-MOI-2026-00001", "--title", "Changed"],
    ["submit", "PK-MOI-2026-00001"],
    ["officers", "list", "--json"],
    ["officers", "add", "dave", "--role", "officer"],
    ["officers", "passwd"],
    ["ministries", "list"],
]
#: `liaison` alone: the store is checked before the app opens (only where that check must refuse).
APP: list[str] = []
ENV = {"LIAISON_PASSPHRASE": PASSPHRASES["alice"], "LIAISON_NEW_PASSPHRASE": "new passphrase"}


def populated_store(directory: Path) -> Path:
    store = init_store(directory / "source" / "pk-moi.db")
    for i in range(12):
        store.add(f"Record {i}", "--summary", f"Summary {i} " + "lorem ipsum " * 150, "--to", "TR-MOI")
    return store.path


def foreign_sqlite(path: Path, *, wal: bool) -> None:
    conn = sqlite3.connect(path)
    if wal:
        conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT)")
    conn.executemany("INSERT INTO notes(body) VALUES (?)", [(f"note {i}",) for i in range(50)])
    conn.commit()
    conn.close()
    assert not Path(f"{path}-wal").exists()


def liaison_lookalike(path: Path) -> None:
    """An SQLite file with the table names of a store but none of its content."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE liaison_meta(key TEXT PRIMARY KEY, value TEXT)")
    conn.execute("CREATE TABLE alembic_version(version_num TEXT)")
    conn.commit()
    conn.close()


def copy_store(source: Path, target: Path) -> None:
    shutil.copyfile(source, target)


def truncated(source: Path, target: Path) -> None:
    data = source.read_bytes()
    target.write_bytes(data[: len(data) // 2])


def garbage_pages(source: Path, target: Path) -> None:
    """Every page after the first few overwritten with random bytes (a disk that returned garbage)."""
    data = bytearray(source.read_bytes())
    rng = random.Random(17)
    for offset in range(8192 * 2, len(data), 8192):
        data[offset : offset + 8192] = rng.randbytes(min(8192, len(data) - offset))
    target.write_bytes(bytes(data))


def broken_header(source: Path, target: Path) -> None:
    """The magic string kept, the rest of the 100-byte header (page size, counters) scrambled."""
    data = bytearray(source.read_bytes())
    data[16:100] = random.Random(3).randbytes(84)
    target.write_bytes(bytes(data))


def newer_schema(source: Path, target: Path) -> None:
    shutil.copyfile(source, target)
    conn = sqlite3.connect(target)
    conn.execute("UPDATE alembic_version SET version_num = 'ffff'")
    conn.commit()
    conn.close()
    assert not Path(f"{target}-wal").exists()


def no_schema_version(source: Path, target: Path) -> None:
    shutil.copyfile(source, target)
    conn = sqlite3.connect(target)
    conn.execute("DELETE FROM alembic_version")
    conn.commit()
    conn.close()


NOT_A_STORE: dict[str, Callable[[Path], None]] = {
    "empty file": lambda p: p.write_bytes(b""),
    "text file": lambda p: p.write_text("Minutes of the Joint Working Group\n" * 40, encoding="utf-8"),
    "random bytes": lambda p: p.write_bytes(random.Random(1).randbytes(65536)),
    "zip file": lambda p: p.write_bytes(b"PK\x03\x04" + bytes(400)),
    "sqlite magic only": lambda p: p.write_bytes(b"SQLite format 3\x00"),
    "foreign sqlite": lambda p: foreign_sqlite(p, wal=False),
    "foreign sqlite in WAL mode": lambda p: foreign_sqlite(p, wal=True),
    "liaison lookalike": liaison_lookalike,
}


def assert_untouched_after_every_command(path: Path, expected_message: Callable[[str], bool]) -> None:
    before = directory_snapshot(path.parent)
    for command in [*COMMANDS, APP]:
        result = run_cli("--store", str(path), *command, env=ENV)
        assert result.code == 1, (command, result)
        assert result.out == ""
        assert "Traceback" not in result.err
        assert len(result.err_lines) == 1, (command, result.err)
        line = result.err_lines[0]
        assert line.startswith("error: ") and expected_message(line), (command, line)
        assert directory_snapshot(path.parent) == before, command


@pytest.mark.parametrize("kind", NOT_A_STORE)
def test_a_file_that_is_not_a_store_is_refused_and_untouched(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "suspect.db"
    NOT_A_STORE[kind](path)
    assert_untouched_after_every_command(
        path,
        lambda line: (
            line
            in (
                f"error: {path} is not a Liaison store",
                f"error: store {path} is corrupt or unreadable (file is not a database)",
            )
        ),
    )
    with pytest.raises(StoreFileError):
        Vault.open(path)
    assert sorted(os.listdir(tmp_path)) == ["suspect.db"]


CORRUPTIONS: dict[str, Callable[[Path, Path], None]] = {
    "truncated": truncated,
    "garbage pages": garbage_pages,
    "broken header": broken_header,
}


@pytest.mark.parametrize("kind", CORRUPTIONS)
def test_a_corrupt_store_is_refused_and_untouched(tmp_path: Path, kind: str) -> None:
    source = populated_store(tmp_path)
    path = tmp_path / "corrupt" / "pk-moi.db"
    path.parent.mkdir()
    CORRUPTIONS[kind](source, path)
    before = directory_snapshot(path.parent)
    outcomes = []
    for command in COMMANDS:
        result = run_cli("--store", str(path), *command, env=ENV)
        outcomes.append(result.code)
        assert "Traceback" not in result.err
        if result.code != 0:
            assert result.code == 1 and len(result.err_lines) == 1, (command, result)
            assert result.err_lines[0].startswith("error: "), result.err
            assert "corrupt" in result.err or "not a Liaison store" in result.err or "not authenticate" in result.err, (
                command,
                result.err,
            )
        assert directory_snapshot(path.parent) == before, (command, result)
    # the writes, at least, are refused: nothing is written into a damaged file
    assert outcomes[3] == 1 and outcomes[4] == 1, outcomes


def test_a_store_from_a_newer_schema_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "newer" / "pk-moi.db"
    path.parent.mkdir()
    newer_schema(populated_store(tmp_path), path)
    message = f"error: store {path} uses schema ffff, newer than this Liaison knows (up to {head_revision()}); upgrade Liaison"
    assert_untouched_after_every_command(path, lambda line: line == message)
    with pytest.raises(StoreFileError, match="newer than this Liaison knows"):
        Vault.open(path)
    assert sorted(os.listdir(path.parent)) == ["pk-moi.db"]


def test_a_store_without_a_schema_version_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "unversioned" / "pk-moi.db"
    path.parent.mkdir()
    no_schema_version(populated_store(tmp_path), path)
    assert_untouched_after_every_command(path, lambda line: line == f"error: {path} is not a Liaison store")


def test_preflight_of_a_good_store_leaves_no_files_behind(store: LiaisonStore) -> None:
    from store.db import preflight

    store.add("Something")
    assert sorted(os.listdir(store.path.parent)) == ["pk-moi.db"]
    preflight(store.path)
    assert sorted(os.listdir(store.path.parent)) == ["pk-moi.db"]


@pytest.mark.parametrize("name", ["we#ird.db", "why?.db", "per%20cent.db", "with space.db", "ünïcödé.db"])
def test_store_paths_with_url_special_characters(tmp_path: Path, name: str) -> None:
    """A store name is a file name, never parsed as a URL: nothing is created under any other name."""
    store = init_store(tmp_path / name)
    ref = store.add("Odd file name")
    assert store.show(ref)["title"] == "Odd file name"
    assert sorted(os.listdir(tmp_path)) == [name]
