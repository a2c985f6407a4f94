"""Threats from a hostile counterpart (issue 9): TR-MOI is a real second store whose officer uses the CLI, and
whose modified writer signs arbitrary record objects with TR-MOI's own keys (a genuine signature from a known
contact: the signature is not the defence here). PK-MOI receives. Each attack is refused with its specific
error and the receiving store unchanged, or (for what is legal text) stored literally."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from crypto import bundle as fmt
from crypto.card import read_card
from crypto.identity import public_identity
from tests.bundles.conftest import CANARY_TR, Pair, approved
from tests.bundles.corpus import crafted_by
from tests.liaison_helpers import LiaisonStore, assert_refused, find_plaintext, init_store, store_fingerprint

YEAR = datetime.now(UTC).year


def tr_record(**changes: Any) -> dict[str, Any]:
    """A well-formed record object from TR-MOI, releasable to PK-MOI."""
    now = fmt.format_time(datetime.now(UTC))
    rec = {
        "uuid": "8a1c2a8e-3b4d-4c5e-9f60-718293a4b5c6",
        "reference": f"TR-MOI-{YEAR}-09001",
        "domain": "narcotics",
        "origin": "TR-MOI",
        "releasable_to": ["PK-MOI"],
        "tlp": "AMBER",
        "no_reexport": False,
        "revision": 1,
        "author": "elif",
        "created_at": now,
        "updated_at": now,
        "title": f"{CANARY_TR} crafted",
        "summary": f"{CANARY_TR} body",
        "source": "",
    }
    rec.update(changes)
    return rec


def from_tr(pair: Pair, *records: dict[str, Any], seq: int = 50) -> Path:
    """TR-MOI's modified writer: the records signed with TR-MOI's real key, sealed to PK-MOI."""
    path = pair.path(f"hostile-{seq}.bundle")
    path.write_bytes(crafted_by(pair.tr, pair.root / "pk.card", list(records), seq=seq))
    return path


def refused(pair: Pair, path: Path, message: str) -> None:
    """PK-MOI refuses the bundle with exactly `message`, nothing raw on the terminal, its store unchanged."""
    before = store_fingerprint(pair.pk.path)
    result = pair.pk.cli("import", str(path))
    assert_refused(result, f"{path.name}: {message}")
    assert "\x1b" not in result.err and not any(
        0x80 <= ord(c) <= 0x9F or 0x202A <= ord(c) <= 0x202E for c in result.err
    )
    assert store_fingerprint(pair.pk.path) == before
    assert find_plaintext(pair.pk.path, CANARY_TR) == []


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", f"{CANARY_TR} \x1b]52;c;SGVsbG8=\x07", "title contains a control character (U+001B) at position 13"),
        ("title", f"{CANARY_TR} \x1b[2J", "title contains a control character (U+001B) at position 13"),
        ("title", "abc\u202eexe.pdf", "title contains a bidi control character (U+202E) at position 4"),
        ("title", "two\nlines", "title contains a control character (U+000A) at position 4"),
        ("summary", "fine\n\x1b[8mhidden", "summary contains a control character (U+001B) at position 6"),
        ("summary", "C1 \x9b31m", "summary contains a control character (U+009B) at position 4"),
        ("source", "\x1b]8;;http://evil\x1b\\link", "source contains a control character (U+001B) at position 1"),
        ("author", "alice\n", "author contains a control character (U+000A) at position 6"),
        ("author", "elif\u2066", "author contains a bidi control character (U+2066) at position 5"),
    ],
    ids=["osc52", "clear", "bidi", "newline title", "hidden", "c1", "osc8", "author newline", "author isolate"],
)
def test_escapes_in_text_refuse_the_whole_bundle(pair: Pair, field: str, value: str, message: str) -> None:
    good = tr_record(uuid="8a1c2a8e-3b4d-4c5e-9f60-718293a4b5c7", reference=f"TR-MOI-{YEAR}-09002")
    path = from_tr(pair, good, tr_record(**{field: value}))
    refused(pair, path, f"record TR-MOI-{YEAR}-09001 {message}")


def test_markup_is_legal_text_and_stored_literally(pair: Pair) -> None:
    """Brackets are text, not markup: `[see annex] [/x] [bold]x` and an author `[/x]` import unchanged."""
    title = "[see annex] [/x] [bold]x"
    pair.pk.ok("import", str(from_tr(pair, tr_record(title=title, author="[/x]", summary="[link](http://x) [/b]"))))
    shown = pair.pk.show(f"TR-MOI-{YEAR}-09001")
    assert (shown["title"], shown["author"], shown["summary"]) == (title, "[/x]", "[link](http://x) [/b]")


def _next_local(store: LiaisonStore) -> str:
    count = int(store.sql("SELECT count(*) FROM records WHERE origin = 'PK-MOI'")[0][0])
    return f"PK-MOI-{YEAR}-{count + 1:05d}"


def test_the_receivers_own_next_reference_is_refused_and_add_still_works(pair: Pair) -> None:
    nxt = _next_local(pair.pk)
    refused(pair, from_tr(pair, tr_record(reference=nxt)), f"record {nxt} does not carry the code of its origin TR-MOI")
    refused(
        pair,
        from_tr(pair, tr_record(reference=nxt, origin="PK-MOI"), seq=51),
        f"record {nxt} claims to originate at this ministry (PK-MOI)",
    )
    assert pair.pk.add("Written after the attack") == nxt


def test_local_references_skip_numbers_an_imported_record_holds(pair: Pair) -> None:
    """Even a store where an imported record holds our next number (an older version let it in) can add records."""
    pair.pk.ok("import", str(from_tr(pair, tr_record())))
    nxt = _next_local(pair.pk)
    pair.pk.sql("UPDATE records SET reference = ? WHERE reference = ?", (nxt, f"TR-MOI-{YEAR}-09001"))
    following = f"PK-MOI-{YEAR}-{int(nxt.rsplit('-', 1)[1]) + 1:05d}"
    assert pair.pk.add("After the squatter") == following
    assert pair.pk.add("And the next") == f"PK-MOI-{YEAR}-{int(nxt.rsplit('-', 1)[1]) + 2:05d}"


def test_an_origin_never_sends_the_local_only_form(pair: Pair) -> None:
    """Threat 23: `ORIGIN-YYYY-0NNNNNNNN` is what a receiving store allocates; from its origin it would squat the
    range this store numbers STIX/MISP imports and moved-aside copies in."""
    ref = f"TR-MOI-{YEAR}-099999999"
    refused(
        pair,
        from_tr(pair, tr_record(reference=ref)),
        f"record {ref} has the local-only form ORIGIN-YYYY-0NNNNNNNN, which a receiving store allocates and its "
        "origin never does",
    )


@pytest.mark.parametrize(
    "reference",
    [
        f"TR-MOI-{YEAR}-0900\u0662",
        "TR-MOI-\u0662\u0660\u0662\u0666-09001",
        f"TR-MOI-{YEAR}-\uff10\uff19\uff10\uff10\uff11",
    ],
    ids=["arabic-indic digit", "arabic-indic year", "fullwidth digits"],
)
def test_look_alike_references_with_non_ascii_digits_are_refused(pair: Pair, reference: str) -> None:
    refused(
        pair,
        from_tr(pair, tr_record(reference=reference)),
        f"record {reference!r} has a malformed reference (expected ORIGIN-YYYY-NUMBER in ASCII)",
    )


def test_a_reference_held_under_another_uuid_is_refused(pair: Pair) -> None:
    pair.pk.ok("import", str(from_tr(pair, tr_record())))
    clash = tr_record(uuid="9b1c2a8e-3b4d-4c5e-9f60-718293a4b5c6", title=f"{CANARY_TR} impostor")
    before = store_fingerprint(pair.pk.path)
    result = pair.pk.cli("import", str(from_tr(pair, clash, seq=51)))
    assert_refused(
        result,
        f"hostile-51.bundle: record TR-MOI-{YEAR}-09001 in the bundle has the reference of a different record here",
    )
    assert store_fingerprint(pair.pk.path) == before


@pytest.mark.parametrize(
    ("created", "updated", "message"),
    [
        (
            "9999-12-31T00:00:00.000000Z",
            "9999-12-31T00:00:00.000000Z",
            "created_at 9999-12-31T00:00:00.000000Z is more than a day in the future",
        ),
        (
            None,
            "9999-12-31T23:59:59.999999Z",
            "updated_at 9999-12-31T23:59:59.999999Z is more than a day in the future",
        ),
        ("1999-12-31T23:59:59.000000Z", None, "created_at 1999-12-31T23:59:59.000000Z is before 2000"),
        ("0001-01-01T00:00:00.000000Z", None, "created_at 0001-01-01T00:00:00.000000Z is before 2000"),
    ],
    ids=["9999", "updated 9999", "1999", "year 1"],
)
def test_implausible_dates_are_refused(pair: Pair, created: str | None, updated: str | None, message: str) -> None:
    now = fmt.format_time(datetime.now(UTC))
    refused(
        pair,
        from_tr(pair, tr_record(created_at=created or now, updated_at=updated or now)),
        f"record TR-MOI-{YEAR}-09001 {message}",
    )


# ---- a third ministry (PK-ANF) whose records PK-MOI holds -----------------------------------------------


@dataclass
class Trio:
    pair: Pair
    anf: LiaisonStore
    anf_ref: str
    anf_uuid: str


@pytest.fixture
def trio(pair: Pair) -> Trio:
    """PK-ANF, a real third store, sent PK-MOI an AMBER assessment (releasable to PK-MOI and TR-MOI)."""
    anf = init_store(pair.root / "ANF.db", "--no-four-eyes", ministry="PK-ANF")
    anf.ok("identity", "export", "--out", str(pair.root / "anf.card"))
    anf.ok("contacts", "add", str(pair.root / "pk.card"))
    pair.pk.ok("contacts", "add", str(pair.root / "anf.card"))
    ref = approved(anf, "ANF amber assessment of the Makran route", "amber", "PK-MOI", "TR-MOI")
    anf.ok("export", "--to", "PK-MOI", "--out", str(pair.root / "anf.bundle"))
    pair.pk.ok("import", str(pair.root / "anf.bundle"))
    uuid = anf.show(ref)["uuid"]
    return Trio(pair, anf, ref, uuid)


def test_a_third_party_cannot_rewrite_a_record_held_from_its_origin(trio: Trio) -> None:
    """TR-MOI sends PK-ANF's record (same uuid, origin PK-ANF, revision 2, GREEN, new content): skipped, unchanged."""
    pair, ref = trio.pair, trio.anf_ref
    held = pair.pk.show(ref)
    rewrite = tr_record(
        uuid=trio.anf_uuid,
        reference=ref,
        origin="PK-ANF",
        releasable_to=["PK-MOI", "TR-MOI"],
        tlp="GREEN",
        revision=2,
        title=f"{CANARY_TR} rewritten by TR-MOI",
        summary="nothing to see",
    )
    result = pair.pk.ok("import", str(from_tr(pair, rewrite)))
    assert f"; 1 skipped: {ref} already held from its origin" in result.err
    assert "(0 new, 0 updated, 0 unchanged)" in result.err
    now = pair.pk.show(ref)
    for key in ("title", "summary", "tlp", "revision", "releasable_to", "updated_at", "status"):
        assert now[key] == held[key], key
    assert pair.pk.sql(
        "SELECT count(*) FROM revisions r JOIN records c ON c.id = r.record_id WHERE c.reference = ?", (ref,)
    ) == [(1,)]
    assert find_plaintext(pair.pk.path, CANARY_TR) == []
    # it stays AMBER from PK-ANF, so it never becomes re-exportable
    assert_refused(
        pair.pk.cli("export", "--to", "TR-MOI", "--out", str(pair.path("x.bundle")), ref),
        "nothing to export to TR-MOI (1 received from another ministry and not GREEN or CLEAR (never re-exported))",
    )


