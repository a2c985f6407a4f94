"""Vault (an opened, locked store) and Session (unlocked, acting as one officer).

Every user action runs through `Session._act`, which checks nothing itself but gives the action one
transaction, records it in `action_events` and bumps the change counter the TUI watches.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import unicodedata
import uuid as uuidlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Integer, Text, cast, delete, func, select, update
from sqlalchemy.orm import Session as OrmSession

from crypto.blind_index import BlindIndexer
from crypto.bundle.limits import MAX_TEXT, MAX_TITLE
from crypto.encoding import canonical_json
from crypto.errors import BadParameters, CryptoError, DecryptionFailed, MalformedData, SlotParametersChanged, SlotTampered
from crypto.identity import PublicIdentity, public_identity
from crypto.kdf import params_for_profile
from crypto.keyring import Keyring
from crypto.slot import OfficerSlot, create_slot, grant_keyring, open_grant, open_slot
from store import policy
from store import sqlite as dialect
from store.db import Database, publish_no_clobber
from store.ingest import IngestItem, Progress, bulk_ingest
from store.jwg.desk import JwgDesk
from store.errors import AuthError, NotFound, PolicyError, StoreFileError, TamperError, ValidationError
from store.models import ActionEvent, Domain, Meta, Ministry, Officer, Record, RecordParty, ReviewEvent, Revision
from store.policy import Actor
from store.records import (
    FACETS,
    RecordDetail,
    RecordQuery,
    RecordRow,
    ReviewInfo,
    RevisionInfo,
    after_cursor,
    check_domains,
    conditions,
    count_matching,
    count_statement,
    facet_counts,
    list_page,
    ordered,
)
from store.text import check_block, check_line, quote
from store.vocab import (
    REFERENCE,
    Role,
    Status,
    check_domain_slug,
    check_label,
    check_ministry_code,
    check_officer_name,
    parse_role,
    parse_status,
    parse_tlp,
    stored_status,
    stored_tlp,
)

Clock = Callable[[], datetime]


def _shown(value: str) -> str:
    """A name or reference from the user as is when it is a plain token, else quoted (never raw controls in a message)."""
    return value if isinstance(value, str) and value.isascii() and value.isprintable() and " " not in value else quote(value)


def utcnow() -> datetime:
    """The current time, UTC."""
    return datetime.now(UTC)


def passphrase_bytes(passphrase: str) -> bytes:
    """Passphrases are NFC-normalised UTF-8 so the same words typed on two keyboards unlock alike."""
    return unicodedata.normalize("NFC", passphrase).encode("utf-8")


@dataclass(frozen=True)
class OfficerInfo:
    """An officer as listed (no key material)."""

    name: str
    role: Role
    created_at: datetime
    revoked: bool


@dataclass(frozen=True)
class MinistryInfo:
    """A sharing party as listed."""

    code: str
    name: str
    is_self: bool


@dataclass(frozen=True)
class Draft:
    """A new record as the officer typed it (before validation)."""

    domain: str
    tlp: str
    title: str
    summary: str = ""
    source: str = ""
    notes: str = ""
    releasable_to: Sequence[str] = ()


@dataclass(frozen=True)
class Changes:
    """An edit: only the fields that are not None change."""

    title: str | None = None
    summary: str | None = None
    source: str | None = None
    notes: str | None = None
    tlp: str | None = None
    domain: str | None = None
    releasable_to: Sequence[str] | None = None

    @property
    def is_empty(self) -> bool:
        return all(getattr(self, f) is None for f in self.__dataclass_fields__)


def _mac(key: bytes, obj: Any) -> str:
    return hmac.new(key, canonical_json(obj), hashlib.sha256).hexdigest()


def _officer_mac(key: bytes, name: str, role: str, slot: str, grant: str, revoked: datetime | None) -> str:
    return _mac(key, ["officer", name, role, slot, grant, revoked.isoformat() if revoked else None])


def _meta(s: OrmSession, key: str) -> str | None:
    return s.execute(select(Meta.value).where(Meta.key == key)).scalar_one_or_none()


def _set_meta(s: OrmSession, key: str, value: str) -> None:
    row = s.get(Meta, key)
    if row is None:
        s.add(Meta(key=key, value=value))
    else:
        row.value = value


class Vault:
    """An opened store whose keys are still locked: enough to list officers and to unlock."""

    def __init__(self, db: Database, clock: Clock = utcnow, *, kdf_profile: str | None = None) -> None:
        self.db = db
        self.clock = clock
        #: The key-derivation profile for new key slots and bundle passphrases (None: the default); the
        #: faces choose it (the store reads no environment variable).
        self.kdf_profile = kdf_profile

    @property
    def path(self) -> Path:
        return self.db.path

    @classmethod
    def open(cls, path: Path | str, clock: Clock = utcnow, *, kdf_profile: str | None = None) -> Vault:
        """Open an existing store (migrating it if it is older); refuses anything else untouched."""
        return cls(Database.open(Path(path)), clock, kdf_profile=kdf_profile)

    @classmethod
    def create(
        cls,
        path: Path | str,
        ministry: str,
        officer: str,
        passphrase: str,
        *,
        four_eyes: bool = True,
        ministry_name: str | None = None,
        clock: Clock = utcnow,
        extra_meta: dict[str, str] | None = None,
        kdf_profile: str | None = None,
        short_passphrase_ok: bool = False,
    ) -> Vault:
        """Create a store for `ministry` with `officer` as its first admin; the file appears whole or not at all.

        `short_passphrase_ok` is for throwaway stores (tests); a demo store (`extra_meta` demo) is exempt too.
        """
        path = Path(path)
        if path.exists() or path.is_symlink():
            raise StoreFileError(f"{path} already exists; refusing to touch it")
        code = check_ministry_code(ministry)
        name = check_officer_name(officer)
        label = check_label("ministry_name", ministry_name) if ministry_name else None
        policy.check_new_passphrase(passphrase, demo=short_passphrase_ok or (extra_meta or {}).get("demo") == "1")
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_name(f".{path.name}.creating-{os.getpid()}")
        for leftover in (tmp, tmp.with_name(tmp.name + "-wal"), tmp.with_name(tmp.name + "-shm")):
            leftover.unlink(missing_ok=True)
        db: Database | None = None
        try:
            db = Database.create_file(tmp)  # inside the try: a Ctrl-C during the schema migration cleans up too
            os.chmod(tmp, 0o600)
            keyring = Keyring.generate(str(uuidlib.uuid4()))
            now = clock()
            with db.write() as s:
                known = s.get(Ministry, code)
                if known is None:
                    if not label:
                        valid = ", ".join(s.scalars(select(Ministry.code).order_by(Ministry.code)))
                        raise ValidationError(f"unknown ministry {code}; valid: {valid}", field="ministry_name_needed", value=code)
                    s.add(Ministry(code=code, name=label))
                policy_doc = canonical_json({"store_id": keyring.store_id, "ministry": code, "four_eyes": four_eyes}).decode()
                identity = public_identity(keyring.signing_key, keyring.exchange_key)
                for key, value in {
                    "store_id": keyring.store_id,
                    "ministry": code,
                    "policy": policy_doc,
                    "policy_mac": _mac(keyring.derived("policy"), policy_doc),
                    "changes": "0",
                    "created_at": now.isoformat(),
                    "identity": json.dumps({"signing": identity.signing_public.hex(), "exchange": identity.exchange_public.hex()}),
                    **(extra_meta or {}),
                }.items():
                    s.add(Meta(key=key, value=value))
                slot, _sk = create_slot(name, passphrase_bytes(passphrase), params_for_profile(kdf_profile))
                _add_officer_row(s, keyring, name, Role.ADMIN, slot, now)
                s.add(ActionEvent(at=now, officer=name, action="init", target=code))
            db.checkpoint()
        except BaseException:
            if db is not None:
                db.close()
            for leftover in (tmp, tmp.with_name(tmp.name + "-wal"), tmp.with_name(tmp.name + "-shm")):
                leftover.unlink(missing_ok=True)
            raise
        db.close()
        publish_no_clobber(tmp, path)
        return cls.open(path, clock, kdf_profile=kdf_profile)

    def close(self) -> None:
        """Release the file."""
        self.db.close()

    def __enter__(self) -> Vault:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def ministry(self) -> str:
        """The code of the ministry that owns this store."""
        with self.db.read() as s:
            code = _meta(s, "ministry")
        if code is None:
            raise StoreFileError(f"{self.path} has no ministry; it is damaged")
        return code

    def officers(self) -> list[OfficerInfo]:
        """Every officer, active ones first (names and roles are not secret)."""
        with self.db.read() as s:
            rows = s.scalars(select(Officer).order_by(Officer.revoked_at.is_not(None), Officer.name)).all()
            return [OfficerInfo(o.name, Role(o.role), o.created_at, o.revoked_at is not None) for o in rows]

    def ministries(self) -> list[MinistryInfo]:
        """Every known sharing party (codes and names are not secret: no unlock needed)."""
        own = self.ministry
        with self.db.read() as s:
            return [MinistryInfo(m.code, m.name, m.code == own) for m in s.scalars(select(Ministry).order_by(Ministry.code))]

    def default_officer(self) -> str:
        """The only active officer; otherwise an error asking to choose."""
        active = [o.name for o in self.officers() if not o.revoked]
        if len(active) == 1:
            return active[0]
        raise ValidationError(f"several officers ({', '.join(active)})", field="officer_choice")

    def is_demo(self) -> bool:
        """True for a store built by `liaison demo` (meta `demo` = 1): its officers and passphrase are public."""
        with self.db.read() as s:
            return _meta(s, "demo") == "1"

    def change_counter(self) -> int:
        """A number that grows with every change any process commits (the TUI polls it)."""
        with self.db.read() as s:
            return int(_meta(s, "changes") or 0)

    def public_identity(self) -> PublicIdentity:
        """The store's ministry identity (public halves only)."""
        with self.db.read() as s:
            raw = _meta(s, "identity")
        if raw is None:
            raise StoreFileError("store has no identity")
        data = json.loads(raw)
        return PublicIdentity(bytes.fromhex(data["signing"]), bytes.fromhex(data["exchange"]))

    def unlock(self, officer: str | None, passphrase: str) -> Session:
        """Unlock as `officer` (the only one when None): passphrase → slot → grant → keyring, then authenticate."""
        name = officer or self.default_officer()
        with self.db.read() as s:
            row = s.get(Officer, name)
            if row is None:
                valid = ", ".join(o.name for o in self.officers() if not o.revoked)
                raise NotFound(f"unknown officer {_shown(name)}; officers: {valid}", field="officer", value=name)
            if row.revoked_at is not None:
                raise AuthError(f"officer {name} was removed on {row.revoked_at:%Y-%m-%d}")
            slot_json, grant, role, mac, revoked = row.slot, row.grant, row.role, row.mac, row.revoked_at
            store_id = _meta(s, "store_id")
            policy_doc, policy_mac = _meta(s, "policy"), _meta(s, "policy_mac")
        try:
            slot = OfficerSlot.from_json(slot_json)
        except BadParameters as exc:
            raise TamperError(f"key slot of officer {name} refused before key derivation: {exc}") from None
        except MalformedData as exc:
            raise TamperError(f"key slot of officer {name} is damaged: {exc}") from None
        if slot.officer != name:
            raise TamperError(f"key slot of officer {name} belongs to {slot.officer}")
        try:
            secret = open_slot(slot, passphrase_bytes(passphrase))
        except SlotTampered as exc:
            raise TamperError(f"key slot of officer {name} was altered: {exc}") from None
        except SlotParametersChanged:
            raise AuthError(f"wrong passphrase or damaged key slot for officer {name}") from None
        except DecryptionFailed:
            raise AuthError(f"wrong passphrase for officer {name}") from None
        if store_id is None or policy_doc is None or policy_mac is None:
            raise TamperError("store metadata is missing")
        try:
            keyring = open_grant(grant, store_id, name, secret)
        except CryptoError:
            raise TamperError(f"keyring grant of officer {name} does not open; it was altered") from None
        if not hmac.compare_digest(mac, _officer_mac(keyring.officers_key, name, role, slot_json, grant, revoked)):
            raise TamperError(f"officer record of {name} was altered outside Liaison")
        if not hmac.compare_digest(policy_mac, _mac(keyring.derived("policy"), policy_doc)):
            raise TamperError("store policy was altered outside Liaison")
        policy_obj = json.loads(policy_doc)
        try:
            parsed_role = Role(role)
        except ValueError:
            raise TamperError(f"officer record of {name} has an unknown role {quote(role)}") from None
        return Session(self, keyring, Actor(name, parsed_role), secret, policy_obj, grant=grant)


