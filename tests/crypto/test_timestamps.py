"""Bundle timestamps: exactly one canonical form, real dates only."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crypto.bundle.strict import format_time, parse_time
from crypto.errors import BundleError


def test_the_canonical_form_round_trips() -> None:
    moment = datetime(2026, 2, 28, 23, 59, 59, 123456, tzinfo=UTC)
    assert parse_time(format_time(moment), "t") == moment


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("2026-02-30T00:00:00.000000Z", "not a valid date"),
        ("2026-13-01T00:00:00.000000Z", "not a valid date"),
        ("2026-01-01T24:00:00.000000Z", "not a valid date"),
        ("٢٠٢٦-02-28T23:59:59.123456Z", "not a canonical timestamp"),  # Arabic-Indic digits
        ("2026-02-28T23:59:59.123456+00:00", "not a canonical timestamp"),
        ("2026-02-28T23:59:59Z", "not a canonical timestamp"),
        ("2026-02-28 23:59:59.123456Z", "not a canonical timestamp"),
    ],
)
def test_other_forms_and_impossible_dates_are_refused(text: str, why: str) -> None:
    with pytest.raises(BundleError, match=why):
        parse_time(text, "t")
