"""What an export may carry: RED never, only records releasable to the recipient, received AMBER never re-exported."""

from __future__ import annotations

from pathlib import Path

from store.bundles import Candidate, Exclusion, exclusion
from store.vocab import Status, Tlp
from tests.bundles.conftest import Pair
from tests.liaison_helpers import assert_refused, init_store, store_fingerprint


def test_red_and_non_releasable_are_excluded_with_reasons(pair: Pair) -> None:
    """The summary counts each exclusion reason; the bundle lacks those records."""
    result = pair.pk.ok("export", "--to", "TR-MOI", "--out", str(pair.path("b.bundle")))
    assert (
        result.err_lines[-1]
        == "7 included; 3 excluded: 1 not approved yet, 1 TLP:RED (never leaves in a bundle), 1 not releasable to TR-MOI"
    )
    pair.tr.ok("import", str(pair.path("b.bundle")))
    got = {r["reference"] for r in pair.tr.list_json("--status", "received")}
    assert pair.refs["red"] not in got and pair.refs["not_releasable"] not in got and pair.refs["draft"] not in got


def test_explicit_red_reference_is_refused_with_the_reason(pair: Pair) -> None:
    """Asking for a RED record by reference exports nothing and says why."""
    before = store_fingerprint(pair.pk.path)
    result = pair.pk.cli("export", "--to", "TR-MOI", "--out", str(pair.path("red.bundle")), pair.refs["red"])
    assert_refused(result, "nothing to export to TR-MOI (1 TLP:RED (never leaves in a bundle))")
    assert not pair.path("red.bundle").exists()
    assert store_fingerprint(pair.pk.path) == before


def test_received_amber_is_not_reexported_but_received_green_is(pair: Pair, tmp_path: Path) -> None:
    """TR-MOI received AMBER, AMBER+STRICT and GREEN records from PK-MOI; only the GREEN one may go on to PK-ANF."""
    anf = init_store(tmp_path / "anf" / "ANF.db", "--no-four-eyes", ministry="PK-ANF")
    anf.ok("identity", "export", "--out", str(pair.path("anf.card")))
    pair.tr.ok("contacts", "add", str(pair.path("anf.card")))
    anf.ok("contacts", "add", str(pair.path("tr.card")))
    pair.pk.ok("export", "--to", "TR-MOI", "--out", str(pair.path("pk.bundle")))
    pair.tr.ok("import", str(pair.path("pk.bundle")))
    onward = pair.tr.ok("export", "--to", "PK-ANF", "--out", str(pair.path("tr-anf.bundle")))
    summary = onward.err_lines[-1]
    assert summary.startswith("1 included; ")
    assert "5 received from another ministry and not GREEN or CLEAR (never re-exported)" in summary
    assert "1 received AMBER+STRICT (marked no re-export)" in summary
    assert "2 not releasable to PK-ANF" in summary  # TR-MOI's own records are releasable to PK-MOI only
    anf.ok("import", str(pair.path("tr-anf.bundle")))
    assert [r["reference"] for r in anf.list_json("--status", "received")] == [pair.refs["green_shared"]]
    assert anf.list_json("--status", "received")[0]["origin"] == "PK-MOI"


def test_received_records_never_go_back_to_their_origin(pair: Pair) -> None:
    """A record received from PK-MOI is not sent back to PK-MOI."""
    pair.pk.ok("export", "--to", "TR-MOI", "--out", str(pair.path("pk.bundle")))
    pair.tr.ok("import", str(pair.path("pk.bundle")))
    back = pair.tr.ok("export", "--to", "PK-MOI", "--out", str(pair.path("back.bundle")))
    assert back.err_lines[-1].startswith("2 included; 7 excluded: ")
    assert back.err_lines[-1] == "2 included; 7 excluded: 7 received from PK-MOI itself"


def _candidate(**kw: object) -> Candidate:
    base: dict[str, object] = dict(
        id=1,
        reference="R",
        status=Status.APPROVED,
        tlp=Tlp.AMBER,
        origin="PK-MOI",
        no_reexport=False,
        revision=1,
        releasable=True,
        sent_revision=None,
    )
    base.update(kw)
    return Candidate(**base)  # type: ignore[arg-type]


def test_rules_table() -> None:
    """The rules in their order, one case each."""
    local, to = "PK-MOI", "TR-MOI"
    cases = [
        (_candidate(), None),
        (_candidate(status=Status.DRAFT), Exclusion.NOT_APPROVED),
        (_candidate(status=Status.IN_REVIEW), Exclusion.NOT_APPROVED),
        (_candidate(status=Status.CLOSED), Exclusion.CLOSED),
        (_candidate(status=Status.SHARED), None),
        (_candidate(status=Status.ACKNOWLEDGED, tlp=Tlp.RED), Exclusion.RED),
        (_candidate(releasable=False), Exclusion.NOT_RELEASABLE),
        (_candidate(tlp=Tlp.AMBER_STRICT), None),
        (_candidate(origin="PK-ANF", status=Status.RECEIVED, tlp=Tlp.GREEN), None),
        (_candidate(origin="PK-ANF", status=Status.RECEIVED, tlp=Tlp.AMBER), Exclusion.RECEIVED_NOT_SHAREABLE),
        (_candidate(origin="PK-ANF", status=Status.ACTIONED, tlp=Tlp.CLEAR, no_reexport=True), Exclusion.NO_REEXPORT),
        (_candidate(origin="TR-MOI", status=Status.RECEIVED, tlp=Tlp.CLEAR), Exclusion.FROM_RECIPIENT),
        (_candidate(origin="PK-ANF", status=Status.APPROVED, tlp=Tlp.CLEAR), Exclusion.NOT_APPROVED),
        (_candidate(sent_revision=1), Exclusion.ALREADY_SENT),
        (_candidate(sent_revision=1, revision=2), None),
    ]
    for candidate, expected in cases:
        assert exclusion(candidate, local, to) is expected, candidate
