"""The audit log itself attacked with `sqlite3` and no keys: entries deleted, edited, inserted, reordered and the
tail truncated. `audit verify` exits 1 naming the first bad event by its sequence number; a log cut back
cleanly (rows, checkpoints and frontier together) is caught by the workstation's witness instead."""

from __future__ import annotations

import base64
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integrity.conftest import Ministries
from tests.liaison_helpers import assert_refused

#: The event every case attacks (well inside the log: the template writes a few dozen).
TARGET = 12


def _size(m: Ministries) -> int:
    return int(m.pk.sql("SELECT max(seq) FROM audit_log")[0][0])


def _delete(m: Ministries) -> int:
    m.attack(("DELETE FROM audit_log WHERE seq = ?", (TARGET,)))
    return TARGET


def _edit(m: Ministries) -> int:
    body = bytes(m.pk.sql("SELECT body FROM audit_log WHERE seq = ?", (TARGET,))[0][0])
    at = body.index(b'"officer":"') + len(b'"officer":"')
    forged = body[:at] + b"m" + body[at + 1 :]  # one letter of the officer's name
    m.attack(("UPDATE audit_log SET body = ? WHERE seq = ?", (forged, TARGET)))
    return TARGET


def _insert(m: Ministries) -> int:
    # make room at TARGET, then put a copy of the event before it there (a replayed, well-signed event)
    m.attack(
        ("UPDATE audit_log SET seq = -seq WHERE seq >= ?", (TARGET,)),
        "UPDATE audit_log SET seq = 1 - seq WHERE seq < 0",
        (
            "INSERT INTO audit_log (seq, at, officer, action, target, record_uuid, body, signer, sig, detail_ct, chain) "
            "SELECT ?, at, officer, action, target, record_uuid, body, signer, sig, detail_ct, chain FROM audit_log "
            "WHERE seq = ?",
            (TARGET, TARGET - 1),
        ),
    )
    return TARGET


def _reorder(m: Ministries) -> int:
    m.attack(
        ("UPDATE audit_log SET seq = -1 WHERE seq = ?", (TARGET,)),
        ("UPDATE audit_log SET seq = ? WHERE seq = ?", (TARGET, TARGET + 1)),
        ("UPDATE audit_log SET seq = ? WHERE seq = -1", (TARGET + 1,)),
    )
    return TARGET


def _truncate(m: Ministries) -> int:
    first_cut = _size(m) - 2
    m.attack(("DELETE FROM audit_log WHERE seq >= ?", (first_cut,)))
    return first_cut


CASES: dict[str, Callable[[Ministries], int]] = {
    "deleted": _delete,
    "edited": _edit,
    "inserted": _insert,
    "reordered": _reorder,
    "truncated": _truncate,
}


@pytest.mark.parametrize("attack", CASES.values(), ids=list(CASES))
def test_audit_verify_names_the_first_bad_event(ministries: Ministries, attack: Callable[[Ministries], int]) -> None:
    """Threat 14: audit events edited, deleted, inserted, reordered or the tail truncated: `audit verify` exits 1
    naming the first bad event by its sequence number."""
    assert ministries.verify().code == 0
    first_bad = attack(ministries)
    result = ministries.verify()
    assert_refused(result, f"event {first_bad}: ", exact=False)
    problems = ministries.pk.cli("audit", "verify", "--json").json()["problems"]
    assert problems[0]["seq"] == first_bad, problems


def _frontier_of(path: Path, size: int) -> str:
    """The Merkle frontier of the first `size` events, computed from the rows as anyone can (no key needed)."""
    from crypto.events import leaf_input
    from crypto.merkle import Frontier, leaf_hash

    conn = sqlite3.connect(path)
    try:
        frontier = Frontier()
        for body, signer, sig in conn.execute(
            "SELECT body, signer, sig FROM audit_log WHERE seq <= ? ORDER BY seq", (size,)
        ):
            frontier.append(leaf_hash(leaf_input(bytes(body), bytes(signer), bytes(sig))))
    finally:
        conn.close()
    return base64.b64encode(frontier.to_bytes()).decode("ascii")


def test_a_log_cut_back_cleanly_is_caught_by_the_witness(ministries: Ministries) -> None:
    """Threat 31 (and 14): the tail cut with its checkpoints and the frontier recomputed leaves a valid shorter
    log — only a workstation that saw the longer one can tell, and it does, at the next command."""
    m = ministries
    m.pk.ok("list")  # this workstation sees the log as it is
    seen = _size(m)
    keep = int(m.pk.sql("SELECT max(size) FROM audit_checkpoints WHERE size < ? - 3", (seen,))[0][0])
    m.attack(
        ("DELETE FROM audit_log WHERE seq > ?", (keep,)),
        ("DELETE FROM audit_checkpoints WHERE size > ?", (keep,)),
        ("UPDATE liaison_meta SET value = ? WHERE key = 'audit_frontier'", (_frontier_of(m.pk.path, keep),)),
    )
    result = m.pk.cli("list")
    assert_refused(
        result,
        f"store rolled back: log has {keep} events, this workstation has seen {seen} (checkpoint of ",
        exact=False,
    )
    # another workstation (no witness of this store) would take it: the cut log is internally consistent
    other = m.pk.cli("list", env={"LIAISON_STATE_DIR": str(m.path("other-workstation"))})
    assert other.code == 0, other
    # `audit verify` reports it too (it opens the store anyway, to say what it finds)
    assert_refused(
        m.pk.cli("audit", "verify"), f"event {keep + 2}: store rolled back: log has {keep + 1} events", exact=False
    )
    # grown past what this workstation saw, on the other one: a fork, not an extension
    while _size(m) <= seen:
        assert m.pk.cli("list", env={"LIAISON_STATE_DIR": str(m.path("other-workstation"))}).code == 0
    assert_refused(
        m.pk.cli("list"),
        f"store rolled back: its log ({_size(m)} events) is not an extension of the checkpoint this workstation has "
        f"seen ({seen} events, checkpoint of ",
        exact=False,
    )


def test_the_step_fields_are_digested_as_json_would_write_them() -> None:
    """`audit verify`'s fast spelling of a state's status, review count and withdrawal is the JSON the digest
    otherwise uses, for the usual types and the rest (a body can hold any JSON)."""
    import json

    from store.audit.walk import _DIGEST_JSON, _steps_json

    for status in ("approved", 'dräft "x" \\ \n\u2028', ""):
        for reviews in (0, 3, -1, 10**20):
            for withdrawn in (True, False):
                state = {"status": status, "reviews": reviews, "withdrawn": withdrawn, "tlp": "red"}
                want = _DIGEST_JSON.encode({"status": status, "reviews": reviews, "withdrawn": withdrawn})
                assert _steps_json(state) == want
    for odd in ({"status": None, "reviews": 1, "withdrawn": False}, {"status": "x", "reviews": True, "withdrawn": 1},
                {"status": "x"}, {}, {"reviews": 1.5, "status": ["a"], "withdrawn": None}):  # fmt: skip
        assert _steps_json(odd) == _DIGEST_JSON.encode(odd)
        assert json.loads(_steps_json(odd)) == odd