def _receipt(
    pair: Pair, bundle_id: str, items: list[list[Any]], *, received_at: datetime | None = None, name: str = ""
) -> Path:
    """A receipt signed with TR-MOI's real key and sealed to PK-MOI, saying exactly `items` arrived."""
    pk_card = read_card((pair.root / "pk.card").read_bytes())
    session = pair.tr.session("alice")
    try:
        keys = session.keyring
        identity = public_identity(keys.signing_key, keys.exchange_key)
        now = datetime.now(UTC)
        data = fmt.write_receipt(
            bundle_id=bundle_id,
            sender="TR-MOI",
            sender_fingerprint=identity.fingerprint,
            signing_key=keys.signing_key,
            recipient="PK-MOI",
            recipient_fingerprint=pk_card.fingerprint,
            recipient_exchange_public=pk_card.identity.exchange_public,
            received_at=received_at or now,
            items=items,
            created=now,
        )
    finally:
        session.vault.close()
    path = pair.path(f"{bundle_id}{name}.receipt")
    path.write_bytes(data)
    return path


def _ledger(store: LiaisonStore, bundle_id: str) -> list[list[Any]]:
    return [
        list(r)
        for r in store.sql(
            "SELECT record_uuid, reference, revision, content_sha256 FROM bundle_items WHERE bundle_id = ?",
            (bundle_id,),
        )
    ]


