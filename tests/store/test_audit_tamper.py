"""Threat 25: tags or ciphertexts edited in the file with sqlite3 and no keys (issue 11's "Why" list) — each is
found by `record_damage`, refused by `show` (exit 1, naming why) and makes an export whose selection holds it
refuse, naming every damaged record; an intact record named explicitly still goes. Threat 26: a removed admin's
old officers row written back refuses unlock."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from store.errors import IntegrityError, TamperError
from store.service import Vault
from tests.liaison_helpers import PASSPHRASES, LiaisonStore, assert_refused, init_store

OFFICER_COLUMNS = 'name, role, slot, "grant", mac, created_at, revoked_at, signing_public'


@pytest.fixture
def shop(team_store: LiaisonStore, tmp_path: Path) -> tuple[LiaisonStore, dict[str, str]]:
    """The team store (four-eyes on) with a TR-MOI contact and records in every state an attack starts from."""
    store = team_store
    tr = init_store(tmp_path / "tr" / "tr-moi.db", ministry="TR-MOI")
    tr.ok("identity", "export", "--out", str(tmp_path / "tr.card"))
    store.ok("contacts", "add", str(tmp_path / "tr.card"))
    refs = {
        "red": store.add(
            "Red source report", "--summary", "RED CANARY", "--to", "TR-MOI", "--submit", tlp="red", officer="carol"
        ),
        "green": store.add(
            "Green advisory", "--summary", "green text", "--to", "TR-MOI", "--submit", tlp="green", officer="carol"
        ),
        "amber": store.add("Amber note", "--summary", "amber text", "--to", "TR-MOI", "--submit", officer="carol"),
        "draft": store.add("A draft", "--summary", "not reviewed", "--to", "TR-MOI", officer="carol"),
        "returned": store.add(
            "Agent named", "--summary", "names the agent", "--to", "TR-MOI", "--submit", officer="carol"
        ),
    }
    for key in ("red", "green", "amber"):
        store.ok("review", refs[key], "--approve", officer="bob")
    store.ok("review", refs["returned"], "--return", "--comment", "remove the agent's name", officer="bob")
    store.ok("edit", refs["returned"], "--summary", "agent removed", officer="carol")
    return store, refs


def record_id(store: LiaisonStore, ref: str) -> int:
    return int(store.sql("SELECT id FROM records WHERE reference = ?", (ref,))[0][0])


def damage_of(store: LiaisonStore, ref: str) -> str | None:
    session = store.session("alice")
    try:
        return session.record_damage(ref)
    finally:
        session.vault.close()


def export(store: LiaisonStore, tmp_path: Path, *refs: str, name: str = "out.bundle") -> object:
    return store.cli("export", "--to", "TR-MOI", "--out", str(tmp_path / name), *refs)


def relabel_green(store: LiaisonStore, refs: dict[str, str]) -> str:
    store.sql("UPDATE records SET tlp = 'GREEN' WHERE reference = ?", (refs["red"],))
    store.sql("UPDATE revisions SET tlp = 'GREEN' WHERE record_id = ?", (record_id(store, refs["red"]),))
    return refs["red"]


def approve_draft(store: LiaisonStore, refs: dict[str, str]) -> str:
    store.sql("UPDATE records SET status = 'approved' WHERE reference = ?", (refs["draft"],))
    return refs["draft"]


def extra_party(store: LiaisonStore, refs: dict[str, str]) -> str:
    store.sql(
        "INSERT INTO record_parties (record_id, ministry, is_origin) VALUES (?, 'PK-ANF', 0)",
        (record_id(store, refs["amber"]),),
    )
    return refs["amber"]


def revision_set_back(store: LiaisonStore, refs: dict[str, str]) -> str:
    # the returned record's revision 1 named the agent; the reviewer asked for revision 2
    store.sql("UPDATE records SET revision = 1 WHERE reference = ?", (refs["returned"],))
    return refs["returned"]


def ciphertext_moved(store: LiaisonStore, refs: dict[str, str]) -> str:
    red, green = record_id(store, refs["red"]), record_id(store, refs["green"])
    store.sql(
        "UPDATE revisions SET body_ct = (SELECT body_ct FROM revisions WHERE record_id = ?) WHERE record_id = ?",
        (red, green),
    )
    return refs["green"]


def title_moved(store: LiaisonStore, refs: dict[str, str]) -> str:
    store.sql(
        "UPDATE records SET title_ct = (SELECT title_ct FROM records WHERE reference = ?) WHERE reference = ?",
        (refs["red"], refs["green"]),
    )
    return refs["green"]


def author_changed(store: LiaisonStore, refs: dict[str, str]) -> str:
    store.sql("UPDATE records SET author = 'bob' WHERE reference = ?", (refs["amber"],))
    return refs["amber"]


def review_deleted(store: LiaisonStore, refs: dict[str, str]) -> str:
    store.sql(
        "DELETE FROM review_events WHERE record_id = ? AND action = 'return'", (record_id(store, refs["returned"]),)
    )
    return refs["returned"]


def no_reexport_cleared(store: LiaisonStore, refs: dict[str, str]) -> str:
    store.sql("UPDATE records SET no_reexport = 1 WHERE reference = ?", (refs["green"],))
    return refs["green"]


def planted_record(store: LiaisonStore, refs: dict[str, str]) -> str:
    store.sql(
        "INSERT INTO records (reference, uuid, domain, origin, tlp, status, author, created_at, updated_at, revision,"
        " no_reexport, title_ct) SELECT 'PK-MOI-2026-09999', '00000000-0000-4000-8000-000000000001', domain, origin,"
        " 'GREEN', 'approved', author, created_at, updated_at, revision, no_reexport, title_ct FROM records"
        " WHERE reference = ?",
        (refs["red"],),
    )
    rid = record_id(store, "PK-MOI-2026-09999")
    store.sql(
        "INSERT INTO revisions (record_id, number, created_at, officer, tlp, releasable_to, title_ct, body_ct)"
        " SELECT ?, number, created_at, officer, 'GREEN', releasable_to, title_ct, body_ct FROM revisions"
        " WHERE record_id = ?",
        (rid, record_id(store, refs["red"])),
    )
    store.sql("INSERT INTO record_parties VALUES (?, 'PK-MOI', 1), (?, 'TR-MOI', 0)", (rid, rid))
    return "PK-MOI-2026-09999"


ATTACKS: dict[str, tuple[Callable[[LiaisonStore, dict[str, str]], str], str]] = {
    "RED relabelled GREEN": (relabel_green, "its TLP is TLP:GREEN, its last signed event"),
    "draft set to approved": (approve_draft, "its status is approved, its last signed event"),
    "extra releasable-to party": (extra_party, "its releasable-to list is PK-ANF, TR-MOI, its last signed event"),
    "revision set back": (revision_set_back, "its revision is 1, its last signed event"),
    "RED body copied into GREEN": (ciphertext_moved, "its body ciphertext is not the one"),
    "RED title copied into GREEN": (title_moved, "its title ciphertext is not the one"),
    "author changed": (author_changed, "its author is bob, its last signed event"),
    "review row deleted": (review_deleted, "it has 1 review step, its last signed event"),
    "no-reexport flag flipped": (no_reexport_cleared, "its no-reexport flag is set"),
    "record planted": (planted_record, "no signed event records it"),
}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_each_tampering_is_found_shown_and_blocks_the_export(
    shop: tuple[LiaisonStore, dict[str, str]], tmp_path: Path, attack: str
) -> None:
    store, refs = shop
    for ref in refs.values():
        assert damage_of(store, ref) is None  # positive control: everything intact before the attack
    tamper, reason = ATTACKS[attack]
    bad = tamper(store, refs)
    found = damage_of(store, bad)
    assert found is not None and reason in found, found
    assert_refused(store.cli("show", bad), f"record {bad} is damaged: {reason}", exact=False)
    refused = export(store, tmp_path)
    assert_refused(refused, "export to TR-MOI refused: 1 damaged record in the selection", exact=False)
    assert f"{bad}: {reason}" in refused.err
    assert not (tmp_path / "out.bundle").exists()
    # nothing else in the store is affected: the other records show, and named explicitly they still go
    others = [r for r in refs.values() if r != bad]
    for ref in others:
        assert damage_of(store, ref) is None
        store.ok("show", ref)
    intact = refs["amber"] if bad != refs["amber"] else refs["green"]
    store.ok("export", "--to", "TR-MOI", "--out", str(tmp_path / "named.bundle"), intact)


def test_an_export_names_every_damaged_record(shop: tuple[LiaisonStore, dict[str, str]], tmp_path: Path) -> None:
    store, refs = shop
    bad = [relabel_green(store, refs), extra_party(store, refs), ciphertext_moved(store, refs)]
    refused = export(store, tmp_path)
    assert_refused(refused, "export to TR-MOI refused: 3 damaged records in the selection", exact=False)
    for ref in bad:
        assert ref in refused.err
    assert store.cli("export", "--to", "TR-MOI", "--out", str(tmp_path / "one.bundle"), refs["red"]).code == 1


def test_a_change_through_liaison_never_signs_a_tampered_record(shop: tuple[LiaisonStore, dict[str, str]]) -> None:
    """Four-eyes bypass: carol makes bob the author of her record, then tries to approve it herself (she cannot:
    she is an officer) — and bob, the reviewer, cannot approve it either while its author column is not the signed one."""
    store, _refs = shop
    ref = store.add("Carol's own", "--summary", "hers", "--submit", officer="carol")
    store.sql("UPDATE records SET author = 'alice' WHERE reference = ?", (ref,))
    assert_refused(store.cli("review", ref, "--approve", officer="bob"), f"record {ref} is damaged", exact=False)
    assert_refused(store.cli("review", ref, "--approve", officer="alice"), f"record {ref} is damaged", exact=False)
    store.sql("UPDATE records SET author = 'carol' WHERE reference = ?", (ref,))  # changed back: intact again
    assert damage_of(store, ref) is None
    assert_refused(store.cli("review", ref, "--approve", officer="carol"), "role officer may not approve", exact=False)


def test_an_approval_by_the_authors_own_key_is_damage(shop: tuple[LiaisonStore, dict[str, str]]) -> None:
    """Four-eyes by key identity: an approval event signed with the key that wrote the revision is refused,
    whatever names the rows carry (the events are made here with the officers' real keys, as an insider could)."""
    from sqlalchemy import select

    from store.audit.log import note
    from store.models import Record

    store, _refs = shop
    ref = store.add("Alice's own", "--summary", "hers", "--submit", officer="alice")
    session = store.session("alice")  # alice wrote it; an approval signed by her key, whatever it says
    try:
        with session.act("approve", ref) as s:
            rec = s.execute(select(Record).where(Record.reference == ref)).scalar_one()
            rec.status = "approved"
            note(s, record_id=rec.id)
        assert session.record_damage(ref) == (
            f"four-eyes: it was approved (event #{_last_seq(store)}) by its own author alice"
        )
        with pytest.raises(IntegrityError, match="four-eyes"):
            session.get_record(ref)
    finally:
        session.vault.close()


def _last_seq(store: LiaisonStore) -> int:
    return int(store.sql("SELECT max(seq) FROM audit_log WHERE action = 'approve'")[0][0])


def test_deleted_or_inserted_log_rows_make_every_record_unprovable(
    shop: tuple[LiaisonStore, dict[str, str]], tmp_path: Path
) -> None:
    store, refs = shop
    store.sql("DELETE FROM audit_log WHERE seq = (SELECT max(seq) FROM audit_log WHERE action = 'return')")
    assert "the audit log has" in (damage_of(store, refs["green"]) or "")
    assert_refused(store.cli("show", refs["green"]), "the audit log is damaged", exact=False)
    assert_refused(export(store, tmp_path, refs["green"]), "the audit log is damaged", exact=False)
    assert_refused(
        store.cli("edit", refs["draft"], "--title", "x", officer="carol"), "the audit log is damaged", exact=False
    )


def test_a_log_event_edited_in_place_is_caught_by_the_export(
    shop: tuple[LiaisonStore, dict[str, str]], tmp_path: Path
) -> None:
    """A body edited in place keeps the count, but not the Merkle root the checkpoint signed."""
    store, _refs = shop
    seq = int(store.sql("SELECT max(seq) FROM audit_log WHERE action = 'approve'")[0][0])
    body = store.sql("SELECT body FROM audit_log WHERE seq = ?", (seq,))[0][0]
    edited = body.replace(b'"status":"approved"', b'"status":"returned"')
    assert edited != body
    store.sql("UPDATE audit_log SET body = ? WHERE seq = ?", (edited, seq))
    refused = export(store, tmp_path)
    assert_refused(refused, "export to TR-MOI refused", exact=False)
    assert "breaks the hash chain" in refused.err


def test_a_removed_admins_old_row_written_back_refuses_unlock(team_store: LiaisonStore, tmp_path: Path) -> None:
    """Threat 26: the MAC has no freshness, the log does."""
    store = team_store
    store.ok("officers", "add", "dave", "--role", "admin", env={"LIAISON_NEW_PASSPHRASE": PASSPHRASES["dave"]})
    old_row = store.sql(f"SELECT {OFFICER_COLUMNS} FROM officers WHERE name = 'dave'")[0]
    store.ok("officers", "remove", "dave")
    store.sql("DELETE FROM officers WHERE name = 'dave'")
    store.sql(f"INSERT INTO officers({OFFICER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", old_row)
    assert_refused(
        store.cli("list", officer="dave"),
        "officer record of dave is not backed by the audit log (replayed or edited)",
        exact=False,
    )
    with Vault.open(store.path) as vault, pytest.raises(TamperError, match="not backed by the audit log"):
        vault.unlock("dave", PASSPHRASES["dave"])
    # and an honest admin's removal of someone else never re-grants the keys to her replayed row
    assert_refused(store.cli("officers", "remove", "carol"), "officer record of dave is not backed", exact=False)


def test_a_role_raised_in_the_file_refuses_unlock(team_store: LiaisonStore) -> None:
    store = team_store
    store.sql("UPDATE officers SET role = 'admin' WHERE name = 'carol'")
    assert_refused(store.cli("list", officer="carol"), "officer record of carol", exact=False)