def _add_officer_row(s: OrmSession, keyring: Keyring, name: str, role: Role, slot: OfficerSlot, now: datetime) -> None:
    slot_json = slot.to_json()
    grant = grant_keyring(keyring, name, slot.public_key)
    s.add(
        Officer(
            name=name,
            role=role.value,
            slot=slot_json,
            grant=grant,
            mac=_officer_mac(keyring.officers_key, name, role.value, slot_json, grant, None),
            created_at=now,
        )
    )


class Session(JwgDesk):
    """An unlocked store acting as one officer. Every method is one user action (the working-group desk's in `store.jwg.desk`)."""

    def __init__(
        self, vault: Vault, keyring: Keyring, actor: Actor, officer_secret: bytes, policy_doc: dict[str, Any], *, grant: str = ""
    ) -> None:
        self.vault = vault
        self.keyring: Keyring | None = keyring
        self._grant = grant  # the grant the keyring came from: when the store's differs, the keys were rotated
        self.actor = actor
        self._officer_secret: bytes | None = officer_secret
        self.ministry: str = policy_doc["ministry"]
        self.four_eyes: bool = bool(policy_doc["four_eyes"])
        self._indexer: BlindIndexer | None = BlindIndexer(keyring.index_key)

    # ---- plumbing -------------------------------------------------------------------------------

    @property
    def db(self) -> Database:
        return self.vault.db

    @property
    def clock(self) -> Clock:
        return self.vault.clock

    def _keys(self) -> Keyring:
        if self.keyring is None:
            raise AuthError("the store is locked")
        return self.keyring

    @property
    def indexer(self) -> BlindIndexer:
        """The blind-index token maker under this store's index key."""
        if self._indexer is None:
            raise AuthError("the store is locked")
        return self._indexer

    def lock(self) -> None:
        """Forget every key held in memory; the session can do nothing more."""
        self.keyring = None
        self._officer_secret = None
        self._indexer = None

    @contextmanager
    def _act(self, action: str, target: str, *, mutates: bool = True) -> Iterator[OrmSession]:
        """One user action: one transaction, recorded in the action log; writes bump the change counter."""
        self._keys()
        with self.db.write() as s:
            self._follow_key_changes(s)
            yield s
            s.add(ActionEvent(at=self.clock(), officer=self.actor.name, action=action, target=target))
            if mutates:
                s.execute(
                    update(Meta).where(Meta.key == "changes").values(value=cast(cast(Meta.value, Integer) + 1, Text))
                )

    def _follow_key_changes(self, s: OrmSession) -> None:
        """Adopt a key rotation another process committed since the unlock, or lock if this officer was removed.

        Without it a session opened before an officer's removal (the TUI, left open) would go on writing under
        the old data key, which the removed officer still holds.
        """
        row = s.get(Officer, self.actor.name)
        if row is None or row.revoked_at is not None:
            self.lock()
            raise AuthError(f"officer {self.actor.name} was removed; the store is locked")
        if row.grant == self._grant or self._officer_secret is None:
            return
        try:
            keyring = open_grant(row.grant, self._keys().store_id, row.name, self._officer_secret)
        except CryptoError:
            raise TamperError(f"keyring grant of officer {row.name} does not open; it was altered") from None
        if not hmac.compare_digest(row.mac, _officer_mac(keyring.officers_key, row.name, row.role, row.slot, row.grant, None)):
            raise TamperError(f"officer record of {row.name} was altered outside Liaison")
        self.keyring, self._grant = keyring, row.grant

    def act(self, action: str, target: str, *, mutates: bool = True) -> AbstractContextManager[OrmSession]:
        """Run a user action defined in another store module (bundles, contacts) through `_act`."""
        return self._act(action, target, mutates=mutates)

    def seal(self, text: str) -> bytes:
        """Encrypt one text field."""
        return self._keys().encrypt(text.encode("utf-8"))

    def open_text(self, token: bytes, reference: str) -> str:
        """Decrypt one text field, naming the record if its token is damaged."""
        try:
            return self._keys().decrypt(token).decode("utf-8")
        except (DecryptionFailed, UnicodeDecodeError):
            raise TamperError(f"record {reference} is corrupt: its encrypted data does not authenticate") from None

    def seal_body(self, summary: str, source: str, notes: str) -> bytes:
        """Encrypt the long fields of a revision together."""
        return self._keys().encrypt(canonical_json({"summary": summary, "source": source, "notes": notes}))

    def open_body(self, token: bytes, reference: str) -> dict[str, str]:
        """Decrypt the long fields of a revision."""
        try:
            body = json.loads(self._keys().decrypt(token))
        except (DecryptionFailed, ValueError):
            raise TamperError(f"record {reference} is corrupt: its encrypted data does not authenticate") from None
        if not isinstance(body, dict):
            raise TamperError(f"record {reference} is corrupt: its encrypted data does not authenticate")
        return {k: str(body.get(k, "")) for k in ("summary", "source", "notes")}

    # ---- validation -----------------------------------------------------------------------------

    def _check_domain(self, s: OrmSession, slug: str) -> str:
        checked = slug.strip().lower() if isinstance(slug, str) and slug.isascii() else None
        if checked is None or s.get(Domain, checked) is None:
            valid = ", ".join(s.scalars(select(Domain.slug).order_by(Domain.slug)))
            raise ValidationError(f"unknown domain {quote(slug)}; valid: {valid}", field="domain", value=slug)
        return checked

    def _check_ministries(self, s: OrmSession, codes: Sequence[str]) -> list[str]:
        known = set(s.scalars(select(Ministry.code)))
        result: list[str] = []
        for raw in codes:
            code = raw.strip().upper() if isinstance(raw, str) and raw.isascii() else None
            if code is None or code not in known:
                valid = ", ".join(sorted(known))
                raise ValidationError(f"unknown ministry {quote(raw)}; valid: {valid}", field="releasable_to", value=raw)
            if code == self.ministry:
                raise ValidationError(
                    f"{code} is this store's own ministry: a record is released to other ministries only",
                    field="releasable_to",
                    value=raw,
                )
            if code not in result:
                result.append(code)
        return sorted(result)

    @staticmethod
    def _check_title(title: str) -> str:
        if isinstance(title, str) and not title.strip():
            raise ValidationError("the title is empty", field="title")
        title = " ".join(check_line("title", title).split())
        if not title:
            raise ValidationError("the title is empty", field="title")
        if len(title) > MAX_TITLE:
            raise ValidationError(f"the title is longer than {MAX_TITLE} characters", field="title")
        return title

    @staticmethod
    def _check_text(name: str, value: str) -> str:
        if len(value) > MAX_TEXT:
            raise ValidationError(f"the {name} is longer than {MAX_TEXT} characters", field=name)
        if "\x00" in value:
            raise ValidationError(f"the {name} contains a NUL character", field=name)
        return check_block(name, value)

    def _record(self, s: OrmSession, reference: str) -> Record:
        rec = s.execute(select(Record).where(Record.reference == reference.strip().upper())).scalar_one_or_none()
        if rec is None:
            raise NotFound(f"no record {_shown(reference)}", reference=reference if REFERENCE.fullmatch(reference) else None, value=reference)
        return rec

    def _next_reference(self, s: OrmSession, origin: str, year: int) -> str:
        """The next free reference of `origin` in `year`: numbers already taken (by an imported record) are skipped."""
        key = f"seq:{origin}:{year}"
        value = int(_meta(s, key) or 0)
        while True:
            value += 1
            reference = f"{origin}-{year}-{value:05d}"
            if s.execute(select(Record.id).where(Record.reference == reference)).first() is None:
                break
        _set_meta(s, key, str(value))
        return reference

    # ---- records --------------------------------------------------------------------------------

    def add_record(self, draft: Draft, *, submit: bool = False) -> str:
        """Create a draft (optionally straight into review); returns its reference."""
        title = self._check_title(draft.title)
        summary = self._check_text("summary", draft.summary)
        source = self._check_text("source", draft.source)
        notes = self._check_text("notes", draft.notes)
        tlp = parse_tlp(draft.tlp)
        now = self.clock()
        with self.db.read() as s:
            domain = self._check_domain(s, draft.domain)
            recipients = self._check_ministries(s, draft.releasable_to)
        with self._act("create", "record") as s:
            reference = self._next_reference(s, self.ministry, now.year)
            status = Status.DRAFT
            rec = Record(
                reference=reference,
                uuid=str(uuidlib.uuid4()),
                domain=domain,
                origin=self.ministry,
                tlp=tlp.value,
                status=status.value,
                author=self.actor.name,
                created_at=now,
                updated_at=now,
                revision=1,
                no_reexport=False,
                title_ct=self.seal(title),
            )
            s.add(rec)
            s.flush()
            self._write_parties(s, rec.id, self.ministry, recipients)
            s.add(self._revision(rec.id, 1, now, tlp.value, recipients, title, summary, source, notes, rec.title_ct))
            dialect.index_insert(s.connection(), [(rec.id, self.indexer.tokens_text([title, summary]))])
            if submit:
                policy.check_submit(self.actor, rec.author, status, reference, origin=rec.origin, own_ministry=self.ministry)
                rec.status = Status.IN_REVIEW.value
                s.add(ReviewEvent(record_id=rec.id, officer=self.actor.name, action="submit", at=now))
        return reference

    def _revision(
        self, record_id: int, number: int, now: datetime, tlp: str, recipients: Sequence[str], title: str, summary: str, source: str, notes: str, title_ct: bytes | None = None
    ) -> Revision:
        return Revision(
            record_id=record_id,
            number=number,
            created_at=now,
            officer=self.actor.name,
            tlp=tlp,
            releasable_to=",".join(recipients),
            title_ct=title_ct if title_ct is not None else self.seal(title),
            body_ct=self.seal_body(summary, source, notes),
        )

    @staticmethod
    def _write_parties(s: OrmSession, record_id: int, origin: str, recipients: Sequence[str]) -> None:
        s.execute(delete(RecordParty).where(RecordParty.record_id == record_id))
        s.add(RecordParty(record_id=record_id, ministry=origin, is_origin=True))
        for code in recipients:
            if code != origin:
                s.add(RecordParty(record_id=record_id, ministry=code, is_origin=False))

    def _current_revision(self, s: OrmSession, record_id: int) -> Revision:
        return s.execute(select(Revision).where(Revision.record_id == record_id).order_by(Revision.number.desc()).limit(1)).scalar_one()

    def edit_record(self, reference: str, changes: Changes) -> int:
        """Write a new revision of a draft or returned record; earlier revisions stay, encrypted. Returns its number."""
        if changes.is_empty:
            raise ValidationError("nothing to change", field="changes")
        with self._act("edit", reference.upper()) as s:
            rec = self._record(s, reference)
            policy.check_edit(self.actor, rec.author, stored_status(rec.status, rec.reference), rec.reference, origin=rec.origin, own_ministry=self.ministry)
            current = self._current_revision(s, rec.id)
            old_title = self.open_text(current.title_ct, rec.reference)
            old_body = self.open_body(current.body_ct, rec.reference)
            title = self._check_title(changes.title) if changes.title is not None else old_title
            summary = self._check_text("summary", changes.summary) if changes.summary is not None else old_body["summary"]
            source = self._check_text("source", changes.source) if changes.source is not None else old_body["source"]
            notes = self._check_text("notes", changes.notes) if changes.notes is not None else old_body["notes"]
            tlp = parse_tlp(changes.tlp).value if changes.tlp is not None else stored_tlp(rec.tlp, rec.reference).value
            if changes.domain is not None:
                rec.domain = self._check_domain(s, changes.domain)
            recipients = (
                self._check_ministries(s, changes.releasable_to)
                if changes.releasable_to is not None
                else [c for c in current.releasable_to.split(",") if c]
            )
            now = self.clock()
            number = rec.revision + 1
            title_ct = self.seal(title)
            s.add(self._revision(rec.id, number, now, tlp, recipients, title, summary, source, notes, title_ct))
            rec.revision, rec.tlp, rec.updated_at, rec.title_ct = number, tlp, now, title_ct
            self._write_parties(s, rec.id, rec.origin, recipients)
            conn = s.connection()
            dialect.index_delete(conn, [(rec.id, self.indexer.tokens_text([old_title, old_body["summary"]]))])
            dialect.index_insert(conn, [(rec.id, self.indexer.tokens_text([title, summary]))])
            return number

    def _transition(self, action: str, reference: str, check: Callable[[Record], None], new_status: Status, comment: str = "") -> None:
        comment = check_block("comment", comment) if comment else ""
        with self._act(action, reference.upper()) as s:
            rec = self._record(s, reference)
            check(rec)
            now = self.clock()
            rec.status, rec.updated_at = new_status.value, now
            s.add(
                ReviewEvent(
                    record_id=rec.id,
                    officer=self.actor.name,
                    action=action,
                    at=now,
                    comment_ct=self.seal(comment) if comment else None,
                )
            )

    def submit(self, reference: str) -> None:
        """Put a draft or returned record in review."""
        self._transition("submit", reference, lambda r: policy.check_submit(self.actor, r.author, stored_status(r.status, r.reference), r.reference, origin=r.origin, own_ministry=self.ministry), Status.IN_REVIEW)

    def approve(self, reference: str, comment: str = "") -> None:
        """Approve a record in review (role and four-eyes permitting)."""
        self._transition(
            "approve",
            reference,
            lambda r: policy.check_approve(self.actor, r.author, stored_status(r.status, r.reference), r.reference, self.four_eyes, origin=r.origin, own_ministry=self.ministry),
            Status.APPROVED,
            comment,
        )

    def return_record(self, reference: str, comment: str) -> None:
        """Send a record in review back to its author with a comment."""
        self._transition("return", reference, lambda r: policy.check_return(self.actor, stored_status(r.status, r.reference), r.reference, comment, origin=r.origin, own_ministry=self.ministry), Status.RETURNED, comment)

    def mark_actioned(self, reference: str, comment: str = "") -> None:
        """Record that a received record was acted upon."""
        self._transition("actioned", reference, lambda r: policy.check_mark_actioned(self.actor, stored_status(r.status, r.reference), r.reference), Status.ACTIONED, comment)

    def close_record(self, reference: str, comment: str = "") -> None:
        """Close a record that needs no more work."""
        self._transition("close", reference, lambda r: policy.check_close(self.actor, stored_status(r.status, r.reference), r.reference), Status.CLOSED, comment)

    def available_actions(self, reference: str) -> frozenset[policy.RecordAction]:
        """The actions the acting officer may take on `reference` now (the faces show only these keys)."""
        self._keys()
        with self.db.read() as s:
            rec = self._record(s, reference)
            actions = policy.available_actions(
                self.actor, author=rec.author, status=stored_status(rec.status, rec.reference), origin=rec.origin, own_ministry=self.ministry,
                four_eyes=self.four_eyes, reference=rec.reference,
            )
            from store.withdrawals import withdrawal_in  # a withdrawn record cannot be withdrawn again

            if policy.RecordAction.WITHDRAW in actions and withdrawal_in(self, s, rec.uuid) is not None:
                actions = actions - {policy.RecordAction.WITHDRAW}
            return actions

    def get_record(self, reference: str) -> RecordDetail:
        """Everything about one record, decrypted (an audited read)."""
        with self._act("read", reference.upper(), mutates=False) as s:
            rec = self._record(s, reference)
            row = self._rows(s, [rec])[0]
            check_domains(s, [row])
            revisions = s.scalars(select(Revision).where(Revision.record_id == rec.id).order_by(Revision.number)).all()
            infos = []
            body: dict[str, str] = {"summary": "", "source": "", "notes": ""}
            for rev in revisions:
                body = self.open_body(rev.body_ct, rec.reference)
                infos.append(
                    RevisionInfo(
                        number=rev.number,
                        created_at=rev.created_at,
                        officer=rev.officer,
                        tlp=rev.tlp,
                        releasable_to=tuple(c for c in rev.releasable_to.split(",") if c),
                        title=self.open_text(rev.title_ct, rec.reference),
                        summary=body["summary"],
                    )
                )
            reviews = [
                ReviewInfo(e.officer, e.action, e.at, self.open_text(e.comment_ct, rec.reference) if e.comment_ct else "")
                for e in s.scalars(select(ReviewEvent).where(ReviewEvent.record_id == rec.id).order_by(ReviewEvent.id))
            ]
            from store.withdrawals import withdrawal_in  # the record's withdrawal, if its origin withdrew it

            withdrawal = withdrawal_in(self, s, rec.uuid)
            return RecordDetail(
                row=row, summary=body["summary"], source=body["source"], notes=body["notes"], revisions=tuple(infos), reviews=tuple(reviews),
                extra={"withdrawal": withdrawal.to_json() if withdrawal else None},
            )

    def _rows(self, s: OrmSession, records: Sequence[Record]) -> list[RecordRow]:
        ids = [r.id for r in records]
        recipients: dict[int, list[str]] = {i: [] for i in ids}
        if ids:
            for rid, code in s.execute(
                select(RecordParty.record_id, RecordParty.ministry)
                .where(RecordParty.record_id.in_(ids), RecordParty.is_origin.is_(False))
                .order_by(RecordParty.ministry)
            ):
                recipients[rid].append(code)
        return [
            RecordRow(
                id=r.id,
                reference=r.reference,
                uuid=r.uuid,
                domain=r.domain,
                origin=r.origin,
                releasable_to=tuple(recipients[r.id]),
                tlp=stored_tlp(r.tlp, r.reference),
                status=stored_status(r.status, r.reference),
                author=r.author,
                created_at=r.created_at,
                updated_at=r.updated_at,
                revision=r.revision,
                title=self.open_text(r.title_ct, r.reference),
            )
            for r in records
        ]

    def normalise_query(self, query: RecordQuery) -> RecordQuery:
        """Validate a query's filter values (unknown ones are refused, listing the valid values) and canonicalise them."""
        with self.db.read() as s:
            domains = frozenset(self._check_domain(s, d) for d in query.domains)
            known = set(s.scalars(select(Ministry.code)))
        ministries = set()
        for code in query.ministries:
            if code.strip().upper() not in known:
                raise ValidationError(f"unknown ministry {quote(code)}; valid: {', '.join(sorted(known))}", field="ministry", value=code)
            ministries.add(code.strip().upper())
        return RecordQuery(
            domains=domains,
            ministries=frozenset(ministries),
            tlps=frozenset(parse_tlp(t).value for t in query.tlps),
            statuses=frozenset(parse_status(x).value for x in query.statuses),
            search=query.search,
            order=query.order,
            since=query.since,
            until=query.until,
        )

    def ingest(self, items: Iterable[IngestItem], *, total: int = 0, progress: Progress | None = None, action: str = "ingest", target: str = "records") -> list[tuple[int, str]]:
        """Write many complete records in one transaction (demo builds and bundle imports)."""
        with self._act(action, target) as s:
            return bulk_ingest(self, s, items, total=total, progress=progress)

    def _search_tokens(self, query: RecordQuery) -> list[str] | None:
        if not query.search.strip():
            return None
        tokens = self.indexer.query_tokens(query.search)
        if not tokens:
            raise ValidationError(f"nothing to search for in {quote(query.search)}: words need at least two letters or digits", field="search", value=query.search)
        return tokens

    def list_records(
        self, query: RecordQuery = RecordQuery(), *, limit: int = 50, offset: int = 0, after: tuple[datetime, int] | None = None
    ) -> list[RecordRow]:
        """One page of matching records, decrypting only the titles on that page."""
        if limit < 0 or offset < 0:
            raise ValidationError("limit and offset must not be negative")
        self._keys()
        tokens = self._search_tokens(query)
        with self.db.read() as s:
            self._follow_key_changes(s)
            return list_page(s, query, tokens, limit=limit, offset=offset, after=after, open_text=self.open_text)

    def count_records(self, query: RecordQuery = RecordQuery()) -> int:
        """How many records match (no decryption)."""
        self._keys()
        with self.db.read() as s:
            return count_matching(s, query, self._search_tokens(query))

    def facet_counts(self, query: RecordQuery = RecordQuery()) -> dict[str, dict[str, int]]:
        """Live counts for each sidebar facet, each computed with the other facets' filters applied."""
        self._keys()
        tokens = self._search_tokens(query)
        with self.db.read() as s:
            return facet_counts(s, query, tokens, self.ministry)

    def review_queue(self, limit: int = 500) -> list[RecordRow]:
        """Records in review, oldest first."""
        return self.list_records(RecordQuery(statuses=frozenset({Status.IN_REVIEW.value}), order="oldest"), limit=limit)

    # ---- history, withdrawals, backups (store/history.py, store/withdrawals.py, store/backup.py) ---------

    def bundle_history(self, *, direction: str | None = None, counterpart: str | None = None) -> list[Any]:
        """Every bundle sent and received, newest first (`store.history.BundleEntry`)."""
        from store.history import bundle_history

        return bundle_history(self, direction=direction, counterpart=counterpart)

    def record_activity(self, reference: str) -> list[Any]:
        """Everything that happened to one record, oldest first (`store.history.ActivityEvent`)."""
        from store.history import record_activity

        return record_activity(self, reference)

    def withdraw(self, reference: str, reason: str = "") -> Any:
        """The origin withdraws a shared record (`store.withdrawals.WithdrawalInfo`)."""
        from store.withdrawals import withdraw

        return withdraw(self, reference, reason)

    def withdrawal(self, reference: str) -> Any:
        """A record's withdrawal (`store.withdrawals.WithdrawalInfo`), or None when it is not withdrawn."""
        from store.withdrawals import withdrawal_of

        return withdrawal_of(self, reference)

    def is_demo(self) -> bool:
        """True for a demo store (`liaison demo`): the faces may show the demo officers and passphrase."""
        return self.vault.is_demo()

    # ---- officers -------------------------------------------------------------------------------

    def officers(self) -> list[OfficerInfo]:
        """Every officer and role."""
        return self.vault.officers()

    def add_officer(self, name: str, role: str, passphrase: str, *, kdf_profile: str | None = None) -> None:
        """An admin adds an officer with their own passphrase; they unlock the same keyring."""
        policy.require_role(self.actor, Role.ADMIN, "manage officers")
        name = check_officer_name(name)
        parsed = parse_role(role)
        policy.check_new_passphrase(passphrase, demo=self.vault.is_demo())
        slot, _ = create_slot(name, passphrase_bytes(passphrase), params_for_profile(kdf_profile or self.vault.kdf_profile))
        with self._act("officer-add", name) as s:
            if s.get(Officer, name) is not None:
                raise ValidationError(f"officer {name} already exists")
            _add_officer_row(s, self._keys(), name, parsed, slot, self.clock())

    def change_passphrase(self, new_passphrase: str) -> None:
        """Re-wrap the acting officer's key under a new passphrase; the old one stops working."""
        policy.check_new_passphrase(new_passphrase, demo=self.vault.is_demo())
        if self._officer_secret is None:
            raise AuthError("the store is locked")
        slot, _ = create_slot(self.actor.name, passphrase_bytes(new_passphrase), params_for_profile(self.vault.kdf_profile), private_key=self._officer_secret)
        with self._act("passwd", self.actor.name) as s:
            row = s.get(Officer, self.actor.name)
            if row is None:
                raise NotFound(f"unknown officer {self.actor.name}")
            row.slot = slot.to_json()
            row.mac = _officer_mac(self._keys().officers_key, row.name, row.role, row.slot, row.grant, row.revoked_at)

    def remove_officer(self, name: str) -> int:
        """Revoke an officer: rotate the data key and re-grant it to everyone else. Returns the new key version."""
        policy.require_role(self.actor, Role.ADMIN, "manage officers")
        if name == self.actor.name:
            raise PolicyError("an admin cannot remove themselves")
        with self._act("officer-remove", name) as s:
            row = s.get(Officer, name)
            if row is None or row.revoked_at is not None:
                raise NotFound(f"no active officer {name}")
            now = self.clock()
            keys = Keyring.from_bytes(self._keys().to_bytes())  # rotate a copy: the session adopts it only once committed
            version = keys.rotate()
            row.revoked_at = now
            row.grant = "{}"
            row.mac = _officer_mac(keys.officers_key, row.name, row.role, row.slot, row.grant, now)
            own_grant = self._grant
            for other in s.scalars(select(Officer).where(Officer.revoked_at.is_(None))):
                # only officers whose record authenticates get the new keys: never a row planted in the file
                if not hmac.compare_digest(other.mac, _officer_mac(keys.officers_key, other.name, other.role, other.slot, other.grant, None)):
                    raise TamperError(f"officer record of {other.name} was altered outside Liaison")
                slot = OfficerSlot.from_json(other.slot)
                other.grant = grant_keyring(keys, other.name, slot.public_key)
                other.mac = _officer_mac(keys.officers_key, other.name, other.role, other.slot, other.grant, None)
                if other.name == self.actor.name:
                    own_grant = other.grant
        self.keyring, self._grant = keys, own_grant
        return version

    # ---- ministries and domains -----------------------------------------------------------------

    def ministries(self) -> list[MinistryInfo]:
        """Every known sharing party."""
        return self.vault.ministries()

    def add_ministry(self, code: str, name: str) -> None:
        """An admin adds a sharing party."""
        policy.require_role(self.actor, Role.ADMIN, "manage ministries")
        code = check_ministry_code(code)
        name = check_label("ministry_name", name)
        if not name:
            raise ValidationError("the ministry name is empty", field="ministry_name")
        with self._act("ministry-add", code) as s:
            if s.get(Ministry, code) is not None:
                raise ValidationError(f"ministry {code} already exists")
            s.add(Ministry(code=code, name=name))

    def domains(self) -> list[tuple[str, str]]:
        """Every domain slug and label."""
        with self.db.read() as s:
            return [(d.slug, d.label) for d in s.scalars(select(Domain).order_by(Domain.slug))]

    def add_domain(self, slug: str, label: str) -> None:
        """An admin adds a domain."""
        policy.require_role(self.actor, Role.ADMIN, "manage domains")
        slug = check_domain_slug(slug)
        label = check_label("label", label)
        with self._act("domain-add", slug) as s:
            if s.get(Domain, slug) is not None:
                raise ValidationError(f"domain {slug} already exists")
            s.add(Domain(slug=slug, label=label or slug))


__all__ = ["Changes", "Draft", "MinistryInfo", "OfficerInfo", "Session", "Vault", "parse_status", "utcnow"]
