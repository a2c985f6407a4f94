"""The records table's window onto a result set: a small LRU of decrypted pages and what to fetch next.

No `textual` here: the table asks which pages it lacks, the screen fetches them in a worker, the table
stores them. Keyset paging (`after=`) is used whenever the page before is at hand, offsets otherwise.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from store.records import RecordRow


@dataclass(frozen=True)
class PageRequest:
    """One page to fetch: by keyset cursor when the previous page is known, else by offset."""

    page: int
    offset: int
    after: tuple[datetime, int] | None = None


class PageCache:
    """Decrypted pages of one query, least recently used dropped first; stale pages are drawn until fresh ones arrive."""

    def __init__(self, page_size: int = 50, max_pages: int = 8) -> None:
        self.page_size = page_size
        self.max_pages = max(2, max_pages)
        self._pages: OrderedDict[int, Sequence[RecordRow]] = OrderedDict()
        self._stale: dict[int, Sequence[RecordRow]] = {}
        self.pending: frozenset[int] = frozenset()

    def ensure_capacity(self, rows: int) -> None:
        """Keep at least enough pages for `rows` consecutive rows (a window never evicts its own pages)."""
        self.max_pages = max(self.max_pages, -(-rows // self.page_size) + 1)

    def __len__(self) -> int:
        return len(self._pages)

    @property
    def decrypted_rows(self) -> int:
        """How many decrypted titles this cache holds (fresh and stale)."""
        return sum(len(p) for p in self._pages.values()) + sum(len(p) for p in self._stale.values())

    def clear(self) -> None:
        """Forget every decrypted row (new query, lock)."""
        self._pages.clear()
        self._stale.clear()
        self.pending = frozenset()

    def mark_stale(self) -> None:
        """The store changed: keep drawing what we have but fetch every page again."""
        self._stale = {**self._stale, **self._pages}
        self._pages.clear()
        self.pending = frozenset()

    def row(self, index: int) -> RecordRow | None:
        """The row at `index` of the result set, fresh or stale, or None when not fetched yet."""
        page, slot = divmod(index, self.page_size)
        rows = self._pages.get(page)
        if rows is not None:
            self._pages.move_to_end(page)
        else:
            rows = self._stale.get(page)
        if rows is None or slot >= len(rows):
            return None
        return rows[slot]

    def store(self, page: int, rows: Sequence[RecordRow]) -> None:
        """Keep a freshly fetched page, dropping the least recently used beyond the limit."""
        self._pages[page] = rows
        self._pages.move_to_end(page)
        self._stale.pop(page, None)
        self.pending = self.pending - {page}
        while len(self._pages) > self.max_pages:
            self._pages.popitem(last=False)

    def forget_pending(self) -> None:
        """A fetch failed: allow the pages it was fetching to be asked for again."""
        self.pending = frozenset()

    def wanted(self, first: int, last: int, total: int) -> list[PageRequest] | None:
        """Pages covering rows `first..last` that are neither fresh nor already being fetched.

        Returns None when nothing new is needed, otherwise every page of the range still missing (the
        caller replaces any fetch in flight with one for all of them) and marks them pending.
        """
        if total <= 0:
            return None
        first = max(0, first)
        last = min(last, total - 1)
        if last < first:
            return None
        needed = [p for p in range(first // self.page_size, last // self.page_size + 1) if p not in self._pages]
        if not needed or set(needed) <= self.pending:
            return None
        self.pending = frozenset(needed)
        return [self._request(p) for p in needed]

    def _request(self, page: int) -> PageRequest:
        previous = self._pages.get(page - 1)
        if previous is not None and len(previous) == self.page_size:
            last = previous[-1]
            return PageRequest(page=page, offset=0, after=(last.created_at, last.id))
        return PageRequest(page=page, offset=page * self.page_size)
