"""Ministry identity renewal (issue 12 point 3): `identity rotate`, the statement signed by the old and the new
key, its delivery in the next bundle or receipt, and what the counterpart accepts afterwards.

PK-MOI and TR-MOI are real stores driven through the CLI. The attacker is a copy of PK-MOI's store taken before
the rotation (it holds the old keys: a stolen old key) and a modified writer that signs whatever it is given
with those real keys.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from crypto import bundle as fmt
from crypto.bundle.transition import transition_message
from crypto.identity import grouped_fingerprint, public_identity
from crypto.keyring import Keyring
from tests.bundles.conftest import Pair, approved
from tests.bundles.corpus import crafted_by, good_record, twin
from tests.liaison_helpers import PASSPHRASES, LiaisonStore, assert_refused, store_fingerprint


def own_fingerprint(store: LiaisonStore) -> str:
    """The store's identity fingerprint as `identity show` prints it (plain hex)."""
    line = next(x for x in store.ok("identity", "show").out.splitlines() if x.startswith("fingerprint: "))
    return line.removeprefix("fingerprint: ").replace(" ", "")


def contact(store: LiaisonStore, code: str) -> dict[str, Any]:
    """One contact of `contacts list --json`."""
    return next(c for c in store.ok("contacts", "list", "--json").json() if c["code"] == code)


def short(fingerprint: str) -> str:
    return grouped_fingerprint(fingerprint)[:19]