def _bundle_id(path: Path) -> str:
    with path.open("rb") as fh:
        return fmt.BundleReader(fh).header.bundle_id


def test_a_receipt_acknowledges_only_what_was_sent_to_its_sender(trio: Trio) -> None:
    """TR-MOI cannot acknowledge a bundle sent to PK-ANF, nor slip a PK-ANF item into its own bundle's receipt."""
    pair = trio.pair
    to_tr = pair.path("to-tr.bundle")
    to_anf = pair.path("to-anf.bundle")
    pair.pk.ok("export", "--to", "TR-MOI", "--out", str(to_tr), pair.refs["amber1"])
    pair.pk.ok("export", "--to", "PK-ANF", "--out", str(to_anf), pair.refs["green_shared"])
    tr_id, anf_id = _bundle_id(to_tr), _bundle_id(to_anf)
    anf_items = _ledger(pair.pk, anf_id)

    before = store_fingerprint(pair.pk.path)
    foreign = _receipt(pair, anf_id, anf_items)
    assert_refused(
        pair.pk.cli("import", str(foreign)), f"{foreign.name}: receipt for a bundle never sent to TR-MOI ({anf_id})"
    )
    assert store_fingerprint(pair.pk.path) == before

    smuggled = _receipt(pair, tr_id, _ledger(pair.pk, tr_id) + anf_items)
    result = pair.pk.ok("import", str(smuggled))
    assert "1 record acknowledged" in result.err and "1 did not match what was sent" in result.err
    assert pair.pk.show(pair.refs["amber1"])["status"] == "acknowledged"
    assert pair.pk.show(pair.refs["green_shared"])["status"] == "shared"
    assert pair.pk.sql("SELECT acknowledged_at FROM bundle_items WHERE bundle_id = ?", (anf_id,)) == [(None,)]


