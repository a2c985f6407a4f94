"""The workstation's witness of each store's log: where it lives, how it is written, and that it never costs an
action (threat 31's first line of defence)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from tests.liaison_helpers import LiaisonStore, assert_refused


def _witness_files(state: Path) -> list[Path]:
    return sorted((state / "witness").glob("*.json"))


def test_the_witness_is_private_atomic_and_follows_each_change(store: LiaisonStore) -> None:
    """Threat 31: after each change the newest checkpoint is kept in LIAISON_STATE_DIR/witness/<store uuid>.json,
    mode 0600 in a 0700 directory, and only ever moves forward."""
    state = Path(os.environ["LIAISON_STATE_DIR"])
    store.add("First")
    (path,) = _witness_files(state)
    uuid = store.sql("SELECT value FROM liaison_meta WHERE key = 'store_id'")[0][0]
    assert path.name == f"{uuid}.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    first = json.loads(path.read_text())
    newest = store.sql("SELECT size, note FROM audit_checkpoints ORDER BY size DESC LIMIT 1")[0]
    assert (first["size"], first["note"]) == (newest[0], newest[1])
    store.add("Second")
    second = json.loads(path.read_text())
    assert second["size"] > first["size"]
    assert sorted(p.name for p in path.parent.iterdir() if not p.name.startswith(".")) == [path.name]  # no temp left

    from store.audit.witness import Seen, Witness

    older = Seen(uuid, first["size"], bytes(32), Seen.from_json(path.read_bytes(), uuid).time, first["note"])
    assert Witness(state).record(older) is False  # never backwards (two processes finishing out of order)
    assert json.loads(path.read_text())["size"] == second["size"]


def test_a_damaged_witness_is_a_clear_refusal(store: LiaisonStore) -> None:
    """A witness file that is not one (edited, truncated) refuses the open, naming the file and what to do."""
    store.add("First")
    (path,) = _witness_files(Path(os.environ["LIAISON_STATE_DIR"]))
    path.write_text("{not json")
    assert_refused(
        store.cli("list"),
        f"this workstation's checkpoint of the store ({path}) is damaged (",
        exact=False,
    )
    path.unlink()
    assert store.cli("list").code == 0  # a store never seen before is taken as it is, and seen from now on
    assert path.exists()


def test_a_witness_that_cannot_be_written_costs_no_change(store: LiaisonStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """The witness is written after the commit: a full disk there saves the change and says what is lost."""
    import store.audit.witness as witness

    def full(*_args: object, **_kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(witness, "atomic_write_bytes", full)
    result = store.cli("add", "--domain", "narcotics", "--tlp", "green", "--title", "Saved anyway")
    assert result.code == 0, result
    assert result.err_lines[-1].startswith("warning: this workstation could not keep the store's newest checkpoint")
    assert "No space left on device" in result.err_lines[-1]
    monkeypatch.undo()
    assert [r["title"] for r in store.list_json()] == ["Saved anyway"]


def test_each_workstation_has_its_own_witness(store: LiaisonStore, tmp_path: Path) -> None:
    """LIAISON_STATE_DIR chooses the workstation: another one has not seen the store and takes it as it is."""
    other = tmp_path / "other-workstation"
    store.add("First", env={"LIAISON_STATE_DIR": str(other)})
    assert len(_witness_files(other)) == 1
