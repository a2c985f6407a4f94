"""The desk under the signed audit log: the attacker with the store file and no keys edits an agreed action or a
meeting's minutes with sqlite3; `audit verify` names it, the desk marks or refuses it, and the counterpart never
receives it. Honest changes — made here or arriving by bundle — keep `audit verify` at exit 0."""

from __future__ import annotations

import re
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from crypto.events import event_bytes, sign_event, signing_public
from store.service import Vault
from tests.bundles.conftest import Pair, approved
from tests.liaison_helpers import PASSPHRASES, LiaisonStore, key_written_into_log, latest_event

Q2, Q3 = "2026-Q2", "2026-Q3"


def _send(pair: Pair, name: str) -> str:
    out = pair.path(name)
    pair.pk.ok("export", "--to", "TR-MOI", "--out", str(out))
    return pair.tr.ok("import", str(out)).err


def _desk(pair: Pair) -> str:
    """PK-MOI's desk, sent to TR-MOI: two held meetings with minutes and an action of its own; returns its id."""
    pk = pair.pk
    pk.ok("meetings", "add", "--quarter", Q2, "--date", "2026-05-15", "--venue", "Ankara", "--host", "TR-MOI")
    pk.ok("meetings", "add", "--quarter", Q3, "--date", "2026-09-15", "--venue", "Islamabad", "--host", "PK-MOI")
    for q in (Q2, Q3):
        _api(pk, lambda s, q=q: s.set_meeting_minutes(q, f"Minutes of {q}: the agreed points."))
    code = pk.ok(
        "actions", "add", "--title", "Train port officers", "--domain", "narcotics", "--owner", "PK-MOI",
        "--due", "2026-12-01", "--meeting", Q3,
    ).out.strip()  # fmt: skip
    _send(pair, "1.bundle")
    for store in (pk, pair.tr):
        store.ok("audit", "verify")
    return code


def _api(store: LiaisonStore, call: Callable[[Any], object]) -> None:
    """A desk change with no CLI command (minutes, agenda items: the app's meeting screen), through the Session."""
    session = store.session("alice")
    try:
        call(session)
    finally:
        session.vault.close()


def _tr_action(pair: Pair, code: str) -> dict[str, object]:
    return {a["id"]: a for a in pair.tr.ok("actions", "list", "--json").json()}[code]


@dataclass(frozen=True)
class Attack:
    """What the attacker runs on PK-MOI's file, what `audit verify` names, and what TR-MOI must still hold."""

    name: str
    sql: str
    says: str  # `<item> differs from its signed event #N: <fields>`, N left out
    still: Callable[[Pair, str], bool]


ATTACKS = [
    Attack(
        "status",
        "UPDATE jwg_actions SET status = 'done', status_rev = status_rev + 1 WHERE code = :code",
        "action {code} differs from its signed event #N: status, status_rev",
        lambda pair, code: _tr_action(pair, code)["status"] == "open",
    ),
    Attack(
        "owner",
        "UPDATE jwg_actions SET owner = 'TR-MOI', content_rev = content_rev + 1 WHERE code = :code",
        "action {code} differs from its signed event #N: content_rev, owner",
        lambda pair, code: _tr_action(pair, code)["owner"] == "PK-MOI",
    ),
    Attack(
        "due",
        "UPDATE jwg_actions SET due = '2027-06-30', content_rev = content_rev + 1 WHERE code = :code",
        "action {code} differs from its signed event #N: content_rev, due",
        lambda pair, code: _tr_action(pair, code)["due"] == "2026-12-01",
    ),
    Attack(
        "minutes",
        f"UPDATE jwg_meetings SET rev = rev + 1, minutes_ct = (SELECT minutes_ct FROM jwg_meetings WHERE quarter = '{Q2}') "
        f"WHERE quarter = '{Q3}'",
        f"meeting {Q3} differs from its signed event #N: minutes (ciphertext), rev",
        lambda pair, _code: (
            pair.tr.ok("meetings", "show", Q3, "--json").json()["minutes"] == f"Minutes of {Q3}: the agreed points."
        ),
    ),
]


def _says(text: str) -> re.Pattern[str]:
    return re.compile(re.escape(text).replace("\\#N", "#[0-9]+"))


