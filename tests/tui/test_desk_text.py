"""The meeting view at 80 columns: a long action title folds under itself, never back into the first column."""

from __future__ import annotations

import io
from datetime import date

from rich.console import Console

from store.jwg.actions import ActionInfo
from store.jwg.meetings import AgendaInfo, MeetingInfo
from tui.widgets.desk_text import meeting_text

LONG = "Nominate two analysts for the document-fraud workshop and confirm their clearances before the next meeting"


def _action(code: str, title: str, damaged: str | None = None) -> ActionInfo:
    return ActionInfo(
        code, title, "narcotics", "TR-MOI", "", date(2026, 7, 15), "open", "2026-Q3", (), "TR-MOI", "", None, True,
        damaged,
    )  # fmt: skip


def _drawn(width: int, *actions: ActionInfo, agenda: tuple[AgendaInfo, ...] = ()) -> list[str]:
    meeting = MeetingInfo("2027-Q1", date(2027, 2, 15), "Islamabad", "PK-MOI", "planned", "PK-MOI", None,
                          agenda=agenda, carried=tuple(actions))  # fmt: skip
    console = Console(width=width, record=True, file=io.StringIO())
    console.print(meeting_text(meeting, []))
    return console.export_text().splitlines()


def test_a_long_carried_title_folds_under_its_own_column_at_80() -> None:
    lines = _drawn(80, _action("TR-MOI-A4", LONG), _action("PK-MOI-A6", "Confirm points of contact"))
    first = next(i for i, line in enumerate(lines) if "TR-MOI-A4" in line)
    column = lines[first].index("Nominate")
    following = lines[first + 1 : lines.index(next(line for line in lines if "PK-MOI-A6" in line))]
    assert following, lines  # the title did wrap at 80 columns
    for line in following:
        assert line[:column].strip() == "", line  # nothing under the code, owner, due date or status
        assert line[column:].strip()
    assert " ".join([lines[first][column:].strip(), *(x.strip() for x in following)]) == LONG
    assert all(len(line) <= 80 for line in lines)


def test_a_damaged_action_keeps_its_mark_and_reason_in_the_grid() -> None:
    why = "action TR-MOI-A4 differs from its signed event #57: due"
    lines = _drawn(200, _action("TR-MOI-A4", "Short title", damaged=why))
    row = next(line for line in lines if "TR-MOI-A4" in line and "Short title" in line)
    assert "DAMAGED" in row
    assert any(why in line for line in lines)


def test_a_long_agenda_item_folds_under_its_own_text_at_80() -> None:
    item = AgendaInfo("u1", "narcotics", "information", LONG, None, "PK-MOI", None)
    lines = _drawn(80, agenda=(item,))
    first = next(i for i, line in enumerate(lines) if "[information]" in line)
    column = lines[first].index("Nominate")
    following = lines[first + 1 : lines.index("Actions agreed")]
    following = [line for line in following if line.strip()]
    assert following, lines
    for line in following:
        assert line[:column].strip() == "", line
    assert " ".join([lines[first][column:].strip(), *(x.strip() for x in following)]) == LONG
