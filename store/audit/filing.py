"""Whether the log's events are filed under the records they are about.

An event's `record_uuid` column repeats the record its signed body is about, for queries: a record's damage check
reads its events by that column. The column is not in the signed leaf, so cutting it (NULL, or another record's
uuid) would hide a record's later events from that check and let an older signed state of the record pass for its
latest. `filing_problem` checks one event as a full pass reads it; `cut_from` finds, for a few records, the
events about them filed elsewhere without reading the whole log (`show`, the app's detail and browser pages).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session as OrmSession

from store.models import AuditRow
from store.text import said

#: What the canonical body of an event about no record holds.
NO_RECORD = b'"record":null'
#: References asked of the target index per statement (under SQLite's bound-parameter limit).
CHUNK = 900
#: The largest body an event about a record may have (`store.audit.log` refuses to append a larger one; a record
#: event is ~1 KB): `cut_from` skips larger bodies without reading them (a key rotation's batches, ~0.5 MB each).
MAX_RECORD_BODY = 256 * 1024


def filing_problem(seq: int, uuid: str | None, body: bytes) -> str | None:
    """Why an event is not filed under the record it is about, or None. Two substring checks on the canonical
    body: an event filed under no record has `"record":null`; one filed under a record names that record's uuid."""
    if uuid is None:
        if NO_RECORD not in body:
            return f"audit event #{seq}: its record column was edited: it is about a record but is not filed under it"
    elif b'"uuid":"' + uuid.encode("ascii", "replace") + b'"' not in body:
        return (
            f"audit event #{seq}: its record column was edited: it is filed under record {said(uuid[:36])}, not its own"
        )
    return None


def position_problem(seq: int, position: Any, before: int) -> str | None:
    """Why record event `seq`, with `before` events about its record ahead of it in the log, is out of place, or
    None. Its signed `position` is how many the log filed under the record when it was signed
    (`log.Positions`): fewer means events about the record were hidden from the record index then (an older
    state passed for its latest and was signed again), more that they are hidden now. An event from before
    positions were signed has none."""
    if position is None:
        return None
    if type(position) is not int:
        return f"its audit event #{seq} is malformed: its position is not a number"
    if position == before:
        return None
    return (
        f"its audit event #{seq} was signed after {position:,} events about it, but {before:,} come before it "
        "in the log: the log's record index was edited to hide events about it"
    )


def about(body: bytes) -> str | None:
    """The uuid of the record an event's body is about, or None when it names none (or is no event body)."""
    try:
        obj = json.loads(body)
    except ValueError:
        return None
    record = obj.get("record") if isinstance(obj, dict) else None
    uuid = record.get("uuid") if isinstance(record, dict) else None
    return uuid if isinstance(uuid, str) and uuid else None


def cut_from(s: OrmSession, records: Mapping[str, str]) -> dict[str, str]:
    """The records among `records` (uuid → reference) with an event about them filed elsewhere, each with why.

    Two index reads, not the whole log: the events filed under no record whose body is about one (the record
    index's NULL range, with SQLite's `instr` on the body: few rows, none in an intact log), and the events
    whose target is one of the references but which are filed under another record (the target index). An
    event cut from its record *and* re-targeted and filed under another record is left to `audit verify` and
    to exports, which read every event."""
    found: dict[str, str] = {}
    if not records:
        return found
    unfiled = select(AuditRow.seq, AuditRow.body).where(
        AuditRow.record_uuid.is_(None),
        func.length(AuditRow.body) <= MAX_RECORD_BODY,  # SQLite reads a blob's length without its bytes
        func.instr(AuditRow.body, NO_RECORD) == 0,
    )
    for seq, body in s.execute(unfiled.order_by(AuditRow.seq)):
        subject = about(bytes(body))
        if subject is not None and subject in records:
            found.setdefault(
                subject, f"audit event #{seq}: its record column was edited: it is about it but is not filed under it"
            )
    by_reference = {reference: uuid for uuid, reference in records.items()}
    references = sorted(by_reference)
    for i in range(0, len(references), CHUNK):
        query = (
            select(AuditRow.seq, AuditRow.target, AuditRow.record_uuid)
            .where(AuditRow.target.in_(references[i : i + CHUNK]), AuditRow.record_uuid.is_not(None))
            .order_by(AuditRow.seq)
        )
        for seq, target, filed in s.execute(query):
            uuid = by_reference.get(target)
            if uuid is None or filed == uuid or uuid in found:
                continue
            cut = s.scalar(select(AuditRow.body).where(AuditRow.seq == seq))
            if cut is not None and about(bytes(cut)) == uuid:
                found[uuid] = (
                    f"audit event #{seq}: its record column was edited: it is about it but is filed under "
                    f"record {said(filed)}"
                )
    return found


#: Verifies event signatures elsewhere while a damage check reads the states: given (seq, body, signer, signature)
#: each, it starts, and returns what then gives seq → whether it verifies (None: they are verified here).
SignatureChecks = Callable[[list[tuple[int, bytes, bytes, bytes]]], Callable[[], dict[int, bool] | None]]


def read_filed(
    s: OrmSession,
    uuids: Iterable[str],
    each: Callable[[int, str, str, bytes, bytes, bytes], None],
    misfiled: dict[str, str],
) -> None:
    """Each event filed under the records `uuids` (the log's record index), in log order, to `each` (seq, action,
    record uuid, body, signer, signature); an event whose signed body is about another record also names its
    record in `misfiled` (uuid → why; `filing_problem`)."""
    columns = (AuditRow.seq, AuditRow.action, AuditRow.record_uuid, AuditRow.body, AuditRow.signer, AuditRow.sig)
    wanted = sorted(uuids)
    for i in range(0, len(wanted), 900):
        query = select(*columns).where(AuditRow.record_uuid.in_(wanted[i : i + 900])).order_by(AuditRow.seq)
        for seq, action, uuid, body, signer, sig in s.execute(query):
            if uuid is None:
                continue
            why = filing_problem(int(seq), uuid, bytes(body))
            if why is not None:
                misfiled.setdefault(uuid, why)
            each(int(seq), action, uuid, bytes(body), bytes(signer), bytes(sig))


__all__ = [
    "MAX_RECORD_BODY",
    "SignatureChecks",
    "about",
    "cut_from",
    "filing_problem",
    "position_problem",
    "read_filed",
]
