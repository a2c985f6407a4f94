"""Re-granting the keyring to every active officer (each row checked against its MAC and the signed log first), and
full revocation: an officer's removal replaces the data key and the master secret in one transaction, so the blind
index is rebuilt under the new index key and every officer, policy and contact MAC re-derived; its signed
`officer-remove` event marks the officer's signing key revoked at that point of the log.
"""

from __future__ import annotations

import hmac
import json
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Connection, and_, func, select
from sqlalchemy.orm import Session as OrmSession

from crypto.blind_index import BlindIndexer
from crypto.errors import DecryptionFailed
from crypto.keyring import Keyring
from crypto.slot import OfficerSlot, grant_keyring
from store import policy
from store import sqlite as dialect
from store.audit import log as audit
from store.audit import state as audit_state
from store.errors import NotFound, PolicyError, TamperError
from store.keys.columns import BATCH_ROWS, Progress
from store.keys.job import read_job
from store.keys.status import verified_policy, write_policy
from store.models import Contact, Officer, Record, Revision
from store.vault import officer_mac

if TYPE_CHECKING:
    from store.service import Session


def regrant(s: OrmSession, old: Keyring, new: Keyring, actor: str, *, revoke: str | None = None, now: datetime) -> str:
    """Grant `new` to every active officer (and re-MAC every row under `new`), each row checked under `old` and
    against the audit log first, so a row planted or replayed in the file gets nothing; `revoke` is marked
    removed. Returns the actor's new grant. Run inside an action: each row written gets its signed officer event
    (`officer-regrant`, or the action's own `officer-remove`)."""
    own = ""
    for row in s.scalars(select(Officer).order_by(Officer.name)):
        why = audit_state.officer_backing_problem(s, row)
        if why is not None:
            raise TamperError(
                f"officer record of {row.name} is not backed by the audit log (replayed or edited): {why}"
            )
        if not hmac.compare_digest(
            row.mac, officer_mac(old.officers_key, row.name, row.role, row.slot, row.grant, row.revoked_at)
        ):
            raise TamperError(f"officer record of {row.name} was altered outside Liaison")
        if row.name == revoke:
            row.revoked_at, row.grant = now, "{}"
        elif row.revoked_at is None:
            row.grant = grant_keyring(new, row.name, OfficerSlot.from_json(row.slot).public_key)
        row.mac = officer_mac(new.officers_key, row.name, row.role, row.slot, row.grant, row.revoked_at)
        if row.name == actor:
            own = row.grant
    return own


def _remac_contacts(s: OrmSession, old: Keyring, new: Keyring) -> None:
    """Every contact checked under the old contacts key, then its MAC re-derived under the new one."""
    from store.contacts import _contact_mac, _info

    for row in s.scalars(select(Contact).order_by(Contact.code)):
        info = _info(old, row, s)  # TamperError for a row planted, replayed or edited in the file
        row.mac = _contact_mac(new, row.code, row.name, info.identity)


def rebuild_index(
    conn: Connection, old: Keyring, new: Keyring, progress: Progress | None = None, *, batch_rows: int = BATCH_ROWS
) -> list[str]:
    """The blind index emptied and rebuilt under `new`'s index key: each record's current title and summary
    decrypted once (with `old`), in batches. Returns the references of records whose text does not decrypt
    (left out of the index, as they cannot be shown either)."""
    indexer = BlindIndexer(new.index_key)
    total = int(conn.execute(select(func.count()).select_from(Record)).scalar_one())
    dialect.index_clear(conn)
    done, last = 0, 0
    damaged: list[str] = []
    if progress is not None:
        progress(0, total)
    while True:
        rows = conn.execute(
            select(Record.id, Record.reference, Record.title_ct, Revision.body_ct)
            .outerjoin(Revision, and_(Revision.record_id == Record.id, Revision.number == Record.revision))
            .where(Record.id > last)
            .order_by(Record.id)
            .limit(batch_rows)
        ).all()
        if not rows:
            break
        entries: list[tuple[int, str]] = []
        for rid, reference, title_ct, body_ct in rows:
            try:
                title = old.decrypt(title_ct).decode("utf-8")
                body = json.loads(old.decrypt(body_ct)) if body_ct is not None else {}
            except (DecryptionFailed, ValueError):
                damaged.append(reference)
                continue
            summary = str(body.get("summary", "")) if isinstance(body, dict) else ""
            entries.append((rid, indexer.tokens_text([title, summary])))
        dialect.index_insert(conn, entries)
        done, last = done + len(rows), rows[-1][0]
        if progress is not None:
            progress(done, total)
    return damaged


def revoke_officer(session: Session, name: str, *, progress: Progress | None = None) -> int:
    """Remove an officer for good (admin), in one transaction: a new data key and a new master secret, so every
    derived key changes — the blind index rebuilt under the new index key, the officer, policy and contact MACs
    re-derived (each checked under the old key first), the keyring granted to the remaining officers only. The
    signed `officer-remove` event carries the officer's state as revoked: from that point of the log their signing
    key is refused (`audit verify`). Returns the new data key version."""
    policy.check_remove_officer(session.actor, name)
    now = session.clock()
    with session.act("officer-remove", name) as s:
        row = s.get(Officer, name)
        if row is None or row.revoked_at is not None:
            raise NotFound(f"no active officer {name}")
        old = session.keys()
        if read_job(s, old) is not None:
            # its batches would sign moves to a key version no rotation opened, and every record read as damaged
            raise PolicyError(
                f"a key rotation is unfinished: run `liaison keys rotate` to finish it, then remove {name}",
                field="officer_name",
                value=name,
            )
        keys = old.copy()
        version = keys.rotate(now.isoformat())
        keys.rotate_master(now.isoformat())
        write_policy(s, keys, verified_policy(s, old))
        _remac_contacts(s, old, keys)
        own = regrant(s, old, keys, session.actor.name, revoke=name, now=now)
        rebuild_index(s.connection(), old, keys, progress)
        audit.note(s, data={"key_version": version, "master_version": keys.master_version})
    session.adopt_keys(keys, own)
    return version


__all__ = ["rebuild_index", "regrant", "revoke_officer"]
