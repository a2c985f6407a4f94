"""`liaison backup --out FILE` and `liaison restore FILE --store PATH [--force]` from the command line."""

from __future__ import annotations

from pathlib import Path

from tests.liaison_helpers import PASSPHRASES, LiaisonStore, assert_refused, run_cli, store_fingerprint


def test_backup_and_restore_round_trip(store: LiaisonStore, tmp_path: Path) -> None:
    ref = store.add("Kept in the backup")
    out = tmp_path / "pk-moi.backup"
    result = run_cli("--store", str(store.path), "backup", "--out", str(out))  # no passphrase needed
    assert result.code == 0 and result.out == "", result
    assert result.err.startswith(f"backed up {store.path} to {out} (")
    new = tmp_path / "elsewhere" / "restored.db"
    result = run_cli("restore", str(out), "--store", str(new))
    assert result.code == 0, result
    assert (
        result.err.strip()
        == f"restored {out} as a new store {new} (schema {result.err.split('schema ')[1].split(')')[0]})"
    )
    assert LiaisonStore(new).show(ref)["title"] == "Kept in the backup"


def test_backup_refuses_an_existing_file(store: LiaisonStore, tmp_path: Path) -> None:
    out = tmp_path / "taken.db"
    out.write_bytes(b"notes")
    assert_refused(
        run_cli("--store", str(store.path), "backup", "--out", str(out)),
        f"{out} already exists; refusing to replace it",
    )
    assert out.read_bytes() == b"notes"
    assert_refused(
        run_cli("--store", str(store.path), "backup", "--out", str(store.path)),
        f"{store.path} is the open store; refusing to write there",
    )


def test_restore_over_a_store_needs_force(store: LiaisonStore, tmp_path: Path) -> None:
    out = tmp_path / "b.db"
    assert run_cli("--store", str(store.path), "backup", "--out", str(out)).code == 0
    store.add("Added after the backup")
    before = store_fingerprint(store.path)
    result = run_cli("restore", str(out), "--store", str(store.path))
    assert_refused(
        result,
        f"a store already exists at {store.path}; refusing to replace it (add --force to replace it; a copy of it is kept beside it)",
    )
    assert store_fingerprint(store.path) == before
    # this workstation saw the newer log: putting the older copy back is a rollback an admin accepts
    result = run_cli(
        "restore", str(out), "--store", str(store.path), "--force", env={"LIAISON_PASSPHRASE": PASSPHRASES["alice"]}
    )
    assert result.code == 0, result
    first, second = result.err_lines
    kept = Path(first.rsplit("kept at ", 1)[1])
    assert kept.parent == store.path.parent and store_fingerprint(kept) == before
    assert second.startswith("this workstation had seen the store's log at ") and second.endswith(
        ": the rollback is accepted and logged"
    )
    assert store.list_json() == []  # not refused as rolled back: the restore moved the witness
    log = store.ok("audit", "log", "--action", "accept-rollback", "--json").json()
    assert [(e["officer"], e["action"]) for e in log] == [("alice", "accept-rollback")]


def test_restore_of_an_older_copy_needs_an_admin(team_store: LiaisonStore, tmp_path: Path) -> None:
    """Threat 31: restoring an older copy is a deliberate rollback: without an admin's passphrase nothing is restored."""
    out = tmp_path / "b.db"
    assert run_cli("--store", str(team_store.path), "backup", "--out", str(out)).code == 0
    team_store.add("Added after the backup")
    before = store_fingerprint(team_store.path)
    result = run_cli("--officer", "alice", "restore", str(out), "--store", str(team_store.path), "--force")
    assert_refused(result, "store rolled back: log has ", exact=False)
    assert result.err.rstrip().endswith(
        "restoring this copy is a rollback an admin must accept: no passphrase: set LIAISON_PASSPHRASE or use "
        "--passphrase-file (no terminal to ask on); nothing was restored"
    )
    result = run_cli(
        "--officer",
        "bob",
        "restore",
        str(out),
        "--store",
        str(team_store.path),
        "--force",
        env={"LIAISON_PASSPHRASE": PASSPHRASES["bob"]},
    )
    assert_refused(result, "role reviewer may not accept a rolled-back store; nothing was restored")
    assert store_fingerprint(team_store.path) == before
    assert [p.name for p in team_store.path.parent.iterdir() if "restoring" in p.name] == []


def test_restore_refuses_what_is_not_a_store(store: LiaisonStore, tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    before = store_fingerprint(store.path)
    assert_refused(
        run_cli("restore", str(text), "--store", str(store.path), "--force"), f"{text} is not a Liaison store"
    )
    assert_refused(
        run_cli("restore", str(tmp_path / "missing.db"), "--store", str(store.path)), "no store at", exact=False
    )
    assert store_fingerprint(store.path) == before
