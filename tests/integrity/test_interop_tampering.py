"""The attacker with the store file and no keys, then an honest officer exporting to a STIX or MISP file: a
record tampered with in the file never goes, the export refuses naming it (as a bundle export does), and the
intact records named explicitly still go."""

from __future__ import annotations

import json

import pytest

from tests.integrity.conftest import TITLES, Ministries
from tests.integrity.test_record_tampering import ATTACKS, Attack
from tests.liaison_helpers import assert_refused

#: The tamperings that would put RED content in a file (a relabelled record, a RED ciphertext in a GREEN one).
CASES = {name: ATTACKS[name] for name in ("RED relabelled GREEN", "RED ciphertext copied into a GREEN record")}


@pytest.mark.parametrize("fmt", ["stix", "misp"])
@pytest.mark.parametrize("case", CASES.values(), ids=list(CASES))
def test_a_tampered_record_never_reaches_a_stix_or_misp_file(ministries: Ministries, case: Attack, fmt: str) -> None:
    """Threat 25: a record whose tags or ciphertexts were edited in the file is never exported to STIX or MISP;
    the export refuses (exit 1) naming every damaged record and writes nothing; intact records named still go."""
    m, ref = ministries, ministries.refs[case.target]
    case.run(m)

    out = m.path(f"all.{fmt}.json")
    refused = m.pk.cli(fmt, "export", "--out", str(out))
    assert_refused(
        refused, f"export to a {fmt.upper()} file refused: 1 damaged record in the selection ({ref}: ", exact=False
    )
    assert case.says in refused.err, refused.err
    assert not out.exists()
    assert not list(m.root.glob(f"*{fmt}*")), "no temporary file left behind"

    named = m.pk.cli(fmt, "export", "--out", str(out), ref)
    assert_refused(
        named, f"export to a {fmt.upper()} file refused: 1 damaged record in the selection ({ref}: ", exact=False
    )
    assert not out.exists()

    intact = [m.refs[role] for role in ("green", "internal") if m.refs[role] != ref]
    m.pk.ok(fmt, "export", "--out", str(out), *intact)
    text = out.read_text(encoding="utf-8")
    json.loads(text)
    assert TITLES["red"] not in text and "courier's handler" not in text
    for reference in intact:
        assert reference in text


def test_a_stix_update_never_writes_over_a_record_tampered_with_in_the_file(ministries: Ministries) -> None:
    """Found by a hostile pass (Threat 25): a STIX report held here got a review step inserted with sqlite3; the
    file's next version of the report then updated the record and signed what the tampering left, and `audit
    verify` passed with the forged step shown as signed history. The import now refuses, as a bundle's does."""
    import sqlite3
    from datetime import UTC, datetime, timedelta

    m = ministries
    first = m.path("pk.stix.json")
    m.pk.ok("stix", "export", "--out", str(first), m.refs["green"])
    m.tr.ok("stix", "import", str(first))
    rid, ref = m.tr.sql("SELECT id, reference FROM records WHERE origin = 'PK-MOI' ORDER BY id LIMIT 1")[0]
    doc = json.loads(first.read_text(encoding="utf-8"))
    for obj in doc["objects"]:
        if obj["type"] == "report":
            obj["modified"] = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
            obj["name"] = "Updated by the file"
    second = m.path("pk-2.stix.json")
    second.write_text(json.dumps(doc), encoding="utf-8")
    conn = sqlite3.connect(m.tr.path)  # the attacker with TR-MOI's file and no keys
    conn.execute(
        "INSERT INTO review_events (record_id, officer, action, at) VALUES (?, 'alice', 'approve', ?)",
        (rid, "2026-12-07 14:00:00.000000"),
    )
    conn.commit()
    conn.close()
    assert m.verify(m.tr).code == 1
    refused = m.tr.cli("stix", "import", str(second))
    assert refused.code == 1 and f"record {ref} held here is damaged" in refused.err, refused
    assert "Traceback" not in refused.err
    assert m.verify(m.tr).code == 1  # the tampering still named, nothing signed over it
