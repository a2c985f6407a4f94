"""The text policy's fast path (one regex search) refuses exactly what the per-character rule refuses."""

from __future__ import annotations

import pytest

from store.errors import ValidationError
from store.text import check_block, check_line, first_forbidden, forbidden_kind, visible


@pytest.mark.parametrize("multiline", [False, True])
def test_the_pattern_and_the_rule_agree_on_every_code_point(multiline: bool) -> None:
    """All 1,114,112 code points: the regex matches a character exactly when `forbidden_kind` names a reason."""
    disagree = [
        cp
        for cp in range(0x110000)
        if (first_forbidden(chr(cp), multiline=multiline) is None)
        != (forbidden_kind(chr(cp), multiline=multiline) is None)
    ]
    assert disagree == []


def test_the_first_forbidden_character_is_the_one_named() -> None:
    """The message names the first refused character and its 1-based position, past any allowed prefix."""
    with pytest.raises(ValidationError, match=r"title contains a bidi control character \(U\+202E\) at position 4"):
        check_line("title", "abc\u202eevil\x1b")
    with pytest.raises(ValidationError, match=r"summary contains a control character \(U\+001B\) at position 4"):
        check_block("summary", "a\nb\x1b[2J\t")
    assert check_block("summary", "line\r\nnext\ttab") == "line\nnext\ttab"
    assert check_line("title", "Şırnak — ثبت 𝄞") == "Şırnak — ثبت 𝄞"


def test_visible_renders_only_what_the_policy_refuses() -> None:
    """Allowed text comes back as the same object; refused characters anywhere are drawn as visible escapes."""
    text = "plain Şırnak\ttext"
    assert visible(text, multiline=True) is text
    assert visible("ok\x1b[2J\u202e\ufffe end") == "ok␛[2J\\u202e\\ufffe end"


@pytest.mark.parametrize(
    ("text", "code"),
    [("mur\u200bat", "200B"), ("\ufeffTitle", "FEFF"), ("Title\U000e0041\U000e0042", "E0041"), ("a\u2060b", "2060")],
    ids=["zero-width space", "byte-order mark", "tag characters", "word joiner"],
)
def test_invisible_characters_are_refused_and_shown(text: str, code: str) -> None:
    """Threat 21: an author that looks exactly like "murat" but is not, text hidden in tag characters."""
    with pytest.raises(ValidationError, match=rf"author contains a hidden character \(U\+{code}\)"):
        check_line("author", text)
    assert "\\u" in visible(text) or "\\U" in visible(text)


def test_joiners_that_scripts_need_stay_allowed() -> None:
    """ZWNJ and ZWJ are part of Urdu, Persian and emoji text: never refused."""
    assert check_line("title", "می\u200cخواهم") == "می\u200cخواهم"
    assert check_line("title", "👩\u200d💻 desk") == "👩\u200d💻 desk"