def new_keys() -> tuple[bytes, bytes]:
    """A fresh (signing, exchange) private key pair: what a thief or a rotation makes."""
    raw = (Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return Ed25519PrivateKey.generate().private_bytes(*raw), X25519PrivateKey.generate().private_bytes(*raw)


def deliver(pair: Pair, name: str = "rot.bundle", receipt: str | None = None) -> str:
    """PK-MOI exports to TR-MOI and TR-MOI imports it; returns the import's summary."""
    out = pair.path(name)
    pair.pk.ok("export", "--to", "TR-MOI", "--out", str(out))
    extra = ["--receipt-out", str(pair.path(receipt))] if receipt else []
    return pair.tr.ok("import", str(out), *extra).err


def old_key_bundle(pair: Pair, holder: LiaisonStore, name: str, *, transitions: tuple[fmt.KeyTransition, ...] = (),
                   keys: tuple[bytes, bytes] | None = None) -> Path:  # fmt: skip
    """A bundle written by the modified writer of `holder` (a copy of PK-MOI with its old keys)."""
    path = pair.path(name)
    path.write_bytes(
        crafted_by(
            holder,
            pair.root / "tr.card",
            [good_record()],
            seq=77,
            keys_of=(lambda _k: keys) if keys else None,
            transitions=transitions,
        )
    )
    return path


def test_rotation_travels_in_the_next_bundle_and_the_old_key_is_refused_afterwards(pair: Pair) -> None:
    """Threat 11: after a rotation delivered in a bundle, the contact holds only the new key; a bundle signed
    afterwards with the old key (a copy of the store, a stolen key) is refused by name."""
    thief = twin(pair, "PK-before-rotation.db")  # the old keys, as a thief of the old key would hold them
    before = own_fingerprint(pair.pk)
    rotated = pair.pk.ok("identity", "rotate").err
    after = own_fingerprint(pair.pk)
    assert after != before
    assert f"new fingerprint: {grouped_fingerprint(after)}" in rotated and "TR-MOI" in rotated
    shown = pair.pk.ok("identity", "show").out
    assert f"previous fingerprint: {grouped_fingerprint(before)}" in shown
    assert "pending delivery to TR-MOI" in shown

    out = pair.path("rot.bundle")
    exported = pair.pk.ok("export", "--to", "TR-MOI", "--out", str(out)).err
    assert "carried this ministry's key transition (1 statement signed by the old and new keys)" in exported
    summary = pair.tr.ok("import", str(out), "--receipt-out", str(pair.path("rot.receipt"))).err
    assert f"PK-MOI's identity key changed: {short(before)}… → {short(after)}…" in summary
    assert "signed by both keys" in summary

    pk = contact(pair.tr, "PK-MOI")
    assert pk["fingerprint"] == after
    [change] = pk["key_changes"]
    assert change["old_fingerprint"] == before and change["new_fingerprint"] == after
    assert change["via"].startswith("bundle ")
    listed = pair.tr.ok("contacts", "list").out
    assert "key rotated" in listed and f"previous {short(before)}…" in listed
    header, row, rotated = listed.splitlines()
    assert header.split() == ["CODE", "FINGERPRINT", "NAME"] and row.startswith("PK-MOI  ")
    assert rotated.index("key rotated") == header.index("FINGERPRINT")  # under the fingerprint, in its column
    assert pair.tr.sql("SELECT count(*) FROM audit_log WHERE action = 'contact-key-rotated' AND target = 'PK-MOI'") == [
        (1,)
    ]

    # TR-MOI has not answered yet: still pending; its receipt (sealed to the new key) confirms delivery
    assert "previous fingerprint" in pair.pk.ok("identity", "show").out
    pair.pk.ok("import", str(pair.path("rot.receipt")))
    assert "previous fingerprint" not in pair.pk.ok("identity", "show").out

    stale = old_key_bundle(pair, thief, "old-key.bundle")
    before_tr = store_fingerprint(pair.tr.path)
    rotated_on = str(change["rotated_at"])[:10]
    assert_refused(
        pair.tr.cli("import", str(stale)),
        f"old-key.bundle: the bundle is signed with PK-MOI's retired key {short(before)}…, replaced on {rotated_on} "
        "by a statement signed by both keys; only the new key is accepted",
    )
    # the honest export path of the old copy is refused alike
    honest_old = pair.path("old-honest.bundle")
    thief.ok("export", "--to", "TR-MOI", "--out", str(honest_old))
    assert "retired key" in pair.tr.cli("import", str(honest_old)).err
    assert store_fingerprint(pair.tr.path) == before_tr


def test_after_confirmation_the_statement_rides_along_unsaid(pair: Pair) -> None:
    """Once the contact used the new key, an export no longer says it carries the statement, and the contact,
    holding the new key, reads past it; it still rides in the header (the delivery rows that say "confirmed" are
    not signed: see the next test but one), and nothing is due for it alone."""
    pair.pk.ok("identity", "rotate")
    deliver(pair, receipt="r.receipt")
    pair.pk.ok("import", str(pair.path("r.receipt")))
    assert_refused(
        pair.pk.cli("export", "--to", "TR-MOI", "--out", str(pair.path("none.bundle"))),
        "nothing to export to TR-MOI",
        exact=False,
    )
    approved(pair.pk, "Later report", "amber", "TR-MOI")
    out = pair.path("later.bundle")
    assert "key transition" not in pair.pk.ok("export", "--to", "TR-MOI", "--out", str(out)).err
    reader = fmt.BundleReader(out.open("rb"))
    assert reader.header.version == 2 and len(reader.header.transitions) == 1
    assert "identity key changed" not in pair.tr.ok("import", str(out)).err


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("new", "the new key's signature does not verify"),
        ("old", "the old key's signature does not verify"),
    ],
)
def test_a_statement_with_one_valid_signature_is_refused(pair: Pair, bad: str, message: str) -> None:
    """Threat 11: a transition needs both signatures. With only the old key (a thief naming someone else's key as
    successor) or only a new key (no old key at all), the statement is refused and nothing changes."""
    before = store_fingerprint(pair.tr.path)
    session = pair.pk.session()
    try:
        old_sign, old_ex = session.keyring.signing_key, session.keyring.exchange_key
        ministry = session.ministry
        at = session.clock()
    finally:
        session.vault.close()
    new_sign, new_ex = new_keys()
    honest = fmt.make_transition(
        ministry=ministry,
        at=at,
        old_signing_key=old_sign,
        old=public_identity(old_sign, old_ex),
        new_signing_key=new_sign,
        new=public_identity(new_sign, new_ex),
    )
    # the missing half signed by some other key: the statement reads well, one signature is not the key's
    forged_sig = Ed25519PrivateKey.generate().sign(transition_message(honest.unsigned()))
    forged = replace(honest, new_signature=forged_sig) if bad == "new" else replace(honest, old_signature=forged_sig)
    path = old_key_bundle(pair, pair.pk, "one-signature.bundle", transitions=(forged,), keys=(new_sign, new_ex))
    assert_refused(
        pair.tr.cli("import", str(path)),
        f"one-signature.bundle: bundle header transitions 1 of PK-MOI is refused: {message} (both keys must sign)",
    )
    assert store_fingerprint(pair.tr.path) == before
    assert contact(pair.tr, "PK-MOI")["fingerprint"] == honest.old.fingerprint


