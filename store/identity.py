"""Ministry identity renewal: `identity rotate`, the key-transition statements it writes, their delivery to
each contact, and a contact's own transitions received in its bundles and receipts.

Rotating makes a new Ed25519/X25519 identity in the keyring (re-granted to every officer), signs a
key-transition statement with BOTH the old and the new signing key (`crypto.bundle.transition`) and marks it
pending for every contact. Every bundle and receipt to a contact carries the statements it has not confirmed;
a contact confirms by using the new key (a receipt naming our new fingerprint, a bundle sealed to our new
exchange key). The old exchange key stays in the keyring to open what was sealed to it before; the old
signing key is dropped.

On the receiving side, a statement is applied only when its old key is the one on the contact's card here
and both signatures verify; from then on only the new key is accepted from that ministry.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.orm import Session as OrmSession

from crypto.bundle import (
    MAX_TRANSITIONS,
    BundleError,
    KeyTransition,
    format_time,
    make_transition,
    parse_canonical,
    parse_transition,
)
from crypto.identity import PublicIdentity, grouped_fingerprint, public_identity
from crypto.keyring import Keyring
from store import policy
from store.audit import log as audit
from store.contacts import ContactInfo, _contact_mac, keyring_of, own_identity
from store.errors import TamperError
from store.keys.revocation import regrant
from store.models import Base, Contact, Meta, UTCDateTime
from store.sqlite import stored_time
from store.text import said
from store.vocab import Role

if TYPE_CHECKING:
    from store.service import Session


class IdentityTransition(Base):
    """A rotation of this ministry's identity: the statement signed by the old and the new key."""

    __tablename__ = "identity_transitions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    officer: Mapped[str] = mapped_column(String(64))
    old_fingerprint: Mapped[str] = mapped_column(String(64))
    new_fingerprint: Mapped[str] = mapped_column(String(64))
    statement: Mapped[str] = mapped_column(Text)


