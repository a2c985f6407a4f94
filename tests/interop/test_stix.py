"""STIX 2.1 export and import through the store: selection, markings, validator, round trip, fixtures, bad files."""

from __future__ import annotations

import contextlib
import json
import uuid as uuidlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import stix2
from stix2validator import ValidationOptions, validate_string

from store.errors import PolicyError, ValidationError
from store.files import FileError
from store.interop import common, incoming
from store.interop.common import InteropRefused
from store.interop.stix import TLP2_IDS, export_stix, import_stix, report_id
from store.vocab import Tlp
from tests.interop.conftest import CANARY_RED, FIXTURES, Stores
from tests.liaison_helpers import LiaisonStore, store_fingerprint
from tui.present import interop_export_summary, interop_import_summary

RED_IDS = {TLP2_IDS[Tlp.RED], stix2.TLP_RED.id}


@contextlib.contextmanager
def session(store: LiaisonStore, officer: str = "alice") -> Iterator[Any]:
    s = store.session(officer)
    try:
        yield s
    finally:
        s.vault.close()


def export(store: LiaisonStore, out: Path, **kwargs: Any) -> Any:
    with session(store, kwargs.pop("officer", "alice")) as s:
        return export_stix(s, out, **kwargs)


def objects(path: Path, kind: str) -> list[dict[str, Any]]:
    return [o for o in json.loads(path.read_text())["objects"] if o["type"] == kind]


def assert_valid_stix(path: Path) -> None:
    """The stix2 parser takes the bundle and the OASIS validator finds no error in it."""
    text = path.read_text(encoding="utf-8")
    parsed = stix2.parse(text, allow_custom=False)
    assert parsed.type == "bundle"
    result = validate_string(text, ValidationOptions(strict=False))
    assert result.is_valid, [str(e) for e in result.errors]
    assert not result.errors
    # the only warning: deterministic ids are UUIDv5, where the spec suggests UUIDv4
    assert all("{103}" in str(w) for w in result.warnings), [str(w) for w in result.warnings]


# ---- export ---------------------------------------------------------------------------------------------


def test_default_export_is_green_and_below_with_tlp2_markings_and_passes_the_validator(stores: Stores) -> None:
    """Default ceiling GREEN: the GREEN and CLEAR records, each report marked with its TLP 2.0 marking by the fixed id."""
    out = stores.path("out.json")
    result = export(stores.pk, out)
    assert result.selection.included_refs == [stores.refs["green"], stores.refs["clear"]]
    assert "2 above the TLP ceiling (GREEN)" in interop_export_summary(result)
    assert "1 TLP:RED (never leaves)" in interop_export_summary(result)
    assert "1 not approved yet" in interop_export_summary(result)
    assert_valid_stix(out)
    reports = {r["name"]: r for r in objects(out, "report")}
    assert reports["Heroin route via Gwadar"]["object_marking_refs"] == [TLP2_IDS[Tlp.GREEN]]
    assert reports["Public advisory on fake visa agents"]["object_marking_refs"] == [TLP2_IDS[Tlp.CLEAR]]
    assert reports["Heroin route via Gwadar"]["labels"] == ["narcotics"]
    assert reports["Heroin route via Gwadar"]["description"] == "Trawlers carry it.\nSecond line."
    markings = {m["id"]: m for m in objects(out, "marking-definition")}
    assert set(markings) == {TLP2_IDS[Tlp.GREEN], TLP2_IDS[Tlp.CLEAR]}  # every referenced marking is in the bundle
    assert markings[TLP2_IDS[Tlp.GREEN]]["name"] == "TLP:GREEN"
    identities = objects(out, "identity")
    assert [i["name"] for i in identities] == ["Ministry of Interior, Pakistan"]
    assert reports["Heroin route via Gwadar"]["created_by_ref"] == identities[0]["id"]


def test_review_comments_become_notes_except_on_clear_records(stores: Stores) -> None:
    """The approval comment of the GREEN record is a note with the report's marking; the CLEAR record's comment stays home."""
    out = stores.path("out.json")
    export(stores.pk, out)
    notes = objects(out, "note")
    assert [n["content"] for n in notes] == ["Desk confirmed the route"]
    green = next(r for r in objects(out, "report") if r["name"] == "Heroin route via Gwadar")
    assert notes[0]["object_refs"] == [green["id"]]
    assert notes[0]["object_marking_refs"] == [TLP2_IDS[Tlp.GREEN]]
    assert "fine to publish" not in out.read_text()


