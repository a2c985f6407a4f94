"""Reading a STIX or MISP file: strict bounded JSON, and each outside value through the store's text policy.

The formats map their objects to `Incoming` records with these helpers; `store.interop.received` writes them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from store.errors import ValidationError
from store.files import read_limited
from store.interop.base import MAX_AUTHOR, MAX_FILE, MAX_TEXT, MAX_TITLE, InteropRefused, ministry_uuid
from store.models import Domain, Ministry
from store.text import check_block, check_line, quote
from store.vocab import Tlp, parse_tlp

if TYPE_CHECKING:
    from store.service import Session


def load_json(path: Path, what: str) -> Any:
    """A whole JSON file of bounded size: strict (no duplicate keys, no NaN), UTF-8, one-line errors."""
    path = Path(path).expanduser()
    data = read_limited(path, MAX_FILE, what)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InteropRefused(f"{path.name}: not UTF-8 text (byte {exc.start + 1})") from None

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        obj: dict[str, Any] = {}
        for key, value in items:
            if key in obj:
                raise InteropRefused(f"{path.name}: duplicate key {quote(key)} in a JSON object")
            obj[key] = value
        return obj

    def constant(name: str) -> Any:
        raise InteropRefused(f"{path.name}: {name} is not valid JSON")

    try:
        return json.loads(text, object_pairs_hook=pairs, parse_constant=constant)
    except json.JSONDecodeError as exc:
        raise InteropRefused(
            f"{path.name}: not valid JSON (line {exc.lineno} column {exc.colno}: {exc.msg.removesuffix(' at')})"
        ) from None
    except RecursionError:
        raise InteropRefused(f"{path.name}: JSON nested too deeply") from None


@dataclass
class Incoming:
    """One record an import brings in (every text already through the text policy)."""

    key: str  # the id in the file (for messages)
    uuid: str
    origin: str
    tlp: Tlp
    domain: str
    title: str
    summary: str
    source: str
    author: str
    created_at: datetime
    updated_at: datetime
    reference: str | None = None
    notes: list[tuple[str, datetime, str]] = field(default_factory=list)


@dataclass
class Vocabulary:
    """What the store knows, for mapping a file's parties and labels: ministries (code → name), domains."""

    local: str
    ministries: dict[str, str]
    domains: set[str]

    @classmethod
    def of(cls, session: Session) -> Vocabulary:
        with session.db.read() as s:
            return cls(
                session.ministry,
                {code: label for code, label in s.execute(select(Ministry.code, Ministry.name))},
                set(s.scalars(select(Domain.slug))),
            )

    def ministry_by_name(self, name: str) -> str | None:
        """The code of the ministry whose code or name is `name` (case and spacing ignored)."""
        wanted = " ".join(name.split()).casefold()
        for code, known in self.ministries.items():
            if wanted in (code.casefold(), " ".join(known.split()).casefold()):
                return code
        return None

    def ministry_by_uuid(self, value: str) -> str | None:
        """The code whose derived identity uuid is `value`."""
        for code in self.ministries:
            if ministry_uuid(code) == value:
                return code
        return None

    def check_as(self, code: str | None) -> str | None:
        """The `as` ministry of an import: known, and not this store's own."""
        if code is None:
            return None
        wanted = code.strip().upper()
        if wanted not in self.ministries:
            raise ValidationError(
                f"unknown ministry {quote(code)}; valid: {', '.join(sorted(self.ministries))}", field="as", value=code
            )
        if wanted == self.local:
            raise ValidationError(
                f"{wanted} is this store's own ministry; an import brings records received from another",
                field="as",
                value=code,
            )
        return wanted

    def check_domain(self, slug: str | None) -> str | None:
        """A fallback domain given for an import: known."""
        if slug is None:
            return None
        wanted = slug.strip().lower()
        if wanted not in self.domains:
            raise ValidationError(
                f"unknown domain {quote(slug)}; valid: {', '.join(sorted(self.domains))}", field="domain", value=slug
            )
        return wanted


def check_tlp_option(tlp: str | None) -> Tlp | None:
    """The TLP given for unmarked items of an import (never RED)."""
    if tlp is None:
        return None
    parsed = parse_tlp(tlp)
    if parsed is Tlp.RED:
        raise ValidationError("TLP:RED records never come in through a file", field="tlp", value=tlp)
    return parsed


def clean_title(name: str, text: Any, key: str) -> str:
    """A title from a file: text, through the line policy, spaces collapsed, not empty, not too long."""
    if not isinstance(text, str):
        raise InteropRefused(f"{name}: {key} has no {'title' if text is None else 'text title'}", reference=key)
    try:
        title = " ".join(check_line("title", text, reference=key).split())
    except ValidationError as exc:
        raise InteropRefused(f"{name}: {exc}", field=exc.field, reference=key, value=exc.value) from None
    if not title:
        raise InteropRefused(f"{name}: {key} has an empty title", reference=key)
    if len(title) > MAX_TITLE:
        raise InteropRefused(f"{name}: {key} has a title longer than {MAX_TITLE} characters", reference=key)
    return title


def clean_block(name: str, field_name: str, text: Any, key: str) -> str:
    """A long text from a file (summary, note) through the block policy."""
    if text is None:
        return ""
    if not isinstance(text, str):
        raise InteropRefused(f"{name}: {key} {field_name} is not text", field=field_name, reference=key)
    try:
        value = check_block(field_name, text, reference=key)
    except ValidationError as exc:
        raise InteropRefused(f"{name}: {exc}", field=exc.field, reference=key, value=exc.value) from None
    if len(value) > MAX_TEXT:
        raise InteropRefused(
            f"{name}: {key} {field_name} is longer than {MAX_TEXT} characters", field=field_name, reference=key
        )
    return value


def clean_line(name: str, field_name: str, text: Any, key: str, limit: int = MAX_AUTHOR) -> str:
    """A short name from a file (author, identity name) through the line policy, cut to `limit`."""
    if not isinstance(text, str):
        return ""
    try:
        value = " ".join(check_line(field_name, text, reference=key).split())
    except ValidationError as exc:
        raise InteropRefused(f"{name}: {exc}", field=exc.field, reference=key, value=exc.value) from None
    return value[:limit]


def parse_timestamp(name: str, value: Any, what: str, key: str) -> datetime:
    """An RFC 3339 timestamp from a file (UTC when it names no zone)."""
    if not isinstance(value, str) or len(value) > 40:
        raise InteropRefused(f"{name}: {key} has no valid {what}", reference=key)
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InteropRefused(f"{name}: {key} {what} {quote(value)} is not a date and time", reference=key) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
