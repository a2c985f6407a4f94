"""Blind keyword index: HMAC tokens of normalised words, so the store can be searched without decrypting it.

What it leaks (documented in the README): equal words give equal tokens, so an attacker holding the file
learns which records share a word and how often each (unknown) word occurs — never the word itself.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import string
import unicodedata
from collections.abc import Iterable
from typing import cast

TOKEN_BYTES = 12
MIN_WORD_LENGTH = 2
MAX_WORD_LENGTH = 64
_WORD = re.compile(r"\w+", re.UNICODE)
_ASCII_WORD_CHARS = frozenset(string.ascii_letters + string.digits + "_")
#: Maps every ASCII character `\w` does not match to a space, so `split()` yields the words of ASCII text.
_ASCII_NON_WORD = str.maketrans({chr(c): " " for c in range(128) if chr(c) not in _ASCII_WORD_CHARS})
#: The one-character ASCII words, dropped from a set in one C-level operation.
_SHORT_WORDS = frozenset(_ASCII_WORD_CHARS)
_CACHE_LIMIT = 250_000
_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")
_NON_ASCII_NON_WORD = re.compile(r"[^\w\x00-\x7f]")
_SEPARATOR_FORM: dict[str, str] = {}


def _isolate_symbol(match: re.Match[str]) -> str:
    """A separator that NFKD turns into letters (₨ → Rs, № → No, ™ → TM) is kept apart from its neighbours, so
    "₨5000" still holds the word 5000 and "Acme™" the word acme; accents and other marks are left alone."""
    ch = match.group()
    form = _SEPARATOR_FORM.get(ch)
    if form is None:
        decomposed = unicodedata.normalize("NFKD", ch)
        keep = unicodedata.category(ch).startswith("M") or decomposed == ch or not _WORD.search(decomposed)
        form = _SEPARATOR_FORM[ch] = ch if keep else f" {ch} "
    return form


def _strip_combining(run: re.Match[str]) -> str:
    return "".join(ch for ch in run.group() if not unicodedata.combining(ch))


def normalise(text: str) -> str:
    """Fold case and strip accents (İstanbul, istanbul and ISTANBUL are one word)."""
    if text.isascii():  # the common case, ~100x faster: NFKD is the identity and casefold is lower()
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", _NON_ASCII_NON_WORD.sub(_isolate_symbol, text))
    stripped = _NON_ASCII_RUN.sub(_strip_combining, decomposed)  # only non-ASCII runs can hold combining marks
    return stripped.casefold().replace("ı", "i")


def words(text: str) -> set[str]:
    """The distinct normalised words of `text` that the index keeps."""
    return {w for w in _WORD.findall(normalise(text)) if MIN_WORD_LENGTH <= len(w) <= MAX_WORD_LENGTH and w != "_"}


class BlindIndexer:
    """Computes tokens under one index key, caching word→token so bulk ingest pays one HMAC per distinct word."""

    def __init__(self, key: bytes) -> None:
        self._key = key
        self._cache: dict[str, str] = {}

    def token(self, word: str) -> str:
        """The hex token of one already-normalised word."""
        cached = self._cache.get(word)
        if cached is None:
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            cached = hmac.new(self._key, word.encode("utf-8"), hashlib.sha256).digest()[:TOKEN_BYTES].hex()
            self._cache[word] = cached
        return cached

    def tokens(self, *texts: str) -> list[str]:
        """Sorted distinct tokens of every word in `texts` (sorted so nothing of word order survives)."""
        distinct: set[str] = set()
        for text in texts:
            folded = normalise(text)
            if folded.isascii():  # str.translate + split finds the same words as `_WORD`, twice as fast
                distinct.update(folded.translate(_ASCII_NON_WORD).split())
            else:
                distinct.update(_WORD.findall(folded))
        distinct -= _SHORT_WORDS
        if distinct and (min(map(len, distinct)) < MIN_WORD_LENGTH or max(map(len, distinct)) > MAX_WORD_LENGTH):
            distinct = {w for w in distinct if MIN_WORD_LENGTH <= len(w) <= MAX_WORD_LENGTH}
        distinct.discard("_")
        words = list(distinct)
        out = list(map(self._cache.get, words))  # bulk ingest: nearly every word is already cached
        if None in out:  # only the words not cached yet are computed
            for i, word in enumerate(words):
                if out[i] is None:
                    out[i] = self.token(word)
        tokens = cast("list[str]", out)
        tokens.sort()
        return tokens

    def query_tokens(self, query: str) -> list[str]:
        """Tokens for a search query; every word must match."""
        return self.tokens(query)

    def tokens_text(self, texts: Iterable[str]) -> str:
        """Tokens joined by spaces, the form the full-text table stores."""
        return " ".join(self.tokens(*texts))
