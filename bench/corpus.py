"""The benchmark's input: realistic records (80-character title, ~1,500-byte summary) from a 20,000-word vocabulary.

The demo generator repeats a few hundred words; real prose does not, and the blind index's cost grows with
the number of distinct words. So titles and summaries here are drawn from a Zipf-distributed vocabulary of
20,000 invented words (~160 distinct words per record), while the plaintext tags (domain, origin, TLP,
status, dates, recipients, review steps) come from the demo generator, so facet selectivities match the demo.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Iterator
from datetime import datetime
from itertools import accumulate

from store.demo import demo_items
from store.ingest import IngestItem

VOCABULARY = 20_000
TITLE_CHARS = 80
SUMMARY_BYTES = 1_500
_SYLLABLES = [c + v for c in "bdfghklmnprstvwyz" for v in "aeiou"] + ["an", "el", "or", "ist", "ur", "ak"]


def vocabulary(size: int = VOCABULARY, seed: int = 7) -> list[str]:
    """`size` distinct invented words of 2–4 syllables (a few with Turkish letters, as real records have)."""
    rng = random.Random(seed)
    words: list[str] = []
    seen: set[str] = set()
    while len(words) < size:
        word = "".join(rng.choice(_SYLLABLES) for _ in range(rng.choice((2, 2, 3, 3, 3, 4))))
        if rng.random() < 0.02:
            word = word.replace("s", "ş", 1).replace("g", "ğ", 1)
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


class Prose:
    """Sentences of Zipf-distributed words (exponent ~1, like natural language)."""

    def __init__(self, rng: random.Random, size: int = VOCABULARY) -> None:
        self.rng = rng
        self.words = vocabulary(size)
        self.cum = list(accumulate(1.0 / (rank + 1) ** 1.0 for rank in range(size)))

    def _words(self, k: int) -> list[str]:
        return self.rng.choices(self.words, cum_weights=self.cum, k=k)

    def title(self, chars: int = TITLE_CHARS) -> str:
        out = " ".join(self._words(14))
        out = out[:chars].rsplit(" ", 1)[0]
        return out[0].upper() + out[1:]

    def summary(self, size: int = SUMMARY_BYTES) -> str:
        rng, paragraphs, sentences, total = self.rng, [], [], 0
        while total < size:
            words = self._words(rng.randint(8, 20))
            sentence = words[0].capitalize() + " " + " ".join(words[1:]) + "."
            sentences.append(sentence)
            total += len(sentence.encode()) + 1
            if len(sentences) == 4:
                paragraphs.append(" ".join(sentences))
                sentences = []
        if sentences:
            paragraphs.append(" ".join(sentences))
        return "\n\n".join(paragraphs)


def items(count: int, now: datetime, *, seed: int = 2026, summary_bytes: int = SUMMARY_BYTES) -> Iterator[IngestItem]:
    """`count` records with the demo's tags and realistic prose, oldest first, deterministic for a seed."""
    prose = Prose(random.Random(seed + 1))
    for item in demo_items(count, now, seed=seed, summary_bytes=0):
        yield dataclasses.replace(item, title=prose.title(), summary=prose.summary(summary_bytes))
