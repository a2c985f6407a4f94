"""The text policy: what text may enter the store, and how any face renders any text safely.

On the way in (CLI, app, bundle import, card import) every human text passes `check_line` (titles, names,
labels, ministry and card names: one line of printable text) or `check_block` (summary, notes, source,
comments: may also hold `\\n` and `\\t`). Refused everywhere: C0 controls, DEL, C1 controls
(U+0080–U+009F), the Unicode line/paragraph separators, bidi embedding/override/isolate controls
(U+202A–U+202E, U+2066–U+2069), invisible characters (zero-width space, word joiner and invisible
operators, byte-order mark, tag characters, soft hyphen, fillers and other format characters that draw nothing:
`INVISIBLE`), lone surrogates and non-characters; and more than
`MAX_MARKS` combining marks on one character (a "zalgo" text, smeared over the lines above and below it).

On the way out (defence in depth: stores written by older versions, anything missed) every face passes
text through `visible`, which renders those characters as visible escapes (`␛`, `\\u202e`) and never
raw; and the direction marks (LRM, RLM, ALM), which stored text may hold, likewise. Values quoted inside
messages go through `quote` (repr-style, cut to a sane length).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from store.errors import ValidationError

#: Bidi embedding, override and isolate controls: they reorder what a terminal shows.
BIDI_CONTROLS = frozenset(range(0x202A, 0x202F)) | frozenset(range(0x2066, 0x206A))
#: Invisible characters that make look-alikes or hide text: zero-width space, word joiner and invisible operators,
#: the byte-order mark, Unicode tag characters; the soft hyphen, the combining grapheme joiner, the Hangul fillers,
#: the Khmer inherent vowels, the Mongolian vowel separator, the deprecated format characters (U+206A–U+206F),
#: the interlinear annotation controls, the musical and Egyptian hieroglyph format controls: format or filler
#: characters that draw nothing. (ZWNJ and ZWJ, U+200C/U+200D, stay: Urdu and Persian need them; so do the
#: direction marks, `DIRECTION_MARKS`.)
INVISIBLE = (
    frozenset({0x00AD, 0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180E, 0x200B, 0x3164, 0xFEFF, 0xFFA0})
    | frozenset(range(0x2060, 0x2065))
    | frozenset(range(0x206A, 0x2070))
    | frozenset(range(0xFFF9, 0xFFFC))
    | frozenset(range(0x13430, 0x13439))
    | frozenset(range(0x1D173, 0x1D17B))
    | frozenset(range(0xE0000, 0xE0080))
)
#: The left-to-right, right-to-left and Arabic letter marks: allowed in stored text (Urdu and Turkish text mixed
#: with Latin names and numbers needs them, and they reorder only the neutral characters next to them, never
#: override a letter's direction), but a terminal never gets them raw: `visible` draws them as escapes.
DIRECTION_MARKS = frozenset({0x200E, 0x200F, 0x061C})
#: Line and paragraph separators: a second line in disguise.
LINE_SEPARATORS = frozenset({0x2028, 0x2029})
#: Longest value quoted in a message before it is cut.
QUOTE_LIMIT = 60
#: Most combining marks one character may carry: written scripts stack up to three or four (Arabic shadda,
#: vowel and superscript alef; Hebrew points and cantillation), a "zalgo" text hundreds.
MAX_MARKS = 4
#: Where a run of more than `MAX_MARKS` combining marks may be: that many non-ASCII characters in a row that are
#: neither word characters nor spaces (marks and joiners are both), checked character by character only there.
_MARK_RUN_CANDIDATE = re.compile(f"[^\\w\\s\\x00-\\x7f]{{{MAX_MARKS + 1},}}")


def _is_noncharacter(cp: int) -> bool:
    return 0xFDD0 <= cp <= 0xFDEF or (cp & 0xFFFE) == 0xFFFE


def forbidden_kind(ch: str, *, multiline: bool = False) -> str | None:
    """Why `ch` may not stand in stored text (`"control character"`, …), or None when it may."""
    cp = ord(ch)
    if multiline and ch in "\n\t":
        return None
    if cp < 0x20 or cp == 0x7F or 0x80 <= cp <= 0x9F:
        return "control character"
    if cp in LINE_SEPARATORS:
        return "line separator"
    if cp in BIDI_CONTROLS:
        return "bidi control character"
    if cp in INVISIBLE:
        return "hidden character"
    if 0xD800 <= cp <= 0xDFFF:
        return "lone surrogate"
    if _is_noncharacter(cp):
        return "non-character"
    return None


def _forbidden_pattern(*, multiline: bool) -> re.Pattern[str]:
    """One character class matching exactly the characters `forbidden_kind` refuses (tested code point by code
    point): a regex search runs in C, a per-character loop in Python costs a bundle import most of its time."""
    controls = "\\x00-\\x08\\x0b-\\x1f" if multiline else "\\x00-\\x1f"  # multiline keeps tab and newline
    noncharacters = "".join(f"\\U{plane << 16 | 0xFFFE:08x}\\U{plane << 16 | 0xFFFF:08x}" for plane in range(0x11))
    return re.compile(
        f"[{controls}\\x7f-\\x9f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069\\ud800-\\udfff\\ufdd0-\\ufdef{noncharacters}{_class(INVISIBLE)}]"
    )


def _class(code_points: frozenset[int]) -> str:
    """A regex character class body (no brackets) matching exactly `code_points`, in runs."""
    parts: list[str] = []
    points = sorted(code_points)
    start = prev = points[0]
    for cp in [*points[1:], -1]:
        if cp == prev + 1:
            prev = cp
            continue
        parts.append(f"\\U{start:08x}" if start == prev else f"\\U{start:08x}-\\U{prev:08x}")
        start = prev = cp
    return "".join(parts)


_FORBIDDEN_LINE = _forbidden_pattern(multiline=False)
_FORBIDDEN_BLOCK = _forbidden_pattern(multiline=True)
#: The refused characters `str.isprintable` takes for printable (letters and marks that draw nothing: the Hangul
#: fillers, the Khmer inherent vowels, the combining grapheme joiner): searched for in printable non-ASCII text.
_PRINTABLE_HIDDEN = re.compile(f"[{_class(frozenset(cp for cp in INVISIBLE if chr(cp).isprintable()))}]")
#: The direction marks, drawn as escapes by `visible`.
_MARKS = re.compile(f"[{_class(DIRECTION_MARKS)}]")


def first_forbidden(text: str, *, multiline: bool = False) -> int | None:
    """The index of the first character of `text` that the policy refuses, or None."""
    # Every refused character is one `str.isprintable` refuses too (control, format, surrogate, unassigned or
    # separator) but for a few invisible letters and marks (`_PRINTABLE_HIDDEN`; tests/store/test_text_policy.py
    # checks every code point): printable ASCII text needs no search, which is what most text is, printable
    # non-ASCII text only the small class's, and isprintable runs several times faster than the full class.
    if text.isprintable() or (multiline and text.replace("\n", " ").replace("\t", " ").isprintable()):
        if text.isascii():
            return None
        hidden = _PRINTABLE_HIDDEN.search(text)
        return None if hidden is None else hidden.start()
    found = (_FORBIDDEN_BLOCK if multiline else _FORBIDDEN_LINE).search(text)
    return None if found is None else found.start()


def first_mark_overflow(text: str) -> int | None:
    """The index of the first combining mark beyond `MAX_MARKS` on one character, or None; joiners and other
    format characters between the marks do not end the run (a terminal stacks what follows them all the same)."""
    if text.isascii():
        return None
    for candidate in _MARK_RUN_CANDIDATE.finditer(text):
        marks = 0
        for index in range(candidate.start(), candidate.end()):
            category = unicodedata.category(text[index])
            if category[0] == "M":
                marks += 1
                if marks > MAX_MARKS:
                    return index
            elif category != "Cf":
                marks = 0
    return None


def _check(field: str, text: str, *, multiline: bool, reference: str | None) -> str:
    if not isinstance(text, str):
        raise ValidationError(f"{field} must be text", field=field, reference=reference, value=text)
    start = first_forbidden(text, multiline=multiline)
    if start is None:
        overflow = first_mark_overflow(text)
        if overflow is not None:
            where = f"{reference} " if reference else ""
            raise ValidationError(
                f"{where}{field} contains more than {MAX_MARKS} combining marks on one character "
                f"(U+{ord(text[overflow]):04X}) at position {overflow + 1}",
                field=field,
                reference=reference,
                value=text,
            )
        return text
    for index, ch in enumerate(text[start:], start):
        kind = forbidden_kind(ch, multiline=multiline)
        if kind is not None:
            where = f"{reference} " if reference else ""
            raise ValidationError(
                f"{where}{field} contains a {kind} (U+{ord(ch):04X}) at position {index + 1}",
                field=field,
                reference=reference,
                value=text,
            )
    return text


def check_line(field: str, text: str, *, reference: str | None = None) -> str:
    """Accept one line of printable text (title, name, label, ministry or card name); refuse anything else."""
    return _check(field, text, multiline=False, reference=reference)


def check_block(field: str, text: str, *, reference: str | None = None) -> str:
    """Accept printable text that may also hold newlines and tabs (summary, notes, source, comment).

    Windows line ends (`\\r\\n`) are taken as `\\n`; a lone `\\r` is refused like any control character.
    """
    if isinstance(text, str) and "\r\n" in text:
        text = text.replace("\r\n", "\n")
    return _check(field, text, multiline=True, reference=reference)


#: C0 controls and DEL drawn as their Unicode control pictures (U+2400 block): ESC → ␛, NUL → ␀.
_PICTURES = {cp: chr(0x2400 + cp) for cp in range(0x20)} | {0x7F: "\u2421"}


def visible(text: str, *, multiline: bool = False) -> str:
    """`text` with every character the policy refuses rendered visibly, so nothing reaches a terminal raw.

    C0 controls and DEL become control pictures (`␛`); C1, bidi, separators, surrogates, hidden characters,
    non-characters and the direction marks (allowed in stored text, never raw on a terminal) become `\\uXXXX`
    escapes. With `multiline`, newlines and tabs are kept.
    """
    start = first_forbidden(text, multiline=multiline)
    mark = None if text.isascii() else _MARKS.search(text)
    if mark is not None and (start is None or mark.start() < start):
        start = mark.start()
    if start is None:
        return text
    out: list[str] | None = None
    for index, ch in enumerate(text[start:], start):
        if forbidden_kind(ch, multiline=multiline) is None and ord(ch) not in DIRECTION_MARKS:
            if out is not None:
                out.append(ch)
            continue
        if out is None:
            out = list(text[:index])
        cp = ord(ch)
        out.append(_PICTURES.get(cp) or (f"\\u{cp:04x}" if cp <= 0xFFFF else f"\\U{cp:08x}"))
    return text if out is None else "".join(out)


def quote(value: object, limit: int = QUOTE_LIMIT) -> str:
    """A value taken from outside, quoted `repr()`-style for a message and cut to `limit` characters."""
    text = value if isinstance(value, str) else str(value)
    if len(text) > limit:
        return repr(text[:limit]) + "…"
    return repr(text)


def shown(value: str) -> str:
    """A name or reference from outside as is when it is a plain ASCII token, else quoted like `quote` (never raw controls)."""
    return (
        value
        if isinstance(value, str) and value.isascii() and value.isprintable() and " " not in value
        else quote(value)
    )


def said(value: Any, missing: str = "nothing") -> str:
    """A value read from a log row or a signed body, for a message: `missing` in words when it is absent or empty,
    a plain token as is, anything else quoted with its controls escaped (never a Python `None`)."""
    if value is None or value == "":
        return missing
    return shown(value if isinstance(value, str) else str(value))
