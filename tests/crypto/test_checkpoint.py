"""Signed checkpoints (C2SP signed note): the round trip, the C2SP key id, and refusal — with the crypto layer's own
errors only — of every edited byte, a wrong key or key name, and malformed notes."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto.checkpoint import Checkpoint, checkpoint_body, key_id, open_checkpoint, sign_checkpoint
from crypto.errors import BadSignature, CryptoError, MalformedData
from crypto.events import signing_public

PRIVATE = bytes(range(32))
PUBLIC = signing_public(PRIVATE)
NAME = "liaison/TR-MOI/0b9e6a3c-6d0f-4d41-9a47-3f1a2b4c5d6e"
CP = Checkpoint(NAME, 1204, hashlib.sha256(b"root").digest(), datetime(2026, 11, 28, 10, 2, 5, tzinfo=UTC))


def test_the_note_has_the_c2sp_layout() -> None:
    note = sign_checkpoint(CP, NAME, PRIVATE)
    body, _, signature = note.partition("\n\n")
    assert body.split("\n") == [NAME, "1204", base64.b64encode(CP.root).decode(), "time 2026-11-28T10:02:05Z"]
    dash, name, sig = signature.rstrip("\n").split(" ")
    assert dash == "\u2014" and name == NAME
    raw = base64.b64decode(sig)
    assert len(raw) == 68
    assert raw[:4] == hashlib.sha256(NAME.encode() + b"\n\x01" + PUBLIC).digest()[:4] == key_id(NAME, PUBLIC)
    Ed25519PrivateKey.from_private_bytes(PRIVATE).public_key().verify(raw[4:], (body + "\n").encode())
    assert checkpoint_body(CP) == body + "\n"


def test_c2sp_signed_note_key_id_vector() -> None:
    """The key id of the C2SP signed-note example key (golang.org/x/mod/sumdb/note's PeterNeumann key)."""
    name = "PeterNeumann"
    public = base64.b64decode("ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")[1:]  # type byte 0x01, then the key
    assert key_id(name, public).hex() == "c74f20a3"


@settings(max_examples=60, deadline=None)
@given(
    size=st.integers(min_value=0, max_value=(1 << 63) - 1),
    root=st.binary(min_size=32, max_size=32),
    seconds=st.integers(min_value=0, max_value=4_000_000_000),
    micro=st.sampled_from([0, 1, 999_999, 123_456]),
)
def test_round_trip(size: int, root: bytes, seconds: int, micro: int) -> None:
    moment = datetime.fromtimestamp(seconds, UTC).replace(microsecond=micro)
    cp = Checkpoint(NAME, size, root, moment)
    assert open_checkpoint(sign_checkpoint(cp, NAME, PRIVATE), NAME, PUBLIC) == cp


def test_a_time_in_another_zone_is_written_in_utc() -> None:
    cp = Checkpoint(NAME, 1, CP.root, datetime(2026, 11, 28, 12, 2, 5, tzinfo=timezone(timedelta(hours=2))))
    opened = open_checkpoint(sign_checkpoint(cp, NAME, PRIVATE), NAME, PUBLIC)
    assert opened.time == cp.time and opened.time.tzinfo == UTC
    with pytest.raises(ValueError):
        sign_checkpoint(Checkpoint(NAME, 1, CP.root, datetime(2026, 11, 28)), NAME, PRIVATE)


def test_every_byte_edit_of_the_note_is_refused() -> None:
    note = sign_checkpoint(CP, NAME, PRIVATE).encode("utf-8")
    for i in range(len(note)):
        for flip in (0x01, 0x20, 0x80):
            edited = bytearray(note)
            edited[i] ^= flip
            try:
                text = bytes(edited).decode("utf-8")
            except UnicodeDecodeError:
                continue  # not text: cannot even be handed over as a note
            with pytest.raises(CryptoError):
                open_checkpoint(text, NAME, PUBLIC)
    for i in range(len(note)):  # a byte removed, or one inserted
        with pytest.raises(CryptoError):
            open_checkpoint((note[:i] + note[i + 1 :]).decode("utf-8", "replace"), NAME, PUBLIC)
        with pytest.raises(CryptoError):
            open_checkpoint((note[:i] + b"x" + note[i:]).decode("utf-8", "replace"), NAME, PUBLIC)


def test_a_wrong_key_or_key_name_is_refused() -> None:
    note = sign_checkpoint(CP, NAME, PRIVATE)
    other = signing_public(bytes(32))
    with pytest.raises(BadSignature):
        open_checkpoint(note, NAME, other)
    with pytest.raises(BadSignature):
        open_checkpoint(note, NAME + "x", PUBLIC)
    # the right name and id but another key's signature
    forged = sign_checkpoint(CP, NAME, bytes(32))
    forged_sig = base64.b64decode(forged.rstrip("\n").rsplit(" ", 1)[1])[4:]
    line = base64.b64encode(key_id(NAME, PUBLIC) + forged_sig).decode()
    with pytest.raises(BadSignature, match="does not verify"):
        open_checkpoint(checkpoint_body(CP) + f"\n\u2014 {NAME} {line}\n", NAME, PUBLIC)


def test_other_keys_signatures_are_ignored_but_a_failing_one_of_ours_refuses() -> None:
    note = sign_checkpoint(CP, NAME, PRIVATE)
    witness = sign_checkpoint(CP, "witness.example/w1", bytes(32))
    witness_line = witness.split("\n\n")[1]
    cosigned = note + witness_line
    assert open_checkpoint(cosigned, NAME, PUBLIC) == CP
    assert open_checkpoint(checkpoint_body(CP) + "\n" + witness_line + note.split("\n\n")[1], NAME, PUBLIC) == CP
    # only the witness: not signed by us
    with pytest.raises(BadSignature, match="not signed"):
        open_checkpoint(witness, NAME, PUBLIC)
    # our line twice, the second with its signature bytes edited
    ours = note.split("\n\n")[1].rstrip("\n").rsplit(" ", 1)[1]
    raw = bytearray(base64.b64decode(ours))
    raw[-1] ^= 1
    bad_line = f"\u2014 {NAME} {base64.b64encode(bytes(raw)).decode()}\n"
    with pytest.raises(BadSignature):
        open_checkpoint(note + bad_line, NAME, PUBLIC)


def _signed(body: str) -> str:
    signature = Ed25519PrivateKey.from_private_bytes(PRIVATE).sign(body.encode())
    return f"{body}\n\u2014 {NAME} {base64.b64encode(key_id(NAME, PUBLIC) + signature).decode()}\n"


ROOT_B64 = base64.b64encode(CP.root).decode()
URLSAFE_B64 = base64.urlsafe_b64encode(bytes([0xFF]) * 32).decode()
SHORT_B64 = base64.b64encode(b"x" * 31).decode()


@pytest.mark.parametrize(
    "body",
    [
        f"{NAME}\n1204\n{ROOT_B64}\n",  # no time line
        f"{NAME}\n1204\n{ROOT_B64}\ntime 2026-11-28T10:02:05Z\nextra\n",  # an extension line more
        f"{NAME}\n01204\n{ROOT_B64}\ntime 2026-11-28T10:02:05Z\n",  # leading zero
        f"{NAME}\n-1\n{ROOT_B64}\ntime 2026-11-28T10:02:05Z\n",
        f"{NAME}\n+1\n{ROOT_B64}\ntime 2026-11-28T10:02:05Z\n",
        f"{NAME}\n١٢\n{ROOT_B64}\ntime 2026-11-28T10:02:05Z\n",  # non-ASCII digits
        f"{NAME}\n{1 << 63}\n{ROOT_B64}\ntime 2026-11-28T10:02:05Z\n",
        f"{NAME}\n1204\n{ROOT_B64.rstrip('=')}\ntime 2026-11-28T10:02:05Z\n",  # unpadded
        f"{NAME}\n1204\n{URLSAFE_B64}\ntime 2026-11-28T10:02:05Z\n",
        f"{NAME}\n1204\n{SHORT_B64}\ntime 2026-11-28T10:02:05Z\n",
        f"{NAME}\n1204\n{ROOT_B64}\ntime 2026-11-28T10:02:05+00:00\n",
        f"{NAME}\n1204\n{ROOT_B64}\ntime 2026-11-28 10:02:05Z\n",
        f"{NAME}\n1204\n{ROOT_B64}\ntime 2026-02-30T10:02:05Z\n",
        f"{NAME}\n1204\n{ROOT_B64}\ntime 2026-11-28T10:02:05.000000Z\n",  # non-canonical fraction
        f"{NAME}\n1204\n{ROOT_B64}\ntime 2026-11-28T10:02:05.5Z\n",
        f"{NAME}\n1204\n{ROOT_B64}\ntime  2026-11-28T10:02:05Z\n",
        f"{NAME}\n1204\n{ROOT_B64}\nwhen 2026-11-28T10:02:05Z\n",
        f"\n1204\n{ROOT_B64}\ntime 2026-11-28T10:02:05Z\n",  # empty origin
        f"liaison/a b\n1204\n{ROOT_B64}\ntime 2026-11-28T10:02:05Z\n",
    ],
)
def test_a_well_signed_but_malformed_body_is_refused(body: str) -> None:
    with pytest.raises(MalformedData):
        open_checkpoint(_signed(body), NAME, PUBLIC)


@pytest.mark.parametrize(
    "note",
    [
        "",
        "\n",
        "\n\n",
        "no signature block\n",
        checkpoint_body(CP),
        checkpoint_body(CP) + "\n",  # a blank line and no signature
        checkpoint_body(CP) + "\n\u2014 name\n",
        checkpoint_body(CP) + "\n- name AAAAAAAA\n",  # ASCII hyphen
        checkpoint_body(CP) + "\n\u2014 name AAAA\n",  # too short to hold a key id and a signature
        checkpoint_body(CP) + "\n\u2014 name A===\n",
        checkpoint_body(CP) + "\n\u2014  name AAAAAAAA\n",
        checkpoint_body(CP) + "\n\u2014 name AAAAAAAA",  # no final newline
        checkpoint_body(CP) + "\n\u2014 name AAAAAAAA\r\n",
        checkpoint_body(CP) + "\n" + "\u2014 name AAAAAAAA\n" * 17,
        checkpoint_body(CP).replace("\n", "\r\n") + "\n\u2014 name AAAAAAAA\n",
        "x" * 9000 + "\n\n\u2014 name AAAAAAAA\n",
        "\ud800\n\n\u2014 name AAAAAAAA\n",  # not encodable as UTF-8
        "a\x00b\n\n\u2014 name AAAAAAAA\n",
        "a\x1b[31mb\n\n\u2014 name AAAAAAAA\n",
    ],
)
def test_a_malformed_note_is_refused(note: str) -> None:
    with pytest.raises(MalformedData):
        open_checkpoint(note, NAME, PUBLIC)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400) | st.binary(max_size=400).map(lambda b: b.decode("latin-1")))
