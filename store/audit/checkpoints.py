"""The log's end and its checkpoints: the head (size, chain, Merkle frontier), the signed checkpoint each action
writes, the latest one, the log's size."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session as OrmSession

from crypto.checkpoint import Checkpoint, sign_checkpoint
from crypto.errors import MalformedData
from crypto.events import CHAIN_START
from crypto.keyring import Keyring
from crypto.merkle import Frontier
from store.errors import TamperError
from store.models import AuditCheckpoint, AuditRow, Meta
from store.sqlite import before_commit, connection_state


@dataclass(frozen=True)
class Signer:
    """Who signs an action's events, and the keys its checkpoint and details need."""

    officer: str
    signing_key: bytes  # the officer's Ed25519 private key
    keyring: Keyring  # the ministry identity key (checkpoint) and the data key (details)
    ministry: str
    now: datetime


def log_origin(ministry: str, store_id: str) -> str:
    """The checkpoint origin (and signed-note key name) of a store's log: `liaison/<MINISTRY>/<store uuid>`."""
    return f"liaison/{ministry}/{store_id}"


@dataclass(frozen=True)
class Head:
    """The log's end: its size, last chain value and Merkle frontier."""

    size: int
    chain: bytes
    frontier: Frontier


def read_head(s: OrmSession) -> Head:
    """The end of the log as stored; TamperError when the frontier and the rows disagree."""
    last = s.execute(select(AuditRow.seq, AuditRow.chain).order_by(AuditRow.seq.desc()).limit(1)).first()
    raw = s.execute(select(Meta.value).where(Meta.key == "audit_frontier")).scalar_one_or_none()
    if raw is None:
        if last is not None:
            raise TamperError("the audit log's Merkle frontier is missing; it was removed outside Liaison")
        return Head(0, CHAIN_START, Frontier())
    try:
        frontier = Frontier.from_bytes(base64.b64decode(raw.encode("ascii"), validate=True))
    except (MalformedData, ValueError):
        raise TamperError("the audit log's Merkle frontier is damaged") from None
    size = 0 if last is None else int(last.seq)
    if frontier.size != size:
        raise TamperError(
            f"the audit log has {size:,} events but its Merkle frontier {frontier.size:,}; it was edited outside Liaison"
        )
    return Head(size, CHAIN_START if last is None else bytes(last.chain), frontier)


def write_checkpoint(s: OrmSession, signer: Signer, frontier: Frontier) -> None:
    """Store the frontier and the checkpoint of the tree it describes, signed by the ministry identity key."""
    origin = log_origin(signer.ministry, signer.keyring.store_id)
    root = frontier.root()
    note_text = sign_checkpoint(Checkpoint(origin, frontier.size, root, signer.now), origin, signer.keyring.signing_key)
    s.merge(AuditCheckpoint(size=frontier.size, at=signer.now, root=root, note=note_text))
    encoded = base64.b64encode(frontier.to_bytes()).decode("ascii")
    row = s.get(Meta, "audit_frontier")
    if row is None:
        s.add(Meta(key="audit_frontier", value=encoded))
    else:
        row.value = encoded
    s.flush()


def latest_checkpoint(s: OrmSession) -> AuditCheckpoint | None:
    """The newest checkpoint row."""
    return s.execute(select(AuditCheckpoint).order_by(AuditCheckpoint.size.desc()).limit(1)).scalar_one_or_none()


def log_size(s: OrmSession) -> tuple[int, int]:
    """(count of events, highest seq): equal in an intact log.

    The count walks the whole log (~12 ms at 100k events, and the browser checks every page it fetches), so each
    connection keeps its last count with the highest seq and `sqlite.connection_state` it was taken at, and reuses
    it only while both are the same: no row changed through this connection, no commit by any other. Read
    transactions keep the count they take (a writer's could include rows its rollback then removes); a write
    transaction whose own append grew an intact log keeps the count that append left, as it commits
    (`grew_to`); either kind reuses a kept count."""
    conn = s.connection()
    state = (*connection_state(conn), int(s.execute(select(func.coalesce(func.max(AuditRow.seq), 0))).scalar_one()))
    kept = conn.info.get(_LOG_COUNT)
    if kept is not None and kept[0] == state:
        count = int(kept[1])
    else:
        count = int(s.execute(select(func.count()).select_from(AuditRow)).scalar_one())
        if not conn.get_execution_options().get("liaison_write"):
            conn.info[_LOG_COUNT] = (state, count)
    s.info[_COUNTED] = (count, state[2])
    return count, state[2]


def grew_to(s: OrmSession, before: int, after: int) -> None:
    """This transaction appended events `before`+1..`after`: if it counted the log intact at `before` events (and
    appended nothing else since), the log holds exactly `after` events once it commits — no other connection can
    write while it holds the write lock, and the store never deletes an event. That count is kept for the
    connection as it commits (`sqlite.before_commit`), under the state it commits in, so the next action's check
    does not walk the log again; a commit that fails leaves a highest seq the kept state does not match."""
    if s.info.get(_COUNTED) != (before, before) or after <= before:
        return
    s.info[_COUNTED] = None  # a second append in the same transaction keeps nothing

    def keep(conn: Connection) -> None:
        top = int(conn.execute(select(func.coalesce(func.max(AuditRow.seq), 0))).scalar_one())
        if top == after:
            conn.info[_LOG_COUNT] = ((*connection_state(conn), top), after)

    before_commit(s, keep)


#: What a transaction last counted of the log (`log_size`): (count, highest seq).
_COUNTED = "liaison.audit_log_counted"
#: Where a connection keeps its last count of the log (`log_size`).
_LOG_COUNT = "liaison.audit_log_count"
