"""MISP event export and import through the store: tags, distribution, round trip, attributes, bad files."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pymisp import MISPEvent

from store.errors import PolicyError
from store.files import FileError
from store.interop.common import InteropRefused
from store.interop.misp import export_misp, import_misp
from tests.interop.conftest import CANARY_RED, FIXTURES, Stores
from tests.liaison_helpers import LiaisonStore, store_fingerprint


@contextlib.contextmanager
def session(store: LiaisonStore, officer: str = "alice") -> Iterator[Any]:
    s = store.session(officer)
    try:
        yield s
    finally:
        s.vault.close()


def export(store: LiaisonStore, out: Path, **kwargs: Any) -> Any:
    with session(store, kwargs.pop("officer", "alice")) as s:
        return export_misp(s, out, **kwargs)


def test_event_has_reports_tlp_and_domain_tags_and_organisation_only_distribution(stores: Stores) -> None:
    out = stores.path("event.json")
    result = export(stores.pk, out, max_tlp="amber+strict")
    assert len(result.selection.included) == 4
    event = json.loads(out.read_text())["Event"]
    assert event["distribution"] == "0"
    tags = {t["name"] for t in event["Tag"]}
    assert "tlp:amber+strict" in tags  # the event is as restricted as its most restricted report
    assert {'liaison:domain="narcotics"', 'liaison:domain="counterterrorism"'} <= tags
    reports = {r["name"]: r for r in event["EventReport"]}
    assert set(reports) == {
        "Heroin route via Gwadar",
        "Public advisory on fake visa agents",
        "Smuggling cell in Quetta",
        "Informant network map",
    }
    content = reports["Heroin route via Gwadar"]["content"]
    assert content.startswith("**TLP:GREEN**\n")
    assert content.rstrip().endswith("**TLP:GREEN**")
    assert "Trawlers carry it.\nSecond line." in content
    assert all(r["distribution"] == "0" for r in event["EventReport"])
    loaded = MISPEvent()
    loaded.load(out.read_text())  # pymisp reads it back
    assert len(loaded.event_reports) == 4


def test_default_ceiling_is_green(stores: Stores) -> None:
    out = stores.path("event.json")
    export(stores.pk, out)
    event = json.loads(out.read_text())["Event"]
    assert {t["name"] for t in event["Tag"] if t["name"].startswith("tlp:")} == {"tlp:green"}
    assert len(event["EventReport"]) == 2


@pytest.mark.parametrize("ceiling", [None, "amber", "amber+strict"])
def test_red_never_appears(stores: Stores, ceiling: str | None) -> None:
    """Threat 20: no RED words and no tlp:red tag in any MISP export."""
    out = stores.path("event.json")
    export(stores.pk, out, max_tlp=ceiling)
    text = out.read_text()
    assert CANARY_RED not in text
    assert "tlp:red" not in text.lower() and "TLP:RED" not in text


def test_officer_may_not_export_amber(stores: Stores) -> None:
    with pytest.raises(PolicyError, match="a reviewer may"):
        export(stores.pk, stores.path("e.json"), officer="carol", max_tlp="amber+strict")


def test_existing_file_is_kept(stores: Stores) -> None:
    out = stores.path("event.json")
    out.write_text("precious")
    with pytest.raises(FileError, match="already exists"):
        export(stores.pk, out)
    assert out.read_text() == "precious"


def test_round_trip_into_a_second_store(stores: Stores) -> None:
    out = stores.path("event.json")
    export(stores.pk, out, max_tlp="amber+strict")
    with session(stores.tr) as s:
        result = import_misp(s, out)
    assert (result.new, result.updated, result.unchanged) == (4, 0, 0)
    for key in ("green", "clear", "amber", "strict"):
        original = stores.pk.show(stores.refs[key])
        received = stores.tr.show(stores.tr_ref(key))
        for name in ("title", "summary", "tlp", "domain", "origin"):
            assert received[name] == original[name], name
    with session(stores.tr) as s:
        again = import_misp(s, out)
    assert (again.new, again.unchanged) == (0, 4)


def test_event_with_attributes_only_becomes_one_record(stores: Stores) -> None:
    path = FIXTURES / "misp_event_attributes.json"
    before = store_fingerprint(stores.tr.path)
    with (
        session(stores.tr) as s,
        pytest.raises(InteropRefused, match="was created by 'USOM CERT', which is no known ministry"),
    ):
        import_misp(s, path)
    assert store_fingerprint(stores.tr.path) == before
    with session(stores.tr) as s:
        result = import_misp(s, path, as_code="PK-MOI")
    assert result.new == 1
    row = stores.tr.list_json()[0]
    assert (row["tlp"], row["domain"], row["origin"]) == ("AMBER", "cybercrime", "PK-MOI")
    summary = stores.tr.show(row["reference"])["summary"]
    assert "- ip-dst: 203.0.113.17 (C2)" in summary
    assert "- sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08" in summary


def test_unmarked_event_needs_a_tlp(stores: Stores) -> None:
    event = json.loads((FIXTURES / "misp_event_attributes.json").read_text())
    event["Event"]["Tag"] = [{"name": "cybercrime"}]
    path = stores.path("unmarked.json")
    path.write_text(json.dumps(event))
    with session(stores.tr) as s, pytest.raises(InteropRefused, match="has no tlp: tag"):
        import_misp(s, path, as_code="PK-MOI")
    with session(stores.tr) as s:
        assert import_misp(s, path, as_code="PK-MOI", tlp="clear").new == 1


def test_malformed_and_wrong_shape_are_refused(stores: Stores) -> None:
    before = store_fingerprint(stores.tr.path)
    bad = stores.path("bad.json")
    bad.write_text('{"Event": {"info": "x",')
    with session(stores.tr) as s, pytest.raises(InteropRefused, match=r"bad.json: not valid JSON"):
        import_misp(s, bad)
    shape = stores.path("shape.json")
    shape.write_text('{"type": "bundle", "objects": []}')
    with session(stores.tr) as s, pytest.raises(InteropRefused, match=r"shape.json: not a MISP event"):
        import_misp(s, shape)
    assert store_fingerprint(stores.tr.path) == before


def test_control_character_in_an_attribute_refuses_the_file(stores: Stores) -> None:
    """Threat 21: an OSC escape in an attribute value refuses the whole event."""
    event = json.loads((FIXTURES / "misp_event_attributes.json").read_text())
    event["Event"]["Attribute"][0]["value"] = "203.0.113.17\x1b]0;pwned\x07"
    path = stores.path("esc.json")
    path.write_text(json.dumps(event))
    before = store_fingerprint(stores.tr.path)
    with (
        session(stores.tr) as s,
        pytest.raises(InteropRefused, match=r"attribute value contains a control character \(U\+001B\)"),
    ):
        import_misp(s, path, as_code="PK-MOI")
    assert store_fingerprint(stores.tr.path) == before


def test_event_without_timestamp_takes_its_date(stores: Stores) -> None:
    event = json.loads((FIXTURES / "misp_event_attributes.json").read_text())
    del event["Event"]["timestamp"]
    path = stores.path("dated.json")
    path.write_text(json.dumps(event))
    with session(stores.tr) as s:
        import_misp(s, path, as_code="PK-MOI")
    assert stores.tr.list_json()[0]["created_at"].startswith("2026-10-20T00:00:00")
