"""The counterpart as witness (issue 11 point 6): every bundle and receipt carries its writer's newest signed
checkpoint and consistency proofs; the receiver refuses a log that forked, shrank or stopped sending them.

A store cannot see by itself that an older copy of it was put back (its own log is consistent); the workstation
witness (`store.audit.witness`) sees that only on the workstation that saw the newer log. A counterpart sees
every log that writes to it, so:

- **sending** (`outgoing`, `note_sent`): a v2 bundle or receipt to a contact carries this store's newest
  checkpoint note (`audit_checkpoints`, signed by the ministry identity key) and RFC 9162 consistency proofs
  from the tree sizes sent to that contact before (newest 32, from the log's Merkle leaves). The export's (or
  receipt's) own signed event records the size sent: `data.checkpoint_sent = {"to", "size"}`.
- **receiving** (`check_incoming`, `keep_incoming`): the note must name the sender's log, be signed by the
  key the bundle's signature verified with (after its key transitions), and extend the newest checkpoint
  received from that contact (a proof from that size, or the same root at the same size; an older checkpoint
  arriving late must be one received, or one a later proof covered). A contact that has sent a checkpoint
  never again gets a bundle or receipt without one accepted (a downgrade). The checkpoint accepted is part
  of the import's (or receipt's) own signed event: `data.checkpoint = {"from", "size", "root", "note",
  "proofs"}`.

What this store holds of a contact's log is therefore its own signed audit log: no table of its own that an
attacker with sqlite3 could empty or edit without `audit verify` and the log's checkpoint noticing. Each
event this module reads is checked (its signature, and that it sits at its own sequence number). A contact
card replaced out of band (`contacts add --replace`: `data.replaced` on its event) starts the witnessing
afresh. The rows are found through the log's `action` column: an edited column hides an event from this
query, and `audit verify` reports every such edit.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session as OrmSession

from crypto import bundle as fmt
from crypto.checkpoint import open_checkpoint
from crypto.errors import BadSignature, MalformedData
from crypto.events import leaf_input, verify_event
from crypto.identity import PublicIdentity
from crypto.merkle import consistency_proof, leaf_hash, verify_consistency
from store.audit import log as audit
from store.audit.timeline import OfficerTimeline
from store.errors import LiaisonError, TamperError
from store.models import AuditRow
from store.text import quote

#: A checkpoint origin: `liaison/<MINISTRY>/<store uuid>` (`store.audit.log.log_origin`).
_ORIGIN = re.compile(r"liaison/([A-Z]{2}-[A-Z0-9]{2,12})/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
#: The event data keys (on the export's, receipt's or import's own event).
SENT_KEY = "checkpoint_sent"
SEEN_KEY = "checkpoint"


class WitnessRefused(LiaisonError):
    """A counterpart's checkpoint that is missing, malformed, or not an extension of what was received."""


# ---- what this store sends --------------------------------------------------------------------------


@dataclass(frozen=True)
class Outgoing:
    """This store's newest checkpoint and the consistency proofs for one contact (nothing before the log has one)."""

    note: str | None
    size: int
    proofs: tuple[fmt.Proof, ...]


def _sent_sizes(s: OrmSession, peer: str) -> list[int]:
    """The tree sizes this store's bundles and receipts carried to `peer`, newest first (as its log recorded them)."""
    sizes: list[int] = []
    for (size,) in s.execute(
        text(
            "SELECT json_extract(CAST(body AS TEXT), '$.data.checkpoint_sent.size') FROM audit_log "
            "WHERE action IN ('export', 'receipt-write') "
            "AND json_extract(CAST(body AS TEXT), '$.data.checkpoint_sent.to') = :peer ORDER BY seq DESC"
        ),
        {"peer": peer},
    ):
        if isinstance(size, int) and size not in sizes:
            sizes.append(size)
    return sizes


def _acknowledged_size(s: OrmSession, peer: str) -> int:
    """The tree size carried by the newest of this store's bundles `peer` sent a receipt for (0: none).

    `peer` imported that bundle, so the checkpoint it holds of this log is at least that large, and is one this
    store sent it: proofs from smaller sizes would prove nothing it needs.
    """
    size = s.execute(
        text(
            "SELECT json_extract(CAST(body AS TEXT), '$.data.checkpoint_sent.size') FROM audit_log "
            "WHERE action = 'export' AND target = :peer "
            "AND json_extract(CAST(body AS TEXT), '$.data.bundle_id') IN "
            "(SELECT bundle_id FROM receipts WHERE peer = :peer) "
            "AND json_extract(CAST(body AS TEXT), '$.data.checkpoint_sent.to') = :peer "
            "ORDER BY seq DESC LIMIT 1"
        ),
        {"peer": peer},
    ).scalar_one_or_none()
    return size if isinstance(size, int) else 0