def test_ids_are_uuid5_of_the_record_and_a_re_export_is_identical(stores: Stores) -> None:
    """A second export of the same records has the same ids and bytes (re-exports update, never duplicate)."""
    first, second = stores.path("a.json"), stores.path("b.json")
    export(stores.pk, first)
    export(stores.pk, second)
    assert first.read_bytes() == second.read_bytes()
    uuid = stores.pk.show(stores.refs["green"])["uuid"]
    assert report_id(uuid) in {r["id"] for r in objects(first, "report")}
    assert report_id(uuid).endswith(str(uuidlib.uuid5(common.NAMESPACE, f"record:{uuid}")))


@pytest.mark.parametrize("ceiling", [None, "green", "amber", "amber+strict"])
def test_red_never_appears_in_any_export(stores: Stores, ceiling: str | None) -> None:
    """Threat 20: whatever the ceiling, neither the RED record's words nor a RED marking are in the file."""
    out = stores.path("out.json")
    export(stores.pk, out, max_tlp=ceiling)
    text = out.read_text()
    assert CANARY_RED not in text
    assert not any(red in text for red in RED_IDS)
    assert_valid_stix(out)


def test_amber_strict_ceiling_carries_amber_and_amber_strict(stores: Stores) -> None:
    out = stores.path("out.json")
    result = export(stores.pk, out, max_tlp="amber+strict")
    assert set(result.selection.included_refs) == {stores.refs[k] for k in ("green", "clear", "amber", "strict")}
    marks = {r["name"]: r["object_marking_refs"] for r in objects(out, "report")}
    assert marks["Informant network map"] == [TLP2_IDS[Tlp.AMBER_STRICT]]
    assert marks["Smuggling cell in Quetta"] == [TLP2_IDS[Tlp.AMBER]]
    assert_valid_stix(out)


def test_an_officer_may_not_raise_the_ceiling_to_amber(stores: Stores) -> None:
    out = stores.path("out.json")
    before = store_fingerprint(stores.pk.path)
    with pytest.raises(PolicyError, match="role officer may not export TLP:AMBER records to a file; a reviewer may"):
        export(stores.pk, out, officer="carol", max_tlp="amber")
    assert not out.exists()
    assert store_fingerprint(stores.pk.path) == before
    assert export(stores.pk, out, officer="carol").selection.included_refs  # GREEN is theirs to export


def test_red_ceiling_is_refused(stores: Stores) -> None:
    with pytest.raises(PolicyError, match="TLP:RED never leaves the store"):
        export(stores.pk, stores.path("out.json"), max_tlp="red")


def test_an_existing_file_is_kept_unless_forced(stores: Stores) -> None:
    """Threat 32: an existing output file is refused without force, and the store is unchanged."""
    out = stores.path("out.json")
    out.write_text("precious")
    before = store_fingerprint(stores.pk.path)
    with pytest.raises(FileError, match="already exists; refusing to replace it"):
        export(stores.pk, out)
    assert out.read_text() == "precious"
    assert store_fingerprint(stores.pk.path) == before
    export(stores.pk, out, force=True)
    assert_valid_stix(out)


def test_export_is_logged_as_one_user_action(stores: Stores) -> None:
    before = stores.pk.sql("SELECT count(*) FROM audit_log WHERE action = 'stix-export'")[0][0]
    export(stores.pk, stores.path("out.json"))
    assert stores.pk.sql("SELECT count(*) FROM audit_log WHERE action = 'stix-export'")[0][0] == before + 1


def test_filters_domain_and_refs(stores: Stores) -> None:
    out = stores.path("out.json")
    assert export(stores.pk, out, domains=["policing"]).selection.included_refs == [stores.refs["clear"]]
    out2 = stores.path("out2.json")
    assert export(stores.pk, out2, refs=[stores.refs["green"].lower()]).selection.included_refs == [
        stores.refs["green"]
    ]