def test_json_of_an_accepted_hostile_record_stays_exact(pair: Pair) -> None:
    """What is accepted round-trips exactly through `show --json` (JSON escapes for itself)."""
    title = 'quote " backslash \\ tab-free [x]'
    pair.pk.ok("import", str(from_tr(pair, tr_record(title=title))))
    raw = pair.pk.ok("show", f"TR-MOI-{YEAR}-09001", "--json").out
    assert json.loads(raw)["title"] == title


# ---- only the origin decides what a record says (threat 24, issue 9 points 3 and 4) ---------------------


@dataclass
class Third:
    pair: Pair
    anf: LiaisonStore
    ref: str
    uuid: str


@pytest.fixture
def third(pair: Pair) -> Third:
    """PK-ANF wrote an AMBER assessment releasable to PK-MOI and TR-MOI, and has sent it to TR-MOI only (so far)."""
    anf = init_store(pair.root / "ANF.db", "--no-four-eyes", ministry="PK-ANF")
    anf.ok("identity", "export", "--out", str(pair.root / "anf.card"))
    anf.ok("contacts", "add", str(pair.root / "pk.card"))
    pair.pk.ok("contacts", "add", str(pair.root / "anf.card"))
    ref = approved(anf, "ANF amber assessment of the Makran route", "amber", "PK-MOI", "TR-MOI")
    return Third(pair, anf, ref, anf.show(ref)["uuid"])


