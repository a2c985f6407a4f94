"""The working-group desk drawn as text: an action's line, a meeting with its agenda and actions.

Every stored text goes through `store.text.visible` into `rich.text.Text` (never markup). A desk item the store
found damaged (it differs from its signed event in the audit log: `damaged` holds why) gets `DAMAGED_MARK` in the
error colour and its reason on the line under it; the store refuses to act on it and never sends it.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text

from store.jwg.actions import ActionInfo
from store.jwg.meetings import MeetingInfo
from store.text import visible
from tui.widgets.record_table import DAMAGED_MARK

STATUS_STYLE = {"open": "bold", "done": "green", "dropped": "dim"}
DAMAGED = "bold red"


def damage_note(out: Text, damaged: str | None, indent: str) -> None:
    """Under a damaged item: why it differs from its signed event (nothing for an intact one)."""
    if damaged is not None:
        out.append(f"\n{indent}{visible(damaged)}", style="red")


def action_line(a: ActionInfo) -> Text:
    """`PK-MOI-A7  TR-MOI  due 2026-12-01  open  title` (overdue in red; `✗ DAMAGED` before a damaged one)."""
    out = Text(end="")
    if a.damaged is not None:
        out.append(f"{DAMAGED_MARK}DAMAGED  ", style=DAMAGED)
    out.append(f"{visible(a.id)}  ", style="bold")
    out.append(f"{visible(a.owner)}  ")
    out.append(f"due {a.due:%Y-%m-%d}  ", style="bold red" if a.overdue else "")
    out.append(f"{visible(a.status)}{' (overdue)' if a.overdue else ''}  ", style=STATUS_STYLE.get(a.status, ""))
    out.append(visible(a.title))
    if a.note:
        out.append(f" — {visible(a.note)}", style="dim")
    return out


def _actions(out: Text, actions: Sequence[ActionInfo]) -> None:
    if not actions:
        out.append("  none\n", style="dim")
    for a in actions:
        out.append("  ")
        out.append_text(action_line(a))
        damage_note(out, a.damaged, "    ")
        out.append("\n")


def damaged_count(m: MeetingInfo, actions: Sequence[ActionInfo]) -> int:
    """How many of the meeting's agenda items, actions and carried actions are damaged."""
    reasons = [*(i.damaged for i in m.agenda), *(a.damaged for a in actions), *(a.damaged for a in m.carried)]
    return sum(why is not None for why in reasons)


def meeting_text(m: MeetingInfo, actions: Sequence[ActionInfo]) -> Text:
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
    out.append("\nAgenda\n", style="bold underline")
    if not m.agenda:
        out.append("  nothing on the agenda yet (a: record an outcome)\n", style="dim")
    domain = None
    for item in m.agenda:
        if item.domain != domain:
            domain = item.domain
            out.append(f"\n  {visible(domain)}\n", style="bold cyan")
        if item.damaged is not None:
            out.append(f"    {DAMAGED_MARK}DAMAGED  ", style=DAMAGED)
            out.append(f"[{visible(item.outcome)}] ", style="magenta")
        else:
            out.append(f"    [{visible(item.outcome)}] ", style="magenta")
        out.append(visible(item.text, multiline=False))
        if item.action:
            a = by_code.get(item.action)
            out.append(f"  → {visible(item.action)}", style="bold")
            if a is not None:
                out.append(f" {visible(a.owner)} due {a.due:%Y-%m-%d} {visible(a.status)}", style="dim")
        damage_note(out, item.damaged, "      ")
        out.append("\n")
    out.append("\nActions agreed\n", style="bold underline")
    _actions(out, actions)
    out.append("\nCarried forward (open on this meeting's day)\n", style="bold underline")
    _actions(out, m.carried)
    return out
