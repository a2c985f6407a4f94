"""The controlled vocabularies: TLP labels, statuses, roles, seeded ministries and domains, and their parsers."""

from __future__ import annotations

import re
from enum import StrEnum

from store.errors import IntegrityError, ValidationError
from store.text import check_line, quote


class Tlp(StrEnum):
    """FIRST TLP 2.0 labels, most open first."""

    CLEAR = "CLEAR"
    GREEN = "GREEN"
    AMBER = "AMBER"
    AMBER_STRICT = "AMBER+STRICT"
    RED = "RED"


class Status(StrEnum):
    """Lifecycle of a record: outbound, inbound, and closed."""

    DRAFT = "draft"
    IN_REVIEW = "in-review"
    RETURNED = "returned"
    APPROVED = "approved"
    SHARED = "shared"
    ACKNOWLEDGED = "acknowledged"
    RECEIVED = "received"
    ACTIONED = "actioned"
    CLOSED = "closed"


class Role(StrEnum):
    """Officer roles, each including the powers of the one before."""

    OFFICER = "officer"
    REVIEWER = "reviewer"
    ADMIN = "admin"


SEED_MINISTRIES: dict[str, str] = {
    "PK-MOI": "Ministry of Interior, Pakistan",
    "TR-MOI": "Ministry of Interior, Türkiye",
    "PK-ANF": "Anti-Narcotics Force, Pakistan",
    "PK-NDMA": "National Disaster Management Authority, Pakistan",
}

SEED_DOMAINS: dict[str, str] = {
    "counterterrorism": "Counterterrorism",
    "narcotics": "Narcotics control",
    "human-smuggling": "Human smuggling",
    "border-management": "Border management",
    "cybercrime": "Cybercrime",
    "coast-guard": "Coast guard operations",
    "policing": "Policing",
}

#: Statuses at or past approval: what an export may carry.
RELEASED_STATUSES = frozenset({Status.APPROVED, Status.SHARED, Status.ACKNOWLEDGED})
INBOUND_STATUSES = frozenset({Status.RECEIVED, Status.ACTIONED})

# The documented patterns, ASCII only, always used with `fullmatch` (`$` would accept a final newline).
MINISTRY_CODE = re.compile(r"[A-Z]{2}-[A-Z0-9]{2,12}", re.ASCII)
DOMAIN_SLUG = re.compile(r"[a-z][a-z0-9-]{1,39}", re.ASCII)
OFFICER_NAME = re.compile(r"[a-z][a-z0-9._-]{0,31}", re.ASCII)
#: A record reference: `<origin>-<YYYY>-<number>`, ASCII digits only.
REFERENCE = re.compile(r"(?P<origin>[A-Z]{2}-[A-Z0-9]{2,12})-(?P<year>[0-9]{4})-(?P<number>[0-9]{5,9})", re.ASCII)


def _choices(values: object) -> str:
    return ", ".join(str(v) for v in values)  # type: ignore[attr-defined]


def parse_tlp(text: str) -> Tlp:
    """Accept `AMBER`, `amber`, `tlp:amber`, `TLP:AMBER+STRICT`; refuse anything else, listing the labels."""
    value = text.strip().upper()
    if value.startswith("TLP:"):
        value = value[4:]
    if value == "WHITE":
        value = "CLEAR"
    try:
        return Tlp(value)
    except ValueError:
        raise ValidationError(
            f"unknown TLP {quote(text)}; valid: {_choices(t.value for t in Tlp)}", field="tlp", value=text
        ) from None


def parse_status(text: str) -> Status:
    """A status by its name; refuses unknown ones, listing the valid values."""
    try:
        return Status(text.strip().lower())
    except ValueError:
        raise ValidationError(
            f"unknown status {quote(text)}; valid: {_choices(s.value for s in Status)}", field="status", value=text
        ) from None


def parse_role(text: str) -> Role:
    """A role by name; refuses unknown ones, listing the valid values."""
    try:
        return Role(text.strip().lower())
    except ValueError:
        raise ValidationError(
            f"unknown role {quote(text)}; valid: {_choices(r.value for r in Role)}", field="role", value=text
        ) from None


def check_officer_name(name: str, field: str = "officer_name") -> str:
    """Officer names are short lower-case ASCII identifiers, matched whole (`alice\\n` is refused, not stripped)."""
    if not isinstance(name, str) or not OFFICER_NAME.fullmatch(name):
        raise ValidationError(
            f"invalid officer name {quote(name)}: use lower-case letters, digits, '.', '_' or '-' (max 32)",
            field=field,
            value=name,
        )
    return name


def check_ministry_code(code: str, field: str = "ministry") -> str:
    """Ministry codes look like `PK-MOI`: ASCII country, dash, short name; lower case is raised, anything else refused."""
    canonical = code.strip(" ").upper() if isinstance(code, str) and code.isascii() else None
    if canonical is None or not MINISTRY_CODE.fullmatch(canonical):
        raise ValidationError(
            f"invalid ministry code {quote(canonical or code)}: expected like PK-MOI", field=field, value=code
        )
    return canonical


def check_domain_slug(slug: str, field: str = "domain") -> str:
    """Domain slugs are lower-case ASCII words joined by `-`; upper case is lowered, anything else refused."""
    canonical = slug.strip(" ").lower() if isinstance(slug, str) and slug.isascii() else None
    if canonical is None or not DOMAIN_SLUG.fullmatch(canonical):
        raise ValidationError(
            f"invalid domain slug {quote(canonical or slug)}: lower-case letters, digits and '-'",
            field=field,
            value=slug,
        )
    return canonical


def check_label(field: str, text: str) -> str:
    """A ministry name or domain label: one line of printable text, runs of spaces collapsed."""
    return " ".join(check_line(field, text).split())


def stored_tlp(value: str, reference: str) -> Tlp:
    """A TLP read from the store file; one this version does not know is an integrity error naming the record."""
    try:
        return Tlp(value)
    except ValueError:
        raise IntegrityError(
            f"record {reference} has an unknown TLP {quote(value)} in the store file", reference=reference, value=value
        ) from None


def stored_status(value: str, reference: str) -> Status:
    """A status read from the store file; an unknown one is an integrity error naming the record."""
    try:
        return Status(value)
    except ValueError:
        raise IntegrityError(
            f"record {reference} has an unknown status {quote(value)} in the store file",
            reference=reference,
            value=value,
        ) from None