def test_any_text_fails_only_with_crypto_errors(note: str) -> None:
    with pytest.raises(CryptoError):
        open_checkpoint(note, NAME, PUBLIC)


def test_not_text_and_bad_keys_fail_with_crypto_errors() -> None:
    note = sign_checkpoint(CP, NAME, PRIVATE)
    with pytest.raises(MalformedData):
        open_checkpoint(note.encode(), NAME, PUBLIC)  # type: ignore[arg-type]
    with pytest.raises(MalformedData):
        open_checkpoint(note, NAME, PUBLIC[:31])
    with pytest.raises(MalformedData):
        open_checkpoint(note, NAME, None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "cp",
    [
        Checkpoint("has space", 1, CP.root, CP.time),
        Checkpoint("", 1, CP.root, CP.time),
        Checkpoint("a+b", 1, CP.root, CP.time),
        Checkpoint(NAME, -1, CP.root, CP.time),
        Checkpoint(NAME, 1 << 63, CP.root, CP.time),
        Checkpoint(NAME, True, CP.root, CP.time),
        Checkpoint(NAME, 1, CP.root[:31], CP.time),
    ],
)
def test_a_checkpoint_that_cannot_be_written_is_a_caller_error(cp: Checkpoint) -> None:
    with pytest.raises(ValueError):
        sign_checkpoint(cp, NAME, PRIVATE)


@pytest.mark.parametrize("name", ["", "a b", "a+b", "a\nb", "a\u2028b"])
def test_a_key_name_that_cannot_be_written_is_a_caller_error(name: str) -> None:
    with pytest.raises(ValueError):
        sign_checkpoint(CP, name, PRIVATE)
