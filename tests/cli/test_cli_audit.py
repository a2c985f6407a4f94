"""`liaison audit verify|log|accept-rollback` as a user runs them: outputs, filters, JSON keys and refusals."""

from __future__ import annotations

import re
from pathlib import Path

from tests.liaison_helpers import LiaisonStore, assert_refused

VERIFY_LINE = re.compile(
    r"audit: [\d,]+ events?, [\d,]+ records?, chain intact, checkpoint (\d+) signed \d{4}-\d\d-\d\dT\d\d:\d\dZ"
)


def test_verify_prints_one_line_and_json(team_store: LiaisonStore) -> None:
    ref = team_store.add("Checked", officer="carol")
    result = team_store.ok("audit", "verify", officer="carol")
    assert result.err == ""
    line = result.out.rstrip("\n")
    assert "\n" not in line and VERIFY_LINE.fullmatch(line), line
    report = team_store.ok("audit", "verify", "--json").json()
    assert report["ok"] is True and report["problems"] == []
    assert report["records"] == 1 and report["events"] == report["checkpoint"]["size"]
    assert set(report) == {"ok", "events", "records", "checkpoint", "problems"}
    assert team_store.show(ref)["title"] == "Checked"


def test_log_filters_and_json_keys(team_store: LiaisonStore) -> None:
    ref = team_store.add("Logged", "--submit", officer="carol")
    team_store.ok("review", ref, "--return", "--comment", "Say where it came from", officer="bob")
    entries = team_store.ok("audit", "log", "--record", ref, "--json").json()
    assert [(e["action"], e["officer"], e["target"]) for e in entries] == [
        ("create", "carol", ref),
        ("submit", "carol", ref),
        ("return", "bob", ref),
    ]
    assert all({"seq", "at", "officer", "action", "target", "signer", "record"} <= set(e) for e in entries)
    assert entries[0]["signer"] == entries[1]["signer"] != entries[2]["signer"]  # each officer's own key
    assert "Say where it came from" not in team_store.ok("audit", "log", "--json").out  # comments stay encrypted
    by_bob = team_store.ok("--officer", "alice", "audit", "log", "--officer", "bob", "--json", officer=None).json()
    assert {e["officer"] for e in by_bob} == {"bob"} and "return" in [e["action"] for e in by_bob]
    returns = team_store.ok("audit", "log", "--action", "return", "--json").json()
    assert [e["target"] for e in returns] == [ref]
    assert team_store.ok("audit", "log", "--since", "2999-01-01", "--json").json() == []
    human = team_store.ok("audit", "log", "--record", ref).out.splitlines()
    assert human[0].split() == ["SEQ", "WHEN", "(UTC)", "OFFICER", "ACTION", "TARGET", "KEY"] and len(human) == 4


def test_log_refuses_what_it_cannot_filter_by(store: LiaisonStore) -> None:
    # worded as `liaison list --since` words it
    assert_refused(
        store.cli("audit", "log", "--since", "yesterday"), "--since 'yesterday' is not a date; expected YYYY-MM-DD"
    )
    result = store.cli("audit", "log", "--action", "delete")
    assert_refused(result, "no event has the action 'delete'; actions in this log: ", exact=False)
    assert "unlock" in result.err and "officer-add" in result.err
    assert_refused(store.cli("audit", "log", "--officer", "nobody"), "unknown officer 'nobody'; officers: alice")
    assert_refused(store.cli("audit", "log", "--record", "NOPE-1"), "no record NOPE-1")
    assert_refused(store.cli("audit", "log", "--limit", "-1"), "--limit must not be negative")
    # a real officer or record with no event matching the other filters is no error: nothing matches
    quiet = store.cli("audit", "log", "--officer", "alice", "--action", "unlock", "--since", "2999-01-01")
    assert quiet.code == 0 and quiet.err.strip() == "no events match", quiet


def test_accept_rollback_on_a_store_that_is_not_rolled_back(store: LiaisonStore) -> None:
    assert_refused(
        store.cli("audit", "accept-rollback", "--yes"),
        "the store is not rolled back: its log extends the checkpoint this workstation has seen",
    )


def test_help_lists_the_audit_commands_and_values(store: LiaisonStore) -> None:
    text = store.cli("audit", "--help").out
    for command in ("verify", "log", "accept-rollback"):
        assert command in text
    log_help = " ".join(store.cli("audit", "log", "--help").out.split())
    for value in ("create", "approve", "unlock-failed", "accept-rollback", "YYYY-MM-DD"):
        assert value in log_help


def test_a_non_admin_adding_a_contact_gets_one_line(team_store: LiaisonStore, tmp_path: Path) -> None:
    """The refusal is the one `error:` line: no card fingerprint printed before it (an admin's add shows it)."""
    card = tmp_path / "own.card"
    team_store.ok("identity", "export", "--out", str(card))
    assert_refused(
        team_store.cli("contacts", "add", str(card), officer="carol"), "role officer may not manage contacts"
    )
