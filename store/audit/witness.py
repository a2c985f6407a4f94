"""The workstation's witness: the newest checkpoint of a store's log, kept outside the store file.

A copy of the store file restored from an older backup (or any file whose log was cut back or rewritten)
carries a log that is behind, or not an extension of, what this workstation has already seen. The store
cannot notice that by itself — the older file is internally consistent — so after each committed change the
newest signed checkpoint is also written to `<state dir>/witness/<store uuid>.json` (atomically, mode 0600,
the directory 0700), and opening the store compares its log with it:

- a log with fewer events than the witnessed checkpoint's tree size is *behind*;
- a log at least as long whose checkpoint at that size has another root (or none) is *not an extension*: it
  forked, or its history was rewritten.

Either refuses the open (`RolledBack`) unless the face asked to look at it anyway (`allow_rollback`), which
only `accept-rollback` and a deliberate restore do: an admin then signs an `accept-rollback` event into the
log and the witness is reset to the store's newest checkpoint.

The faces choose the state directory (the store reads no environment variable); no directory, no witness.
The witness is written after the transaction committed and never makes an action fail: a witness that could
not be written is reported in `Vault.witness_problem` for the face to show.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session as OrmSession

from store import policy
from store.errors import LiaisonError, PolicyError, StoreFileError, TamperError
from store.files import atomic_write_bytes
from store.models import AuditCheckpoint, AuditRow, Meta
from store.vocab import Role

if TYPE_CHECKING:
    from store.service import Session
    from store.vault import Vault

#: The subdirectory of the state directory that holds one witness file per store.
WITNESS_SUBDIR = "witness"
#: A witness file larger than this is not one of ours.
MAX_WITNESS_BYTES = 64 * 1024
FORMAT_VERSION = 1


def when(moment: datetime) -> str:
    """A checkpoint's time as the rollback message shows it: `2026-11-28T10:02Z` (UTC, to the minute)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


@dataclass(frozen=True)
class Seen:
    """A checkpoint of one store's log as this workstation saw it: tree size, root, time and the signed note."""

    store_id: str
    size: int
    root: bytes
    time: datetime
    note: str

    def to_json(self) -> bytes:
        """The witness file's bytes."""
        doc = {
            "v": FORMAT_VERSION,
            "store": self.store_id,
            "size": self.size,
            "root": base64.b64encode(self.root).decode("ascii"),
            "time": self.time.astimezone(UTC).isoformat(),
            "note": self.note,
        }
        return (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes, store_id: str) -> Seen:
        """Parse a witness file; ValueError when it is not one, or is another store's."""
        doc: Any = json.loads(data.decode("utf-8"))
        if not isinstance(doc, dict) or doc.get("v") != FORMAT_VERSION:
            raise ValueError("not a witness file of this version")
        if doc.get("store") != store_id:
            raise ValueError("it is another store's")
        size, root_text, time_text, note = doc.get("size"), doc.get("root"), doc.get("time"), doc.get("note")
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise ValueError("its tree size is not a count")
        if not isinstance(root_text, str) or not isinstance(time_text, str) or not isinstance(note, str):
            raise ValueError("a field is missing")
        try:
            root = base64.b64decode(root_text, validate=True)
        except binascii.Error:
            raise ValueError("its root is not base64") from None
        if len(root) != 32:
            raise ValueError("its root is not a SHA-256 hash")
        moment = datetime.fromisoformat(time_text)
        if moment.tzinfo is None:
            raise ValueError("its time has no time zone")
        return cls(store_id, size, root, moment.astimezone(UTC), note)


class WitnessError(StoreFileError):
    """The witness file of a store cannot be read (damaged, or not ours)."""


class RolledBack(TamperError):
    """The store's log is behind, or not an extension of, the checkpoint this workstation has seen."""


@dataclass(frozen=True)
class Rollback:
    """What was found at open: the witnessed checkpoint, the log's size, and whether the log forked."""

    seen: Seen
    log_size: int
    forked: bool

    def message(self) -> str:
        """The one-line reason (the issue's wording)."""
        if not self.forked:
            return (
                f"store rolled back: log has {self.log_size:,} events, this workstation has seen "
                f"{self.seen.size:,} (checkpoint of {when(self.seen.time)})"
            )
        return (
            f"store rolled back: its log ({self.log_size:,} events) is not an extension of the checkpoint this "
            f"workstation has seen ({self.seen.size:,} events, checkpoint of {when(self.seen.time)}): "
            "forked or rewritten"
        )


