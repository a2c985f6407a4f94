"""The cheap damage check (`damaged_among(..., full=False)`: a browser page, `liaison list`, an import, each batch
of `keys rotate`) parses each event body it reads once: the writers' bodies when collected, the latest event's and
the approvals' when first read, not again for the officers' names and again for the comparison."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from store.audit import state
from store.service import Changes, Draft
from tests.liaison_helpers import LiaisonStore


def test_each_body_is_parsed_once_by_a_cheap_check(team_store: LiaisonStore, monkeypatch: pytest.MonkeyPatch) -> None:
    carol = team_store.session("carol")
    bob = team_store.session("bob")
    try:
        approved = carol.add_record(Draft(domain="narcotics", tlp="amber", title="Route report"), submit=True)
        bob.return_record(approved, "Add the source grading.")
        carol.edit_record(approved, Changes(summary="Graded B2."))
        carol.submit(approved)
        bob.approve(approved, "Good to go.")
        draft = carol.add_record(Draft(domain="narcotics", tlp="amber", title="Second report"))
        ids = [
            int(rid) for (rid,) in team_store.sql("SELECT id FROM records WHERE reference IN (?, ?)", (approved, draft))
        ]
        assert len(ids) == 2
        assert carol.damaged_among(ids, full=False) == {}

        parsed: Counter[bytes] = Counter()
        real = state.parse_body

        def counted(body: bytes) -> dict[str, Any] | None:
            parsed[bytes(body)] += 1
            return real(body)

        monkeypatch.setattr(state, "parse_body", counted)
        assert carol.damaged_among(ids, full=False) == {}
    finally:
        carol.vault.close()
        bob.vault.close()
    assert parsed, "the check parsed no body"
    assert max(parsed.values()) == 1, sorted(parsed.values())
