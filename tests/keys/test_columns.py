"""The list of ciphertext columns `keys rotate` re-encrypts, and the derived-key purposes revocation redoes, are complete."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

from sqlalchemy import Integer, LargeBinary

import store
from store.keys import CIPHERTEXT_COLUMNS, DERIVED_PURPOSES, NOT_CIPHERTEXT
from store.models import Base

ROOT = Path(__file__).resolve().parents[2]


def _all_models() -> None:
    for module in pkgutil.walk_packages(store.__path__, "store."):
        if ".migrations" not in module.name:
            importlib.import_module(module.name)


def test_every_binary_or_ct_column_is_listed_as_ciphertext_or_explained() -> None:
    _all_models()
    listed = {(c.table, c.column) for c in CIPHERTEXT_COLUMNS}
    missing = [
        f"{t.name}.{c.name}"
        for t in Base.metadata.sorted_tables
        for c in t.columns
        if (isinstance(c.type, LargeBinary) or c.name.endswith("_ct"))
        and (t.name, c.name) not in listed
        and (t.name, c.name) not in NOT_CIPHERTEXT
    ]
    assert not missing, f"add these to CIPHERTEXT_COLUMNS or NOT_CIPHERTEXT in store/keys.py: {missing}"


def test_every_listed_ciphertext_column_is_binary_and_walked_by_an_integer_key() -> None:
    _all_models()
    tables = Base.metadata.tables
    assert len({(c.table, c.column) for c in CIPHERTEXT_COLUMNS}) == len(CIPHERTEXT_COLUMNS)
    for c in CIPHERTEXT_COLUMNS:
        if c.table not in tables:
            continue  # a table of a later schema (listed ahead of its migration)
        table = tables[c.table]
        assert isinstance(table.c[c.column].type, LargeBinary), c
        assert isinstance(table.c[c.key].type, Integer) and table.c[c.key].primary_key, c


def test_every_purpose_a_key_is_derived_for_is_listed() -> None:
    purposes: set[str] = set()
    for directory in ("store", "crypto"):
        for path in (ROOT / directory).rglob("*.py"):
            purposes |= set(re.findall(r"derived\(\s*\"([a-z0-9-]+)\"", path.read_text(encoding="utf-8")))
    assert purposes, "the scan found no derived keys at all"
    assert purposes <= set(DERIVED_PURPOSES), f"list these in DERIVED_PURPOSES: {purposes - set(DERIVED_PURPOSES)}"
