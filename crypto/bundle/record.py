"""The record objects a bundle carries: their schema (exact fields, types, sizes, patterns) and content hash.

A schema is declarative: an `ObjectSchema` maps each field to a check and adds whole-object rules, so a
new field is one line and a new object type (e.g. a withdrawal notice) is one more `ObjectSchema`.
Only shape is checked here; what a record means (who may send it, whether it may replace a copy) is
the store's job.
"""

from __future__ import annotations

import re
import uuid as uuidlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from crypto.bundle.limits import (
    CODE,
    DOMAIN,
    MAX_AUTHOR,
    MAX_CHUNK_PLAINTEXT,
    MAX_CODE,
    MAX_DOMAIN,
    MAX_REFERENCE,
    MAX_RELEASABLE_TO,
    MAX_REVISION,
    MAX_TEXT,
    MAX_TITLE,
    REFERENCE,
    TLP_LABELS,
)
from crypto.bundle.strict import (
    BundleError,
    parse_time,
    quote,
    require_int,
    require_object,
    require_text,
    sha256_hex,
)
from crypto.encoding import canonical_json

#: A field check: the value and the field's full name for messages (`chunk 1 record 2 title`); raises BundleError.
FieldCheck = Callable[[Any, str], None]
#: A whole-object rule: the object (fields already checked) and its name for messages.
ObjectRule = Callable[[dict[str, Any], str], None]


@dataclass(frozen=True)
class ObjectSchema:
    """An object type of the format: its exact field set, each field's check, and rules across fields."""

    fields: Mapping[str, FieldCheck]
    rules: tuple[ObjectRule, ...] = field(default=())

    def validate(self, obj: Any, what: str) -> dict[str, Any]:
        """Check `obj` field by field (in schema order), then the rules; returns it unchanged."""
        checked = require_object(obj, set(self.fields), what)
        for name, check in self.fields.items():
            check(checked[name], f"{what} {name}")
        for rule in self.rules:
            rule(checked, what)
        return checked


# ---- field checks -----------------------------------------------------------------------------------


def text(*, max_len: int, min_len: int = 1, pattern: Any = None) -> FieldCheck:
    """Text of `min_len..max_len` characters without NUL, fully matching `pattern` when given."""

    def check(value: Any, what: str) -> None:
        require_text(value, what, pattern=pattern, max_len=max_len, min_len=min_len)

    return check


def integer(low: int, high: int) -> FieldCheck:
    """An integer (not a boolean) in `low..high`."""

    def check(value: Any, what: str) -> None:
        require_int(value, low, high, what)

    return check


def boolean(value: Any, what: str) -> None:
    """`true` or `false`."""
    if not isinstance(value, bool):
        raise BundleError(f"{what} must be true or false")


def canonical_uuid(value: Any, what: str) -> None:
    """A UUID in its canonical lower-case hyphenated spelling."""
    uid = require_text(value, what, max_len=36, min_len=36)
    try:
        if str(uuidlib.UUID(uid)) != uid:
            raise ValueError
    except ValueError:
        raise BundleError(f"{what} is malformed") from None


def tlp_label(value: Any, what: str) -> None:
    """One of the TLP 2.0 labels, spelled exactly."""
    if value not in TLP_LABELS:
        raise BundleError(f"{what} is not a TLP 2.0 label")


def timestamp(value: Any, what: str) -> None:
    """A canonical UTC timestamp."""
    parse_time(value, what)


def code_list(value: Any, what: str) -> None:
    """A sorted list of distinct ministry codes."""
    if not isinstance(value, list) or len(value) > MAX_RELEASABLE_TO:
        raise BundleError(f"{what} must be a list of ministry codes")
    for code in value:
        require_text(code, f"{what} entry", pattern=CODE, max_len=MAX_CODE)
    if value != sorted(set(value)):
        raise BundleError(f"{what} must be sorted and without repeats")


def updated_after_created(obj: dict[str, Any], what: str) -> None:
    """`updated_at` is not before `created_at` (both already checked canonical: fixed width, so text order is time order)."""
    if obj["updated_at"] < obj["created_at"]:
        raise BundleError(f"{what} was updated before it was created")


# ---- object types -----------------------------------------------------------------------------------

