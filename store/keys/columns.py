"""What the key lifecycle works over: every column holding a token under the data key (`CIPHERTEXT_COLUMNS`, the
one list `keys rotate` re-encrypts), the binary columns that hold none, every purpose a key is derived for from
the master secret, the batch size and the progress callback's type.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, inspect

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class CiphertextColumn:
    """A column holding Fernet tokens under the data key, walked in the order of its integer key.

    `record` names the column that ties a row to its record (`id` for the records table itself): such rows are
    re-encrypted together with their record, batch by batch of records, so each record changes once per job.
    """

    table: str
    key: str
    column: str
    record: str | None = None


#: Every column that holds a token under the store's data key: what `keys rotate` re-encrypts. The one list;
#: tests/keys/test_columns.py fails when a model gains a `_ct` or binary column that is in neither this list
#: nor `NOT_CIPHERTEXT`. A listed table that does not exist yet (an older schema) is skipped.
CIPHERTEXT_COLUMNS: tuple[CiphertextColumn, ...] = (
    CiphertextColumn("records", "id", "title_ct", record="id"),
    CiphertextColumn("revisions", "id", "title_ct", record="record_id"),
    CiphertextColumn("revisions", "id", "body_ct", record="record_id"),
    CiphertextColumn("review_events", "id", "comment_ct", record="record_id"),
    CiphertextColumn("withdrawals", "id", "reason_ct", record="record_id"),
    CiphertextColumn("jwg_meetings", "id", "venue_ct"),
    CiphertextColumn("jwg_meetings", "id", "minutes_ct"),
    CiphertextColumn("jwg_agenda", "id", "text_ct"),
    CiphertextColumn("jwg_actions", "id", "title_ct"),
    CiphertextColumn("jwg_actions", "id", "note_ct"),
    CiphertextColumn("jwg_packs", "id", "text_ct"),
    CiphertextColumn("audit_log", "seq", "detail_ct"),
)

#: Binary columns that hold no ciphertext, and what they hold instead.
NOT_CIPHERTEXT: dict[tuple[str, str], str] = {
    ("contacts", "signing_public"): "a contact's public signing key",
    ("contacts", "exchange_public"): "a contact's public exchange key",
    ("audit_log", "body"): "an audit event's canonical JSON (tags and hashes, never content)",
    ("audit_log", "signer"): "an officer's public signing key",
    ("officers", "signing_public"): "an officer's public signing key (also in the log's officer events)",
    ("audit_log", "sig"): "an Ed25519 signature",
    ("audit_log", "chain"): "a SHA-256 chain hash",
    ("audit_checkpoints", "root"): "a Merkle tree root",
    ("witness_seen", "root"): "the Merkle root of a counterpart's log, as its bundle showed it",
}

#: Every purpose the store derives a key for from the master secret (`Keyring.derived`), and what replacing the
#: master secret must redo for it. A test fails when `store/` derives a key for a purpose not listed here.
DERIVED_PURPOSES: dict[str, str] = {
    "search-index": "the blind index, rebuilt",
    "officers": "every officers row's MAC, re-derived",
    "policy": "the policy document's MAC, re-derived",
    "contacts": "every contact's MAC, re-derived",
    "key-job": "the MAC of an interrupted rotation's state, re-derived",
    "audit-chain": "unused by stored data (the log is signed, not keyed)",
}

BATCH_ROWS = 1000


def present_columns(conn: Connection) -> list[CiphertextColumn]:
    """The listed ciphertext columns whose table exists in this store."""
    tables = set(inspect(conn).get_table_names())
    return [c for c in CIPHERTEXT_COLUMNS if c.table in tables]


__all__ = [
    "BATCH_ROWS",
    "CIPHERTEXT_COLUMNS",
    "DERIVED_PURPOSES",
    "NOT_CIPHERTEXT",
    "CiphertextColumn",
    "Progress",
    "present_columns",
]
