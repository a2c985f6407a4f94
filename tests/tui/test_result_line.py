"""The browser's result line reads as English whatever the count and the number of filters."""

from __future__ import annotations

import pytest

from store.record_filters import RecordQuery
from tui.widgets.filter_chips import result_text


@pytest.mark.parametrize(
    ("query", "total", "expected"),
    [
        (RecordQuery(), 0, "0 records in the store · newest first"),
        (RecordQuery(), 1, "1 record in the store · newest first"),
        (RecordQuery(domains=frozenset({"narcotics"})), 1, "1 record matches 1 filter · newest first"),
        (RecordQuery(domains=frozenset({"narcotics"})), 0, "0 records match 1 filter · newest first"),
        (
            RecordQuery(domains=frozenset({"narcotics"}), tlps=frozenset({"RED"}), order="oldest"),
            12_345,
            "12,345 records match 2 filters · oldest first",
        ),
    ],
)
def test_result_line(query: RecordQuery, total: int, expected: str) -> None:
    assert result_text(query, total) == expected
