"""Threat 2: a corrupted record token. One vector per test, each with its expected outcome (the age/CCTV style):
a clear error naming the record, the store unchanged, and every other record still readable.

The vectors follow the Fernet spec's invalid tokens (bad MAC, too short, bad version, payload not a multiple of
the block size, bad padding, wrong IV, altered timestamp), built here against the store's real data key so the
ones with a *valid* MAC really reach the padding and block-size checks.
"""

from __future__ import annotations

import os
import struct
import time
from base64 import urlsafe_b64decode
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives import hashes, hmac, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from crypto.errors import DecryptionFailed
from crypto.keyring import Keyring
from tests.liaison_helpers import LiaisonStore, assert_refused, init_store

ERROR = "record {ref} is corrupt: its encrypted data does not authenticate"
#: One word only each fixture record has, to search for it alone.
WORDS = ("alpha", "bravo", "charlie")


def fernet_raw(
    key: bytes,
    plaintext: bytes,
    *,
    timestamp: int | None = None,
    iv: bytes | None = None,
    pad: bool = True,
    version: int = 0x80,
) -> bytes:
    """A Fernet token (raw bytes, as the store keeps them) built by hand, MAC included, so any field can be chosen."""
    raw_key = urlsafe_b64decode(key)
    signing, encryption = raw_key[:16], raw_key[16:]
    if pad:
        padder = padding.PKCS7(128).padder()
        plaintext = padder.update(plaintext) + padder.finalize()
    iv = iv if iv is not None else os.urandom(16)
    encryptor = Cipher(algorithms.AES(encryption), modes.CBC(iv)).encryptor()
    ciphertext = encryptor.update(plaintext) + encryptor.finalize()
    body = bytes([version]) + struct.pack(">Q", int(time.time()) if timestamp is None else timestamp) + iv + ciphertext
    mac = hmac.HMAC(signing, hashes.SHA256())
    mac.update(body)
    return body + mac.finalize()


def flip(token: bytes, index: int) -> bytes:
    data = bytearray(token)
    data[index] ^= 0x01
    return bytes(data)


#: Damage done to a stored token without the key.
DAMAGE: dict[str, Callable[[bytes], bytes]] = {
    "bit flip in version": lambda t: flip(t, 0),
    "bit flip in timestamp": lambda t: flip(t, 5),
    "bit flip in IV": lambda t: flip(t, 12),
    "bit flip in ciphertext": lambda t: flip(t, 30),
    "bit flip in MAC": lambda t: flip(t, len(t) - 1),
    "future timestamp": lambda t: t[:1] + struct.pack(">Q", 4_102_444_800) + t[9:],
    "truncated by one byte": lambda t: t[:-1],
    "MAC cut off": lambda t: t[:-32],
    "too short": lambda t: t[:56],
    "one byte": lambda t: t[:1],
    "empty": lambda t: b"",
    "trailing byte": lambda t: t + b"\x00",
    "zeroed": lambda t: bytes(len(t)),
    "base64 text instead of raw bytes": lambda t: __import__("base64").urlsafe_b64encode(t),
}


@pytest.fixture
def three_records(store: LiaisonStore) -> tuple[LiaisonStore, list[str]]:
    refs = [
        store.add(f"Record {i} about Gwadar", "--summary", f"Summary {WORDS[i]} mentions the Ferryman", tlp="amber")
        for i in range(3)
    ]
    return store, refs


def data_key(store: LiaisonStore) -> bytes:
    session = store.session()
    try:
        keyring = session.keyring
        return keyring.data_keys[keyring.current_version]
    finally:
        session.vault.close()


def stored_token(store: LiaisonStore, column: str, ref: str) -> bytes:
    table, where = (
        ("records", "reference = ?")
        if column == "records.title_ct"
        else ("revisions", "record_id = (SELECT id FROM records WHERE reference = ?)")
    )
    field = column.split(".")[1]
    return store.sql(f"SELECT {field} FROM {table} WHERE {where}", (ref,))[0][0]


def replace_token(store: LiaisonStore, column: str, ref: str, value: object) -> None:
    table, where = (
        ("records", "reference = ?")
        if column == "records.title_ct"
        else ("revisions", "record_id = (SELECT id FROM records WHERE reference = ?)")
    )
    field = column.split(".")[1]
    store.sql(f"UPDATE {table} SET {field} = ? WHERE {where}", (value, ref))


