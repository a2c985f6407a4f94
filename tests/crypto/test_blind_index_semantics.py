"""What the blind index promises a user: case and accents do not matter, a word you can see in a record finds it,
word order and repetition are not kept, and the same word under two keys gives unrelated tokens."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto.blind_index import TOKEN_BYTES, BlindIndexer, normalise, words

KEY_A, KEY_B = b"a" * 32, b"b" * 32


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("istanbul", "İstanbul"),
        ("ISTANBUL", "İstanbul"),
        ("ıstanbul", "Istanbul"),
        ("kilicdag", "Kılıçdağ"),
        ("KILIÇDAĞ", "kılıçdağ"),
        ("cafe", "café"),
        ("cafe", "cafe\u0301"),  # decomposed accent
        ("strasse", "Straße"),
        ("fish", "ﬁsh"),
        ("250000", "₨250000"),  # the rupee sign is not part of the number
        ("no", "№"),
        ("acme", "Acme™"),
        ("کراچی", "کراچی"),
    ],
)
def test_case_accents_and_compatibility_forms_do_not_matter(typed: str, stored: str) -> None:
    indexer = BlindIndexer(KEY_A)
    query = indexer.query_tokens(typed)
    assert query
    assert set(query) <= set(indexer.tokens(f"Report: {stored}, seen twice."))


def visible_words(text: str) -> list[str]:
    """Words as a reader sees them: runs of letters, digits, underscores and the marks sitting on them."""
    out, current = [], ""
    for ch in text:
        if ch.isalnum() or ch == "_" or (current and unicodedata.category(ch).startswith("M")):
            current += ch
        else:
            if current:
                out.append(current)
            current = ""
    if current:
        out.append(current)
    return out


ALPHABET = st.sampled_from(
    list("abcxyzABCXYZ0189_ .,;:-'\"()/\t\n")
    + list("İıÇçŞşĞğÜüÖöâÂéÉßẞøØæ")
    + list("پکستانکراچی۱۲۳")
    + ["\u0301", "\u0308", "\u0327", "\u00a0", "\u2019", "\u2014", "\u2028"]
    + list("₨№™℡℃㎏①½²ﬁⒶ⁄")
)
TEXT = st.text(alphabet=ALPHABET, max_size=80)


@settings(max_examples=500, deadline=None)
@given(text=st.one_of(TEXT, st.text(max_size=60)))
def test_a_word_you_can_see_finds_the_record(text: str) -> None:
    indexer = BlindIndexer(KEY_A)
    indexed = set(indexer.tokens(text))
    for word in visible_words(text):
        query = indexer.query_tokens(word)
        assert set(query) <= indexed, (word, text)


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(TEXT, st.text(max_size=60)))
def test_normalising_twice_changes_nothing(text: str) -> None:
    once = normalise(text)
    assert normalise(once) == once
    assert words(once) == words(text)


@settings(max_examples=200, deadline=None)
@given(parts=st.lists(TEXT, min_size=1, max_size=5), seed=st.randoms(use_true_random=False))
def test_word_order_and_repetition_are_not_kept(parts: list[str], seed) -> None:  # type: ignore[no-untyped-def]
    indexer = BlindIndexer(KEY_A)
    shuffled = parts[:]
    seed.shuffle(shuffled)
    assert indexer.tokens(*parts) == indexer.tokens(*shuffled) == indexer.tokens(*parts, *parts)
    assert indexer.tokens(*parts) == sorted(indexer.tokens(*parts))
    assert indexer.tokens_text(parts) == " ".join(indexer.tokens(*parts))


@settings(max_examples=200, deadline=None)
@given(text=TEXT)
def test_two_keys_give_unrelated_tokens(text: str) -> None:
    a, b = BlindIndexer(KEY_A).tokens(text), BlindIndexer(KEY_B).tokens(text)
    assert len(a) == len(b) == len(words(text))
    assert not set(a) & set(b)
    assert all(re.fullmatch(f"[0-9a-f]{{{2 * TOKEN_BYTES}}}", t) for t in a)


def test_short_words_and_underscores_are_not_indexed() -> None:
    indexer = BlindIndexer(KEY_A)
    assert indexer.tokens("a b c _ 1 2 é") == []
    assert indexer.query_tokens("  ...  ") == []
    assert words("x" * 65 + " " + "y" * 64) == {"y" * 64}