def test_nothing_to_export_names_the_reasons(stores: Stores) -> None:
    out = stores.path("out.json")
    with pytest.raises(common.NothingToExport, match=r"nothing to export \(1 TLP:RED \(never leaves\)\)"):
        export(stores.pk, out, refs=[stores.refs["red"]])
    assert not out.exists()


# ---- round trip -----------------------------------------------------------------------------------------


def test_round_trip_into_a_second_store_keeps_content_tlp_domain_and_origin(stores: Stores) -> None:
    out = stores.path("out.json")
    export(stores.pk, out, max_tlp="amber+strict")
    with session(stores.tr) as s:
        result = import_stix(s, out)
    assert (result.new, result.updated, result.unchanged, result.notes) == (4, 0, 0, 1)
    for key in ("green", "clear", "amber", "strict"):
        original = stores.pk.show(stores.refs[key])
        received = stores.tr.show(stores.tr_ref(key))  # a local-only reference: never the origin's numbering
        assert received["title"] == original["title"]
        assert received["summary"] == original["summary"]
        assert received["tlp"] == original["tlp"]
        assert received["domain"] == original["domain"]
        assert received["origin"] == "PK-MOI"
        assert received["status"] == "received"
    green = stores.tr.show(stores.tr_ref("green"))
    assert [(r["action"], r["comment"]) for r in green["reviews"]] == [("note", "Desk confirmed the route")]


def test_re_import_is_idempotent_and_a_newer_version_updates(stores: Stores) -> None:
    out = stores.path("out.json")
    export(stores.pk, out)
    with session(stores.tr) as s:
        import_stix(s, out)
    green_ref = stores.tr_ref("green")
    before = store_fingerprint(stores.tr.path)
    with session(stores.tr) as s:
        again = import_stix(s, out)
    assert (again.new, again.updated, again.unchanged, again.notes) == (0, 0, 2, 0)
    after = store_fingerprint(stores.tr.path)
    assert {k: v for k, v in after.items() if k not in ("audit_log", "liaison_meta")} == {
        k: v for k, v in before.items() if k not in ("audit_log", "liaison_meta")
    }
    bundle = json.loads(out.read_text())
    for obj in bundle["objects"]:
        if obj["type"] == "report" and obj["name"] == "Heroin route via Gwadar":
            obj["name"] = "Heroin route via Gwadar and Pasni"
            obj["modified"] = datetime.now(UTC).isoformat()
    newer = stores.path("newer.json")
    newer.write_text(json.dumps(bundle))
    with session(stores.tr) as s:
        updated = import_stix(s, newer)
    assert (updated.new, updated.updated, updated.unchanged) == (0, 1, 1)
    detail = stores.tr.show(green_ref)
    assert detail["title"] == "Heroin route via Gwadar and Pasni"
    assert [r["number"] for r in detail["revisions"]] == [1, 2]
    assert stores.tr.list_json("--search", "Pasni")[0]["reference"] == green_ref


def test_own_export_does_not_come_back_into_the_same_store(stores: Stores) -> None:
    out = stores.path("out.json")
    export(stores.pk, out)
    before = store_fingerprint(stores.pk.path)
    with session(stores.pk) as s, pytest.raises(InteropRefused, match=r"comes from this ministry \(PK-MOI\)"):
        import_stix(s, out)
    assert store_fingerprint(stores.pk.path) == before


# ---- real-world-shaped fixtures ------------------------------------------------------------------------


def _import_fixture(stores: Stores, name: str, **kwargs: Any) -> Any:
    with session(stores.tr) as s:
        return import_stix(s, FIXTURES / name, **kwargs)


def test_fixture_opencti_report_with_marking_refs(stores: Stores) -> None:
    """OpenCTI's AMBER+STRICT statement marking is understood; the identity maps to PK-ANF by name; the rest is counted."""
    result = _import_fixture(stores, "opencti_report.json")
    assert (result.new, result.notes) == (1, 1)
    assert dict(result.origins) == {"PK-ANF": 1}
    assert dict(result.not_imported) == {"indicator": 1, "relationship": 1}
    assert "not imported: 1 indicator, 1 relationship" in interop_import_summary(result)
    row = stores.tr.list_json()[0]
    assert (row["tlp"], row["domain"], row["origin"]) == ("AMBER+STRICT", "narcotics", "PK-ANF")
    assert row["title"] == "Heroin consignment routed through Gwadar fishing fleet"
    assert stores.tr.sql("SELECT no_reexport FROM records")[0][0] == 1