def assert_only_that_record_is_affected(
    store: LiaisonStore, refs: list[str], bad: str, fingerprint, *, title_damaged: bool
) -> None:
    before = fingerprint(store.path)
    assert_refused(store.cli("show", bad, "--json"), ERROR.format(ref=bad))
    if title_damaged:  # a list decrypts every title it shows
        assert_refused(store.cli("list"), ERROR.format(ref=bad))
    else:  # an edit starts from the current revision: with it damaged there is nothing to start from
        assert_refused(store.cli("edit", bad, "--title", "Overwrite the evidence"), ERROR.format(ref=bad))
    assert fingerprint(store.path) == before  # the refused read and write left no trace
    # another record is still shown, and found by a search that does not include the damaged one
    other = next(r for r in refs if r != bad)
    assert store.show(other)["summary"] == f"Summary {WORDS[refs.index(other)]} mentions the Ferryman"
    assert [r["reference"] for r in store.list_json("--search", WORDS[refs.index(other)])] == [other]


@pytest.mark.parametrize("damage", DAMAGE)
@pytest.mark.parametrize("column", ["records.title_ct", "revisions.body_ct"])
def test_damaged_token_is_refused_naming_the_record(three_records, fingerprint, damage: str, column: str) -> None:
    store, refs = three_records
    bad = refs[1]
    original = stored_token(store, column, bad)
    damaged = DAMAGE[damage](original)
    assert damaged != original
    replace_token(store, column, bad, damaged)
    assert_only_that_record_is_affected(store, refs, bad, fingerprint, title_damaged=column == "records.title_ct")


def test_after_damage_every_other_record_reads_and_new_ones_are_written(three_records) -> None:
    store, refs = three_records
    replace_token(store, "revisions.body_ct", refs[1], flip(stored_token(store, "revisions.body_ct", refs[1]), 40))
    replace_token(store, "records.title_ct", refs[2], flip(stored_token(store, "records.title_ct", refs[2]), 40))
    assert_refused(store.cli("show", refs[1]), ERROR.format(ref=refs[1]))
    assert_refused(store.cli("show", refs[2]), ERROR.format(ref=refs[2]))
    assert store.show(refs[0])["summary"] == "Summary alpha mentions the Ferryman"
    new = store.add("Written after the damage", "--summary", "Fresh")
    assert store.show(new)["summary"] == "Fresh"
    assert [r["reference"] for r in store.list_json("--search", "fresh")] == [new]
    assert [r["reference"] for r in store.list_json("--status", "draft", "--limit", "1")] == [new]


# ---- Fernet's invalid vectors with a valid MAC (need the key to make) ------------------------------


def valid_mac_vectors(key: bytes) -> dict[str, bytes]:
    return {
        "payload size not a multiple of the block size": remac(key, fernet_raw(key, b"a short text")[:-33]),
        "payload padding error": fernet_raw(key, b"fifteen byte ms" + b"\x05", pad=False),
        "incorrect IV (causes a padding error)": _wrong_iv(key),
        "unknown version byte": fernet_raw(key, b'"title"', version=0x81),
        "not UTF-8 inside": fernet_raw(key, b"\xff\xfe\xfd"),
    }


def remac(key: bytes, body: bytes) -> bytes:
    """`body` (a token without its MAC) with a fresh, valid MAC appended."""
    mac = hmac.HMAC(urlsafe_b64decode(key)[:16], hashes.SHA256())
    mac.update(body)
    return body + mac.finalize()


def _wrong_iv(key: bytes) -> bytes:
    token = fernet_raw(key, b"a short text", iv=bytes(16))
    return remac(key, token[:9] + bytes(range(16)) + token[25:-32])


def test_hand_built_tokens_are_real_fernet_tokens(three_records) -> None:
    """Positive control: the builder makes tokens the store accepts, so the vectors below fail for their own reason."""
    store, refs = three_records
    key = data_key(store)
    replace_token(store, "records.title_ct", refs[0], fernet_raw(key, b"Hand-built title"))
    listed = {row["reference"]: row["title"] for row in store.ok("list", "--json").json()}
    assert listed[refs[0]] == "Hand-built title"  # the token opens: `show` refuses it only as not the signed one
    assert_refused(store.cli("show", refs[0]), f"record {refs[0]} is damaged", exact=False)


