"""The controlled vocabularies: TLP labels, statuses, roles, seeded ministries and domains, and their parsers."""

from __future__ import annotations

import re
from enum import StrEnum

from store.errors import ValidationError


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

MINISTRY_CODE = re.compile(r"^[A-Z]{2}-[A-Z0-9]{2,12}$")
DOMAIN_SLUG = re.compile(r"^[a-z][a-z0-9-]{1,39}$")
OFFICER_NAME = re.compile(r"^[a-z][a-z0-9._-]{0,31}$")


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
        raise ValidationError(f"unknown TLP {text!r}; valid: {_choices(t.value for t in Tlp)}", field="tlp", value=text) from None


def parse_status(text: str) -> Status:
    """A status by its name; refuses unknown ones, listing the valid values."""
    try:
        return Status(text.strip().lower())
    except ValueError:
        raise ValidationError(f"unknown status {text!r}; valid: {_choices(s.value for s in Status)}") from None


def parse_role(text: str) -> Role:
    """A role by name; refuses unknown ones, listing the valid values."""
    try:
        return Role(text.strip().lower())
    except ValueError:
        raise ValidationError(f"unknown role {text!r}; valid: {_choices(r.value for r in Role)}") from None


def check_officer_name(name: str) -> str:
    """Officer names are short lower-case identifiers (they appear in references to actions and errors)."""
    if not OFFICER_NAME.match(name):
        raise ValidationError(f"invalid officer name {name!r}: use lower-case letters, digits, '.', '_' or '-' (max 32)")
    return name


def check_ministry_code(code: str) -> str:
    """Ministry codes look like `PK-MOI`: country, dash, short upper-case name."""
    code = code.strip().upper()
    if not MINISTRY_CODE.match(code):
        raise ValidationError(f"invalid ministry code {code!r}: expected like PK-MOI")
    return code