@pytest.mark.parametrize("attack", ATTACKS, ids=[a.name for a in ATTACKS])
def test_a_desk_item_edited_with_sqlite3_is_named_marked_refused_and_never_exported(pair: Pair, attack: Attack) -> None:
    """Threat 25: an agreed action's status, owner or due date, or a meeting's minutes ciphertext, changed on the
    file without the keys (with the revision bumped, so an export would carry it): `audit verify` exits 1 naming
    it and what differs; the desk marks it in lists, refuses to show or change it; the next bundle to the
    counterpart leaves it out, and the counterpart's copy stays as it was agreed."""
    pk, tr = pair.pk, pair.tr
    code = _desk(pair)
    pk.sql(attack.sql.replace(":code", "?"), (code,) if ":code" in attack.sql else ())
    says = _says(attack.says.format(code=code))

    verdict = pk.cli("audit", "verify")
    assert verdict.code == 1, verdict
    assert "Traceback" not in verdict.err
    assert says.search(verdict.err_lines[0]), verdict.err
    problems = pk.cli("audit", "verify", "--json").json()["problems"]
    assert len(problems) == 1 and says.fullmatch(problems[0]["reason"]), problems

    if attack.name == "minutes":
        listed = {m["quarter"]: m for m in pk.ok("meetings", "list", "--json").json()}
        assert says.fullmatch(listed[Q3]["damaged"]) and listed[Q2]["damaged"] is None
        shown = pk.cli("meetings", "show", Q3)
        assert shown.code == 1 and says.search(shown.err_lines[0]), shown
        assert pk.cli("meetings", "held", Q3).code == 1
        linked = pk.cli(
            "actions", "add", "--title", "Follow up", "--domain", "narcotics", "--owner", "TR-MOI",
            "--due", "2026-12-20", "--meeting", Q3,
        )  # fmt: skip
        assert linked.code == 1 and says.search(linked.err_lines[0]), linked  # no new item under a damaged meeting
    else:
        listed = {a["id"]: a for a in pk.ok("actions", "list", "--json").json()}
        assert says.fullmatch(listed[code]["damaged"]), listed[code]
        table = pk.ok("actions", "list")
        assert any(line.startswith(code) and line.endswith("[DAMAGED]") for line in table.out.splitlines()), table.out
        refused = pk.cli("actions", "done", code)
        assert refused.code == 1 and says.search(refused.err_lines[0]), refused
        pack = pk.ok("meetings", "pack", Q3, "--out", str(pair.path("pack.md")))
        assert pack.code == 0
        brief = pair.path("pack.md").read_text()
        assert f"- **{code}**" not in brief  # not among the actions (its agenda item, intact, stays)
        assert "Left out because they differ from the signed audit log" in brief and f"{code}." in brief

    # the honest officer goes on working; the next bundle carries the new action, not the tampered item
    fresh = pk.ok(
        "actions", "add", "--title", "Exchange contact lists", "--domain", "narcotics", "--owner", "TR-MOI",
        "--due", "2026-12-20",
    ).out.strip()  # fmt: skip
    _send(pair, "2.bundle")
    assert fresh in {a["id"] for a in tr.ok("actions", "list", "--json").json()}
    assert attack.still(pair, code)
    tr.ok("audit", "verify")


def test_a_desk_row_inserted_or_deleted_with_sqlite3_is_named(pair: Pair) -> None:
    """Threat 25: an action copied in under a new id (no event records it) and a meeting deleted from the file are
    both named by `audit verify`; the inserted action never travels."""
    pk = pair.pk
    code = _desk(pair)
    pk.sql(
        "INSERT INTO jwg_actions (uuid, code, title_ct, domain, owner, officer, due, status, note_ct, meeting_quarter,"
        " origin, created_at, status_at, status_by, content_rev, status_rev, records)"
        " SELECT '00000000-0000-4000-8000-000000000001', 'PK-MOI-A9', title_ct, domain, 'TR-MOI', officer, due,"
        " status, note_ct, meeting_quarter, origin, created_at, status_at, status_by, 1, 1, records"
        " FROM jwg_actions WHERE code = ?",
        (code,),
    )
    pk.sql(f"DELETE FROM jwg_agenda WHERE meeting_id = (SELECT id FROM jwg_meetings WHERE quarter = '{Q2}')")
    pk.sql(f"DELETE FROM jwg_meetings WHERE quarter = '{Q2}'")
    reasons = [p["reason"] for p in pk.cli("audit", "verify", "--json").json()["problems"]]
    assert "action PK-MOI-A9: no signed event records it (written outside Liaison)" in reasons
    assert any(
        re.fullmatch(rf"meeting {Q2} was removed outside Liaison \(its last signed event is #\d+\)", r) for r in reasons
    )
    assert pk.cli("audit", "verify").code == 1
    approved(pk, "Keeps the bundle non-empty", "GREEN", "TR-MOI")
    _send(pair, "2.bundle")
    assert "PK-MOI-A9" not in {a["id"] for a in pair.tr.ok("actions", "list", "--json").json()}