class Witness:
    """The witness files of one state directory (`<state dir>/witness/<store uuid>.json`)."""

    def __init__(self, state_dir: Path | str) -> None:
        self.directory = Path(state_dir).expanduser() / WITNESS_SUBDIR

    def path(self, store_id: str) -> Path:
        """The witness file of one store (its uuid is the name: nothing else about the store is revealed)."""
        if not store_id or "/" in store_id or store_id.startswith("."):
            raise WitnessError(f"store id {store_id!r} cannot name a witness file")
        return self.directory / f"{store_id}.json"

    def seen(self, store_id: str) -> Seen | None:
        """The checkpoint this workstation saw last for `store_id`, or None for a store it has never seen."""
        path = self.path(store_id)
        try:
            with path.open("rb") as fh:
                data = fh.read(MAX_WITNESS_BYTES + 1)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise WitnessError(
                f"cannot read this workstation's checkpoint of the store ({path}): {exc.strerror}"
            ) from None
        try:
            if len(data) > MAX_WITNESS_BYTES:
                raise ValueError("it is too large")
            return Seen.from_json(data, store_id)
        except (ValueError, UnicodeDecodeError) as exc:
            raise WitnessError(
                f"this workstation's checkpoint of the store ({path}) is damaged ({exc}); "
                "remove that file to trust the store as it is now"
            ) from None

    @contextmanager
    def _locked(self, store_id: str) -> Iterator[None]:
        """Serialise read-compare-write of one store's witness between processes (the CLI while the app is open)."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        with suppress(OSError):
            os.chmod(self.directory, 0o700)
        try:
            import fcntl
        except ImportError:  # no advisory locks here: writes stay atomic, only the ordering race remains
            yield
            return
        fd = os.open(self.directory / f".{store_id}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def record(self, seen: Seen, *, replace: bool = False) -> bool:
        """Keep `seen` as the newest checkpoint of its store; True when written.

        Only ever forward (a larger tree) unless `replace` — an accepted rollback — so two processes writing
        after their own commits leave the larger of their checkpoints, whatever order they finish in.
        """
        with self._locked(seen.store_id):
            if not replace:
                try:
                    current = self.seen(seen.store_id)
                except WitnessError:
                    current = None  # a damaged file is replaced by what we just committed
                if current is not None and current.size >= seen.size:
                    return False
            atomic_write_bytes(self.path(seen.store_id), seen.to_json(), overwrite=True)
            return True


# ---- the store's side: its newest checkpoint, and the check at open ------------------------------------


def store_id_of(s: OrmSession) -> str | None:
    """The store's uuid (liaison_meta `store_id`)."""
    return s.execute(select(Meta.value).where(Meta.key == "store_id")).scalar_one_or_none()


def newest_checkpoint(s: OrmSession, store_id: str) -> Seen | None:
    """The store's newest checkpoint as a witness would keep it, or None before the log has one."""
    row = s.execute(select(AuditCheckpoint).order_by(AuditCheckpoint.size.desc()).limit(1)).scalar_one_or_none()
    if row is None:
        return None
    return Seen(store_id, row.size, bytes(row.root), row.at.astimezone(UTC), row.note)


def log_size(s: OrmSession) -> int:
    """How many events the log holds (its highest sequence number: the log is numbered 1, 2, 3… with no gaps)."""
    return int(s.execute(select(func.max(AuditRow.seq))).scalar_one_or_none() or 0)


def compare(s: OrmSession, seen: Seen) -> Rollback | None:
    """Whether the store's log extends the witnessed checkpoint (None) or not (what was found).

    Cheap enough for every open: the log's highest sequence number and the store's checkpoint at the witnessed
    size. A full proof — every event, the chain and every checkpoint's root recomputed — is `audit verify`'s.
    """
    size = log_size(s)
    if size < seen.size:
        return Rollback(seen, size, forked=False)
    if seen.size == 0:
        return None
    at_seen = s.get(AuditCheckpoint, seen.size)
    if at_seen is None or bytes(at_seen.root) != seen.root:
        return Rollback(seen, size, forked=True)
    return None


