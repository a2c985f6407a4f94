"""Meetings and actions travel in bundles between two real stores (PK-MOI and TR-MOI), through the CLI."""

from __future__ import annotations

from pathlib import Path

from tests.bundles.conftest import Pair, approved
from tests.jwg.conftest import desk_signed_sql
from tests.liaison_helpers import assert_refused, store_fingerprint


def _send(pair: Pair, src: str, dst: str, name: str) -> str:
    """Export from `src` to `dst` and import there; returns the import's stderr summary."""
    a, b = (pair.pk, pair.tr) if src == "pk" else (pair.tr, pair.pk)
    code = "TR-MOI" if src == "pk" else "PK-MOI"
    out = pair.path(name)
    a.ok("export", "--to", code, "--out", str(out))
    return b.ok("import", str(out)).err


def test_action_round_trip_between_two_stores(pair: Pair) -> None:
    pk, tr = pair.pk, pair.tr
    pk.ok("meetings", "add", "--quarter", "2026-Q3", "--date", "2026-09-15", "--venue", "Islamabad", "--host", "PK-MOI")
    theirs = pk.ok(
        "actions",
        "add",
        "--title",
        "Send the ferry manifests",
        "--domain",
        "narcotics",
        "--owner",
        "TR-MOI",
        "--due",
        "2026-10-15",
        "--meeting",
        "2026-Q3",
    ).out.strip()
    ours = pk.ok(
        "actions",
        "add",
        "--title",
        "Train port officers",
        "--domain",
        "narcotics",
        "--owner",
        "PK-MOI",
        "--due",
        "2026-12-01",
    ).out.strip()

    summary = _send(pair, "pk", "tr", "1.bundle")
    assert "actions: 2 new" in summary
    seen = {a["id"]: a for a in tr.ok("actions", "list", "--json").json()}
    assert set(seen) == {theirs, ours}
    assert seen[theirs]["title"] == "Send the ferry manifests" and seen[theirs]["owner"] == "TR-MOI"
    assert seen[theirs]["meeting"] == "2026-Q3"
    shown = tr.ok("meetings", "show", "2026-Q3", "--json").json()
    assert shown["venue"] == "Islamabad" and [i["action"] for i in shown["agenda"]] == [theirs]

    # TR-MOI may not close PK-MOI's action, nor update PK-MOI's meeting
    before = store_fingerprint(tr.path)
    assert_refused(
        tr.cli("actions", "done", ours), f"action {ours} is owned by PK-MOI; only PK-MOI may change its status"
    )
    assert_refused(
        tr.cli("meetings", "held", "2026-Q3"), "the meeting of 2026-Q3 was planned by PK-MOI; only PK-MOI updates it"
    )
    assert store_fingerprint(tr.path) == before

    tr.ok("actions", "done", theirs, "--comment", "manifests sent")
    back = _send(pair, "tr", "pk", "2.bundle")
    assert f"action {theirs} now done" in back
    mine = {a["id"]: a for a in pk.ok("actions", "list", "--json").json()}
    assert mine[theirs]["status"] == "done" and mine[theirs]["note"] == "manifests sent"
    assert mine[ours]["status"] == "open"

    # nothing echoes back: PK-MOI's next bundle carries no desk entry TR-MOI already holds
    pk.ok("actions", "done", ours)
    third = _send(pair, "pk", "tr", "3.bundle")
    assert f"action {ours} now done" in third and "actions:" not in third

    # every desk change on both sides (made here or arriving by bundle) is signed: both logs prove their desks
    for store in (pk, tr):
        store.ok("audit", "verify")