def _forged(third: Third, **changes: Any) -> dict[str, Any]:
    """TR-MOI's modified writer re-labels PK-ANF's record: GREEN, revision 50, a forged title."""
    return tr_record(
        **{
            "uuid": third.uuid,
            "reference": third.ref,
            "origin": "PK-ANF",
            "releasable_to": ["PK-MOI", "TR-MOI"],
            "tlp": "GREEN",
            "revision": 50,
            "title": f"{CANARY_TR} forged by TR-MOI",
            "summary": f"{CANARY_TR} forged body",
            **changes,
        }
    )


def _from_anf(third: Third, name: str = "anf.bundle") -> Path:
    path = third.pair.path(name)
    third.anf.ok("export", "--to", "PK-MOI", "--out", str(path))
    return path


def test_a_forward_of_amber_content_by_a_non_origin_is_refused(third: Third) -> None:
    refused(
        third.pair,
        from_tr(third.pair, _forged(third, tlp="AMBER")),
        f"record {third.ref} from PK-ANF is TLP:AMBER and may not be re-exported by TR-MOI",
    )


def test_the_origins_copy_replaces_a_forwarded_forgery_whatever_the_revisions(third: Third) -> None:
    pair, ref = third.pair, third.ref
    pair.pk.ok("import", str(from_tr(pair, _forged(third))))
    forged = pair.pk.show(ref)
    assert (forged["tlp"], forged["revision"]) == ("GREEN", 50)
    # another forward cannot re-label it either: only the origin may
    again = pair.pk.ok("import", str(from_tr(pair, _forged(third, revision=51, title=f"{CANARY_TR} again"), seq=51)))
    assert f"1 skipped: {ref} forwarded copies are updated only by their origin" in again.err
    assert pair.pk.show(ref)["title"] == forged["title"]

    result = pair.pk.ok("import", str(_from_anf(third)))
    assert "(0 new, 1 updated, 0 unchanged)" in result.err
    assert f"; 1 replaced: {ref} copy held from TR-MOI replaced by its origin's own" in result.err
    genuine, shown = third.anf.show(ref), pair.pk.show(ref)
    for key in ("title", "summary", "tlp", "revision", "releasable_to", "author", "created_at", "updated_at"):
        assert shown[key] == genuine[key], key
    assert shown["tlp"] == "AMBER" and shown["status"] == "received"
    assert [r["number"] for r in shown["revisions"]] == [genuine["revision"]]
    assert find_plaintext(pair.pk.path, "forged by TR-MOI") == []
    assert pair.pk.list_json("--search", "forged") == []
    # AMBER from PK-ANF again: never re-exported, in a bundle or in STIX
    assert_refused(
        pair.pk.cli("export", "--to", "TR-MOI", "--out", str(pair.path("x.bundle")), ref),
        "nothing to export to TR-MOI (1 received from another ministry and not GREEN or CLEAR (never re-exported))",
    )
    # and from now on the copy is held from its origin: a forward is skipped
    late = pair.pk.ok("import", str(from_tr(pair, _forged(third, revision=99), seq=52)))
    assert f"1 skipped: {ref} already held from its origin" in late.err


