"""The counterpart as witness (issue 11 point 6): every bundle carries its sender's checkpoint and consistency
proofs; the receiver keeps what it saw and refuses a log that forked, shrank or stopped sending checkpoints.

TR-MOI's modified writer signs whatever checkpoint it likes with TR-MOI's own real identity key (a genuine
signature from a known contact: the signature is not the defence here, the consistency proof is). Its "log" is
a list of leaves it chooses, so a fork is two logs sharing a prefix. PK-MOI is a real store receiving through
the CLI. End-to-end forks of real stores are in `test_witness_stores.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from crypto import bundle as fmt
from crypto.checkpoint import Checkpoint, sign_checkpoint
from crypto.keyring import Keyring
from crypto.merkle import consistency_proof, leaf_hash, root
from tests.bundles.conftest import Pair
from tests.bundles.corpus import crafted_by
from tests.bundles.test_hostile_counterpart import tr_record
from tests.bundles.witnessing import received
from tests.liaison_helpers import assert_refused, store_fingerprint

LOG = [leaf_hash(f"TR-MOI event {i}".encode()) for i in range(40)]
FORK = LOG[:12] + [leaf_hash(f"TR-MOI forked event {i}".encode()) for i in range(28)]


def log_of(leaves: list[bytes], size: int, *, since: tuple[int, ...] = (), origin: str | None = None,
           key: Callable[[Keyring], bytes] | None = None) -> Callable[[Keyring], tuple[str, tuple[fmt.Proof, ...]]]:  # fmt: skip
    """A checkpoint of the first `size` leaves, signed as TR-MOI's log (or `origin`), with proofs from `since`."""

    def make(keys: Keyring) -> tuple[str, tuple[fmt.Proof, ...]]:
        name = origin or f"liaison/TR-MOI/{keys.store_id}"
        cp = Checkpoint(name, size, root(leaves[:size]), datetime.now(UTC).replace(microsecond=0))
        note = sign_checkpoint(cp, name, key(keys) if key else keys.signing_key)
        proofs = tuple(fmt.Proof(m, tuple(consistency_proof(m, leaves[:size]))) for m in since)
        return note, proofs

    return make


def send(pair: Pair, seq: int, checkpoint: Callable[[Keyring], tuple[str, tuple[fmt.Proof, ...]]] | None,
         *, version: int = 2) -> Path:  # fmt: skip
    """A bundle from TR-MOI's modified writer (one fresh record per bundle), sealed to PK-MOI."""
    path = pair.path(f"tr-{seq}.bundle")
    record = tr_record(
        uuid=f"8a1c2a8e-3b4d-4c5e-9f60-{seq:012d}", reference=f"TR-MOI-{datetime.now(UTC).year}-{9000 + seq:05d}"
    )
    path.write_bytes(
        crafted_by(pair.tr, pair.root / "pk.card", [record], seq=seq, version=version, checkpoint=checkpoint)
    )
    return path


def imported(pair: Pair, path: Path) -> None:
    result = pair.pk.cli("import", str(path))
    assert result.code == 0, result


def forked_message(pair: Pair) -> str:
    """The refusal issue 11 spells out, dated with the day PK-MOI received TR-MOI's largest checkpoint."""
    day = max(received(pair.pk, "TR-MOI"), key=lambda r: r[1])[0]
    return f"TR-MOI's log is not an extension of the checkpoint received on {day} (forked or rolled back)"


def refused(pair: Pair, path: Path, message: str, *, exact: bool = True) -> None:
    before = store_fingerprint(pair.pk.path)
    assert_refused(pair.pk.cli("import", str(path)), message, exact=exact)
    assert store_fingerprint(pair.pk.path) == before


def test_consistent_checkpoints_are_kept(pair: Pair) -> None:
    """The first checkpoint is taken as it comes; each later one must extend it, shown by the proof."""
    imported(pair, send(pair, 1, log_of(LOG, 10)))
    imported(pair, send(pair, 2, log_of(LOG, 10)))  # same tree: same root, no proof needed
    imported(pair, send(pair, 3, log_of(LOG, 25, since=(10,))))
    assert [size for _day, size in received(pair.pk, "TR-MOI")] == [10, 10, 25]


@pytest.mark.parametrize(
    ("name", "second"),
    [
        ("forked and grown", lambda: log_of(FORK, 30, since=(20,))),  # a proof from 20, but of another tree
        ("forked, same size", lambda: log_of(FORK, 20)),
        ("shrunk", lambda: log_of(LOG, 15)),  # a smaller tree no later proof vouches for
        ("grown without a proof", lambda: log_of(LOG, 30)),  # the sender forgot it ever sent 20
        ("proof from another size", lambda: log_of(LOG, 30, since=(12,))),
    ],
)
def test_a_log_that_is_not_an_extension_is_refused(
    pair: Pair, name: str, second: Callable[[], Callable[[Keyring], tuple[str, tuple[fmt.Proof, ...]]]]
) -> None:
    """Threat 31: a counterpart whose log forked or was rolled back is reported on import, by name; the bundle
    is refused and nothing changes (its signature by TR-MOI's real key is valid)."""
    imported(pair, send(pair, 1, log_of(LOG, 20)))
    refused(pair, send(pair, 2, second()), forked_message(pair))


def test_a_late_bundle_is_checked_by_the_proof_that_came_before_it(pair: Pair) -> None:
    """Bundles may arrive out of order: an older checkpoint is accepted when a later bundle proved it a prefix."""
    imported(pair, send(pair, 2, log_of(LOG, 30, since=(20,))))
    imported(pair, send(pair, 1, log_of(LOG, 20)))
    refused(pair, send(pair, 3, log_of(FORK, 20)), forked_message(pair))


def test_once_a_contact_sent_a_checkpoint_a_bundle_without_one_is_a_downgrade(pair: Pair) -> None:
    """v1 bundles still import from a contact that never sent a checkpoint; afterwards one without is refused."""
    imported(pair, send(pair, 1, None, version=1))
    imported(pair, send(pair, 2, None))
    imported(pair, send(pair, 3, log_of(LOG, 20)))
    day = received(pair.pk, "TR-MOI")[0][0]
    message = f"the bundle from TR-MOI carries no checkpoint, but TR-MOI has sent its checkpoint since {day}; refusing a downgrade"
    refused(pair, (v1 := send(pair, 4, None, version=1)), f"{v1.name}: {message}")
    refused(pair, (v2 := send(pair, 5, None)), f"{v2.name}: {message}")


def test_a_checkpoint_not_signed_by_the_contact_or_of_another_log_is_refused(pair: Pair) -> None:
    """The note must be TR-MOI's log, signed by the key on TR-MOI's card (not just any key the file names)."""
    other = Keyring.generate("x").signing_key
    path = send(pair, 1, log_of(LOG, 10, key=lambda _k: other))
    refused(pair, path, f"{path.name}: the bundle's checkpoint is refused: checkpoint is not signed by", exact=False)
    path = send(pair, 2, log_of(LOG, 10, origin="liaison/PK-MOI/6f1c2a8e-3b4d-4c5e-9f60-718293a4b5c6"))
    refused(pair, path, f"{path.name}: the bundle's checkpoint is not of TR-MOI's log ('liaison/PK-MOI/", exact=False)
    assert received(pair.pk, "TR-MOI") == []
