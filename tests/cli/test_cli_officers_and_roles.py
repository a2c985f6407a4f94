"""Officers, roles, four-eyes, passphrases and ministries through the CLI; every refusal leaves the store as it was."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.liaison_helpers import PASSPHRASES, LiaisonStore, assert_refused, init_store, run_cli


def slots(store: LiaisonStore) -> list[tuple]:
    return store.sql('SELECT name, role, slot, "grant", mac, revoked_at FROM officers ORDER BY name')


# ---- officers -------------------------------------------------------------------------------------


def test_officers_add_and_list(team_store: LiaisonStore) -> None:
    listed = team_store.ok("officers", "list", "--json").json()
    assert [(o["name"], o["role"]) for o in listed] == [("alice", "admin"), ("bob", "reviewer"), ("carol", "officer")]
    plain = team_store.ok("officers", "list").out.splitlines()
    assert [line.split()[:3] for line in plain] == [
        ["alice", "admin", "active"],
        ["bob", "reviewer", "active"],
        ["carol", "officer", "active"],
    ]


def test_officers_list_needs_no_passphrase(team_store: LiaisonStore) -> None:
    result = run_cli("--store", str(team_store.path), "officers", "list", "--json")
    assert result.code == 0, result
    assert {o["name"] for o in result.json()} == {"alice", "bob", "carol"}


def test_two_officers_unlock_one_store_and_see_the_same_records(team_store: LiaisonStore) -> None:
    team_store.add("Written by alice", "--summary", "Alice's summary", officer="alice")
    team_store.add("Written by carol", "--summary", "Carol's summary", officer="carol")
    views = {name: team_store.list_json(officer=name) for name in ("alice", "bob", "carol")}
    assert views["alice"] == views["bob"] == views["carol"]
    assert {r["title"] for r in views["bob"]} == {"Written by alice", "Written by carol"}
    for row in views["alice"]:
        details = {name: team_store.show(row["reference"], officer=name) for name in ("alice", "bob", "carol")}
        assert details["alice"]["summary"] == details["bob"]["summary"] == details["carol"]["summary"] != ""


def test_a_new_officer_reads_records_written_before_they_joined(store: LiaisonStore) -> None:
    ref = store.add("Old record", "--summary", "Written before dave existed")
    store.ok("officers", "add", "dave", "--role", "officer", env={"LIAISON_NEW_PASSPHRASE": PASSPHRASES["dave"]})
    assert store.show(ref, officer="dave")["summary"] == "Written before dave existed"


def test_officers_add_without_a_new_passphrase_is_refused(store: LiaisonStore, fingerprint) -> None:
    before = fingerprint(store.path)
    result = store.cli("officers", "add", "dave", "--role", "officer")
    assert_refused(result, "no new passphrase: set LIAISON_NEW_PASSPHRASE (no terminal to ask on)")
    assert fingerprint(store.path) == before


@pytest.mark.parametrize(
    ("name", "role", "message"),
    [
        ("dave", "boss", "unknown role 'boss'; valid: officer, reviewer, admin"),
        (
            "Dave Smith",
            "officer",
            "invalid officer name 'Dave Smith': use lower-case letters, digits, '.', '_' or '-' (max 32)",
        ),
        ("alice", "officer", "officer alice already exists"),
    ],
)
def test_officers_add_bad_input(store: LiaisonStore, fingerprint, name: str, role: str, message: str) -> None:
    before = fingerprint(store.path)
    result = store.cli("officers", "add", name, "--role", role, env={"LIAISON_NEW_PASSPHRASE": "whatever"})
    assert_refused(result, message)
    assert fingerprint(store.path) == before


def test_role_is_case_insensitive(store: LiaisonStore) -> None:
    store.ok("officers", "add", "dave", "--role", "Reviewer", env={"LIAISON_NEW_PASSPHRASE": PASSPHRASES["dave"]})
    roles = {o["name"]: o["role"] for o in store.ok("officers", "list", "--json").json()}
    assert roles["dave"] == "reviewer"


def test_passphrase_change_keeps_access_old_one_refused(team_store: LiaisonStore) -> None:
    ref = team_store.add("Before the change", officer="bob")
    result = team_store.ok("officers", "passwd", officer="bob", env={"LIAISON_NEW_PASSPHRASE": "bob's new passphrase"})
    assert result.out == ""
    assert_refused(team_store.cli("list", officer="bob"), "wrong passphrase for officer bob")
    shown = team_store.ok("show", ref, "--json", officer="bob", passphrase="bob's new passphrase").json()
    assert shown["title"] == "Before the change"
    # the others are unaffected
    assert team_store.show(ref, officer="alice")["title"] == "Before the change"
    assert team_store.show(ref, officer="carol")["title"] == "Before the change"


def test_passphrase_change_without_a_new_passphrase_is_refused(store: LiaisonStore, fingerprint) -> None:
    before = fingerprint(store.path)
    assert_refused(
        store.cli("officers", "passwd"), "no new passphrase: set LIAISON_NEW_PASSPHRASE (no terminal to ask on)"
    )
    assert fingerprint(store.path) == before


def test_passphrases_are_unicode_normalised(tmp_path: Path) -> None:
    nfc, nfd = "caf\u00e9 \u00e7ay", "cafe\u0301 c\u0327ay"
    path = tmp_path / "s.db"
    assert (
        run_cli(
            "--store", str(path), "init", "--ministry", "PK-MOI", "--officer", "alice", env={"LIAISON_PASSPHRASE": nfc}
        ).code
        == 0
    )
    assert run_cli("--store", str(path), "list", env={"LIAISON_PASSPHRASE": nfd}).code == 0


def test_officers_remove(team_store: LiaisonStore) -> None:
    old = team_store.add("Before carol left", officer="carol")
    result = team_store.ok("officers", "remove", "carol")
    assert result.out == ""
    listed = {o["name"]: o for o in team_store.ok("officers", "list", "--json").json()}
    assert listed["carol"]["revoked"] is True
    today = datetime.now(UTC)
    assert_refused(team_store.cli("list", officer="carol"), f"officer carol was removed on {today:%Y-%m-%d}")
    new = team_store.add("After carol left", officer="bob")
    for name in ("alice", "bob"):
        assert team_store.show(old, officer=name)["title"] == "Before carol left"
        assert team_store.show(new, officer=name)["title"] == "After carol left"
    # with carol gone, bob and alice remain: the only-officer default still needs a choice
    assert_refused(
        team_store.cli("list", officer=None),
        "several officers (alice, bob); choose one with --officer or LIAISON_OFFICER",
    )


def test_an_admin_cannot_remove_themselves_or_a_stranger(team_store: LiaisonStore, fingerprint) -> None:
    before = fingerprint(team_store.path)
    assert_refused(team_store.cli("officers", "remove", "alice"), "an admin cannot remove themselves")
    assert_refused(team_store.cli("officers", "remove", "mallory"), "no active officer mallory")
    assert fingerprint(team_store.path) == before


# ---- roles ----------------------------------------------------------------------------------------


def test_four_eyes_refusal_message(tmp_path: Path, fingerprint) -> None:
    store = init_store(tmp_path / "s.db")
    ref = store.add("Self-approval attempt")
    assert ref == f"PK-MOI-{datetime.now(UTC):%Y}-00001"
    store.ok("submit", ref)
    before = fingerprint(store.path)
    result = store.cli("review", ref, "--approve")
    assert result.code == 1
    assert result.out == ""
    assert result.err == f"error: four-eyes policy: alice authored {ref}\n"
    assert fingerprint(store.path) == before
    assert store.show(ref)["status"] == "in-review"


def test_no_four_eyes_allows_self_approval(tmp_path: Path) -> None:
    store = init_store(tmp_path / "single.db", "--no-four-eyes")
    ref = store.add("Single-officer store", "--submit")
    store.ok("review", ref, "--approve")
    assert store.show(ref)["status"] == "approved"


def test_an_officer_may_not_approve_or_return(team_store: LiaisonStore, fingerprint) -> None:
    ref = team_store.add("Bob's", officer="bob")
    team_store.ok("submit", ref, officer="bob")
    before = fingerprint(team_store.path)
    assert_refused(team_store.cli("review", ref, "--approve", officer="carol"), "role officer may not approve")
    assert_refused(
        team_store.cli("review", ref, "--return", "--comment", "no", officer="carol"),
        "role officer may not return records",
    )
    assert fingerprint(team_store.path) == before


@pytest.mark.parametrize("who", ["bob", "carol"])
def test_only_an_admin_manages_officers(team_store: LiaisonStore, fingerprint, who: str) -> None:
    role = {"bob": "reviewer", "carol": "officer"}[who]
    before = fingerprint(team_store.path)
    added = team_store.cli(
        "officers", "add", "dave", "--role", "admin", officer=who, env={"LIAISON_NEW_PASSPHRASE": "x"}
    )
    assert_refused(added, f"role {role} may not manage officers")
    assert_refused(team_store.cli("officers", "remove", "alice", officer=who), f"role {role} may not manage officers")
    assert fingerprint(team_store.path) == before


@pytest.mark.parametrize("who", ["bob", "carol"])
def test_only_an_admin_adds_ministries(team_store: LiaisonStore, fingerprint, who: str) -> None:
    role = {"bob": "reviewer", "carol": "officer"}[who]
    before = fingerprint(team_store.path)
    assert_refused(
        team_store.cli("ministries", "add", "AZ-MIA", "--name", "Azerbaijan MIA", officer=who),
        f"role {role} may not manage ministries",
    )
    assert fingerprint(team_store.path) == before


def test_a_reviewer_may_approve_and_return(team_store: LiaisonStore) -> None:
    first = team_store.add("one", officer="carol")
    second = team_store.add("two", officer="carol")
    for ref in (first, second):
        team_store.ok("submit", ref, officer="carol")
    team_store.ok("review", first, "--approve", officer="bob")
    team_store.ok("review", second, "--return", "--comment", "split it", officer="bob")
    assert team_store.show(first)["status"] == "approved"
    assert team_store.show(second)["status"] == "returned"


# ---- wrong passphrase -----------------------------------------------------------------------------


def test_wrong_passphrase_is_refused_and_key_slots_are_unchanged(team_store: LiaisonStore, fingerprint) -> None:
    before_slots = slots(team_store)
    before = fingerprint(team_store.path)
    for command in (
        ["list"],
        ["show", "PK-MOI-2026-00001"],
        ["add", "--domain", "narcotics", "--tlp", "red", "--title", "x"],
        ["officers", "passwd"],
    ):
        result = team_store.cli(
            *command, officer="bob", passphrase=PASSPHRASES["carol"], env={"LIAISON_NEW_PASSPHRASE": "new"}
        )
        assert_refused(result, "wrong passphrase for officer bob")
    assert slots(team_store) == before_slots
    assert fingerprint(team_store.path) == before


# ---- ministries -----------------------------------------------------------------------------------


def test_ministries_list(store: LiaisonStore) -> None:
    listed = store.ok("ministries", "list", "--json").json()
    assert [(m["code"], m["name"]) for m in listed] == [
        ("PK-ANF", "Anti-Narcotics Force, Pakistan"),
        ("PK-MOI", "Ministry of Interior, Pakistan"),
        ("PK-NDMA", "National Disaster Management Authority, Pakistan"),
        ("TR-MOI", "Ministry of Interior, Türkiye"),
    ]
    plain = store.ok("ministries", "list").out
    assert "PK-MOI   Ministry of Interior, Pakistan  (this store)" in plain  # as wide as PK-NDMA, then the gap


def test_ministries_add_then_use_it(store: LiaisonStore) -> None:
    store.ok("ministries", "add", "az-mia", "--name", "Ministry of Internal Affairs, Azerbaijan")
    codes = [m["code"] for m in store.ok("ministries", "list", "--json").json()]
    assert "AZ-MIA" in codes
    ref = store.add("For Baku", "--to", "AZ-MIA")
    assert store.show(ref)["releasable_to"] == ["AZ-MIA"]
    assert {r["reference"] for r in store.list_json("--ministry", "AZ-MIA")} == {ref}


@pytest.mark.parametrize(
    ("code", "name", "message"),
    [
        ("PK-MOI", "Again", "ministry PK-MOI already exists"),
        ("not a code", "x", "invalid ministry code 'NOT A CODE': expected like PK-MOI"),
        ("AZ-MIA", "   ", "the ministry name is empty"),
    ],
)
def test_ministries_add_bad_input(store: LiaisonStore, fingerprint, code: str, name: str, message: str) -> None:
    before = fingerprint(store.path)
    assert_refused(store.cli("ministries", "add", code, "--name", name), message)
    assert fingerprint(store.path) == before
