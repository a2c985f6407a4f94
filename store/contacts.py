"""This ministry's identity card and its contacts: counterpart ministries whose cards were registered."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session as OrmSession

from crypto.bundle import BundleError
from crypto.card import IdentityCard, normalise_fingerprint, read_card, write_card
from crypto.encoding import canonical_json
from crypto.identity import PublicIdentity, grouped_fingerprint, public_identity
from crypto.keyring import Keyring
from store import policy
from store.audit import log as audit
from store.audit.state import contact_backing_problem
from store.errors import AuthError, NotFound, PolicyError, TamperError, ValidationError
from store.files import atomic_write_bytes, check_target, read_limited
from store.models import Contact, Ministry
from store.text import check_line, quote
from store.vocab import MINISTRY_CODE, Role

if TYPE_CHECKING:
    from store.service import Session


@dataclass(frozen=True)
class ContactInfo:
    """A registered counterpart ministry."""

    code: str
    name: str
    fingerprint: str
    added_at: datetime
    added_by: str
    identity: PublicIdentity

    @property
    def grouped(self) -> str:
        """The fingerprint in readable groups."""
        return grouped_fingerprint(self.fingerprint)


@dataclass(frozen=True)
class ContactAdded:
    """What `add_contact` did: the card read, and whether it was new, already known or replaced a key."""

    card: IdentityCard
    outcome: str  # "added", "unchanged" or "replaced"


def keyring_of(session: Session) -> Keyring:
    """The session's keyring, or an error when it was locked."""
    if session.keyring is None:
        raise AuthError("the store is locked")
    return session.keyring


def own_identity(session: Session) -> PublicIdentity:
    """This store's ministry identity, derived from the keyring (not from unauthenticated metadata)."""
    keys = keyring_of(session)
    return public_identity(keys.signing_key, keys.exchange_key)


def ministry_name(session: Session, code: str) -> str:
    """A ministry's name as this store knows it."""
    with session.db.read() as s:
        row = s.get(Ministry, code)
    return row.name if row else code


def identity_card(session: Session) -> bytes:
    """This ministry's self-signed identity card."""
    keys = keyring_of(session)
    return write_card(
        session.ministry, ministry_name(session, session.ministry), keys.signing_key, own_identity(session)
    )


def export_identity(session: Session, out: Path, *, overwrite: bool = False) -> str:
    """Write the identity card to `out` atomically (over a file only if `overwrite`, never over a store); returns the fingerprint."""
    out = check_target(out, overwrite=overwrite, protect=(session.db.path,))
    data = identity_card(session)
    with session.act("identity-export", session.ministry, mutates=False):
        atomic_write_bytes(out, data, overwrite=overwrite, protect=(session.db.path,))
    return own_identity(session).fingerprint


def _contact_mac(keys: Keyring, code: str, name: str, identity: PublicIdentity) -> str:
    doc = ["contact", code, name, identity.signing_public.hex(), identity.exchange_public.hex(), identity.fingerprint]
    return hmac.new(keys.derived("contacts"), canonical_json(doc), hashlib.sha256).hexdigest()


def _info(keys: Keyring, row: Contact, s: OrmSession) -> ContactInfo:
    """A contacts row as the app uses it, refused (TamperError) unless its MAC holds and it is the state the audit
    log last signed for the contact: a MAC alone has no freshness, so a row copied from an older copy of the
    file (the contact's keys before its identity rotation) would pass, and bundles would be sealed to a retired
    key."""
    identity = PublicIdentity(bytes(row.signing_public), bytes(row.exchange_public))
    if identity.fingerprint != row.fingerprint or not hmac.compare_digest(
        row.mac, _contact_mac(keys, row.code, row.name, identity)
    ):
        raise TamperError(f"contact {row.code} was altered outside Liaison; remove and re-add its card")
    why = contact_backing_problem(s, row)
    if why is not None:
        raise TamperError(
            f"contact {row.code} is not the one the audit log last signed ({why}): written back from an older "
            "copy of the store or edited outside Liaison; run `liaison audit verify`"
        )
    return ContactInfo(row.code, row.name, row.fingerprint, row.added_at, row.added_by, identity)


