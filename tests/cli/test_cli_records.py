"""add, edit, list, show, submit and review as a user types them: output, JSON keys, exit codes."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest

from tests.liaison_helpers import LiaisonStore, assert_refused, run_cli

LIST_KEYS = {
    "reference",
    "uuid",
    "domain",
    "origin",
    "releasable_to",
    "tlp",
    "status",
    "created_at",
    "updated_at",
    "title",
}
REFERENCE = re.compile(r"^PK-MOI-\d{4}-\d{5}$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# ---- add ------------------------------------------------------------------------------------------


def test_add_prints_the_reference_alone_on_stdout(store: LiaisonStore) -> None:
    result = store.ok("add", "--domain", "narcotics", "--tlp", "AMBER", "--title", "Heroin in textile bales")
    assert REFERENCE.match(result.out.rstrip("\n"))
    assert result.out.count("\n") == 1 and result.out.endswith("\n")
    second = store.add("Another")
    first_no = int(result.out.strip().rsplit("-", 1)[1])
    assert int(second.rsplit("-", 1)[1]) == first_no + 1


def test_add_stores_every_field(store: LiaisonStore) -> None:
    ref = store.add(
        "Falcon network at Torkham",
        "--summary",
        "First paragraph.\n\nSecond paragraph.",
        "--source",
        "Partner liaison briefing",
        "--to",
        "TR-MOI",
        "--to",
        "pk-anf",
        domain="border-management",
        tlp="tlp:amber+strict",
    )
    shown = store.show(ref)
    assert set(shown) >= LIST_KEYS and {"summary", "source", "revisions"} <= set(shown)
    assert shown["reference"] == ref
    assert UUID.match(shown["uuid"])
    assert shown["domain"] == "border-management"
    assert shown["origin"] == "PK-MOI"
    assert shown["releasable_to"] == ["PK-ANF", "TR-MOI"]
    assert shown["tlp"] == "AMBER+STRICT"
    assert shown["status"] == "draft"
    assert shown["title"] == "Falcon network at Torkham"
    assert shown["summary"] == "First paragraph.\n\nSecond paragraph."
    assert shown["source"] == "Partner liaison briefing"
    assert parse_time(shown["created_at"]) == parse_time(shown["updated_at"])
    assert [r["number"] for r in shown["revisions"]] == [1]


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("CLEAR", "CLEAR"),
        ("green", "GREEN"),
        ("tlp:amber", "AMBER"),
        ("TLP:AMBER", "AMBER"),
        ("Amber+Strict", "AMBER+STRICT"),
        ("tlp:red", "RED"),
    ],
)
def test_tlp_accepts_lower_case_and_the_tlp_prefix(store: LiaisonStore, typed: str, stored: str) -> None:
    ref = store.add("TLP spelling", tlp=typed)
    assert store.show(ref)["tlp"] == stored


def test_summary_from_a_file_and_from_stdin(store: LiaisonStore, tmp_path: Path) -> None:
    text = "Paragraph one about the Ferryman.\n\nParagraph two — Türkçe ğüşiöç.\n"
    from_stdin = store.add("From stdin", "--summary-file", "-", stdin=text)
    assert store.show(from_stdin)["summary"] == text
    file = tmp_path / "summary.txt"
    file.write_text(text, encoding="utf-8")
    from_file = store.add("From a file", "--summary-file", str(file))
    assert store.show(from_file)["summary"] == text


def test_summary_and_summary_file_together_are_refused(store: LiaisonStore, fingerprint) -> None:
    before = fingerprint(store.path)
    result = store.cli(
        "add",
        "--domain",
        "narcotics",
        "--tlp",
        "red",
        "--title",
        "t",
        "--summary",
        "a",
        "--summary-file",
        "-",
        stdin="b",
    )
    assert_refused(result, "give --summary or --summary-file, not both")
    assert fingerprint(store.path) == before


def test_an_unreadable_summary_file_is_refused(store: LiaisonStore, tmp_path: Path, fingerprint) -> None:
    before = fingerprint(store.path)
    missing = tmp_path / "nope.txt"
    result = store.cli("add", "--domain", "narcotics", "--tlp", "red", "--title", "t", "--summary-file", str(missing))
    assert_refused(result, f"cannot read summary file '{missing}': No such file or directory")
    binary = tmp_path / "binary.bin"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    result = store.cli("add", "--domain", "narcotics", "--tlp", "red", "--title", "t", "--summary-file", str(binary))
    assert_refused(result, f"summary file '{binary}' is not UTF-8 text")
    assert fingerprint(store.path) == before


def test_add_submit_puts_the_record_in_review(store: LiaisonStore) -> None:
    ref = store.add("Straight to review", "--submit")
    shown = store.show(ref)
    assert shown["status"] == "in-review"
    assert [(e["officer"], e["action"]) for e in shown["reviews"]] == [("alice", "submit")]


def test_add_requires_domain_tlp_and_title(store: LiaisonStore) -> None:
    for missing in ("--domain", "--tlp", "--title"):
        argv = {"--domain": "narcotics", "--tlp": "red", "--title": "t"}
        del argv[missing]
        result = store.cli("add", *[x for kv in argv.items() for x in kv])
        assert result.code == 2, result
        assert missing in result.err
        assert result.out == ""


# ---- edit -----------------------------------------------------------------------------------------


def test_edit_writes_a_new_revision_and_keeps_the_old_ones(store: LiaisonStore) -> None:
    ref = store.add("First title", "--summary", "First summary", "--source", "Source one", tlp="green")
    result = store.ok("edit", ref, "--title", "Second title", "--tlp", "amber", "--to", "TR-MOI")
    assert result.out == f"{ref} revision 2\n"
    store.ok("edit", ref.lower(), "--summary-file", "-", stdin="Third summary")
    shown = store.show(ref)
    assert shown["title"] == "Second title"
    assert shown["summary"] == "Third summary"
    assert shown["source"] == "Source one"
    assert shown["tlp"] == "AMBER"
    assert shown["releasable_to"] == ["TR-MOI"]
    assert shown["revision"] == 3
    revisions = shown["revisions"]
    assert [r["number"] for r in revisions] == [1, 2, 3]
    assert [r["title"] for r in revisions] == ["First title", "Second title", "Second title"]
    assert [r["summary"] for r in revisions] == ["First summary", "First summary", "Third summary"]
    assert [r["tlp"] for r in revisions] == ["GREEN", "AMBER", "AMBER"]
    assert revisions[0]["releasable_to"] == [] and revisions[1]["releasable_to"] == ["TR-MOI"]
    assert parse_time(shown["updated_at"]) >= parse_time(shown["created_at"])


def test_edit_with_nothing_to_change_is_refused(store: LiaisonStore, fingerprint) -> None:
    ref = store.add("Unchanged")
    before = fingerprint(store.path)
    result = store.cli("edit", ref)
    assert_refused(result, "nothing to change; give at least one of --title, --summary, --source, --tlp, --to")
    assert fingerprint(store.path) == before


def test_only_the_author_edits_and_only_drafts_or_returned_records(team_store: LiaisonStore, fingerprint) -> None:
    ref = team_store.add("Carol's draft", officer="carol")
    before = fingerprint(team_store.path)
    assert_refused(
        team_store.cli("edit", ref, "--title", "Hijacked", officer="alice"), f"only the author (carol) may edit {ref}"
    )
    assert fingerprint(team_store.path) == before
    team_store.ok("submit", ref, officer="carol")
    before = fingerprint(team_store.path)
    assert_refused(
        team_store.cli("edit", ref, "--title", "Late change", officer="carol"),
        f"{ref} is in-review; only draft or returned records can be edited",
    )
    assert fingerprint(team_store.path) == before


def test_edit_of_an_unknown_reference(store: LiaisonStore) -> None:
    assert_refused(store.cli("edit", "PK-MOI-2026-99999", "--title", "x"), "no record PK-MOI-2026-99999")


# ---- list -----------------------------------------------------------------------------------------


@pytest.fixture
def listed(team_store: LiaisonStore) -> dict[str, str]:
    """Five records with distinct tags, created in order a..e."""
    s = team_store
    refs = {
        "a": s.add(
            "Hawala financing cell",
            "--summary",
            "Transfers through Quetta exchange houses",
            domain="counterterrorism",
            tlp="red",
        ),
        "b": s.add(
            "Heroin in textile bales",
            "--summary",
            "Container via Karachi port",
            "--to",
            "TR-MOI",
            domain="narcotics",
            tlp="amber",
        ),
        "c": s.add(
            "Cannabis resin route",
            "--summary",
            "Overland via Quetta and Taftan",
            "--to",
            "PK-ANF",
            domain="narcotics",
            tlp="green",
            officer="carol",
        ),
        "d": s.add(
            "Phishing against ministry staff",
            "--summary",
            "Fake e-visa portal",
            "--to",
            "TR-MOI",
            "--to",
            "PK-NDMA",
            domain="cybercrime",
            tlp="clear",
            officer="carol",
        ),
        "e": s.add(
            "Dhow traffic off Gwadar",
            "--summary",
            "Unregistered vessels at night",
            domain="coast-guard",
            tlp="amber+strict",
        ),
    }
    s.ok("submit", refs["c"], officer="carol")
    s.ok("submit", refs["d"], officer="carol")
    s.ok("review", refs["d"], "--approve", officer="bob")
    return refs


def refs_of(rows: list[dict]) -> list[str]:
    return [r["reference"] for r in rows]


def test_list_json_has_the_contract_keys_newest_first(team_store: LiaisonStore, listed: dict[str, str]) -> None:
    rows = team_store.list_json()
    assert refs_of(rows) == [listed[k] for k in "edcba"]
    for row in rows:
        assert set(row) >= LIST_KEYS
        assert isinstance(row["releasable_to"], list)
        parse_time(row["created_at"]), parse_time(row["updated_at"])
    by_ref = {r["reference"]: r for r in rows}
    assert by_ref[listed["d"]]["releasable_to"] == ["PK-NDMA", "TR-MOI"]
    assert by_ref[listed["d"]]["status"] == "approved"
    assert by_ref[listed["c"]]["status"] == "in-review"
    assert by_ref[listed["e"]]["tlp"] == "AMBER+STRICT"
    assert refs_of(team_store.list_json("--oldest")) == [listed[k] for k in "abcde"]


def test_list_filters(team_store: LiaisonStore, listed: dict[str, str]) -> None:
    def only(*argv: str) -> set[str]:
        return set(refs_of(team_store.list_json(*argv)))

    r = listed
    assert only("--domain", "narcotics") == {r["b"], r["c"]}
    assert only("--domain", "narcotics", "--domain", "cybercrime") == {r["b"], r["c"], r["d"]}
    assert only("--tlp", "tlp:amber") == {r["b"]}
    assert only("--tlp", "red", "--tlp", "CLEAR") == {r["a"], r["d"]}
    assert only("--status", "in-review") == {r["c"]}
    assert only("--status", "draft") == {r["a"], r["b"], r["e"]}
    assert only("--ministry", "TR-MOI") == {r["b"], r["d"]}
    assert only("--ministry", "pk-anf") == {r["c"]}
    assert only("--ministry", "PK-MOI") == set(r.values())  # the origin counts too
    assert only("--domain", "narcotics", "--tlp", "green") == {r["c"]}
    assert only("--search", "quetta") == {r["a"], r["c"]}
    assert only("--search", "QUETTA taftan") == {r["c"]}
    assert only("--search", "heroin", "--domain", "cybercrime") == set()


def test_list_limit(team_store: LiaisonStore, listed: dict[str, str]) -> None:
    assert refs_of(team_store.list_json("--limit", "2")) == [listed["e"], listed["d"]]
    assert team_store.list_json("--limit", "0") == []
    assert_refused(team_store.cli("list", "--limit", "-1"), "--limit must not be negative")
    assert team_store.cli("list", "--limit", "two").code == 2


def test_list_plain_text_shows_one_line_per_record(team_store: LiaisonStore, listed: dict[str, str]) -> None:
    result = team_store.ok("list")
    header, *lines = result.out.splitlines()
    assert header.split() == ["REFERENCE", "CREATED", "DOMAIN", "FROM→TO", "TLP", "STATUS", "TITLE"]
    assert len(lines) == 5
    assert lines[0].startswith(listed["e"]) and lines[0].endswith("Dhow traffic off Gwadar")
    assert "TR-MOI" in next(line for line in lines if line.startswith(listed["b"]))
    empty = team_store.ok("list", "--search", "nonexistentword")
    assert empty.out == ""
    assert empty.err == "no records match\n"


def test_a_search_with_nothing_searchable_is_refused(store: LiaisonStore) -> None:
    store.add("Something")
    assert_refused(
        store.cli("list", "--search", "a ."),
        "nothing to search for in 'a .': words need at least two letters or digits",
    )


def test_list_json_on_an_empty_store_is_an_empty_array(store: LiaisonStore) -> None:
    result = store.ok("list", "--json")
    assert result.json() == []


# ---- show -----------------------------------------------------------------------------------------


def test_show_plain_text(store: LiaisonStore) -> None:
    ref = store.add(
        "Saffron courier network", "--summary", "Body of the report.", "--source", "Seizure report", tlp="red"
    )
    out = store.ok("show", ref).out
    assert out.startswith(f"{ref}  TLP:RED  draft\nSaffron courier network\n")
    assert "Body of the report." in out and "Source: Seizure report" in out


def test_show_unknown_reference(store: LiaisonStore) -> None:
    assert_refused(store.cli("show", "PK-MOI-2026-00042"), "no record PK-MOI-2026-00042")
    assert_refused(store.cli("show", "PK-MOI-2026-00042", "--json"), "no record PK-MOI-2026-00042")


def test_show_accepts_a_lower_case_reference(store: LiaisonStore) -> None:
    ref = store.add("Case")
    assert store.show(ref.lower())["reference"] == ref


# ---- submit and review ----------------------------------------------------------------------------


def test_submit_then_approve(team_store: LiaisonStore) -> None:
    ref = team_store.add("For approval", officer="carol")
    submitted = team_store.ok("submit", ref, officer="carol")
    assert submitted.out == ""
    assert team_store.show(ref)["status"] == "in-review"
    approved = team_store.ok("review", ref, "--approve", officer="bob")
    assert approved.out == ""
    shown = team_store.show(ref)
    assert shown["status"] == "approved"
    assert [(e["officer"], e["action"]) for e in shown["reviews"]] == [("carol", "submit"), ("bob", "approve")]


def test_return_with_a_comment_then_edit_and_resubmit(team_store: LiaisonStore) -> None:
    ref = team_store.add("Needs work", officer="carol")
    team_store.ok("submit", ref, officer="carol")
    team_store.ok("review", ref, "--return", "--comment", "Please add the source grading.", officer="alice")
    shown = team_store.show(ref, officer="carol")
    assert shown["status"] == "returned"
    assert shown["reviews"][-1] == {
        **shown["reviews"][-1],
        "officer": "alice",
        "action": "return",
        "comment": "Please add the source grading.",
    }
    team_store.ok("edit", ref, "--source", "Human source (B2)", officer="carol")
    team_store.ok("submit", ref, officer="carol")
    team_store.ok("review", ref, "--approve", officer="bob")
    assert team_store.show(ref)["status"] == "approved"


def test_return_needs_a_comment(team_store: LiaisonStore, fingerprint) -> None:
    ref = team_store.add("x", officer="carol")
    team_store.ok("submit", ref, officer="carol")
    before = fingerprint(team_store.path)
    assert_refused(
        team_store.cli("review", ref, "--return", officer="bob"),
        "--return needs --comment-file FILE or --comment TEXT saying what to change",
    )
    assert_refused(
        team_store.cli("review", ref, "--return", "--comment", "   ", officer="bob"),
        "--return needs --comment-file FILE or --comment TEXT saying what to change",
    )
    assert fingerprint(team_store.path) == before


def test_review_needs_exactly_one_verdict(team_store: LiaisonStore) -> None:
    ref = team_store.add("x", officer="carol")
    assert team_store.cli("review", ref, officer="bob").code == 2
    assert team_store.cli("review", ref, "--approve", "--return", "--comment", "c", officer="bob").code == 2


def test_approving_a_record_not_in_review_is_refused(team_store: LiaisonStore, fingerprint) -> None:
    ref = team_store.add("Still a draft", officer="carol")
    before = fingerprint(team_store.path)
    assert_refused(team_store.cli("review", ref, "--approve", officer="bob"), f"{ref} is draft, not in review")
    assert fingerprint(team_store.path) == before


def test_only_the_author_submits(team_store: LiaisonStore) -> None:
    ref = team_store.add("Carol's", officer="carol")
    assert_refused(team_store.cli("submit", ref, officer="bob"), f"only the author (carol) may submit {ref}")
    team_store.ok("submit", ref, officer="carol")
    assert_refused(
        team_store.cli("submit", ref, officer="carol"),
        f"{ref} is in-review; only draft or returned records can be submitted",
    )


def test_lower_case_reference_is_accepted_by_every_record_command(team_store: LiaisonStore) -> None:
    ref = team_store.add("Case", officer="carol")
    team_store.ok("submit", ref.lower(), officer="carol")
    team_store.ok("review", ref.lower(), "--approve", officer="bob")
    assert team_store.show(ref)["status"] == "approved"


def test_usage_errors_exit_2(store: LiaisonStore) -> None:
    for argv in (
        ["frobnicate"],
        ["show"],
        ["list", "--json", "extra"],
        ["officers"],
        ["officers", "nope"],
        ["ministries"],
    ):
        result = run_cli("--store", str(store.path), *argv)
        assert result.code == 2, (argv, result)
        assert "Traceback" not in result.err
        assert result.err.strip().splitlines()[-1].startswith("error: "), result.err


def test_help_exits_0(store: LiaisonStore) -> None:
    result = run_cli("--help")
    assert result.code == 0
    assert "liaison" in result.out
