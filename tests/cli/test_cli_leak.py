"""Threat 5: canary text written through the CLI (added, edited, superseded, commented) is found nowhere on disk,
byte for byte and in any likely encoding — in the store file, its -wal, -shm or any journal or temp file — both
while the WAL still holds the writes and after the checkpoint; `list --search` still finds the current words."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.liaison_helpers import LiaisonStore, all_store_bytes, encodings_of, find_plaintext

CANARY = {
    "title": "Canarytitle Xylophone Quagmire 7731",
    "summary": "Canarysummary Obsidian Wharf 4402 near Kılıçdağ and İstanbul",
    "source": "Canarysource Juniper Vault 9011",
    "notes": "Canarynotes Bramble Cistern 2290",
    "edited title": "Canaryedit Marmalade Sextant 3390",
    "superseded summary": "Canarysupersede Halcyon Trestle 5127",
    "final summary": "Canaryfinal Periwinkle Gantry 8856",
    "comment": "Canarycomment Pewter Lantern 6643",
}


def write_canaries(store: LiaisonStore) -> str:
    ref = store.ok(
        "add",
        "--domain",
        "counterterrorism",
        "--tlp",
        "red",
        "--title",
        CANARY["title"],
        "--summary-file",
        "-",
        "--source",
        CANARY["source"],
        "--notes",
        CANARY["notes"],
        officer="carol",
        stdin=CANARY["summary"],
    ).out.strip()
    store.ok("edit", ref, "--title", CANARY["edited title"], officer="carol")
    store.ok("edit", ref, "--summary", CANARY["superseded summary"], officer="carol")
    store.ok("submit", ref, officer="carol")
    store.ok("review", ref, "--return", "--comment", CANARY["comment"], officer="bob")
    store.ok("edit", ref, "--summary", CANARY["final summary"], officer="carol")
    return ref


def every_file_under(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_canary_is_nowhere_on_disk_before_and_after_checkpoint(team_store: LiaisonStore, tmp_path: Path) -> None:
    path = team_store.path
    # A reader holding a snapshot from before the writes: no checkpoint can fold them in, so they stay in the WAL.
    reader = sqlite3.connect(path)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM records").fetchall()
        ref = write_canaries(team_store)
        files = all_store_bytes(path)
        assert set(files) >= {path.name, f"{path.name}-wal", f"{path.name}-shm"}
        assert ref.encode() in files[f"{path.name}-wal"], "the writes should still be in the WAL"
        assert ref.encode() not in files[path.name], "the writes should not have been checkpointed yet"
        assert find_plaintext(path, *CANARY.values()) == []
    finally:
        reader.rollback()
        reader.close()
    team_store.ok("list")  # the last connection to close checkpoints the WAL into the main file
    files = all_store_bytes(path)
    assert ref.encode() in files[path.name]
    assert len(files.get(f"{path.name}-wal", b"")) == 0
    assert find_plaintext(path, *CANARY.values()) == []
    # nothing else anywhere in the test's directory (temp files, logs) holds it either
    for name, data in every_file_under(tmp_path).items():
        for text in CANARY.values():
            for encoding, needle in encodings_of(text).items():
                assert needle not in data, f"{text!r} as {encoding} in {name}"


def test_every_canary_round_trips_through_the_store(team_store: LiaisonStore) -> None:
    """The leak test proves something only if the canaries really were stored (encrypted)."""
    ref = write_canaries(team_store)
    shown = team_store.show(ref, officer="carol")
    assert shown["title"] == CANARY["edited title"]
    assert shown["summary"] == CANARY["final summary"]
    assert shown["source"] == CANARY["source"]
    assert shown["notes"] == CANARY["notes"]
    assert [r["summary"] for r in shown["revisions"]] == [
        CANARY["summary"],
        CANARY["summary"],
        CANARY["superseded summary"],
        CANARY["final summary"],
    ]
    assert [r["title"] for r in shown["revisions"]][:2] == [CANARY["title"], CANARY["edited title"]]
    assert shown["reviews"][-1]["comment"] == CANARY["comment"]


def test_list_search_finds_the_current_canary_words_and_not_the_superseded_ones(team_store: LiaisonStore) -> None:
    ref = write_canaries(team_store)
    team_store.add("Unrelated record", "--summary", "Nothing to see")

    def found(words: str) -> list[str]:
        return [r["reference"] for r in team_store.list_json("--search", words)]

    assert found("Canaryedit") == [ref]
    assert found("canaryedit marmalade sextant") == [ref]
    assert found("CANARYFINAL periwinkle") == [ref]
    assert found("kilicdag istanbul") == []  # those words were only in the superseded first summary
    # words of superseded revisions no longer match: the index follows the current revision
    assert found("Canarytitle") == []
    assert found("Canarysupersede") == []
    assert found("Canarysummary") == []
    # only title and summary are indexed
    assert found("Canarysource") == []
    assert found("Canarycomment") == []


def test_search_finds_accented_words_without_the_accents(team_store: LiaisonStore) -> None:
    ref = team_store.add("Ferry out of İzmir", "--summary", "Meeting at Kılıçdağ crossing", officer="carol")
    for query in ("izmir", "IZMIR", "İzmir", "kilicdag", "KILIÇDAĞ"):
        assert [r["reference"] for r in team_store.list_json("--search", query)] == [ref], query
