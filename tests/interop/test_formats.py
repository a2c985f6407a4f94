"""Format detection for the import screen and a preview that writes nothing."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from store.interop.common import InteropRefused, preview_export
from store.interop.formats import file_format, import_interop
from tests.interop.conftest import FIXTURES, Stores
from tests.liaison_helpers import store_fingerprint


@contextlib.contextmanager
def _session(stores: Stores, which: str = "tr") -> Iterator[Any]:
    s = (stores.tr if which == "tr" else stores.pk).session()
    try:
        yield s
    finally:
        s.vault.close()


@pytest.mark.parametrize(
    ("name", "expected"),
    [("opencti_report.json", "stix"), ("tlp1_ids.json", "stix"), ("misp_event_attributes.json", "misp")],
)
def test_file_format_of_the_fixtures(name: str, expected: str) -> None:
    assert file_format(FIXTURES / name) == expected


def test_file_format_refuses_other_files(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(InteropRefused, match=r"notes.txt: not valid JSON .*; it is neither a Liaison bundle"):
        file_format(text)
    other = tmp_path / "other.json"
    other.write_text('{"hello": 1}')
    with pytest.raises(InteropRefused, match=r"other.json: neither a Liaison bundle or receipt, nor a STIX bundle"):
        file_format(other)


def test_preview_then_import_detected(stores: Stores) -> None:
    before = store_fingerprint(stores.tr.path)
    with _session(stores) as s:
        preview = import_interop(s, FIXTURES / "misp_event_attributes.json", as_code="PK-MOI", preview=True)
    assert (preview.preview, preview.new) == (True, 1)
    assert store_fingerprint(stores.tr.path) == before
    with _session(stores) as s:
        done = import_interop(s, FIXTURES / "misp_event_attributes.json", as_code="PK-MOI")
    assert (done.preview, done.new) == (False, 1)


def test_preview_export_lists_reasons(stores: Stores) -> None:
    with _session(stores, which="pk") as s:
        selection = preview_export(s, max_tlp="amber")
    assert selection.included_refs == [stores.refs["green"], stores.refs["clear"], stores.refs["amber"]]
    assert selection.excluded == {
        "not approved yet": [stores.refs["draft"]],
        "TLP:RED (never leaves)": [stores.refs["red"]],
        "above the TLP ceiling (AMBER)": [stores.refs["strict"]],
    }
