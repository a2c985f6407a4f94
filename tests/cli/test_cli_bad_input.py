"""Each bad input: the specific one-line error (listing the valid values), exit 1, the store unchanged and none of
the refused text written anywhere (style point 15)."""

from __future__ import annotations

import pytest

from tests.liaison_helpers import LiaisonStore, assert_refused, find_plaintext

DOMAINS = "border-management, coast-guard, counterterrorism, cybercrime, human-smuggling, narcotics, policing"
MINISTRIES = "PK-ANF, PK-MOI, PK-NDMA, TR-MOI"
TLPS = "CLEAR, GREEN, AMBER, AMBER+STRICT, RED"
STATUSES = "draft, in-review, returned, approved, shared, acknowledged, received, actioned, closed"
CANARY = "Refusedcanary Quixotic Zephyr 5521"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--domain", "piracy", "--tlp", "red", "--title", CANARY], f"unknown domain 'piracy'; valid: {DOMAINS}"),
        (["--domain", "narcotics", "--tlp", "white-ish", "--title", CANARY], f"unknown TLP 'white-ish'; valid: {TLPS}"),
        (["--domain", "narcotics", "--tlp", "tlp:", "--title", CANARY], f"unknown TLP 'tlp:'; valid: {TLPS}"),
        (
            ["--domain", "narcotics", "--tlp", "red", "--title", CANARY, "--to", "XX-NOPE"],
            f"unknown ministry 'XX-NOPE'; valid: {MINISTRIES}",
        ),
        (["--domain", "narcotics", "--tlp", "red", "--title", "", "--summary", CANARY], "the title is empty"),
        (["--domain", "narcotics", "--tlp", "red", "--title", " \t ", "--summary", CANARY], "the title is empty"),
        (
            ["--domain", "narcotics", "--tlp", "red", "--title", "x" * 301, "--summary", CANARY],
            "the title is longer than 300 characters",
        ),
        (
            ["--domain", "narcotics", "--tlp", "red", "--title", CANARY, "--summary", "a\x00b"],
            "the summary contains a NUL character",
        ),
        (
            ["--domain", "narcotics", "--tlp", "red", "--title", "Z" + "\u0334" * 299 + "algo", "--summary", CANARY],
            "title contains more than 4 combining marks on one character (U+0334) at position 6",
        ),
    ],
    ids=["domain", "tlp", "empty tlp", "ministry", "empty title", "blank title", "long title", "NUL", "zalgo"],
)
def test_add_refuses_bad_input(store: LiaisonStore, fingerprint, options: list[str], message: str) -> None:
    store.add("Existing record")
    before = fingerprint(store.path)
    assert_refused(store.cli("add", *options), message)
    assert fingerprint(store.path) == before
    assert find_plaintext(store.path, CANARY) == []


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--domain", "piracy", "--title", CANARY], f"unknown domain 'piracy'; valid: {DOMAINS}"),
        (["--tlp", "purple", "--title", CANARY], f"unknown TLP 'purple'; valid: {TLPS}"),
        (["--to", "TR-MOI", "--to", "ZZ-TOP", "--title", CANARY], f"unknown ministry 'ZZ-TOP'; valid: {MINISTRIES}"),
        (["--title", "  ", "--summary", CANARY], "the title is empty"),
    ],
    ids=["domain", "tlp", "ministry", "blank title"],
)
def test_edit_refuses_bad_input(store: LiaisonStore, fingerprint, options: list[str], message: str) -> None:
    ref = store.add("Original", "--summary", "Original summary")
    before = fingerprint(store.path)
    assert_refused(store.cli("edit", ref, *options), message)
    assert fingerprint(store.path) == before
    assert find_plaintext(store.path, CANARY) == []
    assert store.show(ref)["revision"] == 1


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--domain", "piracy"], f"unknown domain 'piracy'; valid: {DOMAINS}"),
        (["--ministry", "XX-NOPE"], f"unknown ministry 'XX-NOPE'; valid: {MINISTRIES}"),
        (["--tlp", "orange"], f"unknown TLP 'orange'; valid: {TLPS}"),
        (["--status", "pending"], f"unknown status 'pending'; valid: {STATUSES}"),
        (["--status", "draft", "--status", "done"], f"unknown status 'done'; valid: {STATUSES}"),
    ],
    ids=["domain", "ministry", "tlp", "status", "second status"],
)
def test_list_refuses_unknown_filter_values(store: LiaisonStore, fingerprint, options: list[str], message: str) -> None:
    store.add("Something")
    before = fingerprint(store.path)
    for json_flag in ([], ["--json"]):
        assert_refused(store.cli("list", *options, *json_flag), message)
    assert fingerprint(store.path) == before


def test_filter_values_are_accepted_in_any_case(store: LiaisonStore) -> None:
    ref = store.add("Case-insensitive filters", domain="coast-guard", tlp="amber+strict")
    rows = store.list_json(
        "--domain", "Coast-Guard", "--tlp", "tlp:Amber+Strict", "--status", "DRAFT", "--ministry", "pk-moi"
    )
    assert [r["reference"] for r in rows] == [ref]
