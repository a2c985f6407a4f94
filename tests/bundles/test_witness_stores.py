"""The counterpart as witness between two real stores (issue 11 point 6), driven through the CLI.

TR-MOI's attacker here is TR-MOI itself put back from an older copy of its store file: run from a workstation
that never saw the newer log (a fresh LIAISON_STATE_DIR, so its own witness does not stop it), it makes a new
change and exports or writes a receipt. Every file it writes is genuine (TR-MOI's real keys, a real signed log);
only PK-MOI, which received TR-MOI's newer checkpoint, can tell that the log went back.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from crypto import bundle as fmt
from crypto.checkpoint import open_checkpoint
from crypto.events import generate_signing_key, sign_event, signing_public
from tests.bundles.conftest import Pair, approved
from tests.bundles.corpus import crafted_by
from tests.bundles.test_hostile_counterpart import tr_record
from tests.bundles.witnessing import received, sent
from tests.liaison_helpers import LiaisonStore, assert_refused, store_fingerprint


def checkpoint_size(path: Path) -> int:
    """The tree size of the checkpoint a bundle or receipt carries (its note's second line)."""
    data = path.read_bytes()
    if fmt.sniff(data[: fmt.MAX_VERSION_LINE]) == "receipt":
        note = fmt.read_receipt(data, envelope_only=True).checkpoint
    else:
        with path.open("rb") as fh:
            note = fmt.BundleReader(fh).header.checkpoint
    assert note is not None
    return int(note.split("\n")[1])


def backup(store: LiaisonStore, name: str) -> Path:
    """A copy of the store file as it is now (what an old backup holds)."""
    copy = store.path.parent / name
    shutil.copyfile(store.path, copy)
    return copy


def restored(pair: Pair, copy: Path) -> LiaisonStore:
    """TR-MOI's store put back from `copy`, run from a workstation that never saw the newer log."""
    shutil.copyfile(copy, pair.tr.path)
    return LiaisonStore(pair.tr.path, workstation=pair.root / "tr-restored-workstation")


def export(store: LiaisonStore, to: str, out: Path) -> Path:
    store.ok("export", "--to", to, "--out", str(out))
    return out


def forked(peer: str, day: str) -> str:
    return f"{peer}'s log is not an extension of the checkpoint received on {day} (forked or rolled back)"


def refused_unchanged(store: LiaisonStore, path: Path, message: str) -> None:
    before = store_fingerprint(store.path)
    assert_refused(store.cli("import", str(path)), message)
    assert store_fingerprint(store.path) == before


def test_each_exchange_carries_a_checkpoint_the_receiver_records_in_its_log(pair: Pair) -> None:
    """Bundles and receipts both ways carry the writer's newest checkpoint; the second one from a contact comes
    with a consistency proof from the first; both logs still verify."""
    first = export(pair.tr, "PK-MOI", pair.path("tr-1.bundle"))
    pair.pk.ok("import", str(first), "--receipt-out", str(pair.path("pk-1.receipt")))
    pair.tr.ok("import", str(pair.path("pk-1.receipt")))
    approved(pair.tr, "Second ferry manifest", "green", "PK-MOI")
    second = export(pair.tr, "PK-MOI", pair.path("tr-2.bundle"))
    with second.open("rb") as fh:
        header = fmt.BundleReader(fh).header
    assert [p.from_size for p in header.proofs] == [checkpoint_size(first)]
    pair.pk.ok("import", str(second))
    assert [size for _day, size in received(pair.pk, "TR-MOI")] == [checkpoint_size(first), checkpoint_size(second)]
    assert sent(pair.tr, "PK-MOI") == [checkpoint_size(first), checkpoint_size(second)]
    assert [size for _day, size in received(pair.tr, "PK-MOI")] == [checkpoint_size(pair.path("pk-1.receipt"))]
    assert sent(pair.pk, "TR-MOI") == [checkpoint_size(pair.path("pk-1.receipt"))]
    pair.pk.ok("audit", "verify")
    pair.tr.ok("audit", "verify")


def test_proofs_start_at_the_newest_bundle_the_counterpart_acknowledged(pair: Pair) -> None:
    """A bundle that never arrived is covered by the next one's proofs (from every size sent since); once a
    receipt says which arrived, proofs start there."""
    sizes = []
    for i in range(1, 4):
        approved(pair.tr, f"Manifest {i}", "green", "PK-MOI")
        sizes.append(checkpoint_size(export(pair.tr, "PK-MOI", pair.path(f"tr-{i}.bundle"))))
    with pair.path("tr-3.bundle").open("rb") as fh:
        assert [p.from_size for p in fmt.BundleReader(fh).header.proofs] == sizes[:2]
    pair.pk.ok("import", str(pair.path("tr-1.bundle")))
    pair.pk.ok("import", str(pair.path("tr-3.bundle")), "--receipt-out", str(pair.path("pk-3.receipt")))
    pair.tr.ok("import", str(pair.path("pk-3.receipt")))
    approved(pair.tr, "Manifest 4", "green", "PK-MOI")
    fourth = export(pair.tr, "PK-MOI", pair.path("tr-4.bundle"))
    with fourth.open("rb") as fh:
        assert [p.from_size for p in fmt.BundleReader(fh).header.proofs] == [sizes[2]]
    pair.pk.ok("import", str(fourth))
    pair.pk.ok("import", str(pair.path("tr-2.bundle")))  # late, proven a prefix by tr-3's proofs
    assert [size for _day, size in received(pair.pk, "TR-MOI")] == [
        sizes[0],
        sizes[2],
        checkpoint_size(fourth),
        sizes[1],
    ]


def test_a_counterpart_whose_log_forked_is_refused(pair: Pair) -> None:
    """Threat 31: TR-MOI put back from an older copy, then changed and exporting, is refused by PK-MOI, which
    received the newer log's checkpoint: its log is longer now, but not an extension (no proof can be made)."""
    old = backup(pair.tr, "TR-old.db")
    first = export(pair.tr, "PK-MOI", pair.path("tr-1.bundle"))
    pair.pk.ok("import", str(first))
    [(day, held)] = received(pair.pk, "TR-MOI")
    tr = restored(pair, old)
    for i in range(3):
        approved(tr, f"Forked manifest {i}", "green", "PK-MOI")
    fork = export(tr, "PK-MOI", pair.path("tr-forked.bundle"))
    assert checkpoint_size(fork) > held  # grown past what PK-MOI holds, on another branch
    refused_unchanged(pair.pk, fork, forked("TR-MOI", day))


@pytest.mark.parametrize(
    "hide",
    [
        "UPDATE audit_log SET action = 'x' WHERE action IN ('import', 'receipt')",
        "UPDATE audit_log SET action = 'read', target = 'x' WHERE action IN ('import', 'receipt')",
    ],
    ids=["their action column edited", "recast as reads"],
)
def test_a_fork_is_refused_though_the_events_that_witnessed_the_contact_were_hidden(pair: Pair, hide: str) -> None:
    """Found by a hostile pass: the checkpoints received from a contact were looked up by the log's unsigned
    action column, so editing it (with `sqlite3`, no keys) hid them, and a forked log's bundle imported. They
    are found by what the signed bodies say."""
    import sqlite3

    old = backup(pair.tr, "TR-old.db")
    pair.pk.ok("import", str(export(pair.tr, "PK-MOI", pair.path("tr-1.bundle"))))
    [(day, _held)] = received(pair.pk, "TR-MOI")
    tr = restored(pair, old)
    for i in range(3):
        approved(tr, f"Forked manifest {i}", "green", "PK-MOI")
    fork = export(tr, "PK-MOI", pair.path("tr-forked.bundle"))
    conn = sqlite3.connect(pair.pk.path)
    with conn:
        conn.execute(hide)
    conn.close()
    refused_unchanged(pair.pk, fork, forked("TR-MOI", day))


def test_a_counterpart_whose_log_shrank_is_refused(pair: Pair) -> None:
    """Threat 31: TR-MOI put back from an older copy that exports at once carries a smaller tree than the one
    PK-MOI received: a rollback, refused with the same line."""
    old = backup(pair.tr, "TR-old.db")
    for i in range(3):
        approved(pair.tr, f"Later manifest {i}", "green", "PK-MOI")
    first = export(pair.tr, "PK-MOI", pair.path("tr-1.bundle"))
    pair.pk.ok("import", str(first))
    [(day, held)] = received(pair.pk, "TR-MOI")
    shrunk = export(restored(pair, old), "PK-MOI", pair.path("tr-shrunk.bundle"))
    assert checkpoint_size(shrunk) < held
    refused_unchanged(pair.pk, shrunk, forked("TR-MOI", day))


def test_a_receipt_from_a_forked_log_is_refused(pair: Pair) -> None:
    """Threat 31: receipts carry the receiver's checkpoint too; PK-MOI refuses a receipt written by TR-MOI put
    back from an older copy, after a receipt from the newer log (the bundle it acknowledges stays unacknowledged)."""
    old = backup(pair.tr, "TR-old.db")
    one = export(pair.pk, "TR-MOI", pair.path("pk-1.bundle"))
    pair.tr.ok("import", str(one), "--receipt-out", str(pair.path("tr-1.receipt")))
    pair.pk.ok("import", str(pair.path("tr-1.receipt")))
    [(day, _held)] = received(pair.pk, "TR-MOI")
    approved(pair.pk, "Another heroin route", "green", "TR-MOI")
    two = export(pair.pk, "TR-MOI", pair.path("pk-2.bundle"))
    tr = restored(pair, old)
    tr.ok("import", str(two), "--receipt-out", str(pair.path("tr-2.receipt")))
    refused_unchanged(pair.pk, pair.path("tr-2.receipt"), forked("TR-MOI", day))


def test_a_bundle_without_a_checkpoint_after_one_with_is_a_downgrade(pair: Pair) -> None:
    """Threat 31: once TR-MOI's real store sent its checkpoint, a bundle signed with TR-MOI's real key but
    written without one (a v1 file, or a v2 file that leaves it out) is refused: dropping the checkpoint
    would otherwise hide a rollback."""
    pair.pk.ok("import", str(export(pair.tr, "PK-MOI", pair.path("tr-1.bundle"))))
    [(day, _size)] = received(pair.pk, "TR-MOI")
    message = f"the bundle from TR-MOI carries no checkpoint, but TR-MOI has sent its checkpoint since {day}; refusing a downgrade"
    for version in (1, 2):
        path = pair.path(f"tr-v{version}.bundle")
        path.write_bytes(crafted_by(pair.tr, pair.root / "pk.card", [tr_record()], seq=60 + version, version=version))
        refused_unchanged(pair.pk, path, f"{path.name}: {message}")


def test_a_v1_bundle_from_a_contact_that_never_sent_a_checkpoint_still_imports(pair: Pair) -> None:
    """A contact still on a Liaison that writes v1 bundles (no checkpoint) is not refused: there is nothing to
    compare yet, and nothing is recorded for it."""
    path = pair.path("tr-v1.bundle")
    path.write_bytes(crafted_by(pair.tr, pair.root / "pk.card", [tr_record()], seq=61, version=1))
    pair.pk.ok("import", str(path))
    assert received(pair.pk, "TR-MOI") == []


def test_after_an_identity_rotation_checkpoints_are_signed_by_the_new_key(pair: Pair) -> None:
    """Threat 11: after `identity rotate`, TR-MOI's next checkpoint is signed by its new identity key (not the
    old one), its own `audit verify` still passes (earlier checkpoints under the retired key the transition
    vouches for), and PK-MOI accepts it with the transition, proven consistent with the one held."""
    first = export(pair.tr, "PK-MOI", pair.path("tr-1.bundle"))
    pair.pk.ok("import", str(first))
    old_card = (pair.root / "tr.card").read_bytes()
    pair.tr.ok("identity", "rotate")
    pair.tr.ok("identity", "export", "--out", str(pair.path("tr-new.card")))
    approved(pair.tr, "Manifest after the rotation", "green", "PK-MOI")
    second = export(pair.tr, "PK-MOI", pair.path("tr-2.bundle"))
    [(note,)] = pair.tr.sql("SELECT note FROM audit_checkpoints ORDER BY size DESC LIMIT 1")
    origin = note.split("\n", 1)[0]
    new_key = fmt_card_key(pair.path("tr-new.card").read_bytes())
    old_key = fmt_card_key(old_card)
    assert new_key != old_key
    open_checkpoint(note, origin, new_key)
    # the checkpoint of the rotation's own transaction: the first at or after its event
    [(rotation_note,)] = pair.tr.sql(
        "SELECT note FROM audit_checkpoints WHERE size >= (SELECT seq FROM audit_log WHERE action = 'identity-rotate') "
        "ORDER BY size LIMIT 1"
    )
    open_checkpoint(rotation_note, origin, new_key)  # the rotation's own checkpoint is the new key's
    [(before_note,)] = pair.tr.sql("SELECT note FROM audit_checkpoints WHERE size = ?", (checkpoint_size(first),))
    open_checkpoint(before_note, origin, old_key)
    pair.tr.ok("audit", "verify")
    summary = pair.pk.ok("import", str(second)).err
    assert "TR-MOI's identity key changed" in summary
    assert [size for _day, size in received(pair.pk, "TR-MOI")] == [checkpoint_size(first), checkpoint_size(second)]
    pair.pk.ok("audit", "verify")
    # PK-MOI's log signed the hand-over and the contact's new keys
    actions = [a for (a,) in pair.pk.sql("SELECT action FROM audit_log WHERE target = 'TR-MOI' ORDER BY seq")]
    assert actions[-2:] == ["contact-key-rotated", "contact-update"]
    assert pair.pk.sql("SELECT count(*) FROM action_events WHERE action = 'contact-key-rotated'") == [(0,)]


def fmt_card_key(card: bytes) -> bytes:
    """The Ed25519 identity key an identity card carries."""
    from crypto.card import read_card

    return read_card(card).identity.signing_public


def test_a_card_replaced_out_of_band_starts_the_witnessing_afresh(pair: Pair) -> None:
    """A contact that had to restore an old copy re-exchanges its card out of band (`contacts add --replace
    --fingerprint`); from then on its log is witnessed from its next checkpoint."""
    old = backup(pair.tr, "TR-old.db")
    pair.pk.ok("import", str(export(pair.tr, "PK-MOI", pair.path("tr-1.bundle"))))
    tr = restored(pair, old)
    tr.ok("identity", "rotate")  # the restored store takes a new identity: its card changes
    tr.ok("identity", "export", "--out", str(pair.path("tr-new.card")))
    fingerprint = next(
        line.removeprefix("fingerprint: ")
        for line in tr.ok("identity", "show").out.splitlines()
        if line.startswith("fingerprint: ")
    )
    pair.pk.ok("contacts", "add", str(pair.path("tr-new.card")), "--replace", "--fingerprint", fingerprint)
    # the restored store numbers its bundles from where the copy was: its first is refused for that alone
    again = export(tr, "PK-MOI", pair.path("tr-2.bundle"))
    assert "sequence number 1 from TR-MOI was already used" in pair.pk.cli("import", str(again)).err
    approved(tr, "Manifest after the restore", "green", "PK-MOI")
    pair.pk.ok("import", str(export(tr, "PK-MOI", pair.path("tr-3.bundle"))))
    assert len(received(pair.pk, "TR-MOI")) == 2
    pair.pk.ok("audit", "verify")


@pytest.mark.parametrize("resign", [False, True], ids=["edited", "edited and re-signed with another key"])
def test_a_witness_event_edited_in_the_file_is_detected(pair: Pair, resign: bool) -> None:
    """Threat 14: what PK-MOI recorded of TR-MOI's checkpoint lives in its signed log, not in a table of its own;
    an attacker with sqlite3 who rewrites it (another root, to let a forked TR-MOI through) breaks the event's
    signature, and re-signing it with a key of their own (written beside it) is not alice's key in the log:
    the next import from TR-MOI is refused, naming the event, and `audit verify` reports it."""
    pair.pk.ok("import", str(export(pair.tr, "PK-MOI", pair.path("tr-1.bundle"))))
    [(seq, body)] = pair.pk.sql(
        "SELECT seq, body FROM audit_log WHERE action = 'import' "
        "AND json_extract(CAST(body AS TEXT), '$.data.checkpoint.from') = 'TR-MOI'"
    )
    root = json.loads(body)["data"]["checkpoint"]["root"]
    forged = bytes(body).replace(root.encode(), b"00" * 32)
    pair.pk.sql("UPDATE audit_log SET body = ? WHERE seq = ?", (forged, seq))
    if resign:
        key = generate_signing_key()
        pair.pk.sql(
            "UPDATE audit_log SET signer = ?, sig = ? WHERE seq = ?",
            (signing_public(key), sign_event(key, forged), seq),
        )
    approved(pair.tr, "Second manifest", "green", "PK-MOI")
    second = export(pair.tr, "PK-MOI", pair.path("tr-2.bundle"))
    refused_unchanged(
        pair.pk,
        second,
        f"the audit event that recorded TR-MOI's checkpoint (#{seq}) was altered outside Liaison; "
        "run `liaison audit verify`",
    )
    assert pair.pk.cli("audit", "verify").code == 1
