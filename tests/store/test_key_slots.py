"""Threats 1 and 3: a wrong passphrase, and tampering with key slots, grants, the officers table or the policy.

Every case is refused with a one-line error and leaves the store as it was; slots whose parameters are out of
bounds are refused *before* Argon2id runs (proved by an Argon2id that fails the test if it is ever called).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import crypto.kdf
from crypto.encoding import canonical_json
from store.errors import AuthError, TamperError
from store.service import Vault
from tests.liaison_helpers import PASSPHRASES, LiaisonStore, assert_refused


@pytest.fixture
def argon2_forbidden(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Argon2id replaced by a tripwire: any derivation is recorded and fails loudly."""
    calls: list[int] = []

    class Tripwire:
        def __init__(self, *args: Any, memory_cost: int = 0, **kwargs: Any) -> None:
            calls.append(memory_cost)
            raise AssertionError("Argon2id ran on a slot that should have been refused first")

    monkeypatch.setattr(crypto.kdf, "Argon2id", Tripwire)
    yield calls


def read_slot(store: LiaisonStore, officer: str = "alice") -> dict[str, Any]:
    return json.loads(store.sql("SELECT slot FROM officers WHERE name = ?", (officer,))[0][0])


def write_slot_text(store: LiaisonStore, text: str, officer: str = "alice") -> None:
    store.sql("UPDATE officers SET slot = ? WHERE name = ?", (text, officer))


def write_slot(store: LiaisonStore, slot: dict[str, Any], officer: str = "alice") -> None:
    write_slot_text(store, canonical_json(slot).decode("utf-8"), officer)


def with_kdf(**changes: Any) -> Callable[[dict[str, Any]], None]:
    def edit(slot: dict[str, Any]) -> None:
        for key, value in changes.items():
            if value is _DELETE:
                slot["kdf"].pop(key, None)
            else:
                slot["kdf"][key] = value

    return edit


_DELETE = object()
B64_8 = base64.urlsafe_b64encode(bytes(8)).decode()
B64_100 = base64.urlsafe_b64encode(bytes(100)).decode()

#: Slot edits refused before any key derivation, with the reason given after "refused before key derivation: ".
REFUSED_BEFORE_KDF: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "memory 100 GiB": (
        with_kdf(memory_kib=100 * 1024 * 1024),
        "key derivation memory 104857600 KiB exceeds 1048576 KiB",
    ),
    "memory below the minimum": (with_kdf(memory_kib=1024), "key derivation cost below the OWASP minimum"),
    "one iteration at minimum memory": (with_kdf(iterations=1), "key derivation cost below the OWASP minimum"),
    "1 GiB for 64 passes": (
        with_kdf(memory_kib=1024 * 1024, iterations=64),
        "key derivation cost 1048576 KiB × 64 passes exceeds 1048576 KiB-passes",
    ),
    "a million iterations": (with_kdf(iterations=1_000_000), "key derivation iterations 1000000 out of range 1..64"),
    "zero iterations": (with_kdf(iterations=0), "key derivation iterations 0 out of range 1..64"),
    "zero lanes": (with_kdf(lanes=0), "key derivation lanes 0 out of range 1..16"),
    "ten thousand lanes": (with_kdf(lanes=10_000), "key derivation lanes 10000 out of range 1..16"),
    "negative memory": (with_kdf(memory_kib=-1), "key derivation memory too small for its lanes"),
    "memory as text": (with_kdf(memory_kib="19456"), "key derivation parameter memory_kib is not an integer"),
    "memory as float": (with_kdf(memory_kib=19456.0), "key derivation parameter memory_kib is not an integer"),
    "iterations as bool": (with_kdf(iterations=True), "key derivation parameter iterations is not an integer"),
    "lanes missing": (with_kdf(lanes=_DELETE), "key derivation parameter lanes is not an integer"),
    "salt too short": (with_kdf(salt=B64_8), "key derivation salt has the wrong length"),
    "salt too long": (with_kdf(salt=B64_100), "key derivation salt has the wrong length"),
    "salt not base64": (with_kdf(salt="!!!not base64!!!"), "key derivation salt is malformed"),
    "salt missing": (with_kdf(salt=_DELETE), "key derivation salt is malformed"),
    "another algorithm": (with_kdf(alg="scrypt"), "unsupported key derivation algorithm"),
    "kdf not an object": (lambda s: s.__setitem__("kdf", [1, 2, 3]), "unsupported key derivation algorithm"),
}


@pytest.mark.parametrize("case", REFUSED_BEFORE_KDF)
def test_out_of_bounds_kdf_parameters_are_refused_before_the_kdf_runs(
    store: LiaisonStore, fingerprint, argon2_forbidden: list[int], case: str
) -> None:
    """Threat 30: absurd KDF parameters in a crafted slot are refused before Argon2id runs, so unlock stays bounded."""
    edit, reason = REFUSED_BEFORE_KDF[case]
    slot = read_slot(store)
    edit(slot)
    write_slot(store, slot)
    before = fingerprint(store.path)
    assert_refused(store.cli("list"), f"key slot of officer alice refused before key derivation: {reason}")
    assert_refused(
        store.cli("add", "--domain", "narcotics", "--tlp", "red", "--title", "x"),
        f"key slot of officer alice refused before key derivation: {reason}",
    )
    assert argon2_forbidden == []
    assert fingerprint(store.path) == before


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


