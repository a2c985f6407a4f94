"""Which keys a screen offers: every active one (the app's global keys in modals too), the footer fitted to the width,
and the list the help screen shows.

Textual lists a modal's own keys only, though the app's priority keys (lock, help, the palette, quit) still work
there; and a footer too narrow for its keys cuts the last ones, which are the app's (lock and help). Screens and
modals that mix in `ShownKeys` list every key that works, and hide from the footer (never from help) the least
important ones that do not fit, so the essential keys are always in sight.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, ClassVar, cast

from textual import events
from textual.binding import ActiveBinding, Binding
from textual.dom import DOMNode
from textual.screen import Screen

#: The keys the footer always shows (by binding id), whatever the width.
ESSENTIAL_KEYS = frozenset({"app.lock", "app.help", "app.help_f1"})
#: The rank of an essential key when choosing what to hide (higher: hidden later; essential: never).
ESSENTIAL = 2
#: Columns around a footer entry: a space each side of the key, one after the description.
ENTRY_PADDING = 3
#: Columns of the command palette's entry, docked at the right: a rule, the key, "Commands", its padding.
PALETTE_COLUMNS = 15


class ShownKeys:
    """Mixin for a `Screen`: `active_bindings` holds every working key, with `show` cleared where the footer has no room."""

    #: Binding ids this screen keeps in its footer before any other (after the essential ones).
    FOOTER_FIRST: ClassVar[frozenset[str]] = frozenset()

    @property
    def working_bindings(self) -> dict[str, ActiveBinding]:
        """Every key that works here, as Textual lists them, plus the app's priority keys in a modal (help lists these)."""
        screen = cast("Screen[Any]", self)
        bindings = dict(super().active_bindings)  # type: ignore[misc]
        if screen.is_modal:
            app = screen.app
            for binding in Binding.make_bindings(app.BINDINGS):
                if (
                    binding.priority
                    and binding.key not in bindings
                    and app.check_action(binding.action, ()) is not False
                ):
                    bindings[binding.key] = ActiveBinding(app, binding, True, binding.tooltip)
        return bindings

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        """`working_bindings` with `show` cleared on those the footer has no room for."""
        screen = cast("Screen[Any]", self)
        return fit_footer(self.working_bindings, screen.size.width, screen.app.get_key_display, self.FOOTER_FIRST)

    async def _on_resize(self, event: events.Resize) -> None:
        """The footer fits its keys to the new width (Textual also runs the screen's own resize handler)."""
        cast("Screen[Any]", self).refresh_bindings()


def fit_footer(
    bindings: dict[str, ActiveBinding],
    width: int,
    key_display: Any,
    first: frozenset[str] = frozenset(),
) -> dict[str, ActiveBinding]:
    """`bindings` with `show` cleared on the entries that do not fit in `width` columns, last ones first.

    Entries are counted as the footer draws them, one per action; the screen's `first` ones are hidden last and
    the essential keys never.
    """
    entries: dict[str, int] = {}
    rank: dict[str, int] = {}
    for active in bindings.values():
        binding = active.binding
        if binding.show and binding.action not in entries:
            entries[binding.action] = len(key_display(binding)) + len(binding.description) + ENTRY_PADDING
            rank[binding.action] = ESSENTIAL if binding.id in ESSENTIAL_KEYS else 1 if binding.id in first else 0
    budget = width - PALETTE_COLUMNS
    used = sum(entries.values())
    hidden: set[str] = set()
    for action in sorted(reversed(entries), key=lambda action: rank[action]):
        if used <= budget or rank[action] == ESSENTIAL:
            break
        hidden.add(action)
        used -= entries[action]
    if not hidden:
        return bindings
    return {
        key: active._replace(binding=replace(active.binding, show=False)) if active.binding.action in hidden else active
        for key, active in bindings.items()
    }


@dataclass(frozen=True)
class KeyHelp:
    """One key as the help screen lists it."""

    key: str
    description: str
    tooltip: str
    where: str


def keys_of_screen(screen: Screen[Any]) -> list[KeyHelp]:
    """Our working keys on `screen`, one line per action: the screen's, its widgets' (outermost first), the app's."""
    app = screen.app
    grouped: dict[tuple[str, str], KeyHelp] = {}
    placed: dict[tuple[str, str], tuple[int, int]] = {}
    chain: list[DOMNode] = []
    working = screen.working_bindings if isinstance(screen, ShownKeys) else screen.active_bindings
    for active in working.values():
        node, binding = active.node, active.binding
        ours = bool(binding.id) or (node is screen.focused and binding.show and bool(binding.description))
        if not ours or binding.system or not active.enabled:
            continue
        if node not in chain:
            chain.append(node)
        where = "everywhere" if node is app else _where(node)
        slot = (where, binding.action)
        display = app.get_key_display(binding)
        if slot in grouped:
            known = grouped[slot]
            if display not in known.key.split(" / "):
                grouped[slot] = KeyHelp(f"{known.key} / {display}", known.description, known.tooltip, where)
        else:
            grouped[slot] = KeyHelp(display, binding.description, binding.tooltip, where)
            rank = 0 if node is screen else 2 if node is app else 1
            placed[slot] = (rank, -chain.index(node) if rank == 1 else 0)
    order = {slot: i for i, slot in enumerate(grouped)}
    return [grouped[slot] for slot in sorted(grouped, key=lambda slot: (*placed[slot], order[slot]))]


def _where(node: DOMNode) -> str:
    """A human name for the part of the screen a binding belongs to."""
    name = type(node).__name__
    for suffix in ("Screen", "Modal"):
        if name.endswith(suffix) and name != suffix:
            return "this screen"
    return "".join(f" {c.lower()}" if c.isupper() else c for c in name).strip()
