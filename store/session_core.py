"""`SessionCore`: what every action of an unlocked store stands on — the keys held in memory, the one transaction
of a user action (`act`) with its signed audit events, sealing and opening text fields.

`store.service.Session` inherits it (with the working-group desk's `store.jwg.desk.JwgDesk`) and adds one method
per user action, each delegating to its capability module.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from sqlalchemy import Integer, Text, cast, update
from sqlalchemy.orm import Session as OrmSession

from crypto.blind_index import BlindIndexer
from crypto.encoding import body_fields, canonical_json
from crypto.errors import CryptoError, DecryptionFailed
from crypto.keyring import Keyring
from crypto.slot import open_grant
from store.audit import log as audit
from store.audit import state as audit_state
from store.db import Database
from store.errors import AuthError, IntegrityError, TamperError
from store.models import Meta, Officer, Record
from store.policy import Actor
from store.vault import Clock, Vault, officer_mac


class SessionCore:
    """An unlocked store acting as one officer: its keys, its action transactions, its sealed fields."""

    def __init__(
        self,
        vault: Vault,
        keyring: Keyring,
        actor: Actor,
        officer_secret: bytes,
        policy_doc: dict[str, Any],
        *,
        grant: str = "",
        signing_key: bytes | None = None,
        audit_problem: str | None = None,
    ) -> None:
        self.vault = vault
        self.keyring: Keyring | None = keyring
        self._grant = grant  # the grant the keyring came from: when the store's differs, the keys were rotated
        self.actor = actor
        self._officer_secret: bytes | None = officer_secret
        #: The acting officer's Ed25519 key: every event of their actions is signed with it.
        self._signing_key: bytes | None = signing_key
        #: Why the audit log's end did not hold at unlock (gaps, a checkpoint off the rows): every action is refused.
        self.audit_problem = audit_problem
        self.ministry: str = policy_doc["ministry"]
        self.four_eyes: bool = bool(policy_doc["four_eyes"])
        self._indexer: BlindIndexer | None = BlindIndexer(keyring.index_key)
        self._indexer_key = keyring.index_key

    # ---- keys and actions -------------------------------------------------------------------------------

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
        """The blind-index token maker under this store's index key (a new one after a full revocation)."""
        keys = self._keys()
        if self._indexer is None or self._indexer_key != keys.index_key:
            self._indexer, self._indexer_key = BlindIndexer(keys.index_key), keys.index_key
        return self._indexer

    def lock(self) -> None:
        """Forget every key held in memory; the session can do nothing more."""
        self.keyring = None
        self._officer_secret = None
        self._signing_key = None
        self._indexer = None

    @contextmanager
    def _act(self, action: str, target: str, *, mutates: bool = True) -> Iterator[OrmSession]:
        """One user action: one transaction, its events signed into the audit log; writes bump the change counter."""
        self._keys()
        if self.audit_problem is not None:
            raise TamperError(
                f"the audit log is damaged ({self.audit_problem}); nothing more is written until it is checked"
            )
        with self.db.write() as s:
            self._follow_key_changes(s)
            audit.begin(s, action, target)
            yield s
            audit.finish(s, self.audit_signer())
            if mutates:
                s.execute(
                    update(Meta).where(Meta.key == "changes").values(value=cast(cast(Meta.value, Integer) + 1, Text))
                )
        self.vault.after_commit()  # committed: the witness outside the file follows (never fails the action)

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
        why = audit_state.officer_backing_problem(s, row)
        if why is not None:
            self.lock()
            raise TamperError(
                f"officer record of {row.name} is not backed by the audit log (replayed or edited): {why}"
            )
        try:
            keyring = open_grant(row.grant, self._keys().store_id, row.name, self._officer_secret)
        except CryptoError:
            raise TamperError(f"keyring grant of officer {row.name} does not open; it was altered") from None
        if not hmac.compare_digest(
            row.mac, officer_mac(keyring.officers_key, row.name, row.role, row.slot, row.grant, None)
        ):
            raise TamperError(f"officer record of {row.name} was altered outside Liaison")
        self.keyring, self._grant = keyring, row.grant

    def require_intact(self, s: OrmSession, rec: Record) -> None:
        """Refuse to act on (or show) a record that differs from its latest signed event (IntegrityError naming why).

        Every action on an existing record calls it before changing anything: an action on a record tampered
        with outside Liaison would otherwise sign the tampered state as its own.
        """
        why = audit_state.record_damage(s, self._keys(), rec, own_ministry=self.ministry, four_eyes=self.four_eyes)
        if why is not None:
            raise IntegrityError(f"record {rec.reference} is damaged: {why}", reference=rec.reference)

    def audit_signer(self) -> audit.Signer:
        """Who signs this session's events now (an error once locked)."""
        if self._signing_key is None:
            raise AuthError("the store is locked")
        return audit.Signer(self.actor.name, self._signing_key, self._keys(), self.ministry, self.clock())

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
            body = body_fields(self._keys().decrypt(token))
        except DecryptionFailed:
            body = None
        if body is None:
            raise TamperError(f"record {reference} is corrupt: its encrypted data does not authenticate")
        return body

    # ---- plumbing shared by the capability modules ---------------------------------------------------

    def keys(self) -> Keyring:
        """The keyring, or an error once the store is locked."""
        return self._keys()

    @property
    def grant(self) -> str:
        """The grant this session's keyring came from."""
        return self._grant

    def officer_secret(self) -> bytes:
        """The acting officer's private key (to re-wrap their slot), or an error once locked."""
        if self._officer_secret is None:
            raise AuthError("the store is locked")
        return self._officer_secret

    def adopt_keys(self, keyring: Keyring, grant: str) -> None:
        """Take on a rotated keyring once its transaction committed."""
        self.keyring, self._grant = keyring, grant
