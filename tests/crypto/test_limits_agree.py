"""The store and the bundle format agree on labels, limits and patterns (crypto/bundle/limits.py is the one definition).

A record the store accepts must be one a bundle can carry, and a label the format carries must be one the
store knows: if either side changes alone, a test here fails.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from types import ModuleType

import pytest

import store
from crypto.bundle import limits
from store import vocab


def store_modules() -> list[ModuleType]:
    """Every module of the `store` package (sub-packages included, migrations excluded)."""
    found = [store]
    for info in pkgutil.walk_packages(store.__path__, "store."):
        if ".migrations" not in info.name:
            found.append(importlib.import_module(info.name))
    return found


def test_tlp_labels_are_the_stores_tlp_values_in_the_same_order() -> None:
    assert tuple(t.value for t in vocab.Tlp) == limits.TLP_LABELS


@pytest.mark.parametrize("name", ["MAX_TITLE", "MAX_TEXT"])
def test_store_text_limits_are_the_formats(name: str) -> None:
    """Every store module that names a title/text limit uses the format's value (today: imported from limits)."""
    holders = {m.__name__: getattr(m, name) for m in store_modules() if hasattr(m, name)}
    assert holders, f"no store module defines {name}: the store no longer bounds what a bundle bounds"
    assert set(holders.values()) == {getattr(limits, name)}, holders


CODES = [
    "PK-MOI",
    "TR-MOI",
    "PK-NDMA",
    "PK-ABCDEFGHIJKL",
    "PK-ABCDEFGHIJKLM",
    "PK-M",
    "pk-moi",
    "PK-MOI\n",
    "PK_MOI",
    "PK-MOİ",
    "P-MOI",
    "PKK-MOI",
    "PK-M0I",
    "PK-",
]
DOMAINS = [
    "narcotics",
    "human-smuggling",
    "a",
    "ab",
    "a" * 40,
    "a" * 41,
    "1abc",
    "Narcotics",
    "narcotics\n",
    "cyber_crime",
    "coast-guard-2",
]


def _same(store_pattern: re.Pattern[str], format_pattern: re.Pattern[str], samples: list[str]) -> list[str]:
    return [s for s in samples if bool(store_pattern.fullmatch(s)) != bool(format_pattern.fullmatch(s))]


def test_ministry_codes_are_the_same_pattern() -> None:
    assert _same(vocab.MINISTRY_CODE, limits.CODE, CODES) == []
    assert max(len(c) for c in CODES if limits.CODE.fullmatch(c)) <= limits.MAX_CODE


def test_domain_slugs_are_the_same_pattern() -> None:
    assert _same(vocab.DOMAIN_SLUG, limits.DOMAIN, DOMAINS) == []
    assert max(len(d) for d in DOMAINS if limits.DOMAIN.fullmatch(d)) <= limits.MAX_DOMAIN


def test_officer_names_fit_the_author_field() -> None:
    """The longest officer name the store accepts is a valid bundle author."""
    longest = "a" * 32
    assert vocab.OFFICER_NAME.fullmatch(longest) and not vocab.OFFICER_NAME.fullmatch(longest + "a")
    assert len(longest) <= limits.MAX_AUTHOR


def test_store_references_match_the_format() -> None:
    """The store allocates `<code>-<year>-<5+ digits>`; the format accepts exactly that shape."""
    for code in ("PK-MOI", "PK-ABCDEFGHIJKL"):
        for number in (1, 99_999, 123_456_789):
            reference = f"{code}-2026-{number:05d}"
            assert limits.REFERENCE.fullmatch(reference) and len(reference) <= limits.MAX_REFERENCE


def test_ministry_names_fit_a_card() -> None:
    """A ministry name is stored in a 200-character column; a card carries the same length."""
    from store.models import Contact, Ministry

    assert Ministry.__table__.c.name.type.length == limits.MAX_MINISTRY_NAME
    assert Contact.__table__.c.name.type.length == limits.MAX_MINISTRY_NAME
