"""Reference data: the sharing parties (ministries) and the domains, and the one check of each that every
capability uses (a record's recipients, an export's recipient, a query's filters)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session as OrmSession

from store import policy
from store.errors import ValidationError
from store.models import Domain, Ministry
from store.text import quote
from store.vocab import Role, check_domain_slug, check_label, check_ministry_code

if TYPE_CHECKING:
    from store.service import Session


@dataclass(frozen=True)
class MinistryInfo:
    """A sharing party as listed."""

    code: str
    name: str
    is_self: bool


def check_domain(s: OrmSession, slug: str) -> str:
    """A domain this store knows (ASCII, case-insensitive); anything else is refused, listing the valid slugs."""
    checked = slug.strip().lower() if isinstance(slug, str) and slug.isascii() else None
    if checked is None or s.get(Domain, checked) is None:
        valid = ", ".join(s.scalars(select(Domain.slug).order_by(Domain.slug)))
        raise ValidationError(f"unknown domain {quote(slug)}; valid: {valid}", field="domain", value=slug)
    return checked


def known_ministry(s: OrmSession, raw: str, field: str) -> str:
    """A ministry this store knows (ASCII, case-insensitive); anything else is refused, listing the valid codes."""
    code = raw.strip().upper() if isinstance(raw, str) and raw.isascii() else None
    if code is None or s.get(Ministry, code) is None:
        valid = ", ".join(s.scalars(select(Ministry.code).order_by(Ministry.code)))
        raise ValidationError(f"unknown ministry {quote(raw)}; valid: {valid}", field=field, value=raw)
    return code


def check_recipients(s: OrmSession, codes: Sequence[str], own: str) -> list[str]:
    """A record's releasable-to list: known ministries, never this store's own, sorted without repeats."""
    result: list[str] = []
    for raw in codes:
        code = known_ministry(s, raw, "releasable_to")
        if code == own:
            raise ValidationError(
                f"{code} is this store's own ministry: a record is released to other ministries only",
                field="releasable_to",
                value=raw,
            )
        if code not in result:
            result.append(code)
    return sorted(result)


def check_recipient(s: OrmSession, raw: str, own: str) -> str:
    """An export's recipient: a known ministry that is not this store's own."""
    code = known_ministry(s, raw, "recipient")
    if code == own:
        raise ValidationError(f"{code} is this store's own ministry", field="recipient", value=raw)
    return code


def ministries(session: Session) -> list[MinistryInfo]:
    """Every known sharing party."""
    return session.vault.ministries()


def add_ministry(session: Session, code: str, name: str) -> None:
    """An admin adds a sharing party."""
    policy.require_role(session.actor, Role.ADMIN, "manage ministries")
    code = check_ministry_code(code)
    name = check_label("ministry_name", name)
    if not name:
        raise ValidationError("the ministry name is empty", field="ministry_name")
    with session.act("ministry-add", code) as s:
        if s.get(Ministry, code) is not None:
            raise ValidationError(f"ministry {code} already exists")
        s.add(Ministry(code=code, name=name))


def domains(session: Session) -> list[tuple[str, str]]:
    """Every domain slug and label."""
    with session.db.read() as s:
        return [(d.slug, d.label) for d in s.scalars(select(Domain).order_by(Domain.slug))]


def add_domain(session: Session, slug: str, label: str) -> None:
    """An admin adds a domain."""
    policy.require_role(session.actor, Role.ADMIN, "manage domains")
    slug = check_domain_slug(slug)
    label = check_label("label", label)
    with session.act("domain-add", slug) as s:
        if s.get(Domain, slug) is not None:
            raise ValidationError(f"domain {slug} already exists")
        s.add(Domain(slug=slug, label=label or slug))


__all__ = [
    "MinistryInfo",
    "add_domain",
    "add_ministry",
    "check_domain",
    "check_recipient",
    "check_recipients",
    "domains",
    "known_ministry",
    "ministries",
]
