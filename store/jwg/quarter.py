"""Quarters (`2026-Q4`): the cadence of the Joint Working Group."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from store.errors import ValidationError
from store.text import quote

_QUARTER = re.compile(r"(\d{4})-Q(\d)", re.ASCII)  # int() would read other scripts' digits too
MIN_YEAR, MAX_YEAR = 2000, 2100


@dataclass(frozen=True, order=True)
class Quarter:
    """A calendar quarter: `year` and `number` 1..4. Ordered, hashable; `str()` is `2026-Q4`."""

    year: int
    number: int

    @classmethod
    def parse(cls, text: str, *, field: str = "quarter") -> Quarter:
        """`2026-Q4` (case-insensitive, surrounding spaces ignored); anything else is a ValidationError."""
        m = _QUARTER.fullmatch(text.strip().upper()) if isinstance(text, str) else None
        if m is None:
            raise ValidationError(f"quarter {quote(text)} is not like 2026-Q4", field=field, value=text)
        year, number = int(m.group(1)), int(m.group(2))
        if not 1 <= number <= 4:
            raise ValidationError(f"quarter {quote(text)} does not exist: quarters are Q1..Q4", field=field, value=text)
        if not MIN_YEAR <= year <= MAX_YEAR:
            raise ValidationError(f"quarter {quote(text)} is outside {MIN_YEAR}..{MAX_YEAR}", field=field, value=text)
        return cls(year, number)

    @classmethod
    def of(cls, when: date | datetime) -> Quarter:
        """The quarter a date falls in; an aware datetime is taken in UTC first (naive ones are UTC)."""
        if isinstance(when, datetime):
            if when.tzinfo is not None:
                when = when.astimezone(UTC)
            when = when.date()
        return cls(when.year, (when.month - 1) // 3 + 1)

    @property
    def first_day(self) -> date:
        return date(self.year, 3 * (self.number - 1) + 1, 1)

    @property
    def last_day(self) -> date:
        return self.next().first_day - timedelta(days=1)

    def contains(self, day: date) -> bool:
        return self.first_day <= day <= self.last_day

    def shifted(self, quarters: int) -> Quarter:
        index = self.year * 4 + (self.number - 1) + quarters
        return Quarter(index // 4, index % 4 + 1)

    def next(self) -> Quarter:
        return self.shifted(1)

    def previous(self) -> Quarter:
        return self.shifted(-1)

    def __str__(self) -> str:
        return f"{self.year}-Q{self.number}"


def parse_date(text: str, *, field: str = "date", what: str = "") -> date:
    """An ISO date `YYYY-MM-DD` (ASCII digits) in the years 2000..2100; anything else is a ValidationError naming
    `field` (after `what`, e.g. `action PK-MOI-A0001: `, when the error must say whose date it is)."""
    try:
        if not isinstance(text, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip(), re.ASCII):
            raise ValueError
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise ValidationError(
            f"{what}{field} {quote(text)} is not a date like 2026-11-30", field=field, value=text
        ) from None
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise ValidationError(f"{what}{field} {quote(text)} is outside {MIN_YEAR}..{MAX_YEAR}", field=field, value=text)
    return day