def leaf_hashes(s: OrmSession, size: int) -> list[bytes]:
    """The Merkle leaf hashes of the first `size` events of this store's log (as `store.audit.log` appends them)."""
    leaves = [
        leaf_hash(leaf_input(bytes(body), bytes(signer), bytes(sig)))
        for body, signer, sig in s.execute(
            select(AuditRow.body, AuditRow.signer, AuditRow.sig)
            .where(AuditRow.seq <= size)
            .order_by(AuditRow.seq)
            .execution_options(yield_per=4096)
        )
    ]
    if len(leaves) != size:
        raise TamperError(f"the audit log has {len(leaves):,} of the {size:,} events its checkpoint counts")
    return leaves


def outgoing(s: OrmSession, peer: str) -> Outgoing:
    """The checkpoint a bundle or receipt to `peer` carries, with proofs from the sizes last sent to it.

    Proofs start at the size of the newest bundle `peer` acknowledged with a receipt (it holds that one or a
    later one), so while receipts come back a bundle carries one or two proofs, not 32. A size sent before that
    is larger than the log now (this store was put back from an older copy) gets no proof: the contact will
    refuse the log as rolled back, which is what it is.
    """
    newest = audit.latest_checkpoint(s)
    if newest is None:
        return Outgoing(None, 0, ())
    size, note = int(newest.size), newest.note
    floor = _acknowledged_size(s, peer)
    earlier = [m for m in _sent_sizes(s, peer) if 0 < m < size and m >= floor][: fmt.MAX_PROOFS]
    if not earlier:
        return Outgoing(note, size, ())
    leaves = leaf_hashes(s, size)
    proofs = tuple(fmt.Proof(m, tuple(consistency_proof(m, leaves))) for m in sorted(earlier))
    return Outgoing(note, size, proofs)


def note_sent(s: OrmSession, peer: str, out: Outgoing) -> None:
    """Record in the action's signed event the size carried to `peer` (later proofs start from it)."""
    if out.note is not None:
        audit.note(s, data={SENT_KEY: {"to": peer, "size": out.size}})


# ---- what this store receives -----------------------------------------------------------------------


@dataclass(frozen=True)
class Incoming:
    """A contact's checkpoint, checked, to be recorded in the import's (or receipt's) event."""

    peer: str
    size: int
    root: bytes
    note: str
    proofs: tuple[fmt.Proof, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "from": self.peer,
            "size": self.size,
            "root": self.root.hex(),
            "note": self.note,
            "proofs": [p.to_json() for p in self.proofs],
        }


@dataclass(frozen=True)
class Received:
    """A contact's checkpoint as this store's log recorded it (event `seq`, on the day `at`)."""

    seq: int
    at: datetime
    size: int
    root: bytes
    origin: str
    proofs: dict[int, tuple[bytes, ...]]


def _origin(note: str) -> str:
    return note.split("\n", 1)[0]


def _replaced_since(s: OrmSession, peer: str) -> int:
    """The event of the last out-of-band replacement of `peer`'s card (0: never): witnessing restarts after it."""
    # by what the signed bodies say (a few hold `replaced`), not by the log's unsigned action and target columns:
    # another contact's replacement re-targeted to this one would have its earlier checkpoints ignored
    seq = s.execute(
        text(
            "SELECT max(seq) FROM audit_log WHERE instr(body, CAST('\"replaced\":' AS BLOB)) > 0 "
            "AND json_extract(CAST(body AS TEXT), '$.data.replaced') IS NOT NULL "
            "AND json_extract(CAST(body AS TEXT), '$.action') = 'contact-add' "
            "AND json_extract(CAST(body AS TEXT), '$.target') = :peer"
        ),
        {"peer": peer},
    ).scalar_one_or_none()
    return int(seq or 0)


