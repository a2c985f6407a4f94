"""Raw baselines: the same work as Liaison done with the stdlib (sqlite3, hmac, json) and cryptography alone.

No SQLAlchemy, no service layer, no validation: the fastest straightforward way to do the job, so that the
ratio Liaison/raw says what Liaison's layers cost. Each function mirrors one Liaison path and is checked
against it (same rows, same tokens) by the suite before it is timed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import sqlite3
import unicodedata
import uuid as uuidlib
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

from store.ingest import IngestItem
from store.sqlite import _CONNECT_PRAGMAS as _LIAISON_PRAGMAS

_WORD = re.compile(r"\w+")
#: Exactly the pragmas every Liaison connection sets (durability, cache size, …): the same work, configured alike.
PRAGMAS = _LIAISON_PRAGMAS


def connect(path: Path) -> sqlite3.Connection:
    """A plain sqlite3 connection with the same pragmas Liaison sets (same durability, same work)."""
    con = sqlite3.connect(path, isolation_level=None)
    for pragma in PRAGMAS:
        con.execute(pragma)
    return con


_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


def _strip(run: re.Match[str]) -> str:
    return "".join(c for c in run.group() if not unicodedata.combining(c))


def _fold(text: str) -> str:
    """Case-fold and strip accents; ASCII text (most of it) takes the fast path."""
    if text.isascii():
        return text.lower()
    return _NON_ASCII.sub(_strip, unicodedata.normalize("NFKD", text)).casefold().replace("ı", "i")


_ASCII_NON_WORD = str.maketrans({chr(c): " " for c in range(128) if not (chr(c).isalnum() or chr(c) == "_")})


class Tokens:
    """HMAC-SHA256 blind-index tokens of distinct normalised words, with a per-run word→token cache."""

    def __init__(self, key: bytes) -> None:
        self.key = key
        self.cache: dict[str, str] = {}

    def text(self, *texts: str) -> str:
        distinct: set[str] = set()
        for t in texts:
            folded = _fold(t)
            distinct.update(folded.translate(_ASCII_NON_WORD).split() if folded.isascii() else _WORD.findall(folded))
        words = [w for w in distinct if 2 <= len(w) <= 64]
        out = list(map(self.cache.get, words))
        if None in out:
            cache, key = self.cache, self.key
            for i, w in enumerate(words):
                if out[i] is None:
                    out[i] = cache[w] = hmac.new(key, w.encode(), hashlib.sha256).digest()[:12].hex()
        out.sort()
        return " ".join(out)  # type: ignore[arg-type]


def _ts(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def ingest(path: Path, items: Iterable[IngestItem], fernet_key: bytes, index_key: bytes, batch: int = 1000) -> int:
    """Encrypt fields, compute tokens and insert records, parties, revisions, reviews and tokens in one transaction."""
    fernet = Fernet(fernet_key)
    tokens = Tokens(index_key)

    def seal(data: bytes) -> bytes:
        return base64.urlsafe_b64decode(fernet.encrypt(data))

    con = connect(path)
    con.execute("BEGIN IMMEDIATE")
    next_id = (con.execute("SELECT coalesce(max(id), 0) FROM records").fetchone()[0]) + 1
    seq: dict[tuple[str, int], int] = {}
    n = 0
    it = iter(items)
    while chunk := list(islice(it, batch)):
        records, parties, revisions, reviews, index = [], [], [], [], []
        for item in chunk:
            rid, next_id = next_id, next_id + 1
            key = (item.origin, item.created_at.year)
            seq[key] = seq.get(key, 0) + 1
            title_ct = seal(item.title.encode())
            created, updated = _ts(item.created_at), _ts(item.updated_at)
            records.append(
                (
                    rid,
                    f"{item.origin}-{key[1]}-{seq[key]:05d}",
                    str(uuidlib.uuid4()),
                    item.domain,
                    item.origin,
                    item.tlp,
                    item.status,
                    item.author,
                    created,
                    updated,
                    1,
                    int(item.no_reexport),
                    title_ct,
                )
            )
            parties.append((rid, item.origin, 1))
            parties.extend((rid, code, 0) for code in item.releasable_to if code != item.origin)
            body = json.dumps(
                {"notes": item.notes, "source": item.source, "summary": item.summary},
                separators=(",", ":"),
                ensure_ascii=False,
            ).encode()
            revisions.append(
                (rid, 1, updated, item.author, item.tlp, ",".join(item.releasable_to), title_ct, seal(body))
            )
            reviews.extend(
                (rid, who, action, _ts(at), seal(c.encode()) if c else None) for who, action, at, c in item.reviews
            )
            index.append((rid, tokens.text(item.title, item.summary)))
        con.executemany(
            "INSERT INTO records (id, reference, uuid, domain, origin, tlp, status, author, created_at, updated_at,"
            " revision, no_reexport, title_ct) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            records,
        )
        con.executemany("INSERT INTO record_parties (record_id, ministry, is_origin) VALUES (?,?,?)", parties)
        con.executemany(
            "INSERT INTO revisions (record_id, number, created_at, officer, tlp, releasable_to, title_ct, body_ct)"
            " VALUES (?,?,?,?,?,?,?,?)",
            revisions,
        )
        con.executemany(
            "INSERT INTO review_events (record_id, officer, action, at, comment_ct) VALUES (?,?,?,?,?)", reviews
        )
        con.executemany("INSERT INTO search_index (rowid, tokens) VALUES (?,?)", index)
        n += len(chunk)
    con.execute("COMMIT")
    con.close()
    return n


def page(con: sqlite3.Connection, fernet: Fernet, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """One page: run the query, fetch the recipients of its rows, decrypt each title."""
    rows = con.execute(sql, params).fetchall()
    ids = [r[0] for r in rows]
    recipients: dict[int, list[str]] = {i: [] for i in ids}
    if ids:
        marks = ",".join("?" * len(ids))
        for rid, code in con.execute(
            f"SELECT record_id, ministry FROM record_parties WHERE record_id IN ({marks})"
            f" AND is_origin = 0 ORDER BY ministry",
            ids,
        ):
            recipients[rid].append(code)
    return [(*r[:-1], tuple(recipients[r[0]]), fernet.decrypt(base64.urlsafe_b64encode(r[-1])).decode()) for r in rows]
