"""The attacker with the store file and no keys: each tampering of issue 11's "Why" done with `sqlite3` on the
file, then the real CLI as an honest officer would use it next.

For every case: `audit verify` exits 1 naming the record, `show` of it exits 1 naming why, the export to the
counterpart refuses while the record is in its selection, the intact records named explicitly still go, and
the counterpart — a real second store importing the bundle — holds none of the tampered content. Nothing else
in the store is affected: every problem `audit verify` lists is about the tampered record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from tests.integrity.conftest import TITLES, Ministries
from tests.liaison_helpers import assert_refused

#: The records exported in every case, unless tampered with (the others are RED, internal, drafts or in review).
EXPORTED = ("green", "amber", "revised")


@dataclass(frozen=True)
class Attack:
    """One tampering: which record, what the attacker runs on the file, and what `audit verify` must say."""

    target: str
    run: Callable[[Ministries], None]
    says: str
    #: what `show` refuses it as (a ciphertext that no longer opens is corrupt before it is compared)
    shown: str = "is damaged: "


def _relabel(m: Ministries) -> None:
    m.attack(("UPDATE records SET tlp = 'GREEN' WHERE id = ?", (m.record_id("red"),)))


def _approve_draft(m: Ministries) -> None:
    m.attack(("UPDATE records SET status = 'approved' WHERE id = ?", (m.record_id("draft"),)))


def _extra_party(m: Ministries) -> None:
    m.attack(
        (
            "INSERT INTO record_parties (record_id, ministry, is_origin) VALUES (?, 'TR-MOI', 0)",
            (m.record_id("internal"),),
        )
    )


def _revision_back(m: Ministries) -> None:
    rid = m.record_id("revised")
    m.attack(
        (
            "UPDATE records SET revision = 1, title_ct = (SELECT title_ct FROM revisions WHERE record_id = ? AND number = 1) "
            "WHERE id = ?",
            (rid, rid),
        )
    )


def _red_ciphertext_into_green(m: Ministries) -> None:
    red, green = m.record_id("red"), m.record_id("green")
    m.attack(
        ("UPDATE records SET title_ct = (SELECT title_ct FROM records WHERE id = ?) WHERE id = ?", (red, green)),
        (
            "UPDATE revisions SET title_ct = (SELECT title_ct FROM revisions WHERE record_id = ? AND number = 1), "
            "body_ct = (SELECT body_ct FROM revisions WHERE record_id = ? AND number = 1) WHERE record_id = ?",
            (red, red, green),
        ),
    )


def _review_rows_deleted(m: Ministries) -> None:
    m.attack(("DELETE FROM review_events WHERE record_id = ?", (m.record_id("revised"),)))


def _text_for_a_ciphertext(m: Ministries) -> None:
    # text, not bytes, in a ciphertext column: the damage check names the record (it once stopped every check with
    # "unexpected TypeError")
    m.attack(("UPDATE revisions SET body_ct = 'plain text' WHERE record_id = ?", (m.record_id("green"),)))


ATTACKS = {
    "RED relabelled GREEN": Attack("red", _relabel, "its TLP is TLP:GREEN, its last signed event"),
    "draft set to approved": Attack("draft", _approve_draft, "its status is approved, its last signed event"),
    "extra record_parties row": Attack(
        "internal", _extra_party, "its releasable-to list is TR-MOI, its last signed event"
    ),
    "revision set back": Attack("revised", _revision_back, "its revision is 1, its last signed event"),
    "RED ciphertext copied into a GREEN record": Attack("green", _red_ciphertext_into_green, "title ciphertext"),
    "review rows deleted": Attack("revised", _review_rows_deleted, "review steps, its last signed event"),
    "text written over a body ciphertext": Attack(
        "green", _text_for_a_ciphertext, "its body ciphertext is not", "is corrupt: its encrypted data does not"
    ),
}


def listed_reason(m: Ministries, ref: str) -> str:
    """Why `list --json` says a record is damaged."""
    return next(r["damaged"] for r in m.pk.list_json() if r["reference"] == ref)


@pytest.mark.parametrize("case", ATTACKS.values(), ids=list(ATTACKS))
def test_a_tampered_record_is_caught_and_never_exported(ministries: Ministries, case: Attack) -> None:
    """Threat 25: tags or ciphertexts edited in the file are detected by `audit verify`, refused by `show`, marked
    by `list` (and its `--json`), never exported; the counterpart importing what does go holds none of the tampered content."""
    m, ref = ministries, ministries.refs[case.target]
    assert m.verify().code == 0, m.verify()
    case.run(m)

    result = m.verify()
    assert_refused(result, f"record {ref}: ", exact=False)
    assert case.says in result.err, result.err
    report = m.pk.cli("audit", "verify", "--json")
    assert report.code == 1
    problems = report.json()["problems"]
    assert problems and {p["reference"] for p in problems} == {ref}, problems  # nothing else is affected

    assert_refused(m.pk.cli("show", ref), f"record {ref} {case.shown}", exact=False)
    listed = {r["reference"]: r["damaged"] for r in m.pk.list_json()}
    assert case.says in listed.pop(ref) and set(listed.values()) == {None}, listed
    table = m.pk.ok("list")
    assert [line.split()[0] for line in table.out.splitlines() if "DAMAGED · " in line] == [ref], table.out
    assert table.err_lines == [f"warning: record {ref} is damaged: {listed_reason(m, ref)}"], table.err
    for role in EXPORTED:
        if role != case.target:
            assert m.pk.show(m.refs[role])["reference"] == m.refs[role]

    bundle = m.path("all.bundle")
    refused = m.pk.cli("export", "--to", "TR-MOI", "--out", str(bundle))
    assert_refused(refused, f"export to TR-MOI refused: 1 damaged record in the selection ({ref}: ", exact=False)
    assert not bundle.exists()

    intact = [m.refs[role] for role in EXPORTED if role != case.target]
    m.pk.ok("export", "--to", "TR-MOI", "--out", str(bundle), *intact)
    m.tr.ok("import", str(bundle))
    received = {r["reference"]: r for r in m.tr.list_json()}
    assert sorted(received) == sorted(intact)
    for role in EXPORTED:
        if m.refs[role] in received:
            shown = m.tr.show(m.refs[role])
            assert shown["title"] != TITLES["red"] and "NIGHTJAR" not in shown["title"]
    assert m.verify(m.tr).code == 0


def test_an_author_changed_to_approve_ones_own_record_is_refused_then_harmless_once_changed_back(
    ministries: Ministries,
) -> None:
    """Threat 25: four-eyes bypass — the reviewer who wrote a record makes it look written by someone else to
    approve it. The approval is refused (the record no longer matches its signed events), `audit verify` names
    it while the author column is off, and once it is changed back nothing was approved."""
    m, ref = ministries, ministries.refs["bobs"]
    rid = m.record_id("bobs")
    assert_refused(m.pk.cli("review", ref, "--approve", officer="bob"), f"four-eyes policy: bob authored {ref}")
    m.attack(("UPDATE records SET author = 'carol' WHERE id = ?", (rid,)))
    result = m.verify()
    assert_refused(result, f"record {ref}: its author is carol, its last signed event", exact=False)
    assert_refused(m.pk.cli("review", ref, "--approve", officer="bob"), f"record {ref} is damaged: ", exact=False)
    m.attack(("UPDATE records SET author = 'bob' WHERE id = ?", (rid,)))
    assert m.verify().code == 0
    assert m.pk.show(ref)["status"] == "in-review"
    log = m.pk.ok("audit", "log", "--record", ref, "--json").json()
    assert "approve" not in [e["action"] for e in log]


def test_a_record_set_back_to_an_older_signed_state_with_its_later_events_detached_is_never_exported(
    ministries: Ministries,
) -> None:
    """Threat 25: the GREEN record is closed (never to leave again); the attacker writes its row back as it stood
    before (approved) and files the `close` event under no record (`audit_log.record_uuid` is not in the signed
    leaf), so the record matches its older signed event. `audit verify` names the event, and the export refuses:
    nothing reaches the counterpart."""
    m, ref = ministries, ministries.refs["green"]
    rid = m.record_id("green")
    columns = [row[1] for row in m.pk.sql("PRAGMA table_info(records)") if row[1] != "id"]
    before = m.pk.sql(f"SELECT {', '.join(columns)} FROM records WHERE id = ?", (rid,))[0]
    last_review = m.pk.sql("SELECT COALESCE(MAX(id), 0) FROM review_events")[0][0]
    last_event = m.pk.sql("SELECT MAX(seq) FROM audit_log")[0][0]
    m.pk.ok("close", ref, "--comment", "No longer to be shared", officer="bob")
    assert m.pk.show(ref)["status"] == "closed"
    m.attack(
        (f"UPDATE records SET {', '.join(f'{c} = ?' for c in columns)} WHERE id = ?", (*before, rid)),
        ("DELETE FROM review_events WHERE id > ?", (last_review,)),
        ("UPDATE audit_log SET record_uuid = NULL WHERE seq > ? AND record_uuid IS NOT NULL", (last_event,)),
    )
    # `show` reads the record's events by that column, and asks the log for events about it filed elsewhere
    assert_refused(m.pk.cli("show", ref), f"record {ref} is damaged: audit event #", exact=False)

    result = m.verify()
    assert result.code == 1 and "its record column was edited" in result.err, result
    bundle = m.path("detached.bundle")
    refused = m.pk.cli("export", "--to", "TR-MOI", "--out", str(bundle), ref)
    assert refused.code == 1 and "is about a record but is not filed under it" in refused.err, refused
    assert "Traceback" not in refused.err and len(refused.err_lines) == 1
    assert not bundle.exists()
    stix = m.path("detached.json")
    assert m.pk.cli("stix", "export", "--out", str(stix), ref).code == 1
    assert not stix.exists()


def test_audit_verify_says_in_words_what_a_cut_record_column_lost(ministries: Ministries) -> None:
    """Threat 14: an event's `record_uuid` column set to NULL with sqlite3. `audit verify` names the event and
    the record its signed body is about, in words: no Python `None` or repr quoting reaches the message."""
    m, ref = ministries, ministries.refs["green"]
    m.attack(
        (
            "UPDATE audit_log SET record_uuid = NULL WHERE seq = (SELECT MAX(seq) FROM audit_log WHERE record_uuid = (SELECT uuid FROM records WHERE reference = ?))",
            (ref,),
        )
    )
    result = m.verify()
    assert result.code == 1 and "its record column was edited" in result.err, result
    assert "None" not in result.err and "'" not in result.err, result.err
    assert f"it is empty, the signed event is about {ref}" in result.err, result.err


def _close_and_detach(m: Ministries, filed_under: str | None, target: str | None = None) -> int:
    """Green closed, its row written back as it stood (approved) and the `close` event's record column set to
    `filed_under` (NULL or another record's uuid), its target column to `target` if given; the event's seq."""
    rid = m.record_id("green")
    columns = [row[1] for row in m.pk.sql("PRAGMA table_info(records)") if row[1] != "id"]
    before = m.pk.sql(f"SELECT {', '.join(columns)} FROM records WHERE id = ?", (rid,))[0]
    last_review = m.pk.sql("SELECT COALESCE(MAX(id), 0) FROM review_events")[0][0]
    m.pk.ok("close", m.refs["green"], "--comment", "No longer to be shared", officer="bob")
    seq = int(m.pk.sql("SELECT MAX(seq) FROM audit_log WHERE record_uuid IS NOT NULL")[0][0])
    m.attack(
        (f"UPDATE records SET {', '.join(f'{c} = ?' for c in columns)} WHERE id = ?", (*before, rid)),
        ("DELETE FROM review_events WHERE id > ?", (last_review,)),
        ("UPDATE audit_log SET record_uuid = ? WHERE seq = ?", (filed_under, seq)),
    )
    if target is not None:
        m.attack(("UPDATE audit_log SET target = ? WHERE seq = ?", (target, seq)))
    return seq


@pytest.mark.parametrize("filed_under", ["nothing", "amber"])
def test_a_cut_record_column_refuses_the_records_it_touches_by_name_and_the_intact_ones_still_go(
    ministries: Ministries, filed_under: str
) -> None:
    """Threat 25: one event's `record_uuid` cut (NULL, or another record's uuid) with sqlite3 and no keys. The
    export refuses the record the event's signed body is about (and the record it was filed under), by name;
    the intact records named explicitly still go and the counterpart holds them."""
    m = ministries
    uuid = (
        None
        if filed_under == "nothing"
        else m.pk.sql("SELECT uuid FROM records WHERE id = ?", (m.record_id(filed_under),))[0][0]
    )
    seq = _close_and_detach(m, uuid)
    touched = sorted([m.refs["green"]] + ([m.refs[filed_under]] if uuid else []))
    bundle = m.path("all.bundle")
    refused = m.pk.cli("export", "--to", "TR-MOI", "--out", str(bundle))
    count = len(touched)
    assert_refused(
        refused,
        f"export to TR-MOI refused: {count} damaged record{'s' if count > 1 else ''} in the selection ({touched[0]}: "
        f"audit event #{seq}: its record column was edited",
        exact=False,
    )
    assert all(ref in refused.err for ref in touched) and "None" not in refused.err
    assert not bundle.exists()
    refused = m.pk.cli("export", "--to", "TR-MOI", "--out", str(bundle), m.refs["green"])
    assert_refused(refused, f"1 damaged record in the selection ({m.refs['green']}: audit event #{seq}", exact=False)

    intact = [m.refs[role] for role in EXPORTED if m.refs[role] not in touched]
    m.pk.ok("export", "--to", "TR-MOI", "--out", str(bundle), *intact)
    m.tr.ok("import", str(bundle))
    assert sorted(r["reference"] for r in m.tr.list_json()) == sorted(intact)


@pytest.mark.parametrize("filed_under", ["nothing", "nothing, target edited", "amber"])
def test_show_refuses_a_record_whose_later_event_was_cut_from_it(ministries: Ministries, filed_under: str) -> None:
    """Threat 25: the record set back to an older signed state and its `close` event cut from it (record column
    NULL, with or without its target column edited too, or filed under another record). `show` and the
    cheap check the app's detail and browser run refuse it naming the event; filed under another record, that
    record is refused too; the other records still show."""
    m = ministries
    other = None if filed_under.startswith("nothing") else filed_under
    uuid = None if other is None else m.pk.sql("SELECT uuid FROM records WHERE id = ?", (m.record_id(other),))[0][0]
    seq = _close_and_detach(m, uuid, target="unlock" if filed_under.endswith("edited") else None)
    ref = m.refs["green"]
    assert_refused(
        m.pk.cli("show", ref), f"record {ref} is damaged: audit event #{seq}: its record column was edited", exact=False
    )
    if other is not None:
        assert_refused(
            m.pk.cli("show", m.refs[other]), f"record {m.refs[other]} is damaged: audit event #{seq}: ", exact=False
        )
    assert m.pk.show(m.refs["revised"])["reference"] == m.refs["revised"]
