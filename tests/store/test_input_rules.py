"""Issue 9 through `Session` directly: the text policy on the way in, names matched whole, the passphrase rule,
`releasable_to` never naming ourselves, crafted stores failing as integrity errors, card text checked on import.
Each refusal is the specific structured error and leaves the store unchanged."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from store import policy
from store.errors import IntegrityError, LiaisonError, PolicyError, ValidationError
from store.records import RecordQuery
from store.service import Changes, Draft, Session, Vault
from tests.liaison_helpers import LiaisonStore, store_fingerprint

ESC = "\x1b"


@pytest.fixture
def alice(store: LiaisonStore) -> Iterator[Session]:
    session = store.session("alice")
    session.vault.kdf_profile = "minimum"
    yield session
    session.vault.close()


def refused(
    store: LiaisonStore, action: Callable[[], Any], kind: type[LiaisonError], message: str, field: str | None = None
) -> LiaisonError:
    before = store_fingerprint(store.path)
    with pytest.raises(kind) as info:
        action()
    assert str(info.value) == message
    if field is not None:
        assert info.value.field == field
    assert store_fingerprint(store.path) == before
    return info.value


def draft(**changes: Any) -> Draft:
    values: dict[str, Any] = {"domain": "narcotics", "tlp": "amber", "title": "Routine"}
    values.update(changes)
    return Draft(**values)


@pytest.mark.parametrize(
    ("changes", "message", "field"),
    [
        ({"title": f"clip {ESC}]52;c;SGk=\x07"}, "title contains a control character (U+001B) at position 6", "title"),
        ({"title": "abc\u202etxt"}, "title contains a bidi control character (U+202E) at position 4", "title"),
        ({"title": "one\u2028two"}, "title contains a line separator (U+2028) at position 4", "title"),
        ({"title": "a\ufdd0"}, "title contains a non-character (U+FDD0) at position 2", "title"),
        ({"summary": "ok\n\tfine\x85"}, "summary contains a control character (U+0085) at position 9", "summary"),
        ({"source": f"{ESC}[8m"}, "source contains a control character (U+001B) at position 1", "source"),
        ({"notes": "\x7f"}, "notes contains a control character (U+007F) at position 1", "notes"),
        (
            {"releasable_to": ["PK-MOI"]},
            "PK-MOI is this store's own ministry: a record is released to other ministries only",
            "releasable_to",
        ),
        (
            {"releasable_to": ["tr-moı"]},
            "unknown ministry 'tr-moı'; valid: PK-ANF, PK-MOI, PK-NDMA, TR-MOI",
            "releasable_to",
        ),
        (
            {"domain": "narcotic\u017f"},
            "unknown domain 'narcoticſ'; valid: border-management, coast-guard, counterterrorism, cybercrime, human-smuggling, narcotics, policing",
            "domain",
        ),
    ],
    ids=[
        "osc52",
        "bidi",
        "line separator",
        "non-character",
        "c1",
        "hidden",
        "del",
        "own ministry",
        "dotless i",
        "long s",
    ],
)
def test_add_record_refuses(
    store: LiaisonStore, alice: Session, changes: dict[str, Any], message: str, field: str
) -> None:
    refused(store, lambda: alice.add_record(draft(**changes)), ValidationError, message, field)


def test_edit_and_return_refuse_controls(store: LiaisonStore, alice: Session) -> None:
    ref = alice.add_record(draft(), submit=False)
    refused(
        store,
        lambda: alice.edit_record(ref, Changes(title=f"x{ESC}")),
        ValidationError,
        "title contains a control character (U+001B) at position 2",
    )
    refused(
        store,
        lambda: alice.edit_record(ref, Changes(releasable_to=["PK-MOI", "TR-MOI"])),
        ValidationError,
        "PK-MOI is this store's own ministry: a record is released to other ministries only",
    )
    alice.submit(ref)
    refused(
        store,
        lambda: alice.return_record(ref, f"fix {ESC}[2J"),
        ValidationError,
        "comment contains a control character (U+001B) at position 5",
        "comment",
    )


def test_legal_text_is_kept_literally(alice: Session) -> None:
    """Brackets, tabs and newlines in long text, Windows line ends, non-Latin scripts: all accepted as typed."""
    ref = alice.add_record(
        draft(title="[see annex] [/x] [bold]x — گوادر", summary="a\r\nb\tc [/x]", source="[link](x)")
    )
    detail = alice.get_record(ref)
    assert (detail.row.title, detail.summary, detail.source) == (
        "[see annex] [/x] [bold]x — گوادر",
        "a\nb\tc [/x]",
        "[link](x)",
    )


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("alice\n", "invalid officer name 'alice\\n': use lower-case letters, digits, '.', '_' or '-' (max 32)"),
        ("dave\n", "invalid officer name 'dave\\n': use lower-case letters, digits, '.', '_' or '-' (max 32)"),
        ("dаve", "invalid officer name 'dаve': use lower-case letters, digits, '.', '_' or '-' (max 32)"),  # Cyrillic а
        ("Dave", "invalid officer name 'Dave': use lower-case letters, digits, '.', '_' or '-' (max 32)"),
    ],
    ids=["alice newline", "dave newline", "cyrillic", "upper case"],
)
def test_officer_names_match_whole(store: LiaisonStore, alice: Session, name: str, message: str) -> None:
    """Threat 29: a newline, another script's letters or upper case in an officer name is refused whole."""
    refused(
        store, lambda: alice.add_officer(name, "officer", "a long passphrase"), ValidationError, message, "officer_name"
    )


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("AZ-MIA\n", "invalid ministry code 'AZ-MIA\\n': expected like PK-MOI"),
        ("az-mıa", "invalid ministry code 'az-mıa': expected like PK-MOI"),
        ("AZ-ＭIA", "invalid ministry code 'AZ-ＭIA': expected like PK-MOI"),
    ],
    ids=["newline", "dotless i", "fullwidth"],
)
def test_ministry_codes_are_ascii_and_whole(store: LiaisonStore, alice: Session, code: str, message: str) -> None:
    """Threat 29: a ministry code is matched whole, ASCII only."""
    refused(store, lambda: alice.add_ministry(code, "Azerbaijan"), ValidationError, message, "ministry")