def test_a_status_change_from_a_non_owner_is_skipped(pair: Pair) -> None:
    """A crafted store at TR-MOI marks PK-MOI's action done (bypassing the CLI, signed in its own log): PK-MOI skips
    it with a reason."""
    pk, tr = pair.pk, pair.tr
    ours = pk.ok(
        "actions",
        "add",
        "--title",
        "Train port officers",
        "--domain",
        "narcotics",
        "--owner",
        "PK-MOI",
        "--due",
        "2026-12-01",
    ).out.strip()
    _send(pair, "pk", "tr", "1.bundle")
    desk_signed_sql(tr, "UPDATE jwg_actions SET status='done', status_rev=status_rev+1 WHERE code=?", (ours,))
    tr.add("Keeps the bundle non-empty", "--to", "PK-MOI")
    back = _send(pair, "tr", "pk", "2.bundle")
    assert f"action {ours} skipped: marked done by TR-MOI: only its owner PK-MOI may change its status" in back
    assert pk.ok("actions", "list", "--json").json()[0]["status"] == "open"


def test_a_skipped_status_change_does_not_stop_the_owners_own_from_going_out(pair: Pair) -> None:
    """Threat 24: the revisions a skipped entry claims are not taken as what the sender holds; else PK-MOI would
    believe TR-MOI already has its action at status_rev 2 and never send its own real change."""
    pk, tr = pair.pk, pair.tr
    ours = pk.ok(
        "actions", "add", "--title", "Train port officers", "--domain", "narcotics", "--owner", "PK-MOI",
        "--due", "2026-12-01",
    ).out.strip()  # fmt: skip
    _send(pair, "pk", "tr", "1.bundle")
    desk_signed_sql(tr, "UPDATE jwg_actions SET status='done', status_rev=status_rev+1 WHERE code=?", (ours,))
    tr.add("Keeps the bundle non-empty", "--to", "PK-MOI")
    assert "skipped" in _send(pair, "tr", "pk", "2.bundle")
    desk_signed_sql(
        tr, "UPDATE jwg_actions SET status='open', status_rev=status_rev-1 WHERE code=?", (ours,)
    )  # as a crafted bundle leaves it
    pk.ok("actions", "drop", ours, "--reason-file", "-", stdin="Merged into the port training plan\n")
    _send(pair, "pk", "tr", "3.bundle")
    [held] = [a for a in tr.ok("actions", "list", "--json").json() if a["id"] == ours]
    assert held["status"] == "dropped"


def test_an_action_id_must_be_its_origins(pair: Pair) -> None:
    """TR-MOI cannot pass off an action under a PK-MOI id: the receiver skips it with a reason."""
    pk, tr = pair.pk, pair.tr
    code = tr.ok(
        "actions", "add", "--title", "Visit", "--domain", "narcotics", "--owner", "TR-MOI", "--due", "2026-12-01"
    ).out.strip()
    desk_signed_sql(tr, "UPDATE jwg_actions SET code='PK-MOI-A1' WHERE code=?", (code,))
    back = _send(pair, "tr", "pk", "1.bundle")
    assert "action PK-MOI-A1 skipped: has an id that is not one of TR-MOI's actions" in back
    assert pk.ok("actions", "list", "--json").json() == []


def test_the_desk_goes_only_to_the_groups_parties(pair: Pair) -> None:
    """PK-MOI's desk with TR-MOI goes to TR-MOI, never to a third ministry (PK-NDMA, sent a bundle sealed with a
    passphrase) until the desk names it (an action it owns): then it is a party and receives the list."""
    pk = pair.pk
    pk.ok("meetings", "add", "--quarter", "2026-Q3", "--date", "2026-09-15", "--venue", "Islamabad", "--host", "PK-MOI")
    pk.ok("actions", "add", "--title", "Train port officers", "--domain", "narcotics", "--owner", "PK-MOI", "--due", "2026-10-15")  # fmt: skip
    secret = pair.path("bundle-passphrase")
    secret.write_text("a bundle passphrase for the third ministry\n")

    def export_to(code: str, name: str) -> str:
        return pk.ok("export", "--to", code, "--out", str(pair.path(name)), "--passphrase-file", str(secret)).err

    approved(pk, "Flood routes for the disaster desk", "GREEN", "PK-NDMA")
    assert "working-group" not in export_to("PK-NDMA", "ndma-1.bundle")
    assert "carried 2 working-group entries" in export_to("TR-MOI", "tr-1.bundle")  # the one contact: a party
    pk.ok("actions", "add", "--title", "Map the flood routes", "--domain", "narcotics", "--owner", "PK-NDMA", "--due", "2026-11-01")  # fmt: skip
    assert "carried 3 working-group entries" in export_to("PK-NDMA", "ndma-2.bundle")
    assert "carried 1 working-group entry" in export_to("TR-MOI", "tr-2.bundle")