@pytest.mark.parametrize(
    "vector",
    [
        "payload size not a multiple of the block size",
        "payload padding error",
        "incorrect IV (causes a padding error)",
        "unknown version byte",
        "not UTF-8 inside",
    ],
)
def test_valid_mac_but_invalid_token_is_refused_naming_the_record(three_records, fingerprint, vector: str) -> None:
    store, refs = three_records
    bad = refs[2]
    replace_token(store, "records.title_ct", bad, valid_mac_vectors(data_key(store))[vector])
    assert_only_that_record_is_affected(store, refs, bad, fingerprint, title_damaged=True)


@pytest.mark.parametrize(
    "body", [b"[1, 2, 3]", b'"just a string"', b"not json", b"{}"], ids=["list", "string", "not json", "empty object"]
)
def test_a_body_that_decrypts_to_the_wrong_shape_is_refused_or_read_as_empty(
    three_records, fingerprint, body: bytes
) -> None:
    store, refs = three_records
    bad = refs[0]
    replace_token(store, "revisions.body_ct", bad, fernet_raw(data_key(store), body))
    if body == b"{}":  # it opens (as empty fields), but it is not the body the record's last event signed
        assert_refused(store.cli("show", bad), f"record {bad} is damaged: its body ciphertext", exact=False)
    else:
        assert_only_that_record_is_affected(store, refs, bad, fingerprint, title_damaged=False)


def test_a_token_from_another_store_is_refused(three_records, tmp_path, fingerprint) -> None:
    store, refs = three_records
    other = init_store(tmp_path / "other.db")
    foreign_ref = other.add("Title from another store")
    replace_token(store, "records.title_ct", refs[0], stored_token(other, "records.title_ct", foreign_ref))
    assert_only_that_record_is_affected(store, refs, refs[0], fingerprint, title_damaged=True)


@pytest.mark.parametrize("value", ["a text value", 12345], ids=["text", "integer"])
def test_a_token_of_the_wrong_sql_type_is_refused(three_records, fingerprint, value: object) -> None:
    store, refs = three_records
    replace_token(store, "records.title_ct", refs[0], value)
    assert_only_that_record_is_affected(store, refs, refs[0], fingerprint, title_damaged=True)


def test_a_damaged_review_comment_names_the_record(team_store: LiaisonStore, fingerprint) -> None:
    ref = team_store.add("Returned one", officer="carol")
    other = team_store.add("Another", officer="carol")
    team_store.ok("submit", ref, officer="carol")
    team_store.ok("review", ref, "--return", "--comment", "Fix the source", officer="bob")
    (comment,) = team_store.sql("SELECT comment_ct FROM review_events WHERE action = 'return'")[0]
    team_store.sql("UPDATE review_events SET comment_ct = ? WHERE action = 'return'", (flip(comment, 40),))
    before = fingerprint(team_store.path)
    assert_refused(team_store.cli("show", ref), ERROR.format(ref=ref))
    assert fingerprint(team_store.path) == before
    assert team_store.show(other)["title"] == "Another"


def test_a_damaged_older_revision_names_the_record(three_records, fingerprint) -> None:
    store, refs = three_records
    store.ok("edit", refs[0], "--summary", "Second version")
    (first,) = store.sql(
        "SELECT body_ct FROM revisions WHERE number = 1 AND record_id = (SELECT id FROM records WHERE reference = ?)",
        (refs[0],),
    )[0]
    store.sql(
        "UPDATE revisions SET body_ct = ? WHERE number = 1 AND record_id = (SELECT id FROM records WHERE reference = ?)",
        (flip(first, 20), refs[0]),
    )
    before = fingerprint(store.path)
    assert_refused(store.cli("show", refs[0]), ERROR.format(ref=refs[0]))
    assert fingerprint(store.path) == before
    assert store.show(refs[1])["title"].startswith("Record 1")


# ---- the keyring's decrypt on its own -------------------------------------------------------------


@pytest.mark.parametrize("damage", DAMAGE)
def test_keyring_decrypt_raises_only_decryption_failed(damage: str) -> None:
    keyring = Keyring.generate("store-a")
    token = keyring.encrypt(b"plaintext")
    with pytest.raises(DecryptionFailed):
        keyring.decrypt(DAMAGE[damage](token))


def test_keyring_accepts_a_validly_signed_future_timestamp() -> None:
    """At rest there is no TTL: a token's timestamp is only checked by its MAC (an altered one fails above), so a
    record written on a machine whose clock ran ahead stays readable."""
    keyring = Keyring.generate("store-a")
    key = keyring.data_keys[keyring.current_version]
    assert keyring.decrypt(fernet_raw(key, b"from the future", timestamp=4_102_444_800)) == b"from the future"
