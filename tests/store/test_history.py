"""`Session.record_activity`: created, every revision, review steps with their comments (decrypted), in order."""

from __future__ import annotations

import itertools

from store.service import Changes, Draft
from tests.liaison_helpers import LiaisonStore


def test_activity_lists_edits_and_review_comments(team_store: LiaisonStore) -> None:
    carol = team_store.session("carol")
    bob = team_store.session("bob")
    try:
        ref = carol.add_record(Draft(domain="narcotics", tlp="amber", title="Route report"), submit=True)
        bob.return_record(ref, "Add the source grading.")
        carol.edit_record(ref, Changes(summary="Graded B2."))
        carol.submit(ref)
        bob.approve(ref, "Good to go.")
        events = carol.record_activity(ref)
    finally:
        carol.vault.close()
        bob.vault.close()
    assert [(e.kind, e.officer, e.revision, e.comment) for e in events] == [
        ("created", "carol", 1, ""),
        ("submitted", "carol", None, ""),
        ("returned", "bob", None, "Add the source grading."),
        ("revised", "carol", 2, ""),
        ("submitted", "carol", None, ""),
        ("approved", "bob", None, "Good to go."),
    ]
    assert all(a.at <= b.at for a, b in itertools.pairwise(events))