def test_domain_slugs_are_ascii_and_labels_are_one_line(store: LiaisonStore, alice: Session) -> None:
    """Threat 29: a domain slug with a trailing newline is refused; a label is one line."""
    refused(
        store,
        lambda: alice.add_domain("piracy\n", "Piracy"),
        ValidationError,
        "invalid domain slug 'piracy\\n': lower-case letters, digits and '-'",
    )
    refused(
        store,
        lambda: alice.add_domain("pıracy", "Piracy"),
        ValidationError,
        "invalid domain slug 'pıracy': lower-case letters, digits and '-'",
    )
    refused(
        store,
        lambda: alice.add_domain("\u212aidnap", "Kelvin"),
        ValidationError,
        "invalid domain slug '\u212aidnap': lower-case letters, digits and '-'",
    )
    refused(
        store,
        lambda: alice.add_domain("piracy", f"Pi{ESC}racy"),
        ValidationError,
        "label contains a control character (U+001B) at position 3",
        "label",
    )
    refused(
        store,
        lambda: alice.add_ministry("AZ-MIA", "Azer\u202ebaijan"),
        ValidationError,
        "ministry_name contains a bidi control character (U+202E) at position 5",
        "ministry_name",
    )
    alice.add_domain("piracy", "Piracy  [maritime]")
    assert ("piracy", "Piracy [maritime]") in alice.domains()


# ---- the passphrase rule ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("passphrase", "ok"), [("", False), ("abc", False), ("1234567", False), ("12345678", True), ("ünïcødé!", True)]
)
def test_the_passphrase_rule(passphrase: str, ok: bool) -> None:
    if ok:
        policy.check_new_passphrase(passphrase)
    else:
        with pytest.raises(ValidationError):
            policy.check_new_passphrase(passphrase)
    policy.check_new_passphrase(passphrase or "x", demo=True)  # a demo store's printed passphrase is exempt