#: Slots whose shape is broken: refused as damaged, before any key derivation.
DAMAGED: dict[str, tuple[Callable[[dict[str, Any]], str], str]] = {
    "not JSON": (lambda s: "this is not json", "not valid JSON"),
    "a JSON array": (lambda s: "[]", "expected a JSON object"),
    "deeply nested JSON": (lambda s: _nested(4000), "not valid JSON"),
    "too large": (lambda s: canonical_json({**s, "padding": "x" * 9000}).decode(), "key slot too large"),
    "another version": (lambda s: canonical_json({**s, "v": 3}).decode(), "unsupported key slot version"),
    "wrapped missing": (
        lambda s: canonical_json({k: v for k, v in s.items() if k != "wrapped"}).decode(),
        "key slot fields missing",
    ),
    "wrapped not ASCII": (
        lambda s: canonical_json({**s, "wrapped": "gAAAAAB€€€"}).decode(),
        "key slot ciphertext is not base64 text",
    ),
    "public key too short": (
        lambda s: canonical_json({**s, "public": base64.urlsafe_b64encode(bytes(16)).decode()}).decode(),
        "expected 32 bytes, got 16",
    ),
    "public key not base64": (lambda s: canonical_json({**s, "public": "@@@@"}).decode(), "non-canonical base64"),
    "public key with a bad padding": (
        lambda s: canonical_json({**s, "public": s["public"].rstrip("=")}).decode(),
        "invalid base64",
    ),
}


@pytest.mark.parametrize("case", DAMAGED)
def test_a_damaged_slot_is_refused_before_the_kdf_runs(
    store: LiaisonStore, fingerprint, argon2_forbidden: list[int], case: str
) -> None:
    make, reason = DAMAGED[case]
    write_slot_text(store, make(read_slot(store)))
    before = fingerprint(store.path)
    result = store.cli("list")
    assert_refused(result, "key slot of officer alice is damaged: ", exact=False)
    assert reason in result.err
    assert argon2_forbidden == []
    assert fingerprint(store.path) == before


# ---- edits within bounds: the slot's parameter check, then the KDF ---------------------------------


def test_a_swapped_salt_is_refused(store: LiaisonStore, fingerprint, argon2_forbidden: list[int]) -> None:
    slot = read_slot(store)
    slot["kdf"]["salt"] = base64.urlsafe_b64encode(bytes(range(16))).decode()
    write_slot(store, slot)
    before = fingerprint(store.path)
    assert_refused(store.cli("list"), "wrong passphrase or damaged key slot for officer alice")
    assert argon2_forbidden == []
    assert fingerprint(store.path) == before


def test_a_raised_but_valid_cost_is_refused(store: LiaisonStore, fingerprint, argon2_forbidden: list[int]) -> None:
    slot = read_slot(store)
    slot["kdf"]["iterations"] += 1
    write_slot(store, slot)
    before = fingerprint(store.path)
    assert_refused(store.cli("list"), "wrong passphrase or damaged key slot for officer alice")
    assert argon2_forbidden == []
    assert fingerprint(store.path) == before


def test_an_edit_that_also_drops_the_parameter_check_is_caught_by_the_kdf(store: LiaisonStore, fingerprint) -> None:
    """Whoever edits the parameters can drop (or redo) the unkeyed check: the derivation then fails as a wrong passphrase."""
    slot = read_slot(store)
    assert "kdf_check" in slot
    slot["kdf"]["iterations"] += 1
    del slot["kdf_check"]
    write_slot(store, slot)
    before = fingerprint(store.path)
    assert_refused(store.cli("list"), "wrong passphrase for officer alice")
    assert fingerprint(store.path) == before


def test_an_edited_public_key_in_the_slot_header_is_detected(team_store: LiaisonStore, fingerprint) -> None:
    slot = read_slot(team_store)
    slot["public"] = read_slot(team_store, "bob")["public"]
    write_slot(team_store, slot)
    before = fingerprint(team_store.path)
    assert_refused(
        team_store.cli("list"), "key slot of officer alice was altered: key slot header does not match its sealed copy"
    )
    assert fingerprint(team_store.path) == before


def test_another_officers_slot_is_refused(team_store: LiaisonStore, fingerprint) -> None:
    write_slot(team_store, read_slot(team_store, "bob"), "alice")
    before = fingerprint(team_store.path)
    assert_refused(team_store.cli("list", passphrase=PASSPHRASES["bob"]), "key slot of officer alice belongs to bob")
    # relabelled as alice's, the sealed copy inside still says bob
    slot = read_slot(team_store, "bob")
    slot["officer"] = "alice"
    write_slot(team_store, slot, "alice")
    assert_refused(
        team_store.cli("list", passphrase=PASSPHRASES["bob"]),
        "key slot of officer alice was altered: key slot header does not match its sealed copy",
    )
    assert fingerprint(team_store.path) != before  # (we edited it) ...
    assert team_store.cli("list", officer="bob").code == 0  # ... and bob's own row still works


