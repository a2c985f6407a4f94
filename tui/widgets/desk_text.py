"""The working-group desk drawn as text: an action's line, a meeting with its agenda and actions.

Every stored text goes through `store.text.visible` into `rich.text.Text` (never markup). A desk item the store
found damaged (it differs from its signed event in the audit log: `damaged` holds why) gets `DAMAGED_MARK` in the
error colour and its reason on the line under it; the store refuses to act on it and never sends it.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from store.jwg.actions import ActionInfo
from store.jwg.meetings import MeetingInfo
from store.text import visible
from tui.widgets.record_cells import DAMAGED_MARK

STATUS_STYLE = {"open": "bold", "done": "green", "dropped": "dim"}
DAMAGED = "bold red"


def _grid(columns: int) -> Table:
    """Columns that keep to their content, then a last one (the title, the text) that wraps within itself."""
    grid = Table.grid(padding=(0, 2), pad_edge=False)
    for _ in range(columns - 1):
        grid.add_column(no_wrap=True)
    grid.add_column(ratio=1, overflow="fold")
    return grid


def _actions(actions: Sequence[ActionInfo]) -> RenderableType:
    """The actions as a grid: code, owner, due, status, then the title, which wraps within its own column (at 80
    columns a long title folds under itself, not under the code)."""
    if not actions:
        return Text("  none", style="dim")
    grid = _grid(6)
    for a in actions:
        title = Text(visible(a.title))
        if a.note:
            title.append(f" — {visible(a.note)}", style="dim")
        if a.damaged is not None:
            title.append(f"\n{visible(a.damaged)}", style="red")
        grid.add_row(
            Text(f"{DAMAGED_MARK}DAMAGED", style=DAMAGED) if a.damaged is not None else Text(""),
            Text(visible(a.id), style="bold"),
            Text(visible(a.owner)),
            Text(f"due {a.due:%Y-%m-%d}", style="bold red" if a.overdue else ""),
            Text(f"{visible(a.status)}{' (overdue)' if a.overdue else ''}", style=STATUS_STYLE.get(a.status, "")),
            title,
        )
    return grid


def damaged_count(m: MeetingInfo, actions: Sequence[ActionInfo]) -> int:
    """How many of the meeting's agenda items, actions and carried actions are damaged."""
    reasons = [*(i.damaged for i in m.agenda), *(a.damaged for a in actions), *(a.damaged for a in m.carried)]
    return sum(why is not None for why in reasons)


def meeting_text(m: MeetingInfo, actions: Sequence[ActionInfo]) -> Group:
    """The meeting: header, agenda per domain with outcomes (and the action each names), actions, carried forward."""
    by_code = {a.id: a for a in actions}
    out = Text(end="")
    out.append(f"{visible(m.quarter)}  {m.day:%Y-%m-%d}  ", style="bold")
    out.append(visible(m.venue))
    out.append(f"  host {visible(m.host)}  ", style="dim")
    out.append(visible(m.status), style="green" if m.status == "held" else "yellow")
    out.append("\n")
    if m.minutes:
        out.append("\nMinutes\n", style="bold underline")
        out.append(visible(m.minutes, multiline=True) + "\n")
    out.append("\nAgenda", style="bold underline")
    out.end = "\n"  # each part of the group on lines of its own
    parts: list[RenderableType] = [out]
    if not m.agenda:
        parts.append(Text("  nothing on the agenda yet (a: record an outcome)", style="dim"))
    domain = None
    grid: Table | None = None
    for item in m.agenda:
        if item.domain != domain or grid is None:
            domain = item.domain
            parts.append(Text(f"\n  {visible(domain)}", style="bold cyan"))
            grid = _grid(3)
            parts.append(grid)
        text = Text(visible(item.text, multiline=False))
        if item.action:
            a = by_code.get(item.action)
            text.append(f"  → {visible(item.action)}", style="bold")
            if a is not None:
                text.append(f" {visible(a.owner)} due {a.due:%Y-%m-%d} {visible(a.status)}", style="dim")
        if item.damaged is not None:
            text.append(f"\n{visible(item.damaged)}", style="red")
        grid.add_row(
            Text(f"  {DAMAGED_MARK}DAMAGED", style=DAMAGED) if item.damaged is not None else Text("  "),
            Text(f"[{visible(item.outcome)}]", style="magenta"),
            text,
        )
    parts += [
        Text("\nActions agreed", style="bold underline"),
        _actions(actions),
        Text("\nCarried forward (open on this meeting's day)", style="bold underline"),
        _actions(m.carried),
    ]
    return Group(*parts)