def test_honest_desk_changes_keep_the_log_proving_the_desk(pair: Pair) -> None:
    """Threat 25, the other side: every desk change a command makes (meeting planned, held, minutes, agenda item,
    action agreed, done, dropped) and every desk entry a bundle brings is signed with the row's new state, so
    `audit verify` stays at exit 0 on both stores, and each change's event carries the row's state."""
    pk, tr = pair.pk, pair.tr
    code = _desk(pair)
    pk.ok("meetings", "held", Q3)
    _api(pk, lambda s: s.add_agenda_item(Q3, "narcotics", "Precursor chemicals: a joint list", "decision"))
    other = pk.ok(
        "actions", "add", "--title", "Visit the port", "--domain", "narcotics", "--owner", "PK-MOI", "--due", "2026-12-10"
    ).out.strip()  # fmt: skip
    pk.ok("actions", "done", code, "--comment", "trained 40 officers")
    pk.ok("actions", "drop", other, "--reason", "overtaken")
    pk.ok("audit", "verify")
    events = pk.ok("audit", "log", "--json").json()
    done = [e for e in events if e["action"] == "action-done" and e["target"] == code]
    assert len(done) == 1
    _send(pair, "2.bundle")
    for store in (pk, tr):
        store.ok("audit", "verify")
    assert _tr_action(pair, code)["status"] == "done" and _tr_action(pair, other)["status"] == "dropped"


def test_a_desk_from_before_desk_signing_is_signed_at_the_first_admin_unlock(tmp_path: Path) -> None:
    """Threat 25 at upgrade: desk rows a store holds with no event recording them (a store from before the log,
    its desk written as it stood) are signed once by the first admin unlock (`desk-genesis`); after that, a row
    written on the file is named again."""
    fixture = Path(__file__).parent.parent / "fixtures" / "pre_audit_store.db"
    store = LiaisonStore(tmp_path / "pk-moi.db")
    shutil.copyfile(fixture, store.path)
    store.path.chmod(0o600)
    Vault.open(store.path).close()  # migrated to the current schema, not yet unlocked: genesis pending
    store.sql(
        "INSERT INTO jwg_meetings (uuid, quarter, day, venue_ct, host, status, minutes_ct, origin, rev, updated_at)"
        " VALUES ('00000000-0000-4000-8000-000000000002', '2026-Q1', '2026-02-15', X'00', 'PK-MOI', 'held', NULL,"
        " 'PK-MOI', 1, '2026-02-15 10:00:00.000000')"
    )
    session = Vault.open(store.path).unlock("alice", PASSPHRASES["alice"])
    session.vault.close()
    store.ok("audit", "verify", officer="alice")
    assert store.sql("SELECT target FROM audit_log WHERE action = 'desk-genesis' ORDER BY seq") == [
        ("2026-Q1",),
        ("desk",),
    ]
    store.sql("UPDATE jwg_meetings SET status = 'planned'")
    again = store.cli("audit", "verify", officer="alice")
    assert again.code == 1 and re.search(r"meeting 2026-Q1 differs from its signed event #\d+: status", again.err)
    assert store.sql("SELECT count(*) FROM audit_log WHERE action = 'desk-genesis'") == [(2,)]


def test_an_action_rolled_back_and_signed_again_while_its_events_were_hidden_is_damaged(pair: Pair) -> None:
    """Found by a hostile pass: an action done with a note, set back to open in the file with its later events'
    targets changed (so the target index showed only its first), was dropped by an honest officer — signing the
    rolled-back state — and once the targets were put back `audit verify` passed, the completion and its note
    gone. Each desk event now signs how many events about the row the log held under its key: the drop's says
    fewer than the log holds, and the action is damaged."""
    import sqlite3

    pk = pair.pk
    code = _desk(pair)
    pk.ok("actions", "done", code, "--comment", "trained 40 officers")
    pk.ok("audit", "verify")
    conn = sqlite3.connect(pk.path)
    with conn:
        conn.execute(
            "UPDATE jwg_actions SET status = 'open', status_at = NULL, status_by = '', status_rev = 1, note_ct = NULL"
            " WHERE code = ?",
            (code,),
        )
        conn.execute(
            "CREATE TABLE _hid AS SELECT seq, target FROM audit_log WHERE target = ?"
            " AND seq > (SELECT min(seq) FROM audit_log WHERE target = ?)",
            (code, code),
        )
        conn.execute("UPDATE audit_log SET target = 'x' WHERE seq IN (SELECT seq FROM _hid)")
    conn.close()
    pk.ok("actions", "drop", code, "--reason", "superseded")  # the honest officer, unaware
    conn = sqlite3.connect(pk.path)
    with conn:
        conn.execute(
            "UPDATE audit_log SET target = (SELECT target FROM _hid h WHERE h.seq = audit_log.seq)"
            " WHERE seq IN (SELECT seq FROM _hid)"
        )
        conn.execute("DROP TABLE _hid")
    conn.close()
    why = "the log's target index was edited to hide events about it"
    verify = pk.cli("audit", "verify")
    assert verify.code == 1 and why in verify.err, verify
    listed = {a["id"]: a for a in pk.ok("actions", "list", "--json").json()}
    assert why in (listed[code]["damaged"] or ""), listed[code]
    changed = pk.cli("actions", "done", code)  # nothing signs it again
    assert changed.code == 1 and why in changed.err, changed