def test_fixture_tlp1_ids_need_the_ministry_then_come_in(stores: Stores) -> None:
    """TLP 1.0 WHITE and AMBER ids are understood; an identity that is no ministry needs `as`."""
    before = store_fingerprint(stores.tr.path)
    with pytest.raises(InteropRefused, match=r"was created by identity 'USOM CERT' .*which is no known ministry"):
        _import_fixture(stores, "tlp1_ids.json")
    assert store_fingerprint(stores.tr.path) == before
    result = _import_fixture(stores, "tlp1_ids.json", as_code="PK-MOI")
    assert result.new == 2
    tlps = {r["title"]: (r["tlp"], r["domain"], r["origin"]) for r in stores.tr.list_json()}
    assert tlps == {
        "Phishing wave against border agency webmail": ("CLEAR", "cybercrime", "PK-MOI"),
        "Smuggling network uses ferry manifests": ("AMBER", "human-smuggling", "PK-MOI"),
    }


def test_fixture_unknown_object_types_are_counted(stores: Stores) -> None:
    with session(stores.pk) as s:
        result = import_stix(s, FIXTURES / "unknown_types.json")
    assert result.new == 1
    assert dict(result.origins) == {"TR-MOI": 1}
    assert dict(result.not_imported) == {"attack-pattern": 2, "malware": 1, "x-acme-sighting-summary": 1}
    assert interop_import_summary(result).endswith(
        "not imported: 2 attack-pattern, 1 malware, 1 x-acme-sighting-summary"
    )


def test_fixture_missing_marking_is_refused_unless_a_tlp_is_given(stores: Stores) -> None:
    before = store_fingerprint(stores.pk.path)
    with session(stores.pk) as s, pytest.raises(InteropRefused, match="has no TLP marking"):
        import_stix(s, FIXTURES / "missing_marking.json")
    assert store_fingerprint(stores.pk.path) == before
    with session(stores.pk) as s:
        assert import_stix(s, FIXTURES / "missing_marking.json", tlp="green").new == 1
    row = next(r for r in stores.pk.list_json() if r["origin"] == "TR-MOI")
    assert (row["tlp"], row["domain"]) == ("GREEN", "border-management")


# ---- bad files -----------------------------------------------------------------------------------------


def _refused(stores: Stores, path: Path, message: str, **kwargs: Any) -> None:
    before = store_fingerprint(stores.tr.path)
    with session(stores.tr) as s, pytest.raises((InteropRefused, FileError, ValidationError)) as info:
        import_stix(s, path, **kwargs)
    assert message in str(info.value)
    assert "\n" not in str(info.value)
    assert store_fingerprint(stores.tr.path) == before


def test_malformed_json_is_refused(stores: Stores) -> None:
    bad = stores.path("bad.json")
    bad.write_text('{"type": "bundle", "objects": [')
    _refused(stores, bad, "bad.json: not valid JSON (line 1 column 32")


def test_duplicate_keys_and_non_json_constants_are_refused(stores: Stores) -> None:
    bad = stores.path("dup.json")
    bad.write_text('{"type": "bundle", "type": "bundle", "objects": []}')
    _refused(stores, bad, "duplicate key 'type'")
    nan = stores.path("nan.json")
    nan.write_text('{"type": "bundle", "objects": [NaN]}')
    _refused(stores, nan, "NaN is not valid JSON")


def test_not_a_bundle_is_refused(stores: Stores) -> None:
    bad = stores.path("list.json")
    bad.write_text("[1, 2]")
    _refused(stores, bad, "list.json: not a STIX bundle")


