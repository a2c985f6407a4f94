"""What a store's signed audit log recorded of its contacts' checkpoints (store/bundles/witness.py), read with
sqlite3 as a test (or an auditor) would."""

from __future__ import annotations

from tests.liaison_helpers import LiaisonStore


def received(store: LiaisonStore, peer: str) -> list[tuple[str, int]]:
    """(day received, tree size) of every checkpoint of `peer` the store's imports and receipts recorded."""
    return [
        (str(day), int(size))
        for day, size in store.sql(
            "SELECT substr(at, 1, 10), json_extract(CAST(body AS TEXT), '$.data.checkpoint.size') FROM audit_log "
            "WHERE action IN ('import', 'receipt') "
            "AND json_extract(CAST(body AS TEXT), '$.data.checkpoint.from') = ? ORDER BY seq",
            (peer,),
        )
    ]


def sent(store: LiaisonStore, peer: str) -> list[int]:
    """The tree sizes of the store's own log its bundles and receipts to `peer` carried, in order."""
    return [
        int(size)
        for (size,) in store.sql(
            "SELECT json_extract(CAST(body AS TEXT), '$.data.checkpoint_sent.size') FROM audit_log "
            "WHERE action IN ('export', 'receipt-write') "
            "AND json_extract(CAST(body AS TEXT), '$.data.checkpoint_sent.to') = ? ORDER BY seq",
            (peer,),
        )
    ]