def _received(s: OrmSession, peer: str) -> list[Received]:
    """Every checkpoint of `peer` this store's log recorded since its card was last replaced, oldest first."""
    out: list[Received] = []
    # found by what the signed bodies say, not by the log's unsigned action column (an edit there hid them, and
    # with them the fork or rollback they would show): a body holding a checkpoint names where it came from
    rows = s.execute(
        text(
            "SELECT seq, body, signer, sig FROM audit_log WHERE seq > :since "
            "AND instr(body, CAST('\"checkpoint\":{' AS BLOB)) > 0 "
            "AND json_extract(CAST(body AS TEXT), '$.data.checkpoint.from') = :peer "
            "AND json_extract(CAST(body AS TEXT), '$.action') IN ('import', 'receipt') ORDER BY seq"
        ),
        {"peer": peer, "since": _replaced_since(s, peer)},
    )
    timeline: OfficerTimeline | None = None
    for seq, body, signer, sig in rows:
        body, signer, sig = bytes(body), bytes(signer), bytes(sig)
        damaged = TamperError(
            f"the audit event that recorded {peer}'s checkpoint (#{seq}) was altered outside Liaison; "
            "run `liaison audit verify`"
        )
        if not verify_event(signer, body, sig):
            raise damaged
        try:
            obj = json.loads(body)
            cp = obj["data"][SEEN_KEY]
            if obj["seq"] != seq or cp["from"] != peer:
                raise damaged
            # signed by the key the log gave that officer then, not by any key written beside it
            timeline = timeline or OfficerTimeline.load(s)
            if timeline.key_problem(str(obj["officer"]), signer, seq) is not None:
                raise damaged
            proofs = {p.from_size: p.hashes for p in fmt.parse_proofs(cp["proofs"], "kept")} if cp["proofs"] else {}
            out.append(
                Received(
                    seq,
                    datetime.fromisoformat(obj["at"].replace("Z", "+00:00")).astimezone(UTC),
                    int(cp["size"]),
                    bytes.fromhex(cp["root"]),
                    _origin(cp["note"]),
                    proofs,
                )
            )
        except (KeyError, TypeError, ValueError, fmt.BundleError):
            raise damaged from None
    return out


def check_incoming(
    s: OrmSession, peer: str, key: PublicIdentity, note: str | None, proofs: tuple[fmt.Proof, ...], what: str
) -> Incoming | None:
    """Check a contact's checkpoint against the ones received before (None: it sent none, and never did).

    `key` is the contact's identity the bundle or receipt verified with (the new one after a key transition:
    its checkpoints are signed by the key that signs its bundles). WitnessRefused with field `forked` carries
    the one line issue 11 spells out.
    """
    seen = _received(s, peer)
    if note is None:
        if seen:
            raise WitnessRefused(
                f"the {what} from {peer} carries no checkpoint, but {peer} has sent its checkpoint since "
                f"{seen[0].at:%Y-%m-%d}; refusing a downgrade"
            )
        return None
    origin = _origin(note)
    match = _ORIGIN.fullmatch(origin)
    if match is None or match[1] != peer:
        raise WitnessRefused(f"the {what}'s checkpoint is not of {peer}'s log ({quote(origin)})")
    try:
        cp = open_checkpoint(note, origin, key.signing_public)
    except (MalformedData, BadSignature) as exc:
        raise WitnessRefused(f"the {what}'s checkpoint is refused: {exc}") from None
    if seen:
        held = max(seen, key=lambda r: (r.size, r.seq))  # the largest tree received (the latest of that size)
        forked = WitnessRefused(
            f"{peer}'s log is not an extension of the checkpoint received on {held.at:%Y-%m-%d} "
            "(forked or rolled back)",
            field="forked",
        )
        if held.origin != origin:
            raise forked
        by_size = {p.from_size: p.hashes for p in proofs}
        if cp.size >= held.size:
            hashes = by_size.get(held.size, ())
            if not verify_consistency(held.size, cp.size, held.root, cp.root, hashes):
                if cp.size > held.size and held.size not in by_size and len(proofs) == fmt.MAX_PROOFS:
                    raise WitnessRefused(
                        f"{peer}'s checkpoint cannot be checked against the one received on "
                        f"{held.at:%Y-%m-%d}: more than {fmt.MAX_PROOFS} of its bundles and receipts "
                        "did not reach this store; import the earlier ones first"
                    )
                raise forked
        elif not _late_is_consistent(seen, cp.size, cp.root):
            raise forked
    return Incoming(peer, cp.size, cp.root, note, proofs)


def _late_is_consistent(seen: Sequence[Received], size: int, root_hash: bytes) -> bool:
    """An older checkpoint arriving late: equal to one received, or proven a prefix by proofs that came later."""
    for row in seen:
        if row.size == size:
            return row.root == root_hash
    return any(
        row.size > size
        and size in row.proofs
        and verify_consistency(size, row.size, root_hash, row.root, row.proofs[size])
        for row in seen
    )


def keep_incoming(s: OrmSession, incoming: Incoming | None) -> None:
    """Record a checked checkpoint (and its proofs, for checkpoints that arrive late) in the action's signed event."""
    if incoming is not None:
        audit.note(s, data={SEEN_KEY: incoming.to_json()})


__all__ = [
    "Incoming",
    "Outgoing",
    "Received",
    "WitnessRefused",
    "check_incoming",
    "keep_incoming",
    "leaf_hashes",
    "note_sent",
    "outgoing",
]
