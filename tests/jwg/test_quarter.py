"""Quarter arithmetic: parsing, boundaries, year ends, time zones."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from store.errors import ValidationError
from store.jwg.quarter import Quarter


def test_parse_and_str() -> None:
    assert str(Quarter.parse(" 2026-q4 ")) == "2026-Q4"
    assert Quarter.parse("2026-Q1") < Quarter.parse("2026-Q2") < Quarter.parse("2027-Q1")


@pytest.mark.parametrize(
    "bad",
    # the last two: Arabic-Indic and fullwidth digits, which int() would read as 2027 (a second "2027-Q4")
    ["1999-Q9", "2026-Q0", "2026-Q5", "2026Q4", "26-Q4", "2026-Q4x", "", "1899-Q1", "٢٠٢٧-Q4", "２０２７-Q4"],
)
def test_bad_quarters_refused(bad: str) -> None:
    with pytest.raises(ValidationError) as info:
        Quarter.parse(bad)
    assert info.value.field == "quarter"


def test_boundaries() -> None:
    q = Quarter(2026, 4)
    assert q.first_day == date(2026, 10, 1) and q.last_day == date(2026, 12, 31)
    assert Quarter(2024, 1).last_day == date(2024, 3, 31)
    assert Quarter(2026, 3).last_day == date(2026, 9, 30)
    assert q.contains(date(2026, 12, 31)) and not q.contains(date(2027, 1, 1)) and not q.contains(date(2026, 9, 30))


def test_arithmetic_across_year_ends() -> None:
    assert Quarter(2026, 4).next() == Quarter(2027, 1)
    assert Quarter(2027, 1).previous() == Quarter(2026, 4)
    assert Quarter(2026, 2).shifted(-6) == Quarter(2024, 4)
    assert Quarter(2026, 2).shifted(7) == Quarter(2028, 1)


def test_quarter_of_a_moment_is_taken_in_utc() -> None:
    # 2027-01-01 01:30 in Istanbul (UTC+3) is still 2026-12-31 in UTC: Q4 of 2026
    istanbul = timezone(timedelta(hours=3))
    assert Quarter.of(datetime(2027, 1, 1, 1, 30, tzinfo=istanbul)) == Quarter(2026, 4)
    # 2026-09-30 23:30 in UTC-5 is already October in UTC
    assert Quarter.of(datetime(2026, 9, 30, 23, 30, tzinfo=timezone(timedelta(hours=-5)))) == Quarter(2026, 4)
    assert Quarter.of(datetime(2026, 10, 1, 0, 0, tzinfo=UTC)) == Quarter(2026, 4)
    assert Quarter.of(date(2026, 3, 31)) == Quarter(2026, 1)


@pytest.mark.parametrize(
    ("field", "value"),
    [("quarter", "٢٠٢٧-Q4"), ("date", "٢٠٢٧-02-15")],
)
def test_a_desk_entry_with_non_ascii_digits_is_refused_by_the_schema(field: str, value: str) -> None:
    """Threat 23 for the desk: a meeting entry's quarter and date are ASCII digits, as references are."""
    from crypto.bundle.record import validate_entry
    from crypto.errors import BundleError

    meeting = {
        "kind": "jwg-meeting",
        "uuid": "5d1c2a8e-3b4d-4c5e-9f60-718293a4b5c6",
        "quarter": "2027-Q4",
        "date": "2027-11-15",
        "venue": "Ankara",
        "host": "TR-MOI",
        "status": "planned",
        "minutes": "",
        "origin": "TR-MOI",
        "rev": 1,
    }
    validate_entry(dict(meeting), "entry")  # as sent by an honest counterpart
    meeting[field] = value
    with pytest.raises(BundleError, match=field):
        validate_entry(meeting, "entry")
