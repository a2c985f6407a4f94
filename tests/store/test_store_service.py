"""The store's own guarantees: connection pragmas, migrations applied on open, every user action in the action log,
and no plaintext ever handed to SQLAlchemy (checked at the driver, below the ORM)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from store import db as store_db
from store.db import Database, head_revision
from store.service import Vault
from store.sqlite import PAGE_SIZE
from tests.liaison_helpers import PASSPHRASES, LiaisonStore, assert_refused


def test_every_connection_carries_the_pragmas(store: LiaisonStore) -> None:
    db = Database.open(store.path)
    try:
        with db.engine.connect() as conn:
            value = lambda name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()  # noqa: E731
            assert value("journal_mode") == "wal"
            assert value("foreign_keys") == 1
            assert value("secure_delete") == 1
            assert value("temp_store") == 2  # MEMORY
            assert value("busy_timeout") >= 5000
            assert value("page_size") == PAGE_SIZE
    finally:
        db.close()


def test_compaction_builds_its_copy_on_disk_and_gives_the_connection_back_as_it_was(store: LiaisonStore) -> None:
    """`keys rotate`'s VACUUM runs with temp_store=FILE (its copy in an unlinked temporary file, not the file's
    size in memory: 715 MB at 100k records); the pooled connection it used goes back with temp_store=MEMORY."""
    from store.sqlite import compact

    db = Database.open(store.path)
    seen: list[str] = []  # the statements the pooled connection runs (compact takes the same one back)
    try:
        raw = db.engine.raw_connection()
        try:
            driver = raw.driver_connection
            assert driver is not None
            driver.set_trace_callback(seen.append)
        finally:
            raw.close()
        assert compact(db.engine)
        assert seen[seen.index("VACUUM") - 1] == "PRAGMA temp_store=FILE"
        assert "PRAGMA temp_store=MEMORY" in seen[seen.index("VACUUM") :]
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA temp_store").scalar() == 2  # MEMORY again
    finally:
        db.close()


def test_an_older_store_is_migrated_on_open(store: LiaisonStore) -> None:
    from alembic import command

    from store.db import _script_directory

    ref = store.add("Written before the downgrade", "--summary", "kept across migrations")
    config, _ = _script_directory()
    db = Database.open(store.path)
    try:
        with db.engine.connect().execution_options(liaison_write=True) as conn:
            config.attributes["connection"] = conn
            try:
                command.downgrade(config, "0001")
            finally:
                config.attributes.pop("connection", None)
            conn.commit()
    finally:
        db.close()
    assert store.sql("SELECT version_num FROM alembic_version") == [("0001",)]
    # The downgrade dropped the signed log, so this workstation's witness calls the file rolled back...
    assert "store rolled back" in store.cli("show", ref).err
    # ...and a workstation that never saw it upgrades it (a new genesis) and reads the record.
    other = {"LIAISON_STATE_DIR": str(store.path.parent / "another-workstation")}
    shown = store.cli("show", ref, "--json", env=other)
    assert shown.code == 0 and json.loads(shown.out)["summary"] == "kept across migrations"  # opening upgraded it
    assert store.sql("SELECT version_num FROM alembic_version") == [(head_revision(),)]


def action_log(store: LiaisonStore) -> list[tuple[str, str, str]]:
    """The user actions of the signed audit log (unlocks and the re-grants a removal makes left out)."""
    return [
        tuple(r)
        for r in store.sql(
            "SELECT officer, action, target FROM audit_log WHERE action NOT IN ('unlock', 'officer-regrant') ORDER BY seq"
        )
    ]


def test_a_store_at_the_head_schema_opens_without_alembic(store: LiaisonStore) -> None:
    """SCHEMA_HEAD is Alembic's head, and a store already at it opens without reading the migration scripts."""
    assert head_revision() == store_db.SCHEMA_HEAD
    store_db._script_directory.cache_clear()
    Database.open(store.path).close()
    assert store_db._script_directory.cache_info().currsize == 0


def test_every_user_action_is_logged_once(team_store: LiaisonStore) -> None:
    s = team_store
    start = len(action_log(s))
    ref = s.add("Logged", officer="carol")
    s.ok("edit", ref, "--title", "Logged again", officer="carol")
    s.ok("submit", ref, officer="carol")
    s.ok("review", ref, "--return", "--comment", "more", officer="bob")
    s.ok("submit", ref, officer="carol")
    s.ok("review", ref, "--approve", officer="alice")
    s.ok("show", ref, officer="bob")
    s.ok("list", officer="bob")  # a list is not an audited action: no detail is read
    s.ok("officers", "add", "dave", "--role", "officer", env={"LIAISON_NEW_PASSPHRASE": PASSPHRASES["dave"]})
    s.ok("officers", "passwd", officer="dave", env={"LIAISON_NEW_PASSPHRASE": "dave's second passphrase"})
    s.ok("ministries", "add", "AZ-MIA", "--name", "Azerbaijan")
    s.ok("officers", "remove", "dave")
    assert action_log(s)[start:] == [
        ("carol", "create", ref),
        ("carol", "edit", ref),
        ("carol", "submit", ref),
        ("bob", "return", ref),
        ("carol", "submit", ref),
        ("alice", "approve", ref),
        ("bob", "read", ref),
        ("alice", "officer-add", "dave"),
        ("dave", "passwd", "dave"),
        ("alice", "ministry-add", "AZ-MIA"),
        ("alice", "officer-remove", "dave"),
    ]