def test_a_stolen_old_key_cannot_take_over_after_the_rotation(pair: Pair) -> None:
    """Threat 11: after the real rotation reached TR-MOI, a thief holding the old key who signs a transition of
    its own (both signatures valid: the old key and the thief's new key) is refused, naming the conflict."""
    thief = twin(pair, "PK-thief.db")
    pair.pk.ok("identity", "rotate")
    deliver(pair)
    rotated_on = str(contact(pair.tr, "PK-MOI")["key_changes"][0]["rotated_at"])[:10]
    session = thief.session()
    try:
        keys = Keyring.from_bytes(session.keyring.to_bytes())
        at = session.clock()
    finally:
        session.vault.close()
    old = public_identity(keys.signing_key, keys.exchange_key)
    new_sign, new_ex = new_keys()
    own = fmt.make_transition(
        ministry="PK-MOI",
        at=at,
        old_signing_key=keys.signing_key,
        old=old,
        new_signing_key=new_sign,
        new=public_identity(new_sign, new_ex),
    )
    path = old_key_bundle(pair, thief, "takeover.bundle", transitions=(own,), keys=(new_sign, new_ex))
    before = store_fingerprint(pair.tr.path)
    assert_refused(
        pair.tr.cli("import", str(path)),
        f"takeover.bundle: the bundle carries a key transition from PK-MOI's retired key {short(old.fingerprint)}… "
        f"to another key than the one it handed over to on {rotated_on}: the old key may be compromised; "
        "re-exchange identity cards with PK-MOI out of band",
    )
    assert store_fingerprint(pair.tr.path) == before


def test_a_bundle_sealed_to_the_retired_key_still_opens(pair: Pair) -> None:
    """A contact that has not heard of the rotation seals to the old exchange key: the bundle still opens (the
    keyring keeps retired exchange keys), and the rotation stays pending for that contact."""
    pair.pk.ok("identity", "rotate")
    out = pair.path("tr-to-pk.bundle")
    pair.tr.ok("export", "--to", "PK-MOI", "--out", str(out))
    assert "2 records (2 new" in pair.pk.ok("import", str(out)).err
    assert "pending delivery to TR-MOI" in pair.pk.ok("identity", "show").out


def test_a_receipt_carries_the_receivers_rotation(pair: Pair) -> None:
    """TR-MOI rotates, then imports PK-MOI's bundle (sealed to its old key) and answers with a receipt signed by
    its new key carrying the statement: PK-MOI verifies both signatures against the card it holds and switches."""
    tr_before = own_fingerprint(pair.tr)
    pair.tr.ok("identity", "rotate")
    tr_after = own_fingerprint(pair.tr)
    deliver(pair, receipt="tr.receipt")
    summary = pair.pk.ok("import", str(pair.path("tr.receipt"))).err
    assert f"TR-MOI's identity key changed: {short(tr_before)}… → {short(tr_after)}…" in summary
    assert contact(pair.pk, "TR-MOI")["fingerprint"] == tr_after
    # PK-MOI's next bundle is sealed to TR-MOI's new key: TR-MOI's rotation is then delivered
    approved(pair.pk, "Another report", "amber", "TR-MOI")
    deliver(pair, "second.bundle")
    assert "previous fingerprint" not in pair.tr.ok("identity", "show").out


def test_two_rotations_travel_as_a_chain(pair: Pair) -> None:
    """Two rotations before the next bundle: it carries both statements, oldest first, and the contact follows
    the chain from the key on its card to the newest."""
    first = own_fingerprint(pair.pk)
    pair.pk.ok("identity", "rotate")
    middle = own_fingerprint(pair.pk)
    pair.pk.ok("identity", "rotate")
    last = own_fingerprint(pair.pk)
    assert pair.pk.ok("identity", "show").out.count("previous fingerprint") == 2
    summary = deliver(pair)
    assert summary.count("PK-MOI's identity key changed") == 2
    changes = contact(pair.tr, "PK-MOI")["key_changes"]
    assert [(c["old_fingerprint"], c["new_fingerprint"]) for c in changes] == [(first, middle), (middle, last)]
    assert contact(pair.tr, "PK-MOI")["fingerprint"] == last