def test_oversized_file_is_refused(stores: Stores, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(incoming, "MAX_FILE", 1000)
    big = stores.path("big.json")
    big.write_text(json.dumps({"type": "bundle", "objects": [], "pad": "x" * 2000}))
    _refused(stores, big, "is larger than 1000 bytes")


def test_an_escape_in_a_title_refuses_the_whole_file(stores: Stores) -> None:
    """Threat 21: a terminal escape in one report's title refuses the whole file (all or nothing)."""
    bundle = json.loads((FIXTURES / "unknown_types.json").read_text())
    second = dict(next(o for o in bundle["objects"] if o["type"] == "report"))
    second["id"] = "report--00000000-0000-4000-8000-000000000001"
    second["name"] = "Harmless \x1b[2J title"
    bundle["objects"].append(second)
    bad = stores.path("escape.json")
    bad.write_text(json.dumps(bundle))
    _refused(stores, bad, "title contains a control character (U+001B) at position 10")


def test_red_report_is_refused(stores: Stores) -> None:
    bundle = json.loads((FIXTURES / "unknown_types.json").read_text())
    for obj in bundle["objects"]:
        if obj["type"] == "report":
            obj["object_marking_refs"] = [TLP2_IDS[Tlp.RED]]
    bad = stores.path("red.json")
    bad.write_text(json.dumps(bundle))
    _refused(stores, bad, "is TLP:RED, which never comes in through a file")


def test_unknown_domain_label_is_refused_unless_a_domain_is_given(stores: Stores) -> None:
    bundle = json.loads((FIXTURES / "unknown_types.json").read_text())
    for obj in bundle["objects"]:
        if obj["type"] == "report":
            obj["labels"] = ["espionage"]
    path = stores.path("nodomain.json")
    path.write_text(json.dumps(bundle))
    with (
        session(stores.pk) as s,
        pytest.raises(InteropRefused, match=r"has no label naming a domain known here \(labels: 'espionage'\)"),
    ):
        import_stix(s, path)
    with session(stores.pk) as s:
        assert import_stix(s, path, domain="cybercrime").new == 1


def test_as_must_be_another_known_ministry(stores: Stores) -> None:
    with session(stores.tr) as s, pytest.raises(ValidationError, match="unknown ministry 'XX-NOPE'"):
        import_stix(s, FIXTURES / "tlp1_ids.json", as_code="XX-NOPE")
    with session(stores.tr) as s, pytest.raises(ValidationError, match="TR-MOI is this store's own ministry"):
        import_stix(s, FIXTURES / "tlp1_ids.json", as_code="TR-MOI")


def test_received_records_follow_the_re_export_rules(stores: Stores) -> None:
    """Threat 20: received GREEN goes out again; received AMBER and AMBER+STRICT never do, whatever the ceiling."""
    with session(stores.pk) as s:
        import_stix(s, FIXTURES / "unknown_types.json")  # GREEN from TR-MOI
        import_stix(s, FIXTURES / "tlp1_ids.json", as_code="TR-MOI")  # CLEAR and AMBER from TR-MOI
        import_stix(s, FIXTURES / "opencti_report.json")  # AMBER+STRICT from PK-ANF
    out = stores.path("out.json")
    result = export(stores.pk, out, max_tlp="amber+strict")
    names = {r["name"] for r in objects(out, "report")}
    assert "Spearphishing campaign against port authorities" in names
    assert "Phishing wave against border agency webmail" in names
    assert "Smuggling network uses ferry manifests" not in names
    assert "Heroin consignment routed through Gwadar fishing fleet" not in names
    assert "1 received AMBER+STRICT (marked no re-export)" in interop_export_summary(result)
    assert "1 received from another ministry and not GREEN or CLEAR (never re-exported)" in interop_export_summary(
        result
    )
    origins = {i["name"] for i in objects(out, "identity")}
    assert origins == {"Ministry of Interior, Pakistan", "Ministry of Interior, Türkiye"}
    assert_valid_stix(out)


def test_since_filters_on_the_update_time(stores: Stores) -> None:
    out = stores.path("out.json")
    with pytest.raises(common.NothingToExport, match="no record matches the filters"):
        export(stores.pk, out, since=datetime(2999, 1, 1, tzinfo=UTC))
    assert len(export(stores.pk, out, since=datetime(2000, 1, 1, tzinfo=UTC)).selection.included) == 2


def test_future_dates_and_foreign_references_are_refused(stores: Stores) -> None:
    """Threat 23: an imported report dated far in the future, or carrying a reference of another origin (or with
    non-ASCII digits), is refused, naming it; local record creation is never blocked by an imported reference."""
    out = stores.path("out.json")
    export(stores.pk, out, refs=[stores.refs["green"]])
    original = json.loads(out.read_text())

    def variant(name: str, change: Any) -> Path:
        bundle = json.loads(json.dumps(original))
        report = next(o for o in bundle["objects"] if o["type"] == "report")
        change(report)
        path = stores.path(name)
        path.write_text(json.dumps(bundle, ensure_ascii=False))
        return path

    future = variant("future.json", lambda r: r.update(modified="2099-01-01T00:00:00Z"))
    _refused(stores, future, "is dated 2099-01-01 00:00 UTC, in the future")
    foreign = variant("foreign.json", lambda r: r["external_references"][0].update(external_id="TR-MOI-2026-00001"))
    _refused(stores, foreign, "carries the reference 'TR-MOI-2026-00001', which is not one of PK-MOI")
    digits = variant("digits.json", lambda r: r["external_references"][0].update(external_id="PK-MOI-2026-١٢٣٤٥"))
    _refused(stores, digits, "which is not one of PK-MOI")
    stores.tr.add("Local record still gets its own reference")


def test_a_report_cannot_overwrite_a_record_of_another_origin(stores: Stores) -> None:
    """Threat 24: a file re-using the id of a record held from PK-MOI, claiming another origin, is refused."""
    out = stores.path("out.json")
    export(stores.pk, out, refs=[stores.refs["green"]])
    with session(stores.tr) as s:
        import_stix(s, out)
    bundle = json.loads(out.read_text())
    for obj in bundle["objects"]:
        if obj["type"] == "report":
            obj["created_by_ref"] = "identity--0d5a3c22-9d8c-4a7b-8e6f-5a4b3c2d1e0f"
            obj.pop("external_references")
            obj["modified"] = datetime.now(UTC).isoformat()
    forged = stores.path("forged.json")
    forged.write_text(json.dumps(bundle))
    _refused(stores, forged, f"would overwrite record {stores.tr_ref('green')} of PK-MOI", as_code="PK-ANF")


def test_a_withdrawn_record_is_not_exported(stores: Stores) -> None:
    """A record its origin withdrew never goes out again, in STIX as in bundles."""
    green = stores.refs["green"]
    stores.pk.signed_sql("UPDATE records SET status = 'shared' WHERE reference = ?", (green,), reference=green)
    with session(stores.pk) as s:
        s.withdraw(stores.refs["green"], "source retracted")
    out = stores.path("out.json")
    result = export(stores.pk, out)
    assert result.selection.included_refs == [stores.refs["clear"]]
    assert "1 withdrawn by its origin" in interop_export_summary(result)
    assert "Heroin route via Gwadar" not in out.read_text()


def test_imported_text_is_encrypted_at_rest(stores: Stores) -> None:
    """Threat 5: the words of an imported report are nowhere in the store file or its side files as plaintext."""
    from tests.liaison_helpers import find_plaintext

    with session(stores.tr) as s:
        import_stix(s, FIXTURES / "opencti_report.json")
    assert find_plaintext(stores.tr.path, "Jiwani", "Confirmed by coast guard sighting", "Gwadar fishing fleet") == []


def test_notes_added_to_a_record_held_unchanged_are_signed(stores: Stores) -> None:
    """Found by an honest-flow pass: a file that only adds notes to a record already held at the same revision (say
    the origin's own older file after a forward's) wrote the review rows and signed no event for the record, so the
    copy read as damaged at once (`show` refused it, `audit verify` failed). The record's event now signs it as the
    notes left it."""
    out = stores.path("out.json")
    export(stores.pk, out)
    stores.tr.ok("stix", "import", str(out))
    bundle = json.loads(out.read_text())
    note = next(o for o in bundle["objects"] if o["type"] == "note")
    bundle["objects"].append(
        {**note, "id": f"note--{uuidlib.uuid4()}", "content": "A later note from the desk", "abstract": "later"}
    )
    more = stores.path("more.json")
    more.write_text(json.dumps(bundle))
    again = stores.tr.ok("stix", "import", str(more))
    assert again.err.endswith("unchanged; 2 from PK-MOI), 1 note\n"), again.err
    green = stores.tr.show(stores.tr_ref("green"))
    assert [r["comment"] for r in green["reviews"]] == ["Desk confirmed the route", "A later note from the desk"]
    assert stores.tr.cli("audit", "verify").code == 0
