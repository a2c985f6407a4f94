"""The browser's sidebar: domain, counterpart ministry, TLP and status, each value with its live count."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual import on
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from store.records import RecordQuery
from store.text import visible
from store.vocab import Status, Tlp
from tui.widgets.tlp import tlp_style

#: Cells each value line fills: the sidebar's width less its padding and a one-cell scrollbar.
PROMPT_WIDTH = 25
FACET_TITLES = {"domain": "Domain", "ministry": "Counterpart", "tlp": "TLP", "status": "Status"}
FACET_ATTRS = {"domain": "domains", "ministry": "ministries", "tlp": "tlps", "status": "statuses"}


def selected_values(query: RecordQuery, facet: str) -> frozenset[str]:
    """The values of `facet` the query filters on."""
    values: frozenset[str] = getattr(query, FACET_ATTRS[facet])
    return values


class FacetSidebar(OptionList):
    """Every facet value with its count under the other filters; `enter` or `space` toggles it."""

    DEFAULT_CSS = """
    FacetSidebar {
        width: 28;
        height: 1fr;
        border: none;
        padding: 0 1 0 1;
        scrollbar-size-vertical: 1;
        background: $panel;
        &:focus { border: none; background-tint: $foreground 4%; }
        & > .option-list--option-disabled { color: $text-accent; text-style: bold; }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "space", "select", "Toggle", tooltip="Add or remove the highlighted value as a filter.", id="facets.toggle"
        ),
    ]

    class Toggled(Message):
        """The officer toggled one facet value."""

        def __init__(self, facet: str, value: str) -> None:
            self.facet = facet
            self.value = value
            super().__init__()

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._values: dict[str, list[tuple[str, str]]] = {}
        self._counts: Mapping[str, Mapping[str, int]] = {}
        self._query = RecordQuery()
        #: What each value's line shows now (chosen, count): only lines whose mark or count changes are redrawn.
        self._shown: dict[str, tuple[bool, int | None]] = {}

    @property
    def values(self) -> list[tuple[str, str]]:
        """Every (facet, value) the sidebar offers."""
        return [(facet, value) for facet, values in self._values.items() for value, _ in values]

    def set_vocabulary(self, domains: Sequence[str], ministries: Sequence[str]) -> None:
        """The values each facet offers (domains and counterpart ministries come from the store)."""
        self._values = {
            "domain": [(d, d) for d in domains],
            "ministry": [(m, m) for m in ministries],
            "tlp": [(t.value, t.value) for t in Tlp],
            "status": [(s.value, s.value) for s in Status],
        }
        highlighted = self.highlighted
        options: list[Option | None] = []
        for facet, values in self._values.items():
            if options:
                options.append(None)
            options.append(Option(FACET_TITLES[facet].upper(), id=f"h:{facet}", disabled=True))
            options.extend(Option(self._prompt(facet, value, label), id=f"{facet}:{value}") for value, label in values)
        self._shown = {
            f"{facet}:{value}": self._state(facet, value)
            for facet, values in self._values.items()
            for value, _ in values
        }
        self.set_options(options)
        if highlighted is not None and highlighted < self.option_count:
            self.highlighted = highlighted
        elif self.option_count:
            self.highlighted = 1

    def show_counts(self, query: RecordQuery, counts: Mapping[str, Mapping[str, int]]) -> None:
        """Refresh the marks and counts without moving the highlight; only the lines that change are redrawn."""
        self._query = query
        self._counts = counts
        changed = False
        for facet, values in self._values.items():
            for value, label in values:
                option_id, state = f"{facet}:{value}", self._state(facet, value)
                if self._shown.get(option_id) != state:
                    self._shown[option_id] = state
                    self._replace_prompt(option_id, self._prompt(facet, value, label))
                    changed = True
        if changed:
            self.refresh()

    def show_marks(self, query: RecordQuery) -> None:
        """Mark the values `query` filters on at once, keeping the old counts until new ones arrive."""
        self.show_counts(query, self._counts)

    def _replace_prompt(self, option_id: str, prompt: Text) -> None:
        """Give one option its new prompt and forget only that option's rendering.

        `OptionList.replace_option_prompt` forgets every option's rendering and line height, so the next frame
        measures and renders the whole list again (~20 ms for the sidebar's ~40 values, on every filter change,
        before the rows could be drawn). Every prompt here is one line (`no_wrap`, fixed width), so the heights
        stay right. Textual is pinned (pyproject.toml); `tests/tui/test_facet_sidebar.py` holds the drawn lines
        to the prompts.
        """
        option = self.get_option(option_id)
        option._set_prompt(prompt)
        cache = self._option_render_cache
        for key in [key for key in cache.keys() if key[0] is option]:  # noqa: SIM118 (LRUCache has no __iter__)
            cache.discard(key)

    def _state(self, facet: str, value: str) -> tuple[bool, int | None]:
        """What a value's line depends on besides its label: chosen or not, and its count (None: not counted yet)."""
        count = self._counts.get(facet, {}).get(value, 0) if self._counts else None
        return value in selected_values(self._query, facet), count

    def _prompt(self, facet: str, value: str, label: str) -> Text:
        chosen, count = self._state(facet, value)
        mark = "■ " if chosen else "□ "
        label_style = tlp_style(value) if facet == "tlp" else Style(bold=chosen)
        if count == 0 and not chosen:
            label_style = label_style + Style(dim=True)
        count_text = "" if count is None else f"{count:,}"
        room = max(4, PROMPT_WIDTH - len(mark) - len(count_text) - 1)
        label = visible(label)
        shown = label if len(label) <= room else label[: room - 1] + "…"
        return Text.assemble(
            mark,
            (shown, label_style),
            " " * (room - len(shown) + 1),
            (count_text, "dim" if not count else ""),
            no_wrap=True,
            end="",
        )

    @on(OptionList.OptionSelected)
    def _toggle(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        option_id = event.option.id or ""
        facet, _, value = option_id.partition(":")
        if facet in FACET_ATTRS:
            self.post_message(self.Toggled(facet, value))
