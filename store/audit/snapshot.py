"""What the log signs of a row: a record's state after an action, an officer's row, a contact.

`record_states` loads many records' states in a few queries per 5,000 records (`build_state` from rows a caller
already holds); a damage check (`store.audit.state`) compares the stored rows, read the same way, with the
latest signed event.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from json.encoder import encode_basestring
from typing import Any

from sqlalchemy.orm import Session as OrmSession

from crypto.checkpoint import format_time
from crypto.events import event_bytes
from store import sqlite as dialect
from store.models import Contact, Officer, Record, Revision

#: What an export carries of a record besides its state: created and updated times, and its current revision's
#: title and body ciphertexts.
Contents = tuple[datetime, datetime, bytes, bytes]

#: How many ids one `IN (…)` query carries.
CHUNK = 5000


def _intern(value: Any) -> Any:
    """The one shared copy of a short repeated text (a code, a status, a name); anything else as it is."""
    return sys.intern(value) if type(value) is str else value


def sha256_hex(data: bytes | None) -> str | None:
    """Hex SHA-256 of a ciphertext, None for none; for a value that is not bytes (text or a number written into a
    ciphertext column in the file) a marker that no signed hash equals, so the record is named as damaged."""
    if data is None:
        return None
    if not isinstance(data, bytes | bytearray | memoryview):
        return f"not a ciphertext ({type(data).__name__})"
    return hashlib.sha256(data).hexdigest()


def iso(moment: datetime | date | None) -> str | None:
    """RFC 3339 UTC text of a stored time (naive values are UTC, as the store keeps them)."""
    if moment is None:
        return None
    if not isinstance(moment, datetime):
        return moment.isoformat()
    if (moment.tzinfo is None or moment.tzinfo is UTC) and moment.year >= 1000:  # `format_time`'s text, faster
        naive = moment if moment.tzinfo is None else moment.replace(tzinfo=None)
        return naive.isoformat("T", "microseconds" if naive.microsecond else "seconds") + "Z"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return format_time(moment)


def chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def reviews_digest(rows: Iterable[tuple[str, str, datetime, bytes | None]]) -> tuple[int, str]:
    """(count, SHA-256) of a record's review rows in order: officer, step, time and the comment's ciphertext hash:
    of the canonical JSON of {"reviews": [[officer, step, time, hash], ...]}, written out directly for the rows'
    usual types (the same bytes, a test holds them equal) and by `event_bytes` otherwise."""
    rows = list(rows)
    if not rows:
        return _NO_REVIEWS
    parts: list[bytes] = []
    for who, what, at, ct in rows:
        if type(who) is not str or type(what) is not str or not (ct is None or type(ct) is bytes):
            break
        moment = iso(at)
        parts.append(
            b"[%s,%s,%s,%s]"
            % (
                _json_text(who),
                _json_text(what),
                b"null" if moment is None else _json_text(moment),
                b"null" if ct is None else b'"%s"' % hashlib.sha256(ct).hexdigest().encode(),
            )
        )
    else:
        return len(rows), hashlib.sha256(b'{"reviews":[%s]}' % b",".join(parts)).hexdigest()
    items = [[who, what, iso(at), sha256_hex(ct)] for who, what, at, ct in rows]
    return len(items), hashlib.sha256(event_bytes({"reviews": items})).hexdigest()


#: The digest of no review rows (most records of a bulk import or a counterpart's bundle have none).
_NO_REVIEWS = (0, hashlib.sha256(event_bytes({"reviews": []})).hexdigest())


#: The revision columns `revision_digest` covers, in its argument order: every query that feeds it selects these.
REVISION_DIGEST_COLUMNS = (
    Revision.number,
    Revision.officer,
    Revision.tlp,
    Revision.releasable_to,
    Revision.created_at,
    Revision.title_ct,
    Revision.body_ct,
)


def _json_text(text: str) -> bytes:
    """A string as canonical JSON writes it (`ensure_ascii=False`: quotes, backslashes and controls escaped)."""
    return encode_basestring(text).encode("utf-8")


def revision_digest(
    number: int, officer: str, tlp: str, releasable_to: str, created_at: datetime, title_ct: bytes, body_ct: bytes
) -> str:
    """SHA-256 of a revision row (its plaintext columns and ciphertext hashes): of the canonical JSON of
    {number, officer, tlp, releasable_to, created_at, title, body}, written out directly for the row's usual types
    (the same bytes, a test holds them equal) and by `event_bytes` otherwise."""
    return revision_hashes(number, officer, tlp, releasable_to, created_at, title_ct, body_ct)[0]


def revision_hashes(
    number: int, officer: str, tlp: str, releasable_to: str, created_at: datetime, title_ct: bytes, body_ct: bytes
) -> tuple[str, str | None]:
    """(`revision_digest` of the row, `sha256_hex` of its body ciphertext): the body hashed once for both."""
    if type(number) is int and type(officer) is str and type(tlp) is str and type(releasable_to) is str:
        at = iso(created_at)
        if at is not None and type(title_ct) is bytes and type(body_ct) is bytes:
            body = hashlib.sha256(body_ct).hexdigest()
            return hashlib.sha256(
                b'{"body":"%s","created_at":%s,"number":%d,"officer":%s,"releasable_to":%s,"title":"%s","tlp":%s}'
                % (
                    body.encode(),
                    _json_text(at),
                    number,
                    _json_text(officer),
                    _json_text(releasable_to),
                    hashlib.sha256(title_ct).hexdigest().encode(),
                    _json_text(tlp),
                )
            ).hexdigest(), body
    body_hex = sha256_hex(body_ct)
    return hashlib.sha256(
        event_bytes(
            {
                "number": number,
                "officer": officer,
                "tlp": tlp,
                "releasable_to": releasable_to,
                "created_at": iso(created_at),
                "title": sha256_hex(title_ct),
                "body": body_hex,
            }
        )
    ).hexdigest(), body_hex


def build_state(
    *,
    uuid: str,
    reference: str,
    domain: str,
    origin: str,
    releasable_to: Iterable[str],
    tlp: str,
    status: str,
    author: str,
    revision: int,
    no_reexport: bool,
    title_ct: bytes,
    current: tuple[int, str, str, str, datetime, bytes, bytes] | None,
    reviews: Iterable[tuple[str, str, datetime, bytes | None]],
    withdrawn: bool,
    revision_sha256: str | None = None,
) -> dict[str, Any]:
    """A record's signed state: what its events carry and what a damage check compares.

    `revision_sha256`: the current revision row's digest when the caller has just computed it from the same row
    (`revision_digest(*current)`, which is computed here otherwise)."""
    count, digest = reviews_digest(reviews)
    body_sha256: str | None = None
    if current is not None:
        if revision_sha256 is None:
            revision_sha256, body_sha256 = revision_hashes(*current)
        else:
            body_sha256 = sha256_hex(current[6])
    # the few distinct codes and names are interned: an action queues one state per record until it ends
    return {
        "uuid": uuid,
        "reference": reference,
        "domain": _intern(domain),
        "origin": _intern(origin),
        "releasable_to": [_intern(code) for code in sorted(set(releasable_to) - {origin})],
        "tlp": _intern(tlp),
        "status": _intern(status),
        "author": _intern(author),
        "revision": int(revision),
        "no_reexport": bool(no_reexport),
        "title_sha256": sha256_hex(title_ct),
        "body_sha256": body_sha256,
        "revision_sha256": revision_sha256 if current is not None else None,
        "reviews": count,
        "reviews_sha256": digest,
        "withdrawn": bool(withdrawn),
    }


#: One query per chunk for the records and their current revision rows (a LEFT JOIN: a record without one has
#: NULLs there), read through the driver: SQLAlchemy's statement and row work cost more than the query at 100k.
_STATE_ROWS = (
    "SELECT r.id, r.uuid, r.reference, r.domain, r.origin, r.tlp, r.status, r.author, r.revision, r.no_reexport,"
    " r.title_ct, r.created_at, r.updated_at,"
    " v.id, v.number, v.officer, v.tlp, v.releasable_to, v.created_at, v.title_ct, v.body_ct"
    " FROM records r LEFT JOIN revisions v ON v.record_id = r.id AND v.number = r.revision"
    " WHERE r.id IN (SELECT value FROM json_each(?))"
)
#: The parties whose `is_origin` is exactly false or true (as `is_(False)` / `is_(True)` select them), the flag
#: as SQLite's 0 or 1.
_STATE_PARTIES = (
    "SELECT record_id, ministry, is_origin IS 1 FROM record_parties"
    " WHERE record_id IN (SELECT value FROM json_each(?)) AND (is_origin IS 0 OR is_origin IS 1)"
)
_STATE_REVIEWS = (
    "SELECT record_id, officer, action, at, comment_ct FROM review_events"
    " WHERE record_id IN (SELECT value FROM json_each(?)) ORDER BY id"
)
_STATE_WITHDRAWN = "SELECT record_uuid FROM withdrawals WHERE record_uuid IN (SELECT value FROM json_each(?))"


def record_states(
    s: OrmSession,
    ids: Sequence[int],
    *,
    revision_digests: Mapping[tuple[int, int], str] | None = None,
    contents: dict[int, Contents] | None = None,
) -> dict[int, dict[str, Any]]:
    """The signed-state dicts of the given records as stored now (four queries per 5,000 records).

    `revision_digests`: (record id, revision number) → `revision_digest` of that row, computed by the caller from
    the rows as they are in this transaction (`keys rotate` needs every revision's digest anyway).
    `contents`: filled, for each record with a current revision row, with what an export carries besides the
    state (`Contents`): read in the same queries, so the ciphertexts are the very ones the state hashes.

    The rows are read through the driver and their values converted as SQLAlchemy would (`dialect.reader`: the
    same times and booleans; a test holds the states equal to those built from the ORM's rows)."""
    out: dict[int, dict[str, Any]] = {}
    # after the ORM's pending changes are flushed, as its own queries would
    s.flush()
    conn = s.connection()
    time_of = dialect.reader(conn, Record.created_at)  # every time column here is a `UTCDateTime`
    # the times that only feed digests (through `iso`, the same text for a naive UTC time as for an aware one)
    digested_time = dialect.naive_time_reader(conn)
    flag = dialect.reader(conn, Record.no_reexport)
    for chunk in chunks(sorted(set(ids))):
        param = (json.dumps(list(chunk)),)
        recs: dict[int, tuple[Any, ...]] = {}
        currents: dict[int, tuple[int, str, str, str, datetime, bytes, bytes]] = {}
        for row in conn.exec_driver_sql(_STATE_ROWS, param).fetchall():
            recs[row[0]] = row
            if row[13] is not None:  # the current revision row (the last one read, were there two)
                number, officer, tlp, releasable_to, created_at, title_ct, body_ct = row[14:]
                currents[row[0]] = (number, officer, tlp, releasable_to, digested_time(created_at), title_ct, body_ct)
        parties: dict[int, list[str]] = {}
        origins: dict[int, set[str]] = {}
        for rid, code, is_origin in conn.exec_driver_sql(_STATE_PARTIES, param):
            if is_origin:
                origins.setdefault(rid, set()).add(code)
            else:
                parties.setdefault(rid, []).append(code)
        reviews: dict[int, list[tuple[str, str, datetime, bytes | None]]] = {}
        for rid, who, what, at, ct in conn.exec_driver_sql(_STATE_REVIEWS, param):
            reviews.setdefault(rid, []).append((who, what, digested_time(at), ct))
        uuids = [row[1] for row in recs.values()]
        withdrawn = {uuid for (uuid,) in conn.exec_driver_sql(_STATE_WITHDRAWN, (json.dumps(uuids),))}
        for rid, rec in recs.items():
            uuid, reference, domain, origin, tlp, status, author, revision, no_reexport, title_ct = rec[1:11]
            current = currents.get(rid)
            state = build_state(
                uuid=uuid,
                reference=reference,
                domain=domain,
                origin=origin,
                releasable_to=parties.get(rid, []),
                tlp=tlp,
                status=status,
                author=author,
                revision=revision,
                no_reexport=flag(no_reexport),
                title_ct=title_ct,
                current=current,
                reviews=reviews.get(rid, []),
                withdrawn=uuid in withdrawn,
                revision_sha256=revision_digests.get((rid, revision)) if revision_digests else None,
            )
            if contents is not None and current is not None:
                contents[rid] = (time_of(rec[11]), time_of(rec[12]), current[5], current[6])
            if origins.get(rid, set()) != {origin}:
                state["origin_party"] = sorted(origins.get(rid, set()))  # never equal to a signed state
            out[rid] = state
    return out


def officer_state(row: Officer) -> dict[str, Any]:
    """What the log signs of an officers row (a later unlock compares the row with it)."""
    return {
        "officer": row.name,
        "role": row.role,
        "signing_public": row.signing_public.hex() if row.signing_public else None,
        "slot_sha256": hashlib.sha256(row.slot.encode("utf-8")).hexdigest(),
        "grant_sha256": hashlib.sha256(row.grant.encode("utf-8")).hexdigest(),
        "revoked": row.revoked_at is not None,
    }


def contact_state(row: Contact) -> dict[str, Any]:
    """What the log signs of a contact (its keys by hash, its fingerprint)."""
    return {
        "code": row.code,
        "fingerprint": row.fingerprint,
        "signing_public": row.signing_public.hex(),
        "exchange_public": row.exchange_public.hex(),
        "name_sha256": hashlib.sha256(row.name.encode("utf-8")).hexdigest(),
    }