class TransitionDelivery(Base):
    """One contact's copy of a rotation: carried in bundles and receipts until the contact uses the new key."""

    __tablename__ = "identity_transition_deliveries"
    transition_id: Mapped[int] = mapped_column(
        ForeignKey("identity_transitions.id", ondelete="CASCADE"), primary_key=True
    )
    peer: Mapped[str] = mapped_column(String(16), primary_key=True)
    carried: Mapped[int] = mapped_column(Integer, default=0)
    last_carried_in: Mapped[str | None] = mapped_column(String(64), nullable=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    confirmed_by: Mapped[str | None] = mapped_column(String(80), nullable=True)


class ContactKeyChange(Base):
    """A contact's identity handed over from one key to the next by a statement it sent (both keys signed)."""

    __tablename__ = "contact_key_changes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    peer: Mapped[str] = mapped_column(String(16), index=True)
    old_fingerprint: Mapped[str] = mapped_column(String(64))
    new_fingerprint: Mapped[str] = mapped_column(String(64))
    stated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    via: Mapped[str] = mapped_column(String(80))
    statement: Mapped[str] = mapped_column(Text)


# ---- rotating this ministry's identity ------------------------------------------------------------


@dataclass(frozen=True)
class Rotation:
    """What `identity rotate` did."""

    old_fingerprint: str
    new_fingerprint: str
    at: datetime
    pending: tuple[str, ...]  # contacts the statement will travel to


def rotate_identity(session: Session) -> Rotation:
    """A new ministry identity (admin): re-granted to every officer, with a statement signed by both keys,
    pending delivery to every contact. Old signing key dropped; old exchange key kept to open what was sealed to it."""
    policy.require_role(session.actor, Role.ADMIN, "rotate the ministry identity")
    before, before_grant = session.keys(), session.grant
    keys = Keyring.from_bytes(before.to_bytes())  # a copy: the session keeps the old one if anything fails
    old_signing, old_exchange = keys.rotate_identity()
    old, new = public_identity(old_signing, old_exchange), public_identity(keys.signing_key, keys.exchange_key)
    try:
        with session.act("identity-rotate", session.ministry) as s:
            now = session.clock()
            statement = make_transition(
                ministry=session.ministry,
                at=now,
                old_signing_key=old_signing,
                old=old,
                new_signing_key=keys.signing_key,
                new=new,
            )
            row = IdentityTransition(
                at=now,
                officer=session.actor.name,
                old_fingerprint=old.fingerprint,
                new_fingerprint=new.fingerprint,
                statement=statement.encode().decode("utf-8"),
            )
            s.add(row)
            s.flush()
            pending = tuple(s.scalars(select(Contact.code).order_by(Contact.code)))
            # signed by the acting admin; the action's checkpoint is the first under the new identity key
            audit.note(
                s,
                data={
                    "old_fingerprint": old.fingerprint,
                    "new_fingerprint": new.fingerprint,
                    "statement_sha256": hashlib.sha256(statement.encode()).hexdigest(),
                    "pending": list(pending),
                },
            )
            for code in pending:
                s.add(TransitionDelivery(transition_id=row.id, peer=code, carried=0))
            meta = s.get(Meta, "identity")
            value = json.dumps({"signing": new.signing_public.hex(), "exchange": new.exchange_public.hex()})
            if meta is None:
                s.add(Meta(key="identity", value=value))
            else:
                meta.value = value
            # each officers row checked against its MAC and the signed log first (`store.keys.regrant`): a row
            # written back from an older copy of the file is refused, never granted the keys and signed as current
            own_grant = regrant(s, before, keys, session.actor.name, now=now)
            # from here the action (its checkpoint too) is signed by the new identity
            session.adopt_keys(keys, own_grant)
    except BaseException:
        session.adopt_keys(before, before_grant)
        raise
    return Rotation(old.fingerprint, new.fingerprint, now, pending)


# ---- this ministry's statements, on the way to each contact ---------------------------------------


@dataclass(frozen=True)
class Pending:
    """A rotation not yet confirmed by some contacts."""

    old_fingerprint: str
    new_fingerprint: str
    at: datetime
    peers: tuple[str, ...]


def _statement(row: IdentityTransition) -> KeyTransition:
    try:
        return parse_transition(parse_canonical(row.statement.encode("utf-8"), "statement"), "key transition")
    except BundleError as exc:
        raise TamperError(f"the key-transition statement of {row.at:%Y-%m-%d} was altered: {exc}") from None


def pending_delivery(session: Session) -> list[Pending]:
    """Rotations some contact has not confirmed yet (newest last), each with those contacts."""
    keyring_of(session)
    with session.db.read() as s:
        rows = s.execute(
            select(IdentityTransition, TransitionDelivery.peer)
            .join(TransitionDelivery, TransitionDelivery.transition_id == IdentityTransition.id)
            .where(TransitionDelivery.confirmed_at.is_(None))
            .order_by(IdentityTransition.id, TransitionDelivery.peer)
        ).all()
    out: dict[int, Pending] = {}
    for row, peer in rows:
        got = out.get(row.id)
        out[row.id] = Pending(
            row.old_fingerprint, row.new_fingerprint, row.at, ((*got.peers, peer) if got else (peer,))
        )
    return list(out.values())


def transitions_for(session: Session, s: OrmSession, peer: str) -> tuple[KeyTransition, ...]:
    """The statements a bundle or receipt to `peer` carries: every rotation of this ministry's identity, oldest
    first (the last `MAX_TRANSITIONS`), not only those the delivery rows call unconfirmed — those rows are not
    signed, and one marked confirmed (or deleted) in the file would hold back the statement `peer` needs to
    accept our next bundle. A contact that already holds the newest key reads past them (a few hundred bytes
    each), as does one that was given the newest card; `peer` only says who they go to."""
    del peer
    rows = s.scalars(select(IdentityTransition).order_by(IdentityTransition.id)).all()
    chain = tuple(_statement(row) for row in rows[-MAX_TRANSITIONS:])
    if chain and chain[-1].new.fingerprint != own_identity(session).fingerprint:
        raise TamperError("the key-transition statements do not end at this ministry's identity")
    return chain


def note_carried(s: OrmSession, peer: str, chain: Sequence[KeyTransition], carrier: str) -> None:
    """Count that a bundle or receipt (`carrier`) to `peer` carried the statements of `chain`."""
    if not chain:
        return
    wanted = {t.new.fingerprint for t in chain}
    for delivery, row in s.execute(
        select(TransitionDelivery, IdentityTransition)
        .join(IdentityTransition, TransitionDelivery.transition_id == IdentityTransition.id)
        .where(TransitionDelivery.peer == peer, TransitionDelivery.confirmed_at.is_(None))
    ).all():
        if row.new_fingerprint in wanted:
            delivery.carried += 1
            delivery.last_carried_in = carrier[:64]


def unconfirmed(s: OrmSession, peer: str) -> bool:
    """Whether `peer` has a rotation of ours it has not confirmed yet (by the delivery rows)."""
    return (
        s.execute(
            select(TransitionDelivery.transition_id)
            .where(TransitionDelivery.peer == peer, TransitionDelivery.confirmed_at.is_(None))
            .limit(1)
        ).first()
        is not None
    )


def confirm_key(s: OrmSession, peer: str, fingerprint: str, now: datetime, how: str) -> int:
    """`peer` used our key `fingerprint`: every rotation up to the one that made that key is delivered to it."""
    rows = s.execute(
        select(TransitionDelivery, IdentityTransition)
        .join(IdentityTransition, TransitionDelivery.transition_id == IdentityTransition.id)
        .where(TransitionDelivery.peer == peer)
        .order_by(IdentityTransition.id)
    ).all()
    upto = next((i for i, (_d, t) in enumerate(rows) if t.new_fingerprint == fingerprint), None)
    if upto is None:
        return 0
    done = 0
    for delivery, _t in rows[: upto + 1]:
        if delivery.confirmed_at is None:
            delivery.confirmed_at, delivery.confirmed_by = now, how[:80]
            done += 1
    return done


def retired_identities(session: Session, s: OrmSession) -> dict[str, bytes]:
    """Fingerprints of identities this ministry rotated away from, each with its X25519 private key if kept."""
    keys = keyring_of(session)
    retired = {public_identity_exchange(k): k for k in keys.retired_exchange}
    out: dict[str, bytes] = {}
    for row in s.scalars(select(IdentityTransition).order_by(IdentityTransition.id)):
        statement = _statement(row)
        private = retired.get(statement.old.exchange_public)
        if private is not None:
            out[statement.old.fingerprint] = private
    return out


def public_identity_exchange(private: bytes) -> bytes:
    """The X25519 public key of a raw private key."""
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    return X25519PrivateKey.from_private_bytes(private).public_key().public_bytes_raw()


# ---- a contact's statements, received ---------------------------------------------------------------


@dataclass(frozen=True)
class KeyChange:
    """A contact's identity change, as received (for summaries, `contacts list` and the contacts screen)."""

    peer: str
    old_fingerprint: str
    new_fingerprint: str
    stated_at: datetime
    received_at: datetime
    via: str

    def describe(self) -> str:
        """`TR-MOI's identity key changed: 1a2b 3c4d… → 5e6f 7a8b… (rotated 2026-12-05, signed by both keys)`."""
        old, new = grouped_fingerprint(self.old_fingerprint)[:19], grouped_fingerprint(self.new_fingerprint)[:19]
        return (
            f"{self.peer}'s identity key changed: {old}… → {new}… "
            f"(rotated {self.stated_at:%Y-%m-%d}, signed by both keys)"
        )


class KeyRefused(Exception):
    """A sender key or transition a contact may not use; the message says why."""


def resolve_sender(
    s: OrmSession, peer: ContactInfo, fingerprint: str, chain: Sequence[KeyTransition]
) -> tuple[PublicIdentity, tuple[KeyTransition, ...]]:
    """The key a bundle or receipt from `peer` naming `fingerprint` must verify with, and the statements to apply.

    The held key, or the end of a chain of statements whose first old key is the held one. A retired key of the
    contact, or a chain from one of its retired keys that is not the one we followed, is refused by name.
    """
    if fingerprint == peer.fingerprint:
        return peer.identity, ()
    start = next((i for i, t in enumerate(chain) if t.old.fingerprint == peer.fingerprint), None)
    if start is not None:
        return chain[-1].new, tuple(chain[start:])
    history = {
        row.old_fingerprint: row
        for row in _checked_changes(s, select(ContactKeyChange).where(ContactKeyChange.peer == peer.code), peer.code)
    }
    if fingerprint in history:
        row = history[fingerprint]
        raise KeyRefused(
            f"is signed with {peer.code}'s retired key {grouped_fingerprint(fingerprint)[:19]}…, replaced on "
            f"{row.stated_at:%Y-%m-%d} by a statement signed by both keys; only the new key is accepted"
        )
    forked = next((t for t in chain if t.old.fingerprint in history), None)
    if forked is not None:
        row = history[forked.old.fingerprint]
        raise KeyRefused(
            f"carries a key transition from {peer.code}'s retired key {grouped_fingerprint(row.old_fingerprint)[:19]}… "
            f"to another key than the one it handed over to on {row.stated_at:%Y-%m-%d}: the old key may be "
            f"compromised; re-exchange identity cards with {peer.code} out of band"
        )
    raise KeyRefused(
        f"names a sender key ({grouped_fingerprint(fingerprint)}) that is not on {peer.code}'s contact card"
    )


def apply_transitions(
    session: Session, s: OrmSession, peer: str, chain: Sequence[KeyTransition], via: str
) -> list[KeyChange]:
    """Hand `peer`'s contact over along `chain` (checked by `resolve_sender`): new keys, MAC, history, log."""
    if not chain:
        return []
    keys = keyring_of(session)
    row = s.get(Contact, peer)
    if row is None or row.fingerprint != chain[0].old.fingerprint:
        raise TamperError(f"contact {peer} changed while its key transition was applied")
    now = session.clock()
    changes: list[KeyChange] = []
    for statement in chain:
        s.add(
            ContactKeyChange(
                peer=peer,
                old_fingerprint=statement.old.fingerprint,
                new_fingerprint=statement.new.fingerprint,
                stated_at=statement.at,
                received_at=now,
                via=via[:80],
                statement=statement.encode().decode("utf-8"),
            )
        )
        # the log signs the hand-over (the contact's new keys follow in the contact event the row change makes)
        audit.note(
            s,
            action="contact-key-rotated",
            target=peer,
            data={
                "old_fingerprint": statement.old.fingerprint,
                "new_fingerprint": statement.new.fingerprint,
                "stated_at": format_time(statement.at),
                "statement_sha256": hashlib.sha256(statement.encode()).hexdigest(),
                "via": via[:80],
            },
        )
        changes.append(KeyChange(peer, statement.old.fingerprint, statement.new.fingerprint, statement.at, now, via))
    new = chain[-1].new
    row.signing_public, row.exchange_public, row.fingerprint = new.signing_public, new.exchange_public, new.fingerprint
    row.mac = _contact_mac(keys, row.code, row.name, new)
    return changes


def key_change_problems(s: OrmSession, peer: str | None = None) -> list[str]:
    """Why rows of the contacts' key history (one contact's, or all) are not the statements they keep, which both
    keys signed: a row's contact, keys and time are checked against its statement, read as the file holds them
    (a value no statement gives, such as a time that is none, is named too, not raised)."""
    sql = "SELECT id, peer, old_fingerprint, new_fingerprint, stated_at, statement FROM contact_key_changes"
    rows = s.connection().exec_driver_sql(
        sql + (" WHERE peer = ? ORDER BY id" if peer is not None else " ORDER BY id"),
        (peer,) if peer is not None else (),
    )
    problems: list[str] = []
    for row_id, code, old, new, stated_at, text in rows:
        try:
            statement = parse_transition(parse_canonical(str(text).encode("utf-8"), "statement"), "statement")
            holds = (statement.ministry, statement.old.fingerprint, statement.new.fingerprint) == (code, old, new)
            holds = holds and stored_time(statement.at) == stated_at
        except (BundleError, TypeError, ValueError):
            holds = False
        if not holds:
            problems.append(
                f"contact {said(code)}'s key history (entry {row_id}) is not the statement it keeps, signed by both "
                "keys: written or edited outside Liaison"
            )
    return problems


def lost_key_changes(s: OrmSession) -> list[str]:
    """The contacts' key changes the log signed (`contact-key-rotated` events, found by their bodies) that the key
    history no longer holds: rows deleted outside Liaison (`audit verify`)."""
    held = set(s.connection().exec_driver_sql("SELECT peer, old_fingerprint, new_fingerprint FROM contact_key_changes"))
    problems: list[str] = []
    for seq, body in s.connection().exec_driver_sql(
        "SELECT seq, body FROM audit_log WHERE instr(body, ?) > 0 ORDER BY seq", (b'"action":"contact-key-rotated"',)
    ):
        try:
            obj = json.loads(bytes(body))
            data = obj["data"]
            change = (obj["target"], data["old_fingerprint"], data["new_fingerprint"])
        except (ValueError, KeyError, TypeError):
            continue  # not such an event after all (the walk names a malformed body)
        if obj.get("action") == "contact-key-rotated" and change not in held:
            problems.append(
                f"contact {said(change[0])}'s key history lost the change its audit event #{seq} signed "
                f"({str(change[1])[:16]}… → {str(change[2])[:16]}…): deleted outside Liaison"
            )
    return problems


def _checked_changes(s: OrmSession, stmt: Any, peer: str | None = None) -> list[ContactKeyChange]:
    problems = key_change_problems(s, peer)
    if problems:
        raise TamperError(f"{problems[0]}; run `liaison audit verify`")
    return list(s.scalars(stmt))


def key_changes(session: Session, peer: str | None = None) -> list[KeyChange]:
    """Identity changes received from contacts (one contact's, or all), oldest first; each held to its statement."""
    keyring_of(session)
    stmt = select(ContactKeyChange).order_by(ContactKeyChange.id)
    if peer is not None:
        stmt = stmt.where(ContactKeyChange.peer == peer)
    with session.db.read() as s:
        return [
            KeyChange(r.peer, r.old_fingerprint, r.new_fingerprint, r.stated_at, r.received_at, r.via)
            for r in _checked_changes(s, stmt, peer)
        ]


__all__ = [
    "ContactKeyChange",
    "IdentityTransition",
    "KeyChange",
    "KeyRefused",
    "Pending",
    "Rotation",
    "TransitionDelivery",
    "apply_transitions",
    "confirm_key",
    "key_change_problems",
    "key_changes",
    "lost_key_changes",
    "note_carried",
    "pending_delivery",
    "resolve_sender",
    "retired_identities",
    "rotate_identity",
    "transitions_for",
    "unconfirmed",
]
