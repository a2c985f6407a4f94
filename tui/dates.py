"""Days and lists as officers type them into the app's forms (`YYYY-MM-DD`, `a, b c`), read as UTC datetimes and values."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from store.errors import ValidationError
from store.text import quote


def parse_day_range(text: str) -> tuple[datetime | None, datetime | None]:
    """`YYYY-MM-DD..YYYY-MM-DD` (either side optional; one day alone means that day) as [since, until) in UTC."""
    text = text.strip()
    if not text:
        return None, None
    first, sep, last = text.partition("..")
    if not sep:
        last = first

    def day(value: str, side: str) -> date | None:
        value = value.strip()
        if not value:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{side} day {quote(value)} is not a date; expected YYYY-MM-DD") from None

    start, end = day(first, "first"), day(last, "last")
    if start and end and end < start:
        raise ValueError(f"the last day ({end}) is before the first ({start})")
    since = datetime(start.year, start.month, start.day, tzinfo=UTC) if start else None
    until = datetime(end.year, end.month, end.day, tzinfo=UTC) + timedelta(days=1) if end else None
    return since, until


def parse_date(text: str) -> datetime | None:
    """`YYYY-MM-DD` (or an ISO date and time) as UTC; empty means no filter."""
    text = text.strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValidationError(f"invalid date {text!r}: expected YYYY-MM-DD") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def words(text: str) -> list[str]:
    """Comma- or space-separated values."""
    return [w for w in text.replace(",", " ").split() if w]
