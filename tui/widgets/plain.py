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
