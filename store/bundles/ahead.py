"""An export's records opened a batch ahead by a helper process (`crypto.export_pool`).

The export checks each batch's records against the log a batch before it writes them (`FullCheck.batch`, which
reads their states and, in the same queries, their ciphertexts and times): the tags it hands on are those of the
state just compared with each record's latest signed event, and the ciphertexts those the state hashes, so what
the bundle carries is what the log proves. While the export writes batch N, the helper decrypts, checks and
encodes batch N+1's records. A record the helper could not open or the format refuses, and every record once the
helper has failed or when there is none, is opened in the exporting process (`open_record`), with the same
errors as ever.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from crypto.bundle import format_time
from crypto.export_pool import ExportPool, PoolBroken, RecordTags
from store.keys.ahead import key_order
from store.vocab import Tlp

if TYPE_CHECKING:
    from store.service import Session

#: An export of fewer records does them all itself (a helper's start, ~0.1 s, is not worth it).
HELPER_FROM = 1000

#: A record to write: its tags and its current revision's title and body ciphertexts.
Content = tuple[RecordTags, bytes, bytes]


def tags_of(state: dict[str, Any], created_at: datetime, updated_at: datetime) -> RecordTags:
    """The tags a bundle record object carries, from a record's checked state (`store.audit.snapshot`)."""
    return RecordTags(
        state["uuid"],
        state["reference"],
        state["domain"],
        state["origin"],
        tuple(state["releasable_to"]),
        state["tlp"],
        bool(state["no_reexport"]) or state["tlp"] == Tlp.AMBER_STRICT.value,
        state["revision"],
        state["author"],
        format_time(created_at),
        format_time(updated_at),
    )


def _handable(tags: RecordTags, title_ct: Any, body_ct: Any) -> bool:
    """Whether a record's columns have the types the helper's request carries (any other is opened here)."""
    texts = (tags.uuid, tags.reference, tags.domain, tags.origin, tags.tlp, tags.author)
    return (
        all(type(t) is str for t in texts)
        and all(type(c) is str for c in tags.releasable_to)
        and type(tags.revision) is int
        and type(tags.created_at) is str
        and type(tags.updated_at) is str
        and type(title_ct) is bytes
        and type(body_ct) is bytes
    )


@dataclass
class OpenAhead:
    """The export's helper, a batch ahead (see the module's docstring); None when there is none.

    When the helper spends more CPU time on a batch than this process spends meanwhile on the batch before, this
    process keeps the last records of the next batches for itself, about as many as even the two out; fewer
    when the helper is the quicker: both cores kept busy, neither waiting on the other."""

    session: Session
    pool: ExportPool | None
    keep: int = 0  # how many of a batch's records (its last) this process opens itself
    _handed: list[int] = field(default_factory=list)  # the ids of the records the outstanding request holds
    _mark: tuple[float, float | None] = (0.0, None)  # when the request was handed, and the helper's CPU time then

    @classmethod
    def start(cls, session: Session, total: int) -> OpenAhead:
        """A helper for an export of `total` records (none below `HELPER_FROM`, or when it cannot start)."""
        return cls(session, ExportPool.start() if total >= HELPER_FROM else None)

    def hand(self, contents: dict[int, Content], ids: Sequence[int]) -> None:
        """Hand the helper, if any, the records `ids` (those of `contents`) but the last `keep`, to collect with
        `take`; the others are opened by this process."""
        if self.pool is None:
            return
        mine = min(self.keep, len(ids) * 3 // 4)
        self._handed = [rid for rid in ids[: len(ids) - mine] if rid in contents and _handable(*contents[rid])]
        try:
            self.pool.submit(key_order(self.session.keys()), [contents[rid] for rid in self._handed])
        except PoolBroken:
            self.close()
            return
        self._mark = (time.perf_counter(), self.pool.cpu_seconds())

    def take(self) -> dict[int, tuple[bytes, str]]:
        """The helper's encodings (and their hex SHA-256) of the records last handed, by id; none without it."""
        handed, self._handed = self._handed, []
        if self.pool is None or not self.pool.busy:
            return {}
        mine = time.perf_counter() - self._mark[0]  # this process's time on other work since it handed them
        try:
            results = self.pool.collect()
        except PoolBroken:
            self.close()
            return {}
        before, now = self._mark[1], self.pool.cpu_seconds()
        if handed and before is not None and now is not None and now > before:
            theirs = now - before
            each = theirs / len(handed)
            # a record moved from the helper to this process shortens the one's time and lengthens the other's by
            # about the same: the difference halved, and a third of that moved, as CPU times are noisy
            self.keep = max(0, self.keep + int((theirs - mine) / (2 * each) / 3))
        return {rid: got for rid, got in zip(handed, results, strict=True) if got is not None}

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()
            self.pool = None

    def __enter__(self) -> OpenAhead:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["HELPER_FROM", "Content", "OpenAhead", "tags_of"]
