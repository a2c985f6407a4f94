"""The rotation's helper processes a batch ahead (`crypto.rekey_pool`): while the rotating process re-encrypts and
writes batch N, they re-encrypt batch N+1's tokens, read ahead and handed in one request; batch N+1 then uses a
result only for a row whose token is still the one handed. Also how a records batch is delimited and read, which the batch itself (`store.keys.rekey`) uses too.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, select

from crypto.helper_process import PoolBroken
from crypto.keyring import Keyring
from crypto.rekey_pool import RekeyPool, Result
from store.keys.columns import CiphertextColumn
from store.keys.job import column_table

#: A column's tokens the helpers re-encrypted: row key → (the token handed, what came back).
Done = dict[int, tuple[bytes, Result]]


def key_order(keys: Keyring) -> list[bytes]:
    """The data keys as the helpers take them: the current one first, then the older ones, newest first."""
    versions = sorted((v for v in keys.data_keys if v != keys.current_version), reverse=True)
    return [keys.data_keys[v] for v in [keys.current_version, *versions]]


def in_range(column: Any, after: int, last: int | None) -> Any:
    """`column` in (`after`, `last`], a batch's record ids (`last` None: no end, the job's last batch)."""
    return column > after if last is None else and_(column > after, column <= last)


def batch_range(conn: Connection, rec: CiphertextColumn, after: int, batch_rows: int) -> tuple[list[int], int | None]:
    """The ids of the records of the batch after record id `after`, and its range's end (None: the last batch's,
    which has no end, so a row tied to a record id no record has — edited in the file — is re-encrypted too)."""
    t = column_table(rec)
    ids = list(
        conn.execute(select(t.c[rec.key]).where(t.c[rec.key] > after).order_by(rec.key).limit(batch_rows)).scalars()
    )
    return ids, (ids[-1] if len(ids) == batch_rows else None)


def read_batch(
    conn: Connection, columns: list[CiphertextColumn], after: int, upper: int | None
) -> list[tuple[CiphertextColumn, Sequence[Any]]]:
    """Each record-tied column's rows (key, token, record id) of the records in (`after`, `upper`]."""
    read: list[tuple[CiphertextColumn, Sequence[Any]]] = []
    end = "" if upper is None else f" AND {{link}} <= {int(upper)}"
    for c in columns:
        if c.record is None:
            continue
        # names from CIPHERTEXT_COLUMNS only; the driver's rows, without the ORM's statement and row work
        link = f'"{c.record}"'
        rows = conn.exec_driver_sql(
            f'SELECT "{c.key}", "{c.column}", {link} FROM "{c.table}"'
            f' WHERE {link} > ?{end.format(link=link)} AND "{c.column}" IS NOT NULL',
            (int(after),),
        ).fetchall()
        read.append((c, rows))
    return read


#: A Fernet re-encryption of a 1.5 KB token in this process (38 us measured on the bench machine): what moving one
#: token from the helpers to this process is taken to cost, to size the share this process keeps.
_TOKEN_S = 40e-6
#: A difference between the helpers' CPU time for a batch and this process's meanwhile below which the share
#: this process keeps is left as it is.
_SLACK_S = 0.002


@dataclass
class _Handed:
    """What one request to the helpers held: the keys, each column's tokens by row key; and, once collected, what
    came back."""

    keys: list[bytes]
    tokens: dict[tuple[str, str], list[tuple[int, bytes]]]
    kept: int = 0  # the batch's tokens this process keeps (done inline)
    cpu: tuple[float, float | None] = (0.0, None)  # this process's and the helpers' CPU time when handed
    ahead: bool = False  # handed during the batch before (the first batch is handed at its own start)
    done: dict[tuple[str, str], Done] | None = None


