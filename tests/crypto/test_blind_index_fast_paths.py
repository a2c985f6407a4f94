"""The blind index's fast paths (ASCII folding, translate+split, bulk cache look-ups) give exactly the tokens of the plain definition."""

from __future__ import annotations

import hashlib
import hmac
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from crypto.blind_index import MAX_WORD_LENGTH, MIN_WORD_LENGTH, TOKEN_BYTES, BlindIndexer, normalise

KEY = b"k" * 32


def _letterlike_symbol(ch: str) -> bool:
    """A non-ASCII separator (not a mark) that NFKD turns into word characters: ₨, №, ™, ㎏."""
    import re

    return (
        not ch.isascii()
        and not re.match(r"\w", ch)
        and not unicodedata.category(ch).startswith("M")
        and bool(re.search(r"\w", unicodedata.normalize("NFKD", ch)))
    )


def reference_normalise(text: str) -> str:
    text = "".join(f" {ch} " if _letterlike_symbol(ch) else ch for ch in text)  # kept apart from their neighbours
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold().replace("ı", "i")


def reference_tokens(*texts: str) -> list[str]:
    import re

    distinct: set[str] = set()
    for text in texts:
        distinct |= {
            w
            for w in re.findall(r"\w+", reference_normalise(text))
            if MIN_WORD_LENGTH <= len(w) <= MAX_WORD_LENGTH and w != "_"
        }
    return sorted(hmac.new(KEY, w.encode(), hashlib.sha256).digest()[:TOKEN_BYTES].hex() for w in distinct)


TRICKY = [
    "",
    "a b c _ __ ___",
    "İstanbul ISTANBUL istanbul ıstanbul",
    "Çağrı Şahin, Gölcük — naïve café, Ørsted, Straße",
    "ﬁsh ½ Ⅻ ẞ ǅ ㎏ ①",
    "پاکستان کراچی ۱۲۳ 123",
    "tab\there new\nline\x1cfile\x1dgroup\x0bvt\x0cff comma,semi;colon:dash-dot.quote'\"",
    "z" * MAX_WORD_LENGTH + " " + "y" * (MAX_WORD_LENGTH + 1) + " x1 _x x_",
    "e\u0301 E\u0301TE\u0301 a\u0308\u0308b",
]
TEXT = st.text(alphabet=st.sampled_from([*list("ab_ ZY9.,-\t\n\x1c'İıçÇşğüé́̈½ﬁ۱پ"), "\u2028", "\xa0"]), max_size=120)


def test_tricky_texts_match_the_plain_definition() -> None:
    indexer = BlindIndexer(KEY)
    for text in TRICKY:
        assert normalise(text) == reference_normalise(text)
        assert indexer.tokens(text) == reference_tokens(text)
        assert indexer.tokens(text, "second " + text) == reference_tokens(text, "second " + text)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(TEXT, st.text(max_size=60)), min_size=1, max_size=3))
def test_any_text_matches_the_plain_definition(texts: list[str]) -> None:
    indexer = BlindIndexer(KEY)
    for text in texts:
        assert normalise(text) == reference_normalise(text)
    assert indexer.tokens(*texts) == reference_tokens(*texts)
    assert indexer.tokens(*texts) == reference_tokens(*texts)  # second time from the word→token cache
    assert indexer.tokens_text(texts) == " ".join(reference_tokens(*texts))
