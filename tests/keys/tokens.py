"""Reading every ciphertext of a store file directly, as the key-lifecycle tests check them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from crypto.keyring import Keyring
from store.keys import CIPHERTEXT_COLUMNS

Cell = tuple[str, str, int]


def all_tokens(path: Path) -> dict[Cell, bytes]:
    """Every token in every listed ciphertext column, by (table, column, row key)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        out: dict[Cell, bytes] = {}
        for c in CIPHERTEXT_COLUMNS:
            if c.table in tables:
                query = f"SELECT {c.key}, {c.column} FROM {c.table} WHERE {c.column} IS NOT NULL"
                for key, token in conn.execute(query):
                    out[(c.table, c.column, key)] = bytes(token)
        return out
    finally:
        conn.close()


def decrypt_all(tokens: dict[Cell, bytes], keyring: Keyring) -> dict[Cell, bytes]:
    """Every token decrypted (raises on the first that does not authenticate)."""
    return {cell: keyring.decrypt(token) for cell, token in tokens.items()}