def test_short_passphrases_are_refused_at_init_for_new_officers_and_on_change(
    tmp_path: Path, store: LiaisonStore, alice: Session
) -> None:
    path = tmp_path / "new.db"
    with pytest.raises(ValidationError, match=r"^the passphrase is too short: it needs at least 8 characters$"):
        Vault.create(path, "PK-MOI", "alice", "abc", kdf_profile="minimum")
    assert not path.exists()
    refused(
        store,
        lambda: alice.add_officer("dave", "officer", "abc"),
        ValidationError,
        "the passphrase is too short: it needs at least 8 characters",
    )
    refused(
        store,
        lambda: alice.change_passphrase("abc"),
        ValidationError,
        "the passphrase is too short: it needs at least 8 characters",
    )


# ---- crafted stores ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "value", "what"),
    [
        ("tlp", "PURPLE", "TLP 'PURPLE'"),
        ("status", "pending", "status 'pending'"),
        ("domain", "astrology", "domain 'astrology'"),
    ],
)
def test_an_unknown_value_in_a_stored_row_is_an_integrity_error_naming_the_record(
    store: LiaisonStore, column: str, value: str, what: str
) -> None:
    """Threat 30: a crafted store holding an unknown TLP, status or domain value: an integrity error naming the record."""
    ref = store.add("Planted")
    store.sql(f"UPDATE records SET {column} = ? WHERE reference = ?", (value, ref))
    session = store.session("alice")
    try:
        message = f"record {ref} has an unknown {what} in the store file"
        for read in (lambda: session.list_records(RecordQuery()), lambda: session.get_record(ref)):
            with pytest.raises(IntegrityError) as info:
                read()
            assert str(info.value) == message and info.value.reference == ref
    finally:
        session.vault.close()
    result = store.cli("list")
    assert (result.code, result.err) == (1, f"error: {message}\n")


# ---- contact cards ------------------------------------------------------------------------------------


def _card_with(tmp_path: Path, *, name: str) -> Path:
    """A card genuinely self-signed by a counterpart's own fresh keys, whose name is hostile."""
    import os

    from crypto.card import write_card
    from crypto.identity import public_identity

    signing, exchange = os.urandom(32), os.urandom(32)
    path = tmp_path / "hostile.card"
    path.write_bytes(write_card("AZ-MIA", name, signing, public_identity(signing, exchange)))
    return path


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (f"Evil {ESC}]0;pwned\x07", "hostile.card: card name contains a control character (U+001B) at position 6"),
        ("Evil\u202e", "hostile.card: card name contains a bidi control character (U+202E) at position 5"),
        ("two\nlines", "hostile.card: card name contains a control character (U+000A) at position 4"),
    ],
    ids=["osc", "bidi", "newline"],
)
def test_a_card_with_a_hostile_name_is_refused_before_anything_is_returned(
    store: LiaisonStore, tmp_path: Path, name: str, message: str
) -> None:
    from store.contacts import add_contact, read_card_file

    card = _card_with(tmp_path, name=name)
    with pytest.raises(ValidationError) as info:
        read_card_file(card)
    assert str(info.value) == message
    session = store.session("alice")
    try:
        refused(store, lambda: add_contact(session, card), ValidationError, message)
    finally:
        session.vault.close()


def test_a_card_with_markup_in_its_name_is_accepted_literally(store: LiaisonStore, tmp_path: Path) -> None:
    from store.contacts import add_contact, contacts

    card = _card_with(tmp_path, name="[/x] Ministry [bold]")
    session = store.session("alice")
    try:
        add_contact(session, card)
        assert [c.name for c in contacts(session)] == ["[/x] Ministry [bold]"]
    finally:
        session.vault.close()


def test_policy_errors_name_their_record(store: LiaisonStore) -> None:
    ref = store.add("Someone's")
    store.ok("submit", ref)
    session = store.session("alice")
    try:
        with pytest.raises(PolicyError) as info:
            session.edit_record(ref, Changes(title="x"))
        assert info.value.reference == ref
    finally:
        session.vault.close()
