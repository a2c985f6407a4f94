"""Stored or outside text made safe to draw: control and bidi characters visible, never markup, never raw."""

from __future__ import annotations

from rich.style import StyleType
from rich.text import Text

from store.text import visible


def plain(value: str, style: StyleType = "", *, multiline: bool = False) -> Text:
    """`value` as a rich `Text` (never parsed as markup), every character the text policy refuses drawn visibly."""
    return Text(visible(value, multiline=multiline), style=style, end="")


def safe(value: str, *, multiline: bool = False) -> str:
    """`value` with every character the text policy refuses drawn visibly (for widgets given `markup=False`)."""
    return visible(value, multiline=multiline)


def preview_text(lines: list[tuple[str, str]], notes: list[str]) -> Text:
    """Label/value lines (values drawn as text, control characters visible) and notes under them."""
    text = Text()
    for label, value in lines:
        text.append(f"{label + ':':<13} ", style="bold")
        text.append(visible(value))
        text.append("\n")
    for note in notes:
        text.append(visible(note, multiline=True))
        text.append("\n")
    text.rstrip()
    return text