def test_the_pack_sealed_to_the_counterpart(pair: Pair) -> None:
    """`meetings pack Q --seal-to TR-MOI` writes a sealed bundle (no record, the desk entries TR-MOI lacks, the
    pack); TR-MOI's import names it and `meetings pack Q --from PK-MOI` writes the same brief PK-MOI would."""
    pk, tr = pair.pk, pair.tr
    pk.ok("meetings", "add", "--quarter", "2026-Q3", "--date", "2026-09-15", "--venue", "Ankara", "--host", "TR-MOI")
    pk.ok("actions", "add", "--title", "Send the manifests", "--domain", "narcotics", "--owner", "TR-MOI", "--due", "2026-10-15", "--meeting", "2026-Q3")  # fmt: skip
    sealed = pair.path("pack.bundle")
    done = pk.ok("meetings", "pack", "2026-Q3", "--seal-to", "TR-MOI", "--out", str(sealed))
    assert "the brief for 2026-Q3 sealed to TR-MOI" in done.err and "no record" in done.err
    assert sealed.read_bytes().startswith(b"liaison-bundle/")
    imported = tr.ok("import", str(sealed)).err
    assert "0 records" in imported
    assert "meeting pack for 2026-Q3 received (meetings pack 2026-Q3 --from PK-MOI --out FILE)" in imported
    assert tr.ok("meetings", "show", "2026-Q3", "--json").json()["venue"] == "Ankara"  # the desk came along
    assert "Pack received from PK-MOI (prepared by " in tr.ok("meetings", "show", "2026-Q3").out
    mine, theirs = pair.path("mine.md"), pair.path("theirs.md")
    pk.ok("meetings", "pack", "2026-Q3", "--out", str(mine))
    tr.ok("meetings", "pack", "2026-Q3", "--from", "PK-MOI", "--out", str(theirs))
    assert theirs.read_text() == mine.read_text()
    assert "Send the manifests" in theirs.read_text()
    # a PK-MOI record approved meanwhile does not ride along with a pack
    assert "0 records" in tr.ok("import", str(_sealed_again(pair))).err

    assert_refused(
        pk.cli("meetings", "pack", "2026-Q3", "--seal-to", "TR-MOI", "--out", str(sealed)),
        "already exists",
        exact=False,
    )
    assert_refused(
        pk.cli("meetings", "pack", "2026-Q3", "--seal-to", "PK-NDMA", "--out", str(pair.path("ndma.bundle"))),
        "PK-NDMA is not a party to the working group (its parties here: TR-MOI); the pack goes to a party only",
    )
    assert not pair.path("ndma.bundle").exists()
    assert_refused(
        pk.cli("meetings", "pack", "2026-Q3", "--seal-to", "TR-MOI", "--pdf", "--out", str(pair.path("x"))),
        "--seal-to seals the pack's text for the counterpart; it does not go with --pdf",
    )
    assert_refused(
        pk.cli("meetings", "pack", "2026-Q3", "--from", "TR-MOI", "--out", str(pair.path("y.md"))),
        "no meeting pack for 2026-Q3 received from TR-MOI",
    )


def _sealed_again(pair: Pair) -> Path:
    approved(pair.pk, "Approved after the pack", "GREEN", "TR-MOI")
    again = pair.path("pack-2.bundle")
    pair.pk.ok("meetings", "pack", "2026-Q3", "--seal-to", "TR-MOI", "--out", str(again))
    return again