def test_another_officers_grant_is_refused(team_store: LiaisonStore, fingerprint) -> None:
    (grant,) = team_store.sql("SELECT \"grant\" FROM officers WHERE name = 'bob'")[0]
    team_store.sql("UPDATE officers SET \"grant\" = ? WHERE name = 'alice'", (grant,))
    before = fingerprint(team_store.path)
    assert_refused(team_store.cli("list"), "keyring grant of officer alice does not open; it was altered")
    assert fingerprint(team_store.path) == before


@pytest.mark.parametrize(
    "grant",
    [
        "not json",
        "{}",
        '{"v": 1, "epk": "AAAA", "token": "x"}',
        '{"v": 1, "epk": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "token": "gAAAA€€"}',
        "[" * 3000 + "]" * 3000,
    ],
    ids=["not json", "empty object", "short epk", "token not ASCII", "deeply nested"],
)
def test_a_damaged_grant_is_refused(store: LiaisonStore, fingerprint, grant: str) -> None:
    store.sql("UPDATE officers SET \"grant\" = ? WHERE name = 'alice'", (grant,))
    before = fingerprint(store.path)
    assert_refused(store.cli("list"), "keyring grant of officer alice does not open; it was altered")
    assert fingerprint(store.path) == before


def test_an_edited_store_id_breaks_every_grant(store: LiaisonStore, fingerprint) -> None:
    store.sql("UPDATE liaison_meta SET value = '00000000-0000-4000-8000-000000000000' WHERE key = 'store_id'")
    before = fingerprint(store.path)
    assert_refused(store.cli("list"), "keyring grant of officer alice does not open; it was altered")
    assert fingerprint(store.path) == before


# ---- the officers table and the policy are authenticated ------------------------------------------


def test_an_edited_role_is_refused(team_store: LiaisonStore, fingerprint) -> None:
    team_store.sql("UPDATE officers SET role = 'admin' WHERE name = 'carol'")
    before = fingerprint(team_store.path)
    assert_refused(
        team_store.cli(
            "officers", "add", "mallory", "--role", "admin", officer="carol", env={"LIAISON_NEW_PASSPHRASE": "x"}
        ),
        "officer record of carol was altered outside Liaison",
    )
    assert_refused(team_store.cli("list", officer="carol"), "officer record of carol was altered outside Liaison")
    assert fingerprint(team_store.path) == before
    assert team_store.cli("list", officer="alice").code == 0


def test_a_restored_removed_officer_is_refused(team_store: LiaisonStore, fingerprint) -> None:
    team_store.ok("officers", "remove", "carol")
    team_store.sql("UPDATE officers SET revoked_at = NULL WHERE name = 'carol'")
    before = fingerprint(team_store.path)
    result = team_store.cli("list", officer="carol")
    assert_refused(result, "keyring grant of officer carol does not open; it was altered")
    assert fingerprint(team_store.path) == before


def test_an_edited_mac_is_refused(store: LiaisonStore) -> None:
    store.sql("UPDATE officers SET mac = ? WHERE name = 'alice'", ("0" * 64,))
    assert_refused(store.cli("list"), "officer record of alice was altered outside Liaison")


def test_switching_off_four_eyes_outside_liaison_is_refused(store: LiaisonStore, fingerprint) -> None:
    (policy,) = store.sql("SELECT value FROM liaison_meta WHERE key = 'policy'")[0]
    doc = json.loads(policy)
    assert doc["four_eyes"] is True
    doc["four_eyes"] = False
    store.sql("UPDATE liaison_meta SET value = ? WHERE key = 'policy'", (canonical_json(doc).decode(),))
    before = fingerprint(store.path)
    assert_refused(store.cli("review", "PK-MOI-2026-00001", "--approve"), "store policy was altered outside Liaison")
    assert fingerprint(store.path) == before


def test_missing_store_metadata_is_refused(store: LiaisonStore) -> None:
    store.sql("DELETE FROM liaison_meta WHERE key = 'policy_mac'")
    assert_refused(store.cli("list"), "store metadata is missing")


# ---- the same through the Python API --------------------------------------------------------------


def test_api_wrong_passphrase_and_tampering_raise_the_store_errors(team_store: LiaisonStore) -> None:
    with Vault.open(team_store.path) as vault:
        with pytest.raises(AuthError, match=r"^wrong passphrase for officer bob$"):
            vault.unlock("bob", PASSPHRASES["alice"])
        assert vault.unlock("bob", PASSPHRASES["bob"]).actor.name == "bob"
    team_store.sql("UPDATE officers SET role = 'admin' WHERE name = 'bob'")
    with Vault.open(team_store.path) as vault, pytest.raises(TamperError, match="officer record of bob was altered"):
        vault.unlock("bob", PASSPHRASES["bob"])
