"""The signed audit log: sequence numbers with no gaps, the chain and the Merkle root recomputed from the rows,
one checkpoint per transaction signed by the ministry identity, every event signed by the acting officer, no
content in any body (details encrypted), and bulk ingest signing each record with one checkpoint for all."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from crypto.checkpoint import open_checkpoint
from crypto.events import CHAIN_START, chain_hash, leaf_input, signing_public, verify_event
from crypto.merkle import leaf_hash, root
from store.audit.history import AuditQuery
from store.audit.log import log_origin
from store.ingest import IngestItem
from tests.liaison_helpers import LiaisonStore


def rows(store: LiaisonStore) -> list[tuple]:
    return store.sql("SELECT seq, officer, action, body, signer, sig, chain, detail_ct FROM audit_log ORDER BY seq")


def test_the_log_is_contiguous_chained_and_checkpointed(team_store: LiaisonStore) -> None:
    store = team_store
    ref = store.add("Logged", "--summary", "SECRET-SUMMARY-WORDS", officer="carol")
    store.ok("submit", ref, officer="carol")
    store.ok("review", ref, "--return", "--comment", "SECRET-COMMENT-WORDS", officer="bob")
    events = rows(store)
    assert [r[0] for r in events] == list(range(1, len(events) + 1))
    chain, leaves = CHAIN_START, []
    officers = {name: bytes(pub) for name, pub in store.sql("SELECT name, signing_public FROM officers")}
    for seq, officer, action, body, signer, sig, stored_chain, _detail in events:
        assert json.loads(body)["seq"] == seq and json.loads(body)["action"] == action
        assert verify_event(signer, body, sig)
        assert bytes(signer) == officers[officer]  # every event is signed by its own officer's key
        leaf = leaf_hash(leaf_input(body, signer, sig))
        chain = chain_hash(chain, leaf)
        assert bytes(stored_chain) == chain
        leaves.append(leaf)
        assert b"SECRET" not in body
    session = store.session("alice")
    try:
        identity = signing_public(session.keyring.signing_key)
        origin = log_origin("PK-MOI", session.keyring.store_id)
        size, note = store.sql("SELECT size, note FROM audit_checkpoints ORDER BY size DESC LIMIT 1")[0]
        assert size == len(events) + 1  # alice's unlock is the newest event
        checkpoint = open_checkpoint(note, origin, identity)
        all_events = rows(store)
        assert checkpoint.root == root([leaf_hash(leaf_input(r[3], r[4], r[5])) for r in all_events])
        returned = next(r for r in all_events if r[2] == "return")
        assert session.keyring.decrypt(returned[7]) == b"SECRET-COMMENT-WORDS"  # the detail, encrypted
        history = [(e.action, e.officer) for e in session.record_history(ref)]
        assert history == [("create", "carol"), ("submit", "carol"), ("return", "bob")]
        assert [e.seq for e in session.audit_log(AuditQuery(officer="bob", action="return"))] == [returned[0]]
    finally:
        session.vault.close()


def test_a_record_event_carries_its_tags_after_the_action(team_store: LiaisonStore) -> None:
    store = team_store
    ref = store.add("Tagged", "--to", "TR-MOI", "--submit", tlp="green", officer="carol")
    body = json.loads(store.sql("SELECT body FROM audit_log WHERE action = 'create'")[-1][0])
    record = body["record"]
    assert record["reference"] == ref and record["tlp"] == "GREEN" and record["status"] == "in-review"
    assert record["releasable_to"] == ["TR-MOI"] and record["author"] == "carol" and record["revision"] == 1
    assert set(record["wrote"]) == {"title", "body"} and record["wrote"]["title"] == record["title_sha256"]


def test_one_checkpoint_per_transaction_even_in_bulk(store: LiaisonStore) -> None:
    now = datetime(2026, 11, 1, tzinfo=UTC)
    items = [
        IngestItem(
            domain="narcotics",
            origin="PK-MOI",
            tlp="AMBER",
            status="draft",
            author="alice",
            created_at=now,
            updated_at=now,
            title=f"Bulk {i}",
            summary="bulk summary",
        )
        for i in range(120)
    ]
    session = store.session("alice")
    try:
        checkpoints = store.sql("SELECT count(*) FROM audit_checkpoints")[0][0]
        size = store.sql("SELECT max(seq) FROM audit_log")[0][0]
        written = session.ingest(items)
        assert store.sql("SELECT count(*) FROM audit_checkpoints")[0][0] == checkpoints + 1
        assert store.sql("SELECT max(seq) FROM audit_log")[0][0] == size + 1 + len(items)
        assert session.damaged_among([rid for rid, _ref in written]) == {}
        assert session.record_damage(written[7][1]) is None
    finally:
        session.vault.close()


def test_a_failed_unlock_is_folded_into_the_log_at_the_next_one(team_store: LiaisonStore) -> None:
    store = team_store
    assert store.cli("list", officer="bob", env={"LIAISON_PASSPHRASE": "not bob's"}).code == 1
    assert store.sql("SELECT officer, reason FROM audit_pending") == [("bob", "wrong-passphrase")]
    store.ok("list", officer="carol")
    assert store.sql("SELECT count(*) FROM audit_pending") == [(0,)]
    last = store.sql("SELECT officer, action, target FROM audit_log ORDER BY seq DESC LIMIT 2")
    assert last == [("carol", "unlock", "carol"), ("carol", "unlock-failed", "bob")]
