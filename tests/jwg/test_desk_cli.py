"""Meetings and actions through the CLI: the contract, the rules, carry-forward, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.liaison_helpers import LiaisonStore, assert_refused, store_fingerprint


def _meeting(store: LiaisonStore, q: str = "2026-Q3", day: str = "2026-09-15") -> None:
    store.ok("meetings", "add", "--quarter", q, "--date", day, "--venue", "Islamabad, MoI", "--host", "PK-MOI")


def test_meetings_and_actions_round_trip_in_one_store(store: LiaisonStore) -> None:
    _meeting(store)
    store.ok("meetings", "add", "--quarter", "2026-Q4", "--date", "2026-11-30", "--venue", "Ankara", "--host", "TR-MOI")
    ref = store.add("Linked report")
    out = store.ok(
        "actions",
        "add",
        "--title",
        "Send the ferry manifests",
        "--domain",
        "narcotics",
        "--owner",
        "PK-MOI",
        "--officer",
        "alice",
        "--due",
        "2026-10-01",
        "--meeting",
        "2026-Q3",
        "--record",
        ref,
    ).out
    assert out == "PK-MOI-A1\n"
    second = store.ok(
        "actions",
        "add",
        "--title",
        "Visit the port",
        "--domain",
        "narcotics",
        "--owner",
        "TR-MOI",
        "--due",
        "2026-12-31",
    ).out.strip()
    assert second == "PK-MOI-A2"
    listed = store.ok("actions", "list", "--json").json()
    assert [a["id"] for a in listed] == ["PK-MOI-A1", "PK-MOI-A2"]
    first = listed[0]
    assert {k: first[k] for k in ("title", "domain", "owner", "due", "status", "meeting", "officer", "records")} == {
        "title": "Send the ferry manifests",
        "domain": "narcotics",
        "owner": "PK-MOI",
        "due": "2026-10-01",
        "status": "open",
        "meeting": "2026-Q3",
        "officer": "alice",
        "records": [ref],
    }
    assert [a["id"] for a in store.ok("actions", "list", "--owner", "tr-moi", "--json").json()] == ["PK-MOI-A2"]
    assert [a["id"] for a in store.ok("actions", "list", "--meeting", "2026-Q3", "--json").json()] == ["PK-MOI-A1"]
    # the store's clock is today (2026 or later): A1 due 2026-10-01 is overdue once that day has passed
    overdue = store.ok("actions", "list", "--overdue", "--json").json()
    assert all(a["status"] == "open" for a in overdue)

    # the action agreed at Q3 is on Q3's agenda and, open, carried forward onto Q4
    q3 = store.ok("meetings", "show", "2026-Q3", "--json").json()
    assert [(i["outcome"], i["action"]) for i in q3["agenda"]] == [("action", "PK-MOI-A1")]
    q4 = store.ok("meetings", "show", "2026-Q4", "--json").json()
    assert [a["id"] for a in q4["carried_forward"]] == ["PK-MOI-A1"]
    assert q4["host"] == "TR-MOI" and q4["date"] == "2026-11-30"

    store.ok("actions", "done", "PK-MOI-A1", "--comment", "sent in bundle 7")
    done = store.ok("actions", "list", "--json").json()[0]
    assert done["status"] == "done" and done["note"] == "sent in bundle 7"
    # closed after Q4's day? no: closed now, so it still shows as carried forward only if Q4 is after now
    store.ok("meetings", "held", "2026-Q3")
    assert [m["status"] for m in store.ok("meetings", "list", "--json").json()] == ["held", "planned"]


def test_only_the_owner_ministry_closes_its_action(store: LiaisonStore) -> None:
    code = store.ok(
        "actions", "add", "--title", "Visit", "--domain", "narcotics", "--owner", "TR-MOI", "--due", "2026-12-31"
    ).out.strip()
    before = store_fingerprint(store.path)
    assert_refused(
        store.cli("actions", "done", code), f"action {code} is owned by TR-MOI; only TR-MOI may change its status"
    )
    assert_refused(
        store.cli("actions", "drop", code, "--reason", "x"),
        f"action {code} is owned by TR-MOI; only TR-MOI may change its status",
    )
    assert store_fingerprint(store.path) == before


def test_drop_needs_a_reason_and_only_once(store: LiaisonStore) -> None:
    code = store.ok(
        "actions", "add", "--title", "Visit", "--domain", "narcotics", "--owner", "PK-MOI", "--due", "2026-12-31"
    ).out.strip()
    assert_refused(store.cli("actions", "drop", code), "dropping an action needs a reason")
    store.ok("actions", "drop", code, "--reason", "overtaken by events")
    assert store.ok("actions", "list", "--json").json()[0]["status"] == "dropped"
    assert_refused(store.cli("actions", "done", code), f"action {code} is already dropped")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ("meetings", "add", "--quarter", "1999-Q9", "--date", "2026-11-30", "--venue", "X", "--host", "TR-MOI"),
            "quarter '1999-Q9' does not exist: quarters are Q1..Q4",
        ),
        (
            ("meetings", "add", "--quarter", "2026-Q4", "--date", "2026-07-30", "--venue", "X", "--host", "TR-MOI"),
            "date 2026-07-30 is not in 2026-Q4 (2026-10-01 to 2026-12-31)",
        ),
        (
            ("meetings", "add", "--quarter", "2026-Q4", "--date", "2026-11-31", "--venue", "X", "--host", "TR-MOI"),
            "date '2026-11-31' is not a date like 2026-11-30",
        ),
        (
            ("meetings", "add", "--quarter", "2026-Q4", "--date", "2026-11-30", "--venue", "X", "--host", "XX-MOI"),
            "unknown ministry 'XX-MOI'; valid: PK-ANF, PK-MOI, PK-NDMA, TR-MOI",
        ),
        (
            ("meetings", "add", "--quarter", "2026-Q3", "--date", "2026-09-01", "--venue", "X", "--host", "PK-MOI"),
            "a meeting for 2026-Q3 is already planned",
        ),
        (
            (
                "meetings",
                "add",
                "--quarter",
                "2026-Q4",
                "--date",
                "2026-11-30",
                "--venue",
                "A\x1b[31m",
                "--host",
                "PK-MOI",
            ),
            "venue contains a control character (U+001B) at position 2",
        ),
        (("meetings", "show", "1999-Q9"), "quarter '1999-Q9' does not exist: quarters are Q1..Q4"),
        (("meetings", "show", "2030-Q1"), "no meeting planned for 2030-Q1"),
        (
            ("actions", "add", "--title", "T", "--domain", "narcotics", "--owner", "XX-MOI", "--due", "2026-12-31"),
            "unknown ministry 'XX-MOI'; valid: PK-ANF, PK-MOI, PK-NDMA, TR-MOI",
        ),
        (
            (
                "actions",
                "add",
                "--title",
                "T",
                "--domain",
                "narcotics",
                "--owner",
                "TR-MOI",
                "--due",
                "2026-09-01",
                "--meeting",
                "2026-Q3",
            ),
            "due date 2026-09-01 is before the meeting of 2026-Q3 (2026-09-15)",
        ),
        (
            (
                "actions",
                "add",
                "--title",
                "T",
                "--domain",
                "narcotics",
                "--owner",
                "TR-MOI",
                "--due",
                "2026-12-01",
                "--meeting",
                "1999-Q9",
            ),
            "quarter '1999-Q9' does not exist: quarters are Q1..Q4",
        ),
        (
            (
                "actions",
                "add",
                "--title",
                "T",
                "--domain",
                "narcotics",
                "--owner",
                "TR-MOI",
                "--due",
                "2026-12-01",
                "--meeting",
                "2027-Q1",
            ),
            "no meeting planned for 2027-Q1",
        ),
        (
            ("actions", "add", "--title", "T", "--domain", "nope", "--owner", "TR-MOI", "--due", "2026-12-01"),
            "unknown domain 'nope'",
        ),
        (
            (
                "actions",
                "add",
                "--title",
                "T",
                "--domain",
                "narcotics",
                "--owner",
                "TR-MOI",
                "--due",
                "2026-12-01",
                "--record",
                "PK-MOI-1999-9999",
            ),
            "no record 'PK-MOI-1999-9999'",
        ),
        (
            (
                "actions",
                "add",
                "--title",
                "T\u202e",
                "--domain",
                "narcotics",
                "--owner",
                "TR-MOI",
                "--due",
                "2026-12-01",
            ),
            "title contains a bidi control character (U+202E) at position 2",
        ),
        (("actions", "done", "PK-MOI-A99"), "no action 'PK-MOI-A99'"),
        (("meetings", "held", "2026-Q4"), "no meeting planned for 2026-Q4"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(store: LiaisonStore, argv: tuple[str, ...], message: str) -> None:
    _meeting(store)
    before = store_fingerprint(store.path)
    assert_refused(store.cli(*argv), message, exact=not message.startswith("unknown domain"))
    assert store_fingerprint(store.path) == before


def test_list_says_which_quarters_have_no_meeting(store: LiaisonStore) -> None:
    result = store.ok("meetings", "list")
    assert "no meeting planned yet for" in result.err
    assert json.loads(store.ok("meetings", "list", "--json").out) == []


def test_venue_and_title_can_come_from_a_file_or_stdin(store: LiaisonStore, tmp_path: Path) -> None:
    """Threat 27: the desk's texts have the private form too (a file or stdin, one line end dropped); without
    either form the command says what it needs."""
    venue = tmp_path / "venue.txt"
    venue.write_text("Ankara, the ministry's guest house\n", encoding="utf-8")
    store.ok(
        "meetings",
        "add",
        "--quarter",
        "2026-Q4",
        "--date",
        "2026-11-30",
        "--venue-file",
        str(venue),
        "--host",
        "TR-MOI",
    )
    assert store.ok("meetings", "show", "2026-Q4", "--json").json()["venue"] == "Ankara, the ministry's guest house"
    code = store.ok(
        "actions", "add", "--title-file", "-", "--domain", "narcotics", "--owner", "TR-MOI", "--due", "2026-12-20",
        stdin="Send the ferry manifests\n",
    ).out.strip()  # fmt: skip
    [action] = [a for a in store.ok("actions", "list", "--json").json() if a["id"] == code]
    assert action["title"] == "Send the ferry manifests"
    before = store_fingerprint(store.path)
    missing = store.cli("meetings", "add", "--quarter", "2027-Q1", "--date", "2027-02-01", "--host", "TR-MOI")
    assert missing.code == 2 and "meetings add needs a venue: give --venue-file FILE or --venue TEXT" in missing.err
    missing = store.cli("actions", "add", "--domain", "narcotics", "--owner", "TR-MOI", "--due", "2026-12-20")
    assert missing.code == 2 and "actions add needs a title: give --title-file FILE or --title TEXT" in missing.err
    assert store_fingerprint(store.path) == before


@pytest.mark.parametrize(("written", "message"), [
    (b"Send the\rmanifests\n", "title contains a control character (U+000D) at position 9"),
    (b"Send the\x0bmanifests\n", "title contains a control character (U+000B) at position 9"),
    (b"Send the\x1cmanifests\n", "title contains a control character (U+001C) at position 9"),
])  # fmt: skip
def test_a_control_character_in_a_title_file_is_named_as_it_is(
    store: LiaisonStore, tmp_path: Path, written: bytes, message: str
) -> None:
    """Threat 21: a carriage return (or another line-ending control) inside a title file is refused naming the
    real character, not the newline a text-mode read would have turned it into; nothing is written."""
    title = tmp_path / "title.txt"
    title.write_bytes(written)
    before = store_fingerprint(store.path)
    argv = ("actions", "add", "--title-file", str(title), "--domain", "narcotics", "--owner", "TR-MOI")
    assert_refused(store.cli(*argv, "--due", "2026-12-20"), message)
    assert store_fingerprint(store.path) == before


def test_a_title_file_written_on_windows_is_one_line(store: LiaisonStore, tmp_path: Path) -> None:
    """A title file ending in `\\r\\n` (Notepad) is one line: the line end goes, the title stays."""
    title = tmp_path / "title.txt"
    title.write_bytes(b"Send the ferry manifests\r\n")
    argv = ("actions", "add", "--title-file", str(title), "--domain", "narcotics", "--owner", "TR-MOI")
    code = store.ok(*argv, "--due", "2026-12-20").out.strip()
    [action] = [a for a in store.ok("actions", "list", "--json").json() if a["id"] == code]
    assert action["title"] == "Send the ferry manifests"
