"""tui/present.py: each face words a structured store error its own way; a busy store is a `StoreBusy`, not a
matched SQLAlchemy string; JSON output keeps values exact while no raw C1/bidi character reaches stdout."""

from __future__ import annotations

import json

import pytest

from store.errors import NotFound, StoreBusy, ValidationError
from tests.liaison_helpers import LiaisonStore, assert_refused
from tui.cli.common import json_text
from tui.present import CLI_BUSY, app_error, cli_error


def test_each_face_adds_its_own_hint_from_the_field() -> None:
    exc = ValidationError("several officers (alice, bob)", field="officer_choice")
    assert cli_error(exc) == "several officers (alice, bob); choose one with --officer or LIAISON_OFFICER"
    assert app_error(exc) == "several officers (alice, bob); choose an officer first"
    assert "--" not in app_error(NotFound("no contact card for TR-MOI", field="recipient_key"))
    assert cli_error(ValidationError("x", field="passphrase_file")) == "x; give --passphrase-file"
    assert app_error(ValidationError("x", field="passphrase_file")) == "x; choose a passphrase file"
    assert cli_error(ValidationError("plain")) == "plain"


def test_an_error_message_is_drawn_visibly() -> None:
    assert cli_error(ValidationError("unknown domain '\x1b[2Jx'")) == "unknown domain '␛[2Jx'"


def test_a_busy_store_is_worded_by_the_cli(store: LiaisonStore, monkeypatch: pytest.MonkeyPatch, fingerprint) -> None:
    from store.service import Session

    def busy(*args: object, **kwargs: object) -> str:
        raise StoreBusy("the store is busy: another process holds its write lock; try again")

    monkeypatch.setattr(Session, "add_record", busy)
    assert cli_error(StoreBusy("anything")) == CLI_BUSY
    before = fingerprint(store.path)
    result = store.cli("add", "--domain", "narcotics", "--tlp", "amber", "--title", "t")
    assert_refused(result, CLI_BUSY)
    assert fingerprint(store.path) == before


@pytest.mark.parametrize(
    "value",
    [
        "plain",
        "tab\tand\nnewline",
        "\x1b]52;c;x\x07",
        "c1 \x85 \x9b",
        "bidi \u202e \u2066",
        "sep \u2028",
        "nonchar \ufffe \U0001fffe",
        "Türkiye ✓",
    ],
)
def test_json_text_is_exact_and_harmless(value: str) -> None:
    text = json_text({"title": value, "list": [value]})
    assert json.loads(text) == {"title": value, "list": [value]}
    assert not any(0x80 <= ord(ch) <= 0x9F or 0x202A <= ord(ch) <= 0x202E or 0x2066 <= ord(ch) <= 0x2069 for ch in text)
    assert "\x1b" not in text
    if value == "Türkiye ✓":
        assert "Türkiye ✓" in text  # readable non-ASCII stays as it was