def test_the_origins_copy_of_the_same_revision_replaces_a_forward_and_the_log_verifies(third: Third) -> None:
    """Found by a hostile pass: a forwarded copy of revision 1 replaced by the origin's own revision 1 (different
    ciphertexts, as every copy has) made `audit verify` report an edit for good ("signs revision 1 with other text
    than it was written with"): a received record's revisions are its origin's to replace."""
    pair, ref = third.pair, third.ref
    pair.pk.ok("import", str(from_tr(pair, _forged(third, revision=1))))
    pair.pk.ok("audit", "verify")
    result = pair.pk.ok("import", str(_from_anf(third)))
    assert f"; 1 replaced: {ref} copy held from TR-MOI replaced by its origin's own" in result.err
    pair.pk.ok("show", ref)
    pair.pk.ok("audit", "verify")


def test_a_squatted_reference_is_moved_aside_for_the_origins_record(third: Third) -> None:
    pair, ref = third.pair, third.ref
    squat = _forged(third, uuid="7c1c2a8e-3b4d-4c5e-9f60-718293a4b5c6", tlp="CLEAR", revision=1)
    pair.pk.ok("import", str(from_tr(pair, squat)))
    aside = f"PK-ANF-{ref.split('-')[2]}-000000001"
    result = pair.pk.ok("import", str(_from_anf(third)))
    assert "(1 new, 0 updated, 0 unchanged)" in result.err
    assert (
        f"; 1 replaced: {ref} held from TR-MOI under another id, moved aside to {aside} for its origin's record"
        in result.err
    )
    assert pair.pk.show(ref)["title"] == third.anf.show(ref)["title"]
    assert pair.pk.show(ref)["uuid"] == third.uuid
    moved = pair.pk.show(aside)
    assert (moved["uuid"], moved["title"]) == (squat["uuid"], squat["title"])
    pair.pk.ok("audit", "verify")  # the move aside (a `rereference` event) is a write the log allows


def test_local_only_numbers_a_forward_holds_are_skipped_never_counted_from(third: Third) -> None:
    """Threat 23: a forwarded copy holding local-only number 099999999 does not push this store's next local-only
    reference out of the form (100000000 is the origin's own numbering) or into a collision."""
    pair, ref = third.pair, third.ref
    year = ref.split("-")[2]
    high = _forged(
        third, uuid="5d1c2a8e-3b4d-4c5e-9f60-718293a4b5c6", reference=f"PK-ANF-{year}-099999999", tlp="CLEAR"
    )
    pair.pk.ok("import", str(from_tr(pair, high)))
    squat = _forged(third, uuid="7c1c2a8e-3b4d-4c5e-9f60-718293a4b5c6", tlp="CLEAR", revision=1)
    pair.pk.ok("import", str(from_tr(pair, squat, seq=51)))
    result = pair.pk.ok("import", str(_from_anf(third)))
    assert f"moved aside to PK-ANF-{year}-000000001 for its origin's record" in result.err
    assert pair.pk.show(f"PK-ANF-{year}-099999999")["uuid"] == high["uuid"]


def test_a_reference_held_from_its_origin_is_never_moved_aside(third: Third) -> None:
    """The squatter rule frees a reference only for the origin, and only from a copy not held from the origin."""
    pair, ref = third.pair, third.ref
    pair.pk.ok("import", str(_from_anf(third)))
    refused(
        pair,
        from_tr(pair, _forged(third, uuid="7c1c2a8e-3b4d-4c5e-9f60-718293a4b5c6", tlp="CLEAR")),
        f"record {ref} in the bundle has the reference of a different record here",
    )