def test_rotation_is_for_admins_only(pair: Pair) -> None:
    """An analyst cannot rotate the ministry identity."""
    pair.pk.ok("officers", "add", "dave", "--role", "officer", env={"LIAISON_NEW_PASSPHRASE": PASSPHRASES["dave"]})
    before = store_fingerprint(pair.pk.path)
    result = pair.pk.cli("identity", "rotate", officer="dave")
    assert result.code == 1 and "rotate the ministry identity" in result.err, result
    assert store_fingerprint(pair.pk.path) == before


def test_a_contact_row_from_before_its_rotation_written_back_is_refused(pair: Pair) -> None:
    """Found by a hostile pass: a contacts row's MAC covers its code, name and keys but has no freshness, so TR-MOI's
    row copied from an older copy of the file (before PK-MOI received TR-MOI's identity rotation) still verified;
    `contacts list` showed the retired key, and the next export was sealed to it — readable by whoever holds the
    retired key. The row is now held to the state the log last signed for the contact."""
    import shutil
    import sqlite3

    pk_before = pair.path("PK-before.db")
    shutil.copyfile(pair.pk.path, pk_before)  # PK-MOI's file before the rotation reached it
    pair.tr.ok("identity", "rotate")
    approved(pair.tr, "Manifest after the rotation", "green", "PK-MOI")
    pair.tr.ok("export", "--to", "PK-MOI", "--out", str(pair.path("tr-rot.bundle")))
    pair.pk.ok("import", str(pair.path("tr-rot.bundle")))
    new = contact(pair.pk, "TR-MOI")["fingerprint"]
    conn = sqlite3.connect(pair.pk.path)
    with conn:
        conn.execute("ATTACH ? AS o", (str(pk_before),))
        conn.execute("DELETE FROM contacts WHERE code = 'TR-MOI'")
        conn.execute("INSERT INTO contacts SELECT * FROM o.contacts WHERE code = 'TR-MOI'")
        conn.execute("DELETE FROM contact_key_changes WHERE peer = 'TR-MOI'")
    conn.close()
    why = "contact TR-MOI is not the one the audit log last signed"
    assert_refused(pair.pk.cli("contacts", "list"), why, exact=False)
    approved(pair.pk, "Heroin route for Ankara", "green", "TR-MOI")
    refused = pair.pk.cli("export", "--to", "TR-MOI", "--out", str(pair.path("pk.bundle")))
    assert_refused(refused, why, exact=False)
    assert not pair.path("pk.bundle").exists()
    verify = pair.pk.cli("audit", "verify")
    assert verify.code == 1 and "contact TR-MOI's row is not the one the log last signed" in verify.err, verify
    assert new  # the rotation had reached PK-MOI before the row was written back


def test_a_rotation_goes_at_once_even_with_no_record_to_send(pair: Pair) -> None:
    """Found by a new officer's pass: with nothing new to send, `export` refused ("nothing to export"), so the
    statement waited for the next approved record — while the README says to rotate at once when the old key may
    be stolen. The bundle now goes with the statement alone, as a withdrawal notice does."""
    before = own_fingerprint(pair.pk)
    deliver(pair, "first.bundle")  # everything due has gone
    assert_refused(
        pair.pk.cli("export", "--to", "TR-MOI", "--out", str(pair.path("none.bundle"))),
        "nothing to export to TR-MOI",
        exact=False,
    )
    pair.pk.ok("identity", "rotate")
    after = own_fingerprint(pair.pk)
    sent = pair.pk.ok("export", "--to", "TR-MOI", "--out", str(pair.path("rot.bundle")))
    assert "carried this ministry's key transition (1 statement" in sent.err, sent
    summary = pair.tr.ok("import", str(pair.path("rot.bundle"))).err
    assert short(after) in summary and short(before) in summary, summary
    assert contact(pair.tr, "PK-MOI")["fingerprint"] == after


