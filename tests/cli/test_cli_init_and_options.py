"""`liaison init` and how every command finds its store, its officer and its passphrase (issue 2's CLI contract)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.liaison_helpers import (
    PASSPHRASES,
    LiaisonStore,
    assert_refused,
    directory_snapshot,
    init_store,
    run_cli,
)

ALICE = {"LIAISON_PASSPHRASE": PASSPHRASES["alice"]}


def officers(store: LiaisonStore) -> dict[str, str]:
    return {o["name"]: o["role"] for o in store.ok("officers", "list", "--json").json()}


# ---- init -----------------------------------------------------------------------------------------


def test_init_creates_a_store_whose_first_officer_is_admin(tmp_path: Path) -> None:
    path = tmp_path / "new" / "pk-moi.db"
    result = run_cli("--store", str(path), "init", "--ministry", "PK-MOI", "--officer", "alice", env=ALICE)
    assert result.code == 0, result
    assert result.out == ""
    assert path.is_file()
    store = LiaisonStore(path)
    assert officers(store) == {"alice": "admin"}
    ministries = {m["code"]: m for m in store.ok("ministries", "list", "--json").json()}
    assert set(ministries) == {"PK-MOI", "TR-MOI", "PK-ANF", "PK-NDMA"}
    assert ministries["PK-MOI"]["self"] is True
    assert (path.stat().st_mode & 0o777) == 0o600
    # only the store itself is left in the directory: no temporary file survives creation
    assert sorted(p.name for p in path.parent.iterdir() if not p.name.endswith(("-wal", "-shm"))) == ["pk-moi.db"]


@pytest.mark.parametrize(
    "content",
    [b"", b"my thesis, do not overwrite\n", b"SQLite format 3\x00" + bytes(100)],
    ids=["empty file", "text file", "sqlite-looking file"],
)
def test_init_refuses_an_existing_file_and_leaves_its_bytes(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "existing.db"
    path.write_bytes(content)
    before = directory_snapshot(tmp_path)
    result = run_cli("--store", str(path), "init", "--ministry", "PK-MOI", "--officer", "alice", env=ALICE)
    assert_refused(result, f"'{path}' already exists; refusing to touch it")
    assert directory_snapshot(tmp_path) == before


def test_init_refuses_an_existing_store(store: LiaisonStore, fingerprint) -> None:
    ref = store.add("Kept record")
    before_files = directory_snapshot(store.path.parent)
    before = fingerprint(store.path)
    result = run_cli("--store", str(store.path), "init", "--ministry", "TR-MOI", "--officer", "zed", env=ALICE)
    assert_refused(result, f"'{store.path}' already exists; refusing to touch it")
    assert directory_snapshot(store.path.parent) == before_files
    assert fingerprint(store.path) == before
    assert store.show(ref)["title"] == "Kept record"


def test_init_refuses_a_dangling_symlink(tmp_path: Path) -> None:
    link = tmp_path / "store.db"
    link.symlink_to(tmp_path / "elsewhere" / "target.db")
    result = run_cli("--store", str(link), "init", "--ministry", "PK-MOI", "--officer", "alice", env=ALICE)
    assert_refused(result, "already exists; refusing to touch it", exact=False)
    assert link.is_symlink() and not (tmp_path / "elsewhere").exists()


def test_init_with_an_unknown_ministry_lists_the_valid_codes_and_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    result = run_cli("--store", str(path), "init", "--ministry", "XX-NOPE", "--officer", "alice", env=ALICE)
    assert_refused(result, "unknown ministry XX-NOPE; valid: PK-ANF, PK-MOI, PK-NDMA, TR-MOI", exact=False)
    assert list(tmp_path.iterdir()) == []


def test_init_with_ministry_name_adds_a_new_ministry(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    result = run_cli(
        "--store",
        str(path),
        "init",
        "--ministry",
        "AZ-MIA",
        "--ministry-name",
        "Ministry of Internal Affairs, Azerbaijan",
        "--officer",
        "alice",
        env=ALICE,
    )
    assert result.code == 0, result
    ministries = {m["code"]: m for m in LiaisonStore(path).ok("ministries", "list", "--json").json()}
    assert ministries["AZ-MIA"] == {"code": "AZ-MIA", "name": "Ministry of Internal Affairs, Azerbaijan", "self": True}


def test_init_without_officer_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli("--store", str(tmp_path / "s.db"), "init", "--ministry", "PK-MOI", env=ALICE)
    assert result.code == 2
    assert result.err.startswith("error: ")
    assert list(tmp_path.iterdir()) == []


def test_init_without_ministry_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli("--store", str(tmp_path / "s.db"), "init", "--officer", "alice", env=ALICE)
    assert result.code == 2
    assert "--ministry" in result.err
    assert list(tmp_path.iterdir()) == []


def test_init_with_an_invalid_officer_name_creates_nothing(tmp_path: Path) -> None:
    result = run_cli(
        "--store", str(tmp_path / "s.db"), "init", "--ministry", "PK-MOI", "--officer", "Alice Smith", env=ALICE
    )
    assert_refused(result, "invalid officer name 'Alice Smith'", exact=False)
    assert list(tmp_path.iterdir()) == []


def test_init_without_any_passphrase_source_refuses_rather_than_hang(tmp_path: Path) -> None:
    result = run_cli("--store", str(tmp_path / "s.db"), "init", "--ministry", "PK-MOI", "--officer", "alice")
    assert_refused(result, "no passphrase: set LIAISON_PASSPHRASE or use --passphrase-file (no terminal to ask on)")
    assert list(tmp_path.iterdir()) == []


def test_a_passphrase_is_never_a_command_line_value(tmp_path: Path) -> None:
    result = run_cli(
        "--store",
        str(tmp_path / "s.db"),
        "--passphrase",
        "hunter2",
        "init",
        "--ministry",
        "PK-MOI",
        "--officer",
        "alice",
    )
    assert result.code == 2
    assert list(tmp_path.iterdir()) == []


# ---- the passphrase file --------------------------------------------------------------------------


def test_passphrase_file_is_read_without_its_trailing_newline(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("file passphrase ünïcode\n", encoding="utf-8")
    path = tmp_path / "s.db"
    created = run_cli(
        "--store", str(path), "--passphrase-file", str(secret), "init", "--ministry", "PK-MOI", "--officer", "alice"
    )
    assert created.code == 0, created
    store = LiaisonStore(path)
    # the same passphrase typed into the environment unlocks: the newline was not part of it
    assert store.cli("list", passphrase="file passphrase ünïcode").code == 0
    wrong = store.cli("list", passphrase="file passphrase ünïcode\n")
    assert_refused(wrong, "wrong passphrase for officer alice")
    # and the option also works after the command name
    listed = run_cli("list", "--store", str(path), "--passphrase-file", str(secret))
    assert listed.code == 0, listed


def test_passphrase_file_wins_over_the_environment(store: LiaisonStore, tmp_path: Path) -> None:
    secret = tmp_path / "alice.txt"
    secret.write_text(PASSPHRASES["alice"], encoding="utf-8")
    result = store.cli("--passphrase-file", str(secret), "list", passphrase="not alice's")
    assert result.code == 0, result


def test_an_empty_or_missing_passphrase_file_is_refused(store: LiaisonStore, tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("\n", encoding="utf-8")
    assert_refused(store.cli("--passphrase-file", str(empty), "list"), f"passphrase file '{empty}' is empty")
    missing = tmp_path / "missing.txt"
    assert_refused(
        store.cli("--passphrase-file", str(missing), "list"),
        f"cannot read passphrase file '{missing}': No such file or directory",
    )


# ---- finding the store ----------------------------------------------------------------------------


def test_store_option_works_before_and_after_the_command(store: LiaisonStore) -> None:
    ref = store.add("Placement check")
    before = run_cli("--store", str(store.path), "list", "--json", env=ALICE)
    after = run_cli("list", "--json", "--store", str(store.path), env=ALICE)
    assert before.code == after.code == 0
    assert [r["reference"] for r in before.json()] == [r["reference"] for r in after.json()] == [ref]


def test_store_from_the_environment(store: LiaisonStore) -> None:
    ref = store.add("Found through LIAISON_STORE")
    result = run_cli("list", "--json", env={**ALICE, "LIAISON_STORE": str(store.path)})
    assert result.code == 0, result
    assert [r["reference"] for r in result.json()] == [ref]


def test_store_option_wins_over_the_environment(store: LiaisonStore, tmp_path: Path) -> None:
    other = init_store(tmp_path / "other.db")
    other.add("Only in the other store")
    result = run_cli("--store", str(store.path), "list", "--json", env={**ALICE, "LIAISON_STORE": str(other.path)})
    assert result.code == 0 and result.json() == []


def test_default_store_is_in_the_user_data_dir(tmp_path: Path) -> None:
    data_home = Path(os.environ["XDG_DATA_HOME"])
    created = run_cli("init", "--ministry", "PK-MOI", "--officer", "alice", env=ALICE)
    assert created.code == 0, created
    default = data_home / "liaison" / "liaison.db"
    assert default.is_file()
    ref = run_cli("add", "--domain", "policing", "--tlp", "green", "--title", "Default store", env=ALICE)
    assert ref.code == 0, ref
    assert LiaisonStore(default).show(ref.out.strip())["title"] == "Default store"


def test_a_missing_store_is_a_one_line_error_and_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.db"
    result = run_cli("--store", str(path), "list", env=ALICE)
    assert_refused(result, f"no store at {path}; create one with `liaison init` or `liaison demo`")
    assert list(tmp_path.iterdir()) == []


def test_a_directory_is_not_a_store(tmp_path: Path) -> None:
    result = run_cli("--store", str(tmp_path), "list", env=ALICE)
    assert_refused(result, f"{tmp_path} is not a file")


def test_liaison_alone_checks_the_store_before_opening_the_app(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.db"
    result = run_cli("--store", str(path))
    assert_refused(result, f"no store at {path}; create one with `liaison init` or `liaison demo`")
    assert list(tmp_path.iterdir()) == []


# ---- choosing the officer -------------------------------------------------------------------------


def test_the_only_officer_is_the_default(store: LiaisonStore) -> None:
    result = store.cli(
        "add",
        "--domain",
        "narcotics",
        "--tlp",
        "green",
        "--title",
        "By default",
        officer=None,
        passphrase=PASSPHRASES["alice"],
    )
    assert result.code == 0, result
    ref = result.out.strip()
    assert store.show(ref)["author"] == "alice"


def test_with_several_officers_one_must_be_chosen(team_store: LiaisonStore) -> None:
    result = team_store.cli("list", officer=None, passphrase=PASSPHRASES["alice"])
    assert_refused(result, "several officers (alice, bob, carol); choose one with --officer or LIAISON_OFFICER")


def test_officer_from_option_and_from_environment(team_store: LiaisonStore) -> None:
    by_option = team_store.add("Carol's note", officer="carol")
    assert team_store.show(by_option)["author"] == "carol"
    result = run_cli(
        "--store",
        str(team_store.path),
        "add",
        "--domain",
        "policing",
        "--tlp",
        "green",
        "--title",
        "Bob's note",
        env={"LIAISON_OFFICER": "bob", "LIAISON_PASSPHRASE": PASSPHRASES["bob"]},
    )
    assert result.code == 0, result
    assert team_store.show(result.out.strip())["author"] == "bob"
    # --officer wins over LIAISON_OFFICER
    result = run_cli(
        "--store",
        str(team_store.path),
        "--officer",
        "carol",
        "add",
        "--domain",
        "policing",
        "--tlp",
        "green",
        "--title",
        "x",
        env={"LIAISON_OFFICER": "bob", "LIAISON_PASSPHRASE": PASSPHRASES["carol"]},
    )
    assert result.code == 0, result
    assert team_store.show(result.out.strip())["author"] == "carol"


def test_an_unknown_officer_is_refused_listing_the_officers(team_store: LiaisonStore) -> None:
    result = team_store.cli("list", officer="mallory", passphrase="x")
    assert_refused(result, "unknown officer mallory; officers: alice, bob, carol")