def read_card_file(path: Path) -> IdentityCard:
    """Read and check a card file: its signature, and its code and name against the text policy, before anything of it is shown."""
    name = Path(path).name
    try:
        card = read_card(read_limited(Path(path), 4096, "card file"))
    except BundleError as exc:
        raise ValidationError(f"{name}: {exc}", field="card") from None
    if not card.ministry.isascii() or not MINISTRY_CODE.fullmatch(card.ministry):
        raise ValidationError(
            f"{name}: the card's ministry code {quote(card.ministry)} is malformed", field="card", value=card.ministry
        )
    try:
        check_line("card name", card.name)
    except ValidationError as exc:
        raise ValidationError(f"{name}: {exc}", field="card", value=card.name) from None
    return card


def require_contact_manager(session: Session) -> None:
    """Refuse (PolicyError) an officer who may not add, replace or remove contacts (only an admin may)."""
    policy.require_role(session.actor, Role.ADMIN, "manage contacts")


def add_contact(session: Session, path: Path, *, fingerprint: str | None = None, replace: bool = False) -> ContactAdded:
    """Register a counterpart from its card (admin); refuses a card whose fingerprint differs from the one given."""
    require_contact_manager(session)
    card = read_card_file(path)
    if fingerprint is not None and normalise_fingerprint(fingerprint) != card.fingerprint:
        raise ValidationError(
            f"fingerprint mismatch for {card.ministry}: the card has {grouped_fingerprint(card.fingerprint)}, "
            f"not {fingerprint.strip()}; refusing the card"
        )
    if card.ministry == session.ministry:
        raise ValidationError(f"{card.ministry} is this store's own ministry; its card is not a contact")
    keys = keyring_of(session)
    with session.act("contact-add", card.ministry) as s:
        if s.get(Ministry, card.ministry) is None:
            s.add(Ministry(code=card.ministry, name=card.name))
        row = s.get(Contact, card.ministry)
        if row is not None:
            _info(keys, row, s)
            if row.fingerprint == card.fingerprint:
                return ContactAdded(card, "unchanged")
            if not (replace and fingerprint is not None):
                raise PolicyError(
                    f"{card.ministry} is already a contact with fingerprint {grouped_fingerprint(row.fingerprint)}",
                    field="replace",
                    value=card.ministry,
                )
            s.delete(row)
            # a card exchanged out of band: the contact's log is witnessed afresh from its next checkpoint
            audit.note(s, data={"replaced": row.fingerprint})
            s.flush()
        s.add(
            Contact(
                code=card.ministry,
                name=card.name,
                signing_public=card.identity.signing_public,
                exchange_public=card.identity.exchange_public,
                fingerprint=card.fingerprint,
                added_at=session.clock(),
                added_by=session.actor.name,
                mac=_contact_mac(keys, card.ministry, card.name, card.identity),
            )
        )
    return ContactAdded(card, "replaced" if row is not None else "added")


def contacts(session: Session) -> list[ContactInfo]:
    """Every contact, each checked against its MAC."""
    keys = keyring_of(session)
    with session.db.read() as s:
        return [_info(keys, row, s) for row in s.scalars(select(Contact).order_by(Contact.code))]


def contact(session: Session, s: OrmSession, code: str) -> ContactInfo | None:
    """One contact, checked, within an open transaction; None when the ministry has no card here."""
    row = s.get(Contact, code)
    return None if row is None else _info(keyring_of(session), row, s)


def require_contact(session: Session, s: OrmSession, code: str) -> ContactInfo:
    """One contact or an error naming `liaison contacts add`."""
    found = contact(session, s, code)
    if found is None:
        raise NotFound(f"no contact card for {code}", field="contact", value=code)
    return found