def test_the_change_counter_grows_with_writes_only(team_store: LiaisonStore) -> None:
    with Vault.open(team_store.path) as vault:
        before = vault.change_counter()
        ref = team_store.add("Counted")
        team_store.ok("show", ref)
        team_store.ok("list")
        assert vault.change_counter() == before + 1


@pytest.fixture
def statements() -> Iterator[list[tuple[str, Any]]]:
    """Every SQL statement and its parameters as handed to the SQLite driver, in this process."""
    seen: list[tuple[str, Any]] = []

    def spy(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        seen.append((statement, parameters))

    event.listen(Engine, "before_cursor_execute", spy)
    yield seen
    event.remove(Engine, "before_cursor_execute", spy)


CANARIES = (
    "Quokkanight Vexillum",
    "Orchidlattice Zephyrine",
    "Velvetharbour Quillwort",
    "Tangerinebastion Xanthic",
    "Cobaltmeridian Yarrowfen",
)


def _flatten(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        for v in value.values():
            yield from _flatten(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _flatten(v)
    else:
        yield value


def test_no_plaintext_reaches_the_database_driver(team_store: LiaisonStore, statements: list[tuple[str, Any]]) -> None:
    s = team_store
    ref = s.add(CANARIES[0], "--summary", CANARIES[1], "--source", CANARIES[2], officer="carol")
    s.ok("edit", ref, "--title", CANARIES[4], officer="carol")
    s.ok("submit", ref, officer="carol")
    s.ok("review", ref, "--return", "--comment", CANARIES[3], officer="bob")
    assert [
        r["reference"] for r in s.list_json("--search", "quokkanight vexillum", officer="bob")
    ] == []  # superseded title
    assert [r["reference"] for r in s.list_json("--search", "Cobaltmeridian orchidlattice", officer="bob")] == [ref]
    s.ok("show", ref, officer="bob")
    assert len(statements) > 20
    for statement, parameters in statements:
        for value in [statement, *_flatten(parameters)]:
            text = bytes(value).decode("latin-1") if isinstance(value, (bytes, bytearray, memoryview)) else str(value)
            for canary in CANARIES:
                for word in (w for w in canary.split() if len(w) > 5):
                    assert word.lower() not in text.lower(), (word, statement, value)


# ---- the other record commands: close, actioned, domains --------------------------------------------


def test_close_needs_a_reviewer(team_store: LiaisonStore, fingerprint) -> None:
    ref = team_store.add("To close", officer="carol")
    before = fingerprint(team_store.path)
    assert_refused(team_store.cli("close", ref, officer="carol"), "role officer may not close records")
    assert fingerprint(team_store.path) == before
    team_store.ok("close", ref, "--comment", "No longer relevant", officer="bob")
    shown = team_store.show(ref)
    assert shown["status"] == "closed"
    assert shown["reviews"][-1]["comment"] == "No longer relevant"
    assert_refused(team_store.cli("close", ref, officer="bob"), f"{ref} is closed and cannot be closed")


def test_actioned_only_for_received_records(team_store: LiaisonStore) -> None:
    ref = team_store.add("Outbound", officer="carol")
    assert_refused(
        team_store.cli("actioned", ref, officer="carol"),
        f"{ref} is draft; only received records can be marked actioned",
    )


def test_domains_list_and_add(team_store: LiaisonStore, fingerprint) -> None:
    listed = team_store.ok("domains", "list", "--json").json()
    assert [d["slug"] for d in listed] == sorted(
        [
            "counterterrorism",
            "narcotics",
            "human-smuggling",
            "border-management",
            "cybercrime",
            "coast-guard",
            "policing",
        ]
    )
    before = fingerprint(team_store.path)
    assert_refused(team_store.cli("domains", "add", "wildlife", officer="bob"), "role reviewer may not manage domains")
    assert_refused(
        team_store.cli("domains", "add", "Not A Slug!"),
        "invalid domain slug 'not a slug!': lower-case letters, digits and '-'",
    )
    assert_refused(team_store.cli("domains", "add", "narcotics"), "domain narcotics already exists")
    assert fingerprint(team_store.path) == before
    team_store.ok("domains", "add", "wildlife", "--label", "Wildlife trafficking")
    ref = team_store.add("Pangolin scales", domain="wildlife")
    assert team_store.show(ref)["domain"] == "wildlife"
    assert_refused(
        team_store.cli("add", "--domain", "nope", "--tlp", "red", "--title", "x"),
        "unknown domain 'nope'; valid: border-management, coast-guard, counterterrorism, cybercrime, human-smuggling, narcotics, policing, wildlife",
    )