def test_an_action_s_older_event_moved_over_its_latest_is_damaged(pair: Pair) -> None:
    """Found by the second hostile pass (a lead): the desk's lookup took the latest event by the row's seq without
    asking whether the signed body was that event's. Swapping the bodies (with their signatures) of an action's
    `action-add` and `action-done` events, and setting the action back to open, let the older state pass for the
    latest in `actions list` and a change. The body must name the seq it sits at."""
    import sqlite3

    pk = pair.pk
    code = _desk(pair)
    pk.ok("actions", "done", code, "--comment", "trained 40 officers")
    conn = sqlite3.connect(pk.path)
    with conn:
        seqs = [int(r[0]) for r in conn.execute("SELECT seq FROM audit_log WHERE target = ? ORDER BY seq", (code,))]
        first, last = seqs[0], seqs[-1]  # its action-add and its action-done
        conn.execute(
            "CREATE TABLE _swap AS SELECT seq, body, signer, sig FROM audit_log WHERE seq IN (?, ?)", (first, last)
        )
        for here, there in ((first, last), (last, first)):
            conn.execute(
                "UPDATE audit_log SET body = (SELECT body FROM _swap WHERE seq = ?), signer = (SELECT signer FROM _swap"
                " WHERE seq = ?), sig = (SELECT sig FROM _swap WHERE seq = ?) WHERE seq = ?",
                (there, there, there, here),
            )
        conn.execute(
            "UPDATE jwg_actions SET status = 'open', status_at = NULL, status_by = '', status_rev = 1, note_ct = NULL"
            " WHERE code = ?",
            (code,),
        )
    conn.close()
    listed = {a["id"]: a for a in pk.ok("actions", "list", "--json").json()}
    assert "holds the body of event" in (listed[code]["damaged"] or ""), listed[code]
    assert pk.cli("actions", "drop", code, "--reason", "superseded").code == 1


def test_a_desk_event_signed_with_a_key_written_into_the_log_is_damaged(pair: Pair) -> None:
    """Threat 25 through the officers' keys (as for records, `tests/integrity/test_forged_officer_key.py`): with
    the file and no keys, the attacker writes a signing key of their own into the officer's latest officer-state
    event, marks an action done and re-signs its latest event as that officer with the new key. The desk's cheap
    check holds the log's officer keys to the officers rows (whose MACs only the store's keys make): it is named."""
    _desk(pair)
    pair.pk.ok("officers", "add", "dave", "--role", "officer", env={"LIAISON_NEW_PASSPHRASE": PASSPHRASES["dave"]})
    code = pair.pk.ok(
        "actions", "add", "--title", "Share port watch lists", "--domain", "narcotics", "--owner", "PK-MOI",
        "--due", "2026-12-10", officer="dave",
    ).out.strip()  # fmt: skip
    _send(pair, "1b.bundle")
    assert _tr_action(pair, code)["status"] == "open"
    conn = sqlite3.connect(pair.pk.path)
    try:
        latest, event = latest_event(conn, code, '"desk":{')
        who = event["officer"]
        priv = key_written_into_log(conn, who)
        pub = signing_public(priv)
        conn.execute("UPDATE jwg_actions SET status = 'done', status_rev = status_rev + 1 WHERE code = ?", (code,))
        event["data"]["desk"]["status"] = "done"
        event["data"]["desk"]["status_rev"] += 1
        forged = event_bytes(event)
        conn.execute(
            "UPDATE audit_log SET body = ?, signer = ?, sig = ? WHERE seq = ?",
            (forged, pub, sign_event(priv, forged), latest),
        )
        conn.commit()
    finally:
        conn.close()

    listed = {a["id"]: a for a in pair.pk.ok("actions", "list", "--json").json()}
    why = listed[code]["damaged"]
    assert why is not None and f"the signing key the audit log gives {who} is not their key slot's" in why, listed[code]
    refused = pair.pk.cli("actions", "done", code)
    assert refused.code == 1 and "Traceback" not in refused.err, refused
    out = pair.path("2.bundle")
    shipped = pair.pk.cli("export", "--to", "TR-MOI", "--out", str(out))
    assert shipped.code == 1 and not out.exists(), shipped  # the edited log proves nothing: nothing goes
    assert pair.pk.cli("audit", "verify").code == 1
    assert _tr_action(pair, code)["status"] == "open"