def check_at_open(vault: Vault, *, allow_rollback: bool = False) -> Rollback | None:
    """The check `Vault.open` runs: refuse a rolled-back store (`RolledBack`), or return what was found when the
    face asked to look anyway; a store never seen before is noted (its newest checkpoint becomes the witness)."""
    witness = vault.witness
    if witness is None:
        return None
    with vault.db.read() as s:
        store_id = store_id_of(s)
    if store_id is None:
        raise StoreFileError(f"{vault.path} has no store id; it is damaged")
    # The witness is read BEFORE the snapshot the log is compared in: another process writes it only after its
    # commit, so the log read next holds at least what the witness says (read inside one older snapshot, a
    # concurrent writer's fresh witness looked like a rollback).
    seen = witness.seen(store_id)
    with vault.db.read() as s:
        found = compare(s, seen) if seen is not None else None
        newest = newest_checkpoint(s, store_id) if seen is None else None
    if found is not None:
        if not allow_rollback:
            raise RolledBack(found.message(), field="rollback")
        return found
    if newest is not None:
        _record_quietly(vault, newest)
    return None


def _record_quietly(vault: Vault, seen: Seen, *, replace: bool = False) -> None:
    """Write the witness; a failure is kept for the face to show, never raised into the action that committed."""
    if vault.witness is None:
        return
    try:
        vault.witness.record(seen, replace=replace)
    except (OSError, LiaisonError) as exc:
        vault.witness_problem = (
            f"this workstation could not keep the store's newest checkpoint in {vault.witness.directory} "
            f"({getattr(exc, 'strerror', None) or exc}); a rollback of the store would go unnoticed here"
        )
    else:
        vault.witness_problem = None


def after_commit(vault: Vault) -> None:
    """After a transaction committed: keep the store's newest checkpoint as the witness (only ever forward)."""
    if vault.witness is None or vault.rollback is not None:
        return  # a store opened despite a rollback moves the witness only through accept_rollback
    try:
        with vault.db.read() as s:
            store_id = store_id_of(s)
            newest = newest_checkpoint(s, store_id) if store_id else None
    except LiaisonError:
        return
    if newest is not None:
        _record_quietly(vault, newest)


# ---- accepting a rollback -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RollbackAccepted:
    """An accepted rollback: what the workstation had seen, and the store's checkpoint it now trusts."""

    seen: Seen
    log_size: int
    forked: bool
    now_trusted: Seen


def accept_rollback(session: Session, *, via: str = "command", record_witness: bool = True) -> RollbackAccepted:
    """An admin accepts the store as it is although this workstation saw a newer (or another) log.

    The acceptance is itself a signed event of the store's log (`accept-rollback`, with the checkpoint that
    was seen and the log's size), and the witness is then reset to the store's newest checkpoint — at once,
    or (`record_witness=False`, a restore staging its copy) by the caller once the copy is in place.
    """
    from store.audit import log

    policy.require_role(session.actor, Role.ADMIN, "accept a rolled-back store")
    vault = session.vault
    found = vault.rollback
    if vault.witness is None or found is None:
        raise PolicyError(
            "the store is not rolled back: its log extends the checkpoint this workstation has seen",
            field="rollback_none",
        )
    seen = found.seen
    with session.act("accept-rollback", session.ministry) as s:
        log.note(
            s,
            data={
                "seen_size": seen.size,
                "seen_root": seen.root.hex(),
                "seen_time": seen.time.astimezone(UTC).isoformat(),
                "log_size": found.log_size,
                "forked": found.forked,
                "via": via,
            },
        )
    with vault.db.read() as s:
        newest = newest_checkpoint(s, seen.store_id)
    if newest is None:
        raise StoreFileError("the store has no checkpoint after accepting the rollback; it is damaged")
    vault.rollback = None
    if not record_witness:
        return RollbackAccepted(seen, found.log_size, found.forked, newest)
    _record_quietly(vault, newest, replace=True)
    if vault.witness_problem:
        raise StoreFileError(vault.witness_problem)
    return RollbackAccepted(seen, found.log_size, found.forked, newest)


__all__ = [
    "Rollback",
    "RollbackAccepted",
    "RolledBack",
    "Seen",
    "Witness",
    "WitnessError",
    "accept_rollback",
    "after_commit",
    "check_at_open",
    "compare",
    "log_size",
    "newest_checkpoint",
    "when",
]