RECORD = ObjectSchema(
    fields={
        "uuid": canonical_uuid,
        "reference": text(pattern=REFERENCE, max_len=MAX_REFERENCE),
        "domain": text(pattern=DOMAIN, max_len=MAX_DOMAIN),
        "origin": text(pattern=CODE, max_len=MAX_CODE),
        "releasable_to": code_list,
        "tlp": tlp_label,
        "no_reexport": boolean,
        "revision": integer(1, MAX_REVISION),
        "author": text(max_len=MAX_AUTHOR),
        "created_at": timestamp,
        "updated_at": timestamp,
        "title": text(max_len=MAX_TITLE),
        "summary": text(max_len=MAX_TEXT, min_len=0),
        "source": text(max_len=MAX_TEXT, min_len=0),
    },
    rules=(updated_after_created,),
)
RECORD_FIELDS = frozenset(RECORD.fields)


def validate_record(obj: Any, what: str) -> dict[str, Any]:
    """Check one record object's shape: exact fields, types, sizes and patterns (meaning is the store's job)."""
    return RECORD.validate(obj, what)


def encode_record(obj: dict[str, Any]) -> bytes:
    """A record object checked (`validate_record`) and encoded as a bundle chunk carries it (canonical JSON); a
    BundleError when the format refuses it, or it is too large for a chunk."""
    validate_record(obj, "record")
    encoded = canonical_json(obj)
    if len(encoded) + 512 > MAX_CHUNK_PLAINTEXT:
        raise BundleError(f"record {quote(obj.get('reference'))} is too large for a bundle chunk")
    return encoded


def _withdrawal_kind(value: Any, what: str) -> None:
    if value != "withdrawal":
        raise BundleError(f'{what} must be "withdrawal"')


#: A withdrawal notice: the record's origin withdraws a record it shared (signed with the bundle, by its sender).
WITHDRAWAL = ObjectSchema(
    fields={
        "kind": _withdrawal_kind,
        "uuid": canonical_uuid,
        "reference": text(pattern=REFERENCE, max_len=MAX_REFERENCE),
        "origin": text(pattern=CODE, max_len=MAX_CODE),
        "withdrawn_at": timestamp,
        "officer": text(max_len=MAX_AUTHOR),
        "reason": text(max_len=MAX_TEXT, min_len=0),
    },
)
WITHDRAWAL_FIELDS = frozenset(WITHDRAWAL.fields)


def is_withdrawal(obj: Any) -> bool:
    """True for a payload entry that is a withdrawal notice."""
    return isinstance(obj, dict) and obj.get("kind") == "withdrawal"


def is_record(obj: Any) -> bool:
    """True for a payload entry that is a record object (the only entries without a `kind` field)."""
    return isinstance(obj, dict) and "kind" not in obj


def validate_withdrawal(obj: Any, what: str) -> dict[str, Any]:
    """Check one withdrawal notice's shape."""
    return WITHDRAWAL.validate(obj, what)


# ---- working-group desk entries (docs/bundle-format.md §8) ---------------------------------------------

QUARTER = re.compile(r"\d{4}-Q[1-4]", re.ASCII)  # ASCII digits only, as every pattern here
DAY = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
ACTION_ID = re.compile(r"[A-Z]{2}-[A-Z0-9]{2,12}-A\d{1,9}", re.ASCII)
MAX_JWG_RECORDS = 64


def _kind(expected: str) -> FieldCheck:
    def check(value: Any, what: str) -> None:
        if value != expected:
            raise BundleError(f'{what} must be "{expected}"')

    return check


def one_of(*values: str) -> FieldCheck:
    """Exactly one of `values`."""

    def check(value: Any, what: str) -> None:
        if value not in values:
            raise BundleError(f"{what} must be one of {', '.join(values)}")

    return check


def optional(inner: FieldCheck) -> FieldCheck:
    """The empty string (absent) or a value `inner` accepts."""

    def check(value: Any, what: str) -> None:
        if value != "":
            inner(value, what)

    return check


def reference_list(value: Any, what: str) -> None:
    """A list of distinct record references."""
    if not isinstance(value, list) or len(value) > MAX_JWG_RECORDS:
        raise BundleError(f"{what} must be a list of at most {MAX_JWG_RECORDS} references")
    for ref in value:
        require_text(ref, f"{what} entry", pattern=REFERENCE, max_len=MAX_REFERENCE)
    if len(set(value)) != len(value):
        raise BundleError(f"{what} has repeats")


def _calendar_day(value: Any, what: str) -> None:
    require_text(value, what, pattern=DAY, max_len=10, min_len=10)
    try:
        date.fromisoformat(value)
    except ValueError:
        raise BundleError(f"{what} is not a calendar date") from None


