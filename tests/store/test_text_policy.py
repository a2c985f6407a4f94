"""The text policy's fast path (one regex search) refuses exactly what the per-character rule refuses."""

from __future__ import annotations

import unicodedata

import pytest

from store.errors import ValidationError
from store.text import INVISIBLE, check_block, check_line, first_forbidden, forbidden_kind, visible


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
    """Allowed text comes back as the same object; refused characters anywhere are drawn as visible escapes (and
    the direction marks, see below)."""
    text = "plain Şırnak\ttext"
    assert visible(text, multiline=True) is text
    assert visible("ok\x1b[2J\u202e\ufffe end") == "ok␛[2J\\u202e\\ufffe end"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("mur\u200bat", "200B"),
        ("\ufeffTitle", "FEFF"),
        ("Title\U000e0041\U000e0042", "E0041"),
        ("a\u2060b", "2060"),
        ("mur\u00adat", "00AD"),
        ("mur\u034fat", "034F"),
        ("\u3164", "3164"),
        ("\u115f\u1160", "115F"),
        ("ក\u17b4", "17B4"),
        ("mur\u180eat", "180E"),
        ("a\u206ab", "206A"),
        ("a\ufff9hidden\ufffbb", "FFF9"),
        ("a\U0001d173b", "1D173"),
        ("a\U00013430b", "13430"),
        ("Şırnak\uffa0", "FFA0"),
    ],
    ids=[
        "zero-width space",
        "byte-order mark",
        "tag characters",
        "word joiner",
        "soft hyphen",
        "combining grapheme joiner",
        "Hangul filler",
        "Hangul choseong and jungseong fillers",
        "Khmer inherent vowel",
        "Mongolian vowel separator",
        "deprecated format character",
        "interlinear annotation",
        "musical format control",
        "Egyptian hieroglyph format control",
        "halfwidth Hangul filler",
    ],
)
def test_invisible_characters_are_refused_and_shown(text: str, code: str) -> None:
    """Threat 21: an author that looks exactly like "murat" but is not, text hidden in tag characters or between
    interlinear annotation controls, a name made of fillers: every format or filler character that draws nothing
    is refused like the zero-width space, printable to `str.isprintable` or not."""
    with pytest.raises(ValidationError, match=rf"author contains a hidden character \(U\+{code}\)"):
        check_line("author", text)
    assert "\\u" in visible(text) or "\\U" in visible(text)


def test_direction_marks_are_allowed_but_never_reach_a_terminal_raw() -> None:
    """Threat 21: LRM, RLM and ALM are part of mixed Urdu/Turkish text (a Latin name or a number inside
    right-to-left text): stored as typed, and `visible` (every face's output) draws them as escapes."""
    for mark in ("\u200e", "\u200f", "\u061c"):
        text = f"گوادر{mark} 2026 Şırnak"
        assert check_line("title", text) == text and check_block("summary", text) == text
        assert visible(text) == text.replace(mark, f"\\u{ord(mark):04x}")
        assert visible(f"a\x1b{mark}", multiline=True) == f"a␛\\u{ord(mark):04x}"


def test_joiners_that_scripts_need_stay_allowed() -> None:
    """ZWNJ and ZWJ are part of Urdu, Persian and emoji text: never refused."""
    assert check_line("title", "می\u200cخواهم") == "می\u200cخواهم"
    assert check_line("title", "👩\u200d💻 desk") == "👩\u200d💻 desk"


#: Real words with their diacritics, as people write them (and Turkish and Vietnamese decomposed, as some
#: keyboards and macOS file names send them): none is refused.
DIACRITICS = {
    "Urdu, vocalised": "مُحَمَّدٌ نے گوادر کی بندرگاہ پر رِپورٹ دی",
    "Arabic, fully vocalised": "بِسْمِ ٱللَّٰهِ ٱلرَّحْمَٰنِ ٱلرَّحِيمِ",
    "Arabic, Quranic annotation": "ذَٰلِكَ ٱلْكِتَٰبُ لَا رَيْبَۛ فِيهِۛ",
    "Turkish": "Şırnak İçişleri Bakanlığı güvenlik toplantısı",
    "Turkish, decomposed": unicodedata.normalize("NFD", "Şırnak İçişleri Bakanlığı güvenlik toplantısı"),
    "Vietnamese, decomposed": unicodedata.normalize("NFD", "Nguyễn Thị Ánh Tuyết"),
    "Hebrew, pointed": "בְּרֵאשִׁית בָּרָא",
    "Hindi": "क्षेत्रीय सुरक्षा",
    "emoji": "1\ufe0f\u20e3 🏳\ufe0f\u200d🌈",
}


@pytest.mark.parametrize("text", DIACRITICS.values(), ids=list(DIACRITICS))
def test_real_words_with_diacritics_pass(text: str) -> None:
    """Urdu, Arabic, Turkish, Vietnamese, Hebrew and Hindi diacritics stack at most three on a letter: accepted."""
    assert check_line("title", text) == text
    assert check_block("summary", f"{text}\n{text}") == f"{text}\n{text}"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Z" + "\u0334" * 299 + "algo", r"title contains more than 4 combining marks on one character \(U\+0334\) at position 6"),
        ("ok " + "a\u0301\u0302\u0303\u0304\u0305", r"title contains more than 4 combining marks on one character \(U\+0305\) at position 9"),
        ("a" + "\u0301\u200c" * 5, r"title contains more than 4 combining marks on one character \(U\+0301\) at position 10"),
        ("\u0301" * 5, r"title contains more than 4 combining marks on one character \(U\+0301\) at position 5"),
    ],
    ids=["zalgo", "five on one letter", "joiners between them", "no base at all"],
)  # fmt: skip
def test_a_stack_of_combining_marks_is_refused_naming_where(text: str, message: str) -> None:
    """Threat 21: a "zalgo" title, hundreds of combining marks on one letter, smears over the lines above and
    below it in a terminal and in the app; more than 4 on one character are refused, naming the field and place
    (a joiner between them does not reset the count)."""
    with pytest.raises(ValidationError, match=message):
        check_line("title", text)
    with pytest.raises(ValidationError, match=message.replace("title", "summary")):
        check_block("summary", text)


def test_four_combining_marks_on_one_character_pass() -> None:
    """The cap is more than any script needs (Hebrew cantillation reaches four) and no more."""
    text = "a\u0301\u0302\u0303\u0304 b\u0301"
    assert check_line("title", text) == text


def test_every_combining_mark_counts() -> None:
    """The fast path (a regex for candidate runs) misses no mark: each of Unicode's combining marks, five on a
    letter, is refused; four are not (the marks that draw nothing are refused alone, `INVISIBLE`)."""
    marks = [chr(cp) for cp in range(0x110000) if unicodedata.category(chr(cp))[0] == "M" and cp not in INVISIBLE]
    assert len(marks) > 2000
    for mark in marks:
        with pytest.raises(ValidationError):
            check_line("title", "a" + mark * 5)
        check_line("title", "a" + mark * 4)
