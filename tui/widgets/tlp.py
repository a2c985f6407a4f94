"""TLP 2.0 labels drawn in FIRST's colours, on black, wherever a record appears."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text

from store.vocab import Tlp

#: FIRST TLP 2.0 colours (https://www.first.org/tlp/): the label text, always on black.
TLP_COLOURS: dict[Tlp, str] = {
    Tlp.RED: "#FF2B2B",
    Tlp.AMBER: "#FFC000",
    Tlp.AMBER_STRICT: "#FFC000",
    Tlp.GREEN: "#33FF00",
    Tlp.CLEAR: "#FFFFFF",
}
TLP_BACKGROUND = "#000000"


def tlp_style(tlp: Tlp | str) -> Style:
    """The rich style of a TLP label."""
    return Style(color=TLP_COLOURS[Tlp(tlp)], bgcolor=TLP_BACKGROUND, bold=True)


def tlp_text(tlp: Tlp | str, *, prefix: bool = False, width: int | None = None) -> Text:
    """A TLP label as coloured text (`TLP:AMBER` with `prefix`), padded to `width` cells on black."""
    label = f"TLP:{Tlp(tlp).value}" if prefix else Tlp(tlp).value
    if width is not None:
        label = label[:width].ljust(width)
    return Text(label, style=tlp_style(tlp), no_wrap=True, end="")
