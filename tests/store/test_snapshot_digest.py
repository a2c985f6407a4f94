"""The record states' fast encodings (`store.audit.snapshot.iso`, `revision_digest`, `reviews_digest`) give exactly the bytes of the
canonical-JSON definitions that every event signed so far used: the signed states of existing stores still match."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from crypto.checkpoint import format_time
from crypto.events import event_bytes
from store.audit.snapshot import iso, reviews_digest, revision_digest, revision_hashes, sha256_hex


def reference_iso(moment: datetime) -> str:
    """`iso` as first written: every time through `crypto.checkpoint.format_time`."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return format_time(moment)


def reference_digest(
    number: Any, officer: Any, tlp: Any, releasable_to: Any, created_at: datetime, title: bytes, body: bytes
) -> str:
    """`revision_digest` as first written: the canonical JSON of the row's fields."""
    return hashlib.sha256(
        event_bytes(
            {
                "number": number,
                "officer": officer,
                "tlp": tlp,
                "releasable_to": releasable_to,
                "created_at": reference_iso(created_at),
                "title": hashlib.sha256(title).hexdigest(),
                "body": hashlib.sha256(body).hexdigest(),
            }
        )
    ).hexdigest()


zones = st.sampled_from([None, UTC, UTC, timezone(timedelta(hours=3)), timezone(timedelta(hours=-11, minutes=-30))])
times = st.builds(
    lambda moment, zone: moment.replace(tzinfo=zone),
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
    zones,
)
texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",)))
#: A revision row's plaintext columns (number, officer, TLP, releasable-to, time), before its two ciphertexts.
ROW_COLUMNS = (st.integers(min_value=-(2**63), max_value=2**63) | st.booleans(), texts, texts, texts, times)


@given(times)
def test_iso_is_format_time(moment: datetime) -> None:
    assert iso(moment) == reference_iso(moment)


@given(*ROW_COLUMNS, st.binary(), st.binary())
def test_revision_digest_is_the_canonical_json_digest(
    number: int, officer: str, tlp: str, releasable_to: str, created_at: datetime, title: bytes, body: bytes
) -> None:
    assert revision_digest(number, officer, tlp, releasable_to, created_at, title, body) == reference_digest(
        number, officer, tlp, releasable_to, created_at, title, body
    )


def test_revision_digest_of_a_stored_row() -> None:
    """A row as the store reads it (aware UTC, microseconds or none, Turkish letters, quotes and controls)."""
    for at in (datetime(2026, 12, 6, 1, 2, 3, 4, tzinfo=UTC), datetime(2026, 12, 6, 1, 2, 3, tzinfo=UTC)):
        args = (3, 'ayşe "ö"\\\n\x7f\u2028', "AMBER+STRICT", "TR-MOI,UZ-MVD", at, b"t" * 80, b"b" * 1600)
        assert revision_digest(*args) == reference_digest(*args)


def reference_reviews(rows: list[tuple[Any, Any, Any, Any]]) -> tuple[int, str]:
    """`reviews_digest` as first written: the canonical JSON of the rows' fields."""
    items = [
        [who, what, None if at is None else reference_iso(at), None if ct is None else hashlib.sha256(ct).hexdigest()]
        for who, what, at, ct in rows
    ]
    return len(items), hashlib.sha256(event_bytes({"reviews": items})).hexdigest()


@given(st.lists(st.tuples(texts, texts, times | st.none(), st.binary() | st.none()), max_size=4))
def test_reviews_digest_is_the_canonical_json_digest(rows: list[tuple[str, str, datetime, bytes | None]]) -> None:
    assert reviews_digest(rows) == reference_reviews(rows)
    assert reviews_digest(iter(rows)) == reference_reviews(rows)  # any iterable, read once


def test_reviews_digest_of_stored_rows_and_unusual_types() -> None:
    """Rows as the store reads them (aware UTC, Turkish letters, quotes and controls, a comment or none), and
    values of other types (a memoryview comment, an integer officer), which take the canonical-JSON path."""
    at = datetime(2026, 12, 6, 1, 2, 3, 4, tzinfo=UTC)
    rows: list[tuple[Any, Any, Any, Any]] = [
        ('ayşe "ö"\\\n\x7f\u2028', "approve", at, b"c" * 120),
        ("bob", "return", datetime(2026, 12, 6, 1, 2, 3, tzinfo=UTC), None),
    ]
    assert reviews_digest(rows) == reference_reviews(rows)
    for odd in [(7, "approve", at, None), ("bob", "approve", at, memoryview(b"c"))]:
        assert reviews_digest([*rows, odd]) == reference_reviews([*rows, odd])


@given(*ROW_COLUMNS, st.binary() | st.none() | texts, st.binary() | st.none() | texts)
def test_revision_hashes_are_the_digest_and_the_body_hash(
    number: int, officer: str, tlp: str, releasable_to: str, created_at: datetime, title: Any, body: Any
) -> None:
    """The body is hashed once for both (`build_state` and `keys rotate` use the pair); any value, text included,
    gives the same pair as the two computed apart."""
    args = (number, officer, tlp, releasable_to, created_at, title, body)
    assert revision_hashes(*args) == (revision_digest(*args), sha256_hex(body))
    if isinstance(title, bytes) and isinstance(body, bytes):
        assert revision_hashes(*args)[0] == reference_digest(*args)