def _notice(**changes: Any) -> dict[str, Any]:
    notice = {
        "kind": "withdrawal",
        "uuid": "8a1c2a8e-3b4d-4c5e-9f60-718293a4b5c6",
        "reference": f"TR-MOI-{YEAR}-09001",
        "origin": "TR-MOI",
        "withdrawn_at": fmt.format_time(datetime.now(UTC)),
        "officer": "elif",
        "reason": "",
    }
    notice.update(changes)
    return notice


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"officer": "evil\x1b]0;pwned\x07\x1b[2J\u202e\x9b"},
            f"withdrawal of TR-MOI-{YEAR}-09001 officer contains a control character (U+001B) at position 5",
        ),
        (
            {"officer": "elif\u202e"},
            f"withdrawal of TR-MOI-{YEAR}-09001 officer contains a bidi control character (U+202E) at position 5",
        ),
        (
            {"withdrawn_at": "9999-12-31T00:00:00.000000Z"},
            f"withdrawal of TR-MOI-{YEAR}-09001 withdrawn_at 9999-12-31T00:00:00.000000Z is more than a day in the future",
        ),
        (
            {"withdrawn_at": "1999-12-31T00:00:00.000000Z"},
            f"withdrawal of TR-MOI-{YEAR}-09001 withdrawn_at 1999-12-31T00:00:00.000000Z is before 2000",
        ),
    ],
    ids=["officer escapes", "officer bidi", "9999", "1999"],
)
def test_a_withdrawal_notices_officer_and_date_are_checked(pair: Pair, changes: dict[str, Any], message: str) -> None:
    refused(pair, from_tr(pair, tr_record(), _notice(**changes)), message)


def test_a_withdrawal_of_a_record_not_held_is_reported_skipped(pair: Pair) -> None:
    result = pair.pk.ok(
        "import",
        str(from_tr(pair, _notice(uuid="9b1c2a8e-3b4d-4c5e-9f60-718293a4b5c6", reference=f"TR-MOI-{YEAR}-09009"))),
    )
    assert "withdrawn by" not in result.err
    assert f"; 1 withdrawal skipped: TR-MOI-{YEAR}-09009 not held here" in result.err


def test_a_withdrawn_record_can_be_closed_but_not_marked_actioned(pair: Pair) -> None:
    pair.pk.ok("import", str(from_tr(pair, tr_record(), _notice())))
    ref = f"TR-MOI-{YEAR}-09001"
    before = store_fingerprint(pair.pk.path)
    assert_refused(
        pair.pk.cli("actioned", ref), f"{ref} was withdrawn by its origin; it can be closed but not marked actioned"
    )
    assert store_fingerprint(pair.pk.path) == before
    pair.pk.ok("close", ref)
    assert pair.pk.show(ref)["status"] == "closed"


def test_an_implausible_reference_year_is_refused(pair: Pair) -> None:
    ref = "TR-MOI-9999-00001"
    refused(
        pair,
        from_tr(pair, tr_record(reference=ref)),
        f"record {ref} has an implausible year 9999 (expected 2000 to {YEAR + 1})",
    )
    refused(
        pair,
        from_tr(pair, tr_record(reference="TR-MOI-1999-00001"), seq=51),
        f"record TR-MOI-1999-00001 has an implausible year 1999 (expected 2000 to {YEAR + 1})",
    )


def test_a_receipt_from_the_future_is_refused_and_one_matching_nothing_acknowledges_nothing(pair: Pair) -> None:
    out = pair.path("to-tr.bundle")
    pair.pk.ok("export", "--to", "TR-MOI", "--out", str(out), pair.refs["amber1"])
    bundle_id = _bundle_id(out)
    items = _ledger(pair.pk, bundle_id)
    before = store_fingerprint(pair.pk.path)
    future = _receipt(pair, bundle_id, items, received_at=datetime(9999, 12, 31, tzinfo=UTC), name="future")
    assert_refused(
        pair.pk.cli("import", str(future)),
        f"{future.name}: the receipt's received time 9999-12-31T00:00:00.000000Z is more than a day in the future",
    )
    assert store_fingerprint(pair.pk.path) == before
    nothing = _receipt(pair, bundle_id, [[items[0][0], items[0][1], items[0][2], "0" * 64]], name="nothing")
    result = pair.pk.ok("import", str(nothing))
    assert "1 did not match what was sent" in result.err
    listed = json.loads(pair.pk.ok("bundles", "list", "--json").out)
    entry = next(b for b in (listed if isinstance(listed, list) else listed["bundles"]) if b["bundle_id"] == bundle_id)
    assert entry["acknowledged"] is False
    assert pair.pk.show(pair.refs["amber1"])["status"] == "shared"