@pytest.mark.parametrize(
    "edit",
    [
        "UPDATE contact_key_changes SET stated_at = '2020-01-01 00:00:00.000000'",
        "UPDATE contact_key_changes SET old_fingerprint = '" + "1" * 64 + "'",
        "UPDATE contact_key_changes SET stated_at = 'garbage'",
        "UPDATE contact_key_changes SET old_fingerprint = x'00ff'",
    ],
    ids=["an earlier time", "another old key", "a time that is none", "bytes for a fingerprint"],
)
def test_a_contact_s_key_history_edited_in_the_file_is_named(pair: Pair, edit: str) -> None:
    """Found by a hostile pass: `contacts list` showed whatever the file said of a contact's past keys (a forged
    time and old key), or failed with `unexpected ValueError`. Each row is now held to the statement it keeps."""
    import sqlite3

    pair.tr.ok("identity", "rotate")
    approved(pair.tr, "Manifest after the rotation", "green", "PK-MOI")
    pair.tr.ok("export", "--to", "PK-MOI", "--out", str(pair.path("tr-rot.bundle")))
    pair.pk.ok("import", str(pair.path("tr-rot.bundle")))
    assert pair.pk.ok("audit", "verify").code == 0
    conn = sqlite3.connect(pair.pk.path)
    with conn:
        conn.execute(edit)
    conn.close()
    why = "contact TR-MOI's key history (entry 1) is not the statement it keeps"
    assert_refused(pair.pk.cli("contacts", "list"), why, exact=False)
    verify = pair.pk.cli("audit", "verify")
    assert verify.code == 1 and why in verify.err, verify


@pytest.mark.parametrize(
    "edit",
    [
        "UPDATE identity_transition_deliveries SET confirmed_at = '2026-12-01 00:00:00.000000'",
        "DELETE FROM identity_transition_deliveries",
    ],
    ids=["marked confirmed", "deleted"],
)
def test_a_delivery_row_edited_in_the_file_does_not_hold_the_statement_back(pair: Pair, edit: str) -> None:
    """Found by two hostile passes: the delivery rows are not signed, and only statements they called unconfirmed
    were carried; marking a rotation confirmed with `sqlite3`, or deleting its row, kept it out of every later
    bundle, and TR-MOI refused them all (`names a sender key … that is not on PK-MOI's contact card`) while PK-MOI
    noticed nothing. Every bundle now carries every rotation's statement."""
    import sqlite3

    deliver(pair, "first.bundle")
    pair.pk.ok("identity", "rotate")
    after = own_fingerprint(pair.pk)
    conn = sqlite3.connect(pair.pk.path)
    with conn:
        conn.execute(edit)
    conn.close()
    approved(pair.pk, "Heroin route after the rotation", "green", "TR-MOI")
    summary = deliver(pair, "after.bundle")
    assert "PK-MOI's identity key changed" in summary, summary
    assert contact(pair.tr, "PK-MOI")["fingerprint"] == after


def test_a_bundle_sealed_to_a_key_since_retired_confirms_the_rotations_up_to_it(pair: Pair) -> None:
    """Found by a new officer's pass: PK-MOI rotated, TR-MOI learnt the new key and sealed its next bundle to it,
    but PK-MOI rotated again before importing that bundle; it opened with the now retired key and confirmed
    nothing, so `identity show` still called the first rotation pending. A bundle sealed to any key of ours
    confirms the rotations up to that key."""
    first = own_fingerprint(pair.pk)
    pair.pk.ok("identity", "rotate")
    second = own_fingerprint(pair.pk)
    deliver(pair, "rot1.bundle")  # TR-MOI now holds the second key (no receipt written)
    approved(pair.tr, "Manifest for Islamabad", "green", "PK-MOI")
    pair.tr.ok("export", "--to", "PK-MOI", "--out", str(pair.path("tr.bundle")))  # sealed to the second key
    pair.pk.ok("identity", "rotate")
    pair.pk.ok("import", str(pair.path("tr.bundle")))
    shown = pair.pk.ok("identity", "show").out
    assert grouped_fingerprint(first) not in shown, shown  # that rotation reached TR-MOI
    assert grouped_fingerprint(second) in shown, shown  # the second one has not yet


def test_a_contact_s_key_history_deleted_in_the_file_is_named_by_verify(pair: Pair) -> None:
    """Found by the second hostile pass: deleting the history rows passed `audit verify`, though the log signed
    each change (`contact-key-rotated`)."""
    import sqlite3

    pair.tr.ok("identity", "rotate")
    approved(pair.tr, "Manifest after the rotation", "green", "PK-MOI")
    pair.tr.ok("export", "--to", "PK-MOI", "--out", str(pair.path("tr-rot.bundle")))
    pair.pk.ok("import", str(pair.path("tr-rot.bundle")))
    conn = sqlite3.connect(pair.pk.path)
    with conn:
        conn.execute("DELETE FROM contact_key_changes")
    conn.close()
    verify = pair.pk.cli("audit", "verify")
    assert verify.code == 1 and "contact TR-MOI's key history lost the change its audit event #" in verify.err, verify
