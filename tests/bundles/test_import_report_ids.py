"""The ids an import looks for a STIX/MISP import's copy of each new record under (`report_ids`, computed without
UUID objects) are exactly `store.interop.base.report_uuids`: the copies found are the same."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from store.bundles.import_checks import report_ids
from store.interop.base import report_uuids


@given(st.uuids().map(str) | st.text(max_size=40))
def test_report_ids_are_the_interop_ids(record_uuid: str) -> None:
    assert report_ids(record_uuid) == report_uuids(record_uuid)


def test_report_ids_of_a_record() -> None:
    record_uuid = str(uuid.UUID(int=0x0123456789ABCDEF0123456789ABCDEF))
    assert report_ids(record_uuid) == report_uuids(record_uuid)
    assert all(uuid.UUID(d).version == 5 for d in report_ids(record_uuid))
