"""Threat 25 through the officers' keys, found by a hostile pass: with the file and no keys, an attacker rewrote an
officer's latest officer-state event body to hold a signing key of their own, swapped a record's body for another
record's, and rewrote the record's latest event as that officer, signed with the new key. The cheap check (`show`,
the browser, imports, every action on the record) verified the event against the key the edited body gave, so it
passed — and `show` then appended an honest `read` event signing the swapped body; with the two bodies put back the
log was whole again, `audit verify` passed and the export carried the swap. The officers' keys in the log are now
held to their officers rows, whose MACs only the store's keys make: the record is refused, nothing is signed."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import datetime
from pathlib import Path

from crypto.events import event_bytes, sign_event, signing_public
from store.audit.snapshot import revision_digest
from tests.integrity.conftest import TITLES, Ministries
from tests.liaison_helpers import key_written_into_log


def _forge(path: Path, ref: str, donor: str, who: str) -> None:
    conn = sqlite3.connect(path)
    priv = key_written_into_log(conn, who)
    pub = signing_public(priv)
    rid, uuid, rev = conn.execute("SELECT id, uuid, revision FROM records WHERE reference = ?", (ref,)).fetchone()
    (body_ct,) = conn.execute(
        "SELECT v.body_ct FROM revisions v JOIN records r ON r.id = v.record_id AND v.number = r.revision"
        " WHERE r.reference = ?",
        (donor,),
    ).fetchone()
    conn.execute("UPDATE revisions SET body_ct = ? WHERE record_id = ? AND number = ?", (body_ct, rid, rev))
    row = conn.execute(
        "SELECT number, officer, tlp, releasable_to, created_at, title_ct, body_ct FROM revisions"
        " WHERE record_id = ? AND number = ?",
        (rid, rev),
    ).fetchone()
    digest = revision_digest(
        row[0], row[1], row[2], row[3], datetime.fromisoformat(row[4]), bytes(row[5]), bytes(row[6])
    )
    latest, latest_body = conn.execute(
        "SELECT seq, body FROM audit_log WHERE record_uuid = ? ORDER BY seq DESC LIMIT 1", (uuid,)
    ).fetchone()
    event = json.loads(latest_body)
    event["officer"] = who
    event["record"]["body_sha256"] = hashlib.sha256(bytes(row[6])).hexdigest()
    event["record"]["revision_sha256"] = digest
    forged = event_bytes(event)
    conn.execute(
        "UPDATE audit_log SET body = ?, signer = ?, sig = ?, officer = ? WHERE seq = ?",
        (forged, pub, sign_event(priv, forged), who, latest),
    )
    conn.commit()
    conn.close()


def test_an_officer_key_written_into_the_log_signs_nothing(ministries: Ministries) -> None:
    m = ministries
    ref, donor = m.refs["green"], m.refs["red"]
    m.pk.ok("show", ref)  # its latest event a read (its approval stays as it was)
    _forge(m.pk.path, ref, donor, "carol")
    shown = m.pk.cli("show", ref)
    assert shown.code == 1 and f"record {ref} is damaged" in shown.err, shown
    assert "the signing key the audit log gives carol is not their key slot's" in shown.err, shown
    assert TITLES["red"] not in shown.out
    (reads,) = m.pk.sql("SELECT count(*) FROM audit_log WHERE action = 'read' AND target = ?", (ref,))[0]
    assert reads == 1, "nothing was signed over the swapped body"
    refused = m.pk.cli("export", "--to", "TR-MOI", "--out", str(m.path("out.bundle")), ref)
    assert refused.code == 1 and not m.path("out.bundle").exists(), refused
    assert m.verify().code == 1
