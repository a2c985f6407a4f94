"""`record_states` reads its rows through the driver: the states (and an export's contents) it gives are exactly
those built from SQLAlchemy's rows, on a store with every kind of row and with its plaintext columns edited oddly in
the file (what a damage check compares must not change with how it is read)."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session as OrmSession

from store import sqlite as dialect
from store.audit.snapshot import REVISION_DIGEST_COLUMNS, Contents, build_state, chunks, record_states
from store.models import Record, RecordParty, ReviewEvent, Revision
from tests.keys.conftest import unlock


def reference_states(
    s: OrmSession,
    ids: Sequence[int],
    *,
    revision_digests: Mapping[tuple[int, int], str] | None = None,
    contents: dict[int, Contents] | None = None,
) -> dict[int, dict[str, Any]]:
    """`record_states` as first written: SQLAlchemy statements and rows (the ORM's type conversions)."""
    from store.withdrawals import Withdrawal

    out: dict[int, dict[str, Any]] = {}
    # through the connection (the ORM's row loading is not needed for plain columns), after the ORM's pending
    # changes are flushed, as its own queries would
    s.flush()
    conn = s.connection()
    for chunk in chunks(sorted(set(ids))):
        recs = conn.execute(
            select(
                Record.id,
                Record.uuid,
                Record.reference,
                Record.domain,
                Record.origin,
                Record.tlp,
                Record.status,
                Record.author,
                Record.revision,
                Record.no_reexport,
                Record.title_ct,
                Record.created_at,
                Record.updated_at,
            ).where(dialect.in_values(Record.id, chunk))
        ).all()
        parties: dict[int, list[str]] = {}
        for rid, code in conn.execute(
            select(RecordParty.record_id, RecordParty.ministry).where(
                dialect.in_values(RecordParty.record_id, chunk), RecordParty.is_origin.is_(False)
            )
        ):
            parties.setdefault(rid, []).append(code)
        origins: dict[int, set[str]] = {}
        for rid, code in conn.execute(
            select(RecordParty.record_id, RecordParty.ministry).where(
                dialect.in_values(RecordParty.record_id, chunk), RecordParty.is_origin.is_(True)
            )
        ):
            origins.setdefault(rid, set()).add(code)
        currents: dict[int, tuple[int, str, str, str, datetime, bytes, bytes]] = {}
        for row in conn.execute(
            select(Revision.record_id, *REVISION_DIGEST_COLUMNS)
            .join(Record, and_(Record.id == Revision.record_id, Record.revision == Revision.number))
            .where(dialect.in_values(Revision.record_id, chunk))
        ):
            currents[row[0]] = tuple(row[1:])  # type: ignore[assignment]
        reviews: dict[int, list[tuple[str, str, datetime, bytes | None]]] = {}
        for rid, who, what, at, ct in conn.execute(
            select(
                ReviewEvent.record_id, ReviewEvent.officer, ReviewEvent.action, ReviewEvent.at, ReviewEvent.comment_ct
            )
            .where(dialect.in_values(ReviewEvent.record_id, chunk))
            .order_by(ReviewEvent.id)
        ):
            reviews.setdefault(rid, []).append((who, what, at, ct))
        uuids = [r.uuid for r in recs]
        withdrawn = set(
            conn.execute(
                select(Withdrawal.record_uuid).where(dialect.in_values(Withdrawal.record_uuid, uuids))
            ).scalars()
        )
        for r in recs:
            state = build_state(
                uuid=r.uuid,
                reference=r.reference,
                domain=r.domain,
                origin=r.origin,
                releasable_to=parties.get(r.id, []),
                tlp=r.tlp,
                status=r.status,
                author=r.author,
                revision=r.revision,
                no_reexport=r.no_reexport,
                title_ct=r.title_ct,
                current=currents.get(r.id),
                reviews=reviews.get(r.id, []),
                withdrawn=r.uuid in withdrawn,
                revision_sha256=revision_digests.get((r.id, r.revision)) if revision_digests else None,
            )
            current = currents.get(r.id)
            if contents is not None and current is not None:
                contents[r.id] = (r.created_at, r.updated_at, current[5], current[6])
            if origins.get(r.id, set()) != {r.origin}:
                state["origin_party"] = sorted(origins.get(r.id, set()))  # never equal to a signed state
            out[r.id] = state
    return out


def _states(path: Path, **kw: Any) -> tuple[dict[int, Any], dict[int, Any], dict[int, Any], dict[int, Any]]:
    session = unlock(path)
    try:
        with session.db.read() as s:
            ids = list(s.scalars(select(Record.id)))
            ids += [max(ids) + 5]  # an id no record has
            mine: dict[int, Contents] = {}
            theirs: dict[int, Contents] = {}
            return (
                record_states(s, ids, contents=mine, **kw),
                reference_states(s, ids, contents=theirs, **kw),
                mine,
                theirs,
            )
    finally:
        session.vault.close()


def test_states_and_contents_equal_those_from_sqlalchemys_rows(small_store: Path) -> None:
    mine, theirs, mine_contents, their_contents = _states(small_store)
    assert mine == theirs and mine_contents == their_contents
    assert len(mine) > 100 and any(state["reviews"] for state in mine.values())
    assert any(state["withdrawn"] for state in mine.values())


def test_states_equal_with_odd_rows_edited_in_the_file(small_store: Path) -> None:
    """Threat 6: flags other than 0 and 1, a record with no current revision, times in other spellings, duplicate
    and missing origin parties, a title that is text: read alike both ways (and so judged alike)."""
    conn = sqlite3.connect(small_store)
    conn.execute("PRAGMA foreign_keys = OFF")
    ids = [rid for (rid,) in conn.execute("SELECT id FROM records ORDER BY id")]
    conn.execute("UPDATE record_parties SET is_origin = 2 WHERE record_id = ? AND is_origin = 0", (ids[0],))
    conn.execute("UPDATE record_parties SET is_origin = -1 WHERE record_id = ? AND is_origin = 1", (ids[1],))
    conn.execute("UPDATE record_parties SET is_origin = 'x' WHERE record_id = ? AND is_origin = 0", (ids[2],))
    conn.execute("UPDATE records SET revision = 99 WHERE id = ?", (ids[3],))
    conn.execute("UPDATE records SET no_reexport = 5 WHERE id = ?", (ids[4],))
    conn.execute("UPDATE records SET no_reexport = '1' WHERE id = ?", (ids[5],))
    conn.execute("UPDATE revisions SET created_at = '2026-01-02 03:04:05' WHERE record_id = ?", (ids[6],))
    conn.execute("UPDATE revisions SET created_at = '2026-01-02T03:04:05.5+03:00' WHERE record_id = ?", (ids[7],))
    conn.execute("UPDATE records SET updated_at = '2026-01-02' WHERE id = ?", (ids[8],))
    conn.execute(
        "INSERT INTO record_parties (record_id, ministry, is_origin) SELECT record_id, 'UZ-MVD', 1"
        " FROM record_parties WHERE record_id = ? AND is_origin = 1",
        (ids[9],),
    )
    conn.execute("UPDATE records SET title_ct = 'text' WHERE id = ?", (ids[10],))
    conn.execute("UPDATE review_events SET at = '2026-03-04 05:06:07' WHERE id = (SELECT min(id) FROM review_events)")
    conn.commit()
    conn.close()
    mine, theirs, mine_contents, their_contents = _states(small_store)
    assert mine == theirs and mine_contents == their_contents
    assert "origin_party" in mine[ids[1]] and "origin_party" in mine[ids[9]]
    assert mine[ids[3]]["body_sha256"] is None and ids[3] not in mine_contents


def test_revision_digests_given_are_used(small_store: Path) -> None:
    session = unlock(small_store)
    try:
        with session.db.read() as s:
            rid, revision = s.execute(select(Record.id, Record.revision).limit(1)).one()
            given = {(rid, revision): "f" * 64}
            assert record_states(s, [rid], revision_digests=given) == reference_states(s, [rid], revision_digests=given)
            assert record_states(s, [rid], revision_digests=given)[rid]["revision_sha256"] == "f" * 64
    finally:
        session.vault.close()
