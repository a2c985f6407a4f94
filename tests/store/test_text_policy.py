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