class Helpers:
    """The rotation's helper processes (`crypto.rekey_pool`), if any, a batch ahead of this process: while it
    re-encrypts and writes batch N, they re-encrypt batch N+1's tokens (read ahead, in one request); batch N+1 then
    uses a result only for a row whose token is still the one handed — anything written in between is done here. The first batch is handed at its start.
    When the helpers spend more CPU time on a batch than this process spends meanwhile, it keeps the last tokens
    of the next batches for itself, about as many as even the two out (and hands them back the same way): CPU
    time, not the wait, so that other work on the machine does not move the share.
    On any failure of theirs this process does the work itself, from then on."""

    def __init__(self, pool: RekeyPool | None) -> None:
        self.pool = pool
        self._out: _Handed | None = None  # handed, not yet collected
        self._got: _Handed | None = None  # collected: what the current batch uses
        self.keep = 0  # how many of a batch's tokens this process keeps for itself
        self.waited = 0.0  # seconds this process waited on the helpers, in all

    def _hand(self, keys: Keyring, read: list[tuple[CiphertextColumn, Sequence[Any]]]) -> None:
        if self.pool is None:
            return
        tokens = {(c.table, c.column): [(int(row[0]), bytes(row[1])) for row in rows] for c, rows in read}
        total = sum(len(pairs) for pairs in tokens.values())
        kept = min(self.keep, total // 2)
        left = kept
        for column in reversed(list(tokens)):  # the last tokens kept: this process re-encrypts what is not handed
            cut = min(left, len(tokens[column]))
            if cut:
                tokens[column] = tokens[column][:-cut]
                left -= cut
        handed = _Handed(key_order(keys), tokens, kept, (time.process_time(), self.pool.cpu_seconds()))
        try:
            self.pool.submit(handed.keys, [token for pairs in handed.tokens.values() for _, token in pairs])
        except PoolBroken:
            self.close()
            return
        self._out = handed

    def start(self, keys: Keyring, read: list[tuple[CiphertextColumn, Sequence[Any]]]) -> None:
        """At a batch's start: hand it to the helpers unless the previous batch already handed it ahead."""
        self._got = None
        if self.pool is not None and self._out is None and read:
            self._hand(keys, read)

    def ahead(
        self, conn: Connection, keys: Keyring, columns: list[CiphertextColumn], after: int, batch_rows: int
    ) -> None:
        """Hand the helpers the batch after record id `after` (read now) while this process finishes this one."""
        if self.pool is None or self._out is not None:
            return
        rec = next((c for c in columns if c.record == "id"), None)
        if rec is None:
            return
        ids, upper = batch_range(conn, rec, after, batch_rows)
        if ids:
            self._hand(keys, read_batch(conn, columns, after, upper))
            if self._out is not None:
                self._out.ahead = True

    def _collect(self) -> None:
        """Read back what was handed (this batch's work)."""
        handed, self._out = self._out, None
        if handed is None or self.pool is None:
            return
        wall, cpu = time.perf_counter(), time.thread_time()
        try:
            results = self.pool.collect()
        except PoolBroken:
            self.close()
            return
        self.waited += max(0.0, (time.perf_counter() - wall) - (time.thread_time() - cpu))  # blocked, not reading
        mine, theirs = time.process_time() - handed.cpu[0], self.pool.cpu_seconds()
        if handed.ahead and theirs is not None and handed.cpu[1] is not None:
            # a quarter of the difference moves (this process's share grows by what the helpers' shrinks, so half
            # would even it out; a quarter, because CPU times on a shared machine are noisy)
            excess = (theirs - handed.cpu[1]) / self.pool.size - mine
            if abs(excess) > _SLACK_S:
                total = len(results) + handed.kept
                self.keep = max(0, min(total // 4, handed.kept + int(excess / _TOKEN_S / 4)))
        if len(results) != sum(len(p) for p in handed.tokens.values()):
            self.close()
            return
        handed.done, at = {}, 0
        for column, pairs in handed.tokens.items():
            handed.done[column] = {key: (token, results[at + i]) for i, (key, token) in enumerate(pairs)}
            at += len(pairs)
        self._got = handed

    def done(self, keys: Keyring, table: str, column: str) -> Done | None:
        """The helpers' re-encryptions of one column's tokens in this batch (collected by `settle`), under the keys
        in use now (None: none)."""
        got = self._got
        if got is None or got.done is None or got.keys != key_order(keys):
            return None  # another process rotated again in between: those results are under an older key
        return got.done.get((table, column))

    def settle(self) -> None:
        """Leave the pipes empty (a batch that failed part-way reads back what it handed)."""
        self._collect()

    def close(self) -> None:
        self._out = self._got = None
        if self.pool is not None:
            self.pool.close()
            self.pool = None


__all__ = ["Done", "Helpers", "batch_range", "in_range", "key_order", "read_batch"]
