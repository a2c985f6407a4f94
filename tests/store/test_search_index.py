"""Threat 15: the blind search index holds no plaintext — only HMAC tokens under a per-store key — and the same
word gives different tokens in two stores. Also: the index follows edits exactly (contentless FTS5 deletes need
the very tokens that were inserted, so a mistake there would silently corrupt it)."""

from __future__ import annotations

import shutil
import sqlite3
from collections import Counter
from pathlib import Path

import pytest

from crypto.blind_index import TOKEN_BYTES, words
from tests.liaison_helpers import LiaisonStore, encodings_of, init_store

TEXTS = [
    (
        "Falcon courier network near Gwadar",
        "Payments routed through Anatolia Logistics; the alias Saffron coordinates.",
    ),
    ("Heroin in textile bales at Port Qasim", "Container seized; packaging marks match the Karachi seizures."),
    ("Forged visa workshop in Quetta", "Workshop linked to the Ferryman; İstanbul contacts and Kılıçdağ crossing."),
]


def vocabulary(path: Path, tmp_path: Path) -> Counter[str]:
    """The terms the FTS5 index holds and in how many rows each, read through fts5vocab from a copy of the store."""
    copy = tmp_path / f"vocab-{path.name}"
    shutil.copyfile(path, copy)
    conn = sqlite3.connect(copy)
    try:
        conn.execute("CREATE VIRTUAL TABLE temp.vocab USING fts5vocab(main, search_index, 'row')")
        return Counter({term: count for term, count in conn.execute("SELECT term, doc FROM temp.vocab")})
    finally:
        conn.close()
        copy.unlink()


def index_table_bytes(path: Path) -> bytes:
    """Every byte of every search-index shadow table, concatenated."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [
            n
            for (n,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'search_index_%'"
            )
        ]
        assert tables, "the search index has shadow tables"
        chunks = []
        for table in tables:
            for row in conn.execute(f'SELECT * FROM "{table}"'):
                for value in row:
                    chunks.append(value if isinstance(value, bytes) else str(value).encode("utf-8"))
        return b"\x00".join(chunks)
    finally:
        conn.close()


@pytest.fixture
def indexed(store: LiaisonStore) -> tuple[LiaisonStore, list[str]]:
    refs = [store.add(title, "--summary", summary) for title, summary in TEXTS]
    return store, refs


def expected_vocabulary(store: LiaisonStore, texts: list[tuple[str, str]]) -> Counter[str]:
    session = store.session()
    try:
        return Counter(token for title, summary in texts for token in session.indexer.tokens(title, summary))
    finally:
        session.vault.close()


def test_the_index_holds_only_hmac_tokens_of_the_indexed_words(indexed, tmp_path: Path) -> None:
    store, _ = indexed
    terms = vocabulary(store.path, tmp_path)
    assert terms == expected_vocabulary(store, TEXTS)
    assert all(len(t) == 2 * TOKEN_BYTES and all(c in "0123456789abcdef" for c in t) for t in terms)
    plain = set().union(*(words(f"{title} {summary}") for title, summary in TEXTS))
    assert not plain & set(terms)


def test_no_word_of_the_records_is_in_the_index_tables(indexed) -> None:
    store, _ = indexed
    blob = index_table_bytes(store.path)
    for title, summary in TEXTS:
        for word in words(f"{title} {summary}") | set(f"{title} {summary}".split()):
            if len(word) < 4:
                continue  # short words appear by chance in binary data
            for encoding, needle in encodings_of(word).items():
                assert needle not in blob, f"{word!r} as {encoding} in the search index"


def test_the_index_is_contentless_and_keeps_no_positions(store: LiaisonStore) -> None:
    tables = {n for (n,) in store.sql("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "search_index_content" not in tables  # no copy of the indexed text
    (ddl,) = store.sql("SELECT sql FROM sqlite_master WHERE name = 'search_index'")[0]
    assert "content=''" in ddl and "detail=none" in ddl  # no word positions: word order is not recoverable


def test_the_same_word_in_two_stores_gives_different_tokens(tmp_path: Path) -> None:
    first = init_store(tmp_path / "a.db")
    second = init_store(tmp_path / "b.db")
    for store in (first, second):
        store.add("Gwadar harbour watch", "--summary", "Gwadar again")
    vocab_a, vocab_b = vocabulary(first.path, tmp_path), vocabulary(second.path, tmp_path)
    assert len(vocab_a) == len(vocab_b) == 4  # gwadar, harbour, watch, again
    assert not set(vocab_a) & set(vocab_b)
    tokens = []
    for store in (first, second):
        session = store.session()
        tokens.append(session.indexer.token("gwadar"))
        session.vault.close()
    assert tokens[0] != tokens[1]
    assert tokens[0] in vocab_a and tokens[1] in vocab_b


def test_the_index_follows_edits_exactly(indexed, tmp_path: Path) -> None:
    store, refs = indexed
    store.ok("edit", refs[0], "--title", "Falcon courier network near Pasni")
    store.ok("edit", refs[0], "--summary", "Rerouted via Ormara.")
    store.ok("edit", refs[2], "--title", "Forged visa workshop moved to Chaman", "--summary", "Same people.")
    current = [
        ("Falcon courier network near Pasni", "Rerouted via Ormara."),
        TEXTS[1],
        ("Forged visa workshop moved to Chaman", "Same people."),
    ]
    assert vocabulary(store.path, tmp_path) == expected_vocabulary(store, current)

    def found(query: str) -> set[str]:
        return {r["reference"] for r in store.list_json("--search", query)}

    assert found("gwadar") == set()
    assert found("pasni ormara") == {refs[0]}
    assert found("quetta") == set()
    assert found("chaman") == {refs[2]}
    assert found("karachi") == {refs[1]}


def test_a_search_query_never_reaches_the_database_as_text(indexed, monkeypatch: pytest.MonkeyPatch) -> None:
    """The MATCH expression sent to SQLite is made of tokens only."""
    import store.sqlite as dialect

    store, refs = indexed
    seen: list[str] = []
    original = dialect.index_match_clause

    def spy(tokens):  # type: ignore[no-untyped-def]
        tokens = list(tokens)
        seen.extend(tokens)
        return original(tokens)

    monkeypatch.setattr(dialect, "index_match_clause", spy)
    rows = store.list_json("--search", "Saffron ANATOLIA")
    assert [r["reference"] for r in rows] == [refs[0]]
    assert seen and all(len(t) == 2 * TOKEN_BYTES for t in seen)
    assert not {"saffron", "anatolia", "Saffron", "ANATOLIA"} & set(seen)