#: A working-group meeting; its header is kept by its `origin` (the ministry that planned it).
JWG_MEETING = ObjectSchema(
    fields={
        "kind": _kind("jwg-meeting"),
        "uuid": canonical_uuid,
        "quarter": text(pattern=QUARTER, max_len=7),
        "date": _calendar_day,
        "venue": text(max_len=MAX_TITLE),
        "host": text(pattern=CODE, max_len=MAX_CODE),
        "status": one_of("planned", "held"),
        "minutes": text(max_len=MAX_TEXT, min_len=0),
        "origin": text(pattern=CODE, max_len=MAX_CODE),
        "rev": integer(1, MAX_REVISION),
    },
)

#: An agenda item of a meeting (named by its quarter), kept by its `origin`; `action` is an action's uuid or "".
JWG_AGENDA_ITEM = ObjectSchema(
    fields={
        "kind": _kind("jwg-agenda-item"),
        "uuid": canonical_uuid,
        "meeting": text(pattern=QUARTER, max_len=7),
        "domain": text(pattern=DOMAIN, max_len=MAX_DOMAIN),
        "outcome": one_of("information", "decision", "action"),
        "text": text(max_len=MAX_TEXT),
        "action": optional(canonical_uuid),
        "origin": text(pattern=CODE, max_len=MAX_CODE),
        "rev": integer(1, MAX_REVISION),
    },
)

#: An agreed action: content kept by its `origin` (`content_rev`), status by its `owner` (`status_rev`).
JWG_ACTION = ObjectSchema(
    fields={
        "kind": _kind("jwg-action"),
        "uuid": canonical_uuid,
        "id": text(pattern=ACTION_ID, max_len=MAX_REFERENCE),
        "title": text(max_len=MAX_TITLE),
        "domain": text(pattern=DOMAIN, max_len=MAX_DOMAIN),
        "owner": text(pattern=CODE, max_len=MAX_CODE),
        "officer": text(max_len=MAX_AUTHOR, min_len=0),
        "due": _calendar_day,
        "meeting": optional(text(pattern=QUARTER, max_len=7)),
        "records": reference_list,
        "origin": text(pattern=CODE, max_len=MAX_CODE),
        "created_at": timestamp,
        "content_rev": integer(1, MAX_REVISION),
        "status": one_of("open", "done", "dropped"),
        "note": text(max_len=MAX_TEXT, min_len=0),
        "status_at": optional(timestamp),
        "status_by": text(max_len=MAX_AUTHOR, min_len=0),
        "status_rev": integer(1, MAX_REVISION),
    },
)

#: A meeting pack (the chair's brief, Markdown) sealed for the counterpart by its `origin`.
JWG_PACK = ObjectSchema(
    fields={
        "kind": _kind("jwg-pack"),
        "uuid": canonical_uuid,
        "meeting": text(pattern=QUARTER, max_len=7),
        "text": text(max_len=MAX_TEXT),
        "with_titles": boolean,
        "origin": text(pattern=CODE, max_len=MAX_CODE),
        "prepared_at": timestamp,
        "prepared_by": text(max_len=MAX_AUTHOR),
    },
)

#: Every entry kind besides records, by its `kind` field.
ENTRY_KINDS: dict[str, ObjectSchema] = {
    "withdrawal": WITHDRAWAL,
    "jwg-meeting": JWG_MEETING,
    "jwg-agenda-item": JWG_AGENDA_ITEM,
    "jwg-action": JWG_ACTION,
    "jwg-pack": JWG_PACK,
}


def entry_kind(obj: Any) -> str:
    """`record` for a record object, else the entry's `kind` (checked by `validate_entry`)."""
    return "record" if is_record(obj) else str(obj.get("kind")) if isinstance(obj, dict) else "record"


def validate_entry(obj: Any, what: str) -> dict[str, Any]:
    """Check one payload entry: a record object, or an entry of a known `kind` (withdrawal, jwg-…)."""
    if isinstance(obj, dict) and "kind" in obj:
        # an unknown kind is checked as a withdrawal notice, so its refusal reads as it did in v1's frozen vectors
        schema = ENTRY_KINDS.get(obj["kind"], WITHDRAWAL) if isinstance(obj["kind"], str) else WITHDRAWAL
        return schema.validate(obj, what.replace("record", "entry"))
    return RECORD.validate(obj, what)


def record_hash(record: dict[str, Any]) -> str:
    """The content hash of one record object: SHA-256 of its canonical JSON (what receipts echo back)."""
    return sha256_hex(canonical_json(record))
