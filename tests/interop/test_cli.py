"""`liaison stix …` and `liaison misp …`: the contract's commands, their one-line refusals and exit codes."""

from __future__ import annotations

import json
import re

import stix2

from tests.interop.conftest import CANARY_RED, FIXTURES, Stores
from tests.liaison_helpers import assert_refused, store_fingerprint


def test_stix_export_then_import_from_the_cli(stores: Stores) -> None:
    out = stores.path("out.json")
    done = stores.pk.ok("stix", "export", "--out", str(out), "--max-tlp", "amber")
    assert done.out == ""
    assert "STIX 2.1 with 3 records (ceiling TLP:AMBER)" in done.err
    assert CANARY_RED not in out.read_text()
    assert stix2.parse(out.read_text()).type == "bundle"
    imported = stores.tr.ok("stix", "import", str(out))
    assert (
        imported.err.strip()
        == "imported out.json (STIX 2.1): 3 records (3 new, 0 updated, 0 unchanged; 3 from PK-MOI), 1 note"
    )
    refs = {r["reference"] for r in stores.tr.list_json()}
    assert refs == {stores.tr_ref(k) for k in ("green", "clear", "amber")}
    # never in PK-MOI's own numbering: PK-MOI's genuine bundles must always find their references free
    assert all(re.fullmatch(r"PK-MOI-\d{4}-0\d{8}", ref) for ref in refs) and not refs & set(stores.refs.values())


def test_misp_export_then_import_from_the_cli(stores: Stores) -> None:
    out = stores.path("event.json")
    stores.pk.ok("misp", "export", "--out", str(out), "--domain", "narcotics")
    assert len(json.loads(out.read_text())["Event"]["EventReport"]) == 1
    result = stores.tr.ok("misp", "import", str(out))
    assert "1 record (1 new" in result.err
    assert stores.tr.list_json()[0]["reference"] == stores.tr_ref("green") != stores.refs["green"]


def test_existing_output_is_refused_with_a_hint(stores: Stores) -> None:
    out = stores.path("out.json")
    out.write_text("keep me")
    result = stores.pk.cli("stix", "export", "--out", str(out))
    assert_refused(result, f"{out} already exists; refusing to replace it (add --force to replace it)")
    assert out.read_text() == "keep me"
    stores.pk.ok("stix", "export", "--out", str(out), "--force")


def test_officer_amber_and_red_ceiling_are_refused(stores: Stores) -> None:
    out = stores.path("out.json")
    assert_refused(
        stores.pk.cli("stix", "export", "--out", str(out), "--max-tlp", "amber", officer="carol"),
        "role officer may not export TLP:AMBER records to a file; a reviewer may",
    )
    assert_refused(
        stores.pk.cli("misp", "export", "--out", str(out), "--max-tlp", "red"),
        "TLP:RED never leaves the store; the highest ceiling is AMBER+STRICT",
    )
    assert not out.exists()


def test_import_refusals_are_one_line_with_hints_and_change_nothing(stores: Stores) -> None:
    before = store_fingerprint(stores.tr.path)
    result = stores.tr.cli("stix", "import", str(FIXTURES / "tlp1_ids.json"))
    assert_refused(result, "which is no known ministry; name the ministry it comes from (give --as CODE", exact=False)
    result = stores.tr.cli("stix", "import", str(FIXTURES / "missing_marking.json"), "--as", "PK-MOI")
    assert_refused(result, "has no TLP marking; give the TLP to apply to unmarked reports (give --tlp T", exact=False)
    bad = stores.path("bad.json")
    bad.write_text("{not json")
    assert_refused(
        stores.tr.cli("misp", "import", str(bad)),
        "bad.json: not valid JSON (line 1 column 2: Expecting property name enclosed in double quotes)",
    )
    assert store_fingerprint(stores.tr.path) == before
    ok = stores.tr.ok("stix", "import", str(FIXTURES / "tlp1_ids.json"), "--as", "PK-MOI")
    assert "2 records (2 new" in ok.err


def test_unknown_types_are_reported(stores: Stores) -> None:
    result = stores.pk.ok("stix", "import", str(FIXTURES / "unknown_types.json"))
    assert result.err.strip().endswith("not imported: 2 attack-pattern, 1 malware, 1 x-acme-sighting-summary")


def test_dry_run_checks_and_counts_but_writes_nothing(stores: Stores) -> None:
    before = store_fingerprint(stores.pk.path)
    result = stores.pk.ok("stix", "import", str(FIXTURES / "opencti_report.json"), "--dry-run")
    assert result.err.startswith("would import opencti_report.json (STIX 2.1): 1 record (1 new, 0 updated, 0 unchanged")
    assert store_fingerprint(stores.pk.path) == before
    refused = stores.pk.cli("stix", "import", str(FIXTURES / "missing_marking.json"), "--dry-run")
    assert_refused(refused, "has no TLP marking", exact=False)
    assert store_fingerprint(stores.pk.path) == before
