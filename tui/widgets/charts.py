"""Charts drawn with text: grouped horizontal bars and a column trend, each also shown as a table (`t` toggles).

A `ChartPanel` is focusable (tab moves between panels) and redraws at its own width; every label is stored or
outside text, drawn through `store.text.visible` as `rich.text.Text`, never markup.

Why not `textual-plotext` (the issue's first choice). Tried on 2026-12-05: textual-plotext 1.0.1 (with
plotext 5.3.2, the newest it allows) installs and runs with our pinned Textual 8.2.8 — a two-chart app drew
in tmux. It does not serve this dashboard, for four reasons seen there:
- the series are told apart by colour alone: without colour (NO_COLOR, a monochrome terminal, a colour-blind
  reader) "sent" and "received" are the same `█` bars; these charts name the series on every bar row;
- plotext draws its legend inside the plot, over the top bars (the top domain's bars were hidden), and
  grouped horizontal bars are not aligned to their label's rows at the heights an 80×24 screen leaves
  (7 domains × 2 series in ≤ 24 rows: a label's two bars straddled the next label's);
- it builds each chart on the UI thread in `render`, again on every repaint (a focus change redraws the
  border): 15–120 ms a chart on this shared machine under load, against 0.2–0.3 ms for these charts,
  measured interleaved in one process — six panels would take the dashboard's whole 0.5 s paint budget;
- it turns the plot into ANSI escape codes and parses them back (`Text.from_ansi`), so every label would
  pass through an escape-code parser instead of being drawn as the characters it is.
So the charts stay Textual-native: bars in eighths of a cell with the value printed at the end of each bar,
a column trend with its scale, and the same numbers as a table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from store.text import visible

#: Styles of the series (first: sent / main, second: received).
SERIES_STYLES = ("bold cyan", "bold magenta", "bold yellow")
EIGHTHS = " ▁▂▃▄▅▆▇█"
BLOCKS = " ▏▎▍▌▋▊▉█"


@dataclass(frozen=True)
class Chart:
    """One panel's numbers: a row per label, a value per series. `kind` is `bars` or `columns` (a trend)."""

    title: str
    series: tuple[str, ...]
    labels: tuple[str, ...]
    values: tuple[tuple[float, ...], ...]
    kind: str = "bars"
    note: str = ""
    unit: str = ""

    @property
    def empty(self) -> bool:
        return not self.labels


def _num(value: float) -> str:
    return f"{value:,.1f}" if value != int(value) else f"{int(value):,}"


def hbar(value: float, top: float, width: int) -> str:
    """A horizontal bar `width` cells long at most, in eighths of a cell."""
    if top <= 0 or value <= 0 or width <= 0:
        return ""
    eighths = max(1, round(value / top * width * 8))
    full, rest = divmod(eighths, 8)
    return "█" * full + (BLOCKS[rest] if rest else "")


def bars_text(chart: Chart, width: int) -> Text:
    """Grouped horizontal bars: `label  ████ 12` per label and series."""
    out = Text(end="")
    label_w = min(max((len(visible(lb)) for lb in chart.labels), default=0), max(8, width // 3))
    series_w = max((len(s) for s in chart.series), default=0) if len(chart.series) > 1 else 0
    top = max((v for row in chart.values for v in row), default=0)
    num_w = max((len(_num(v)) for row in chart.values for v in row), default=1)
    room = max(4, width - label_w - series_w - num_w - 4)
    for label, row in zip(chart.labels, chart.values, strict=True):
        for i, (name, value) in enumerate(zip(chart.series, row, strict=True)):
            shown = visible(label)[:label_w] if i == 0 else ""
            out.append(f"{shown:<{label_w}} ")
            if series_w:
                out.append(f"{name:<{series_w}} ", style="dim")
            out.append(hbar(value, top, room), style=SERIES_STYLES[i % len(SERIES_STYLES)])
            out.append(f" {_num(value)}{chart.unit}\n")
    return out


def columns_text(chart: Chart, width: int, height: int = 6) -> Text:
    """A column chart (a trend over the labels, oldest left), the series side by side under each label."""
    n = len(chart.series)
    top = max((v for row in chart.values for v in row), default=0)
    group = max(2, min(14, (width - 6) // max(1, len(chart.labels))))  # the trend spreads over the panel's width
    col = max(1, (group - 1) // n)
    out = Text(end="")
    for level in range(height, 0, -1):
        out.append(f"{_num(top) if level == height else '':>5} ", style="dim")
        for row in chart.values:
            for i, value in enumerate(row):
                eighths = round(value / top * height * 8) if top > 0 else 0
                cell = min(8, max(0, eighths - (level - 1) * 8))
                out.append(EIGHTHS[cell] * col, style=SERIES_STYLES[i % len(SERIES_STYLES)])
            out.append(" " * (group - col * n))
        out.append("\n")
    out.append(" " * 6)
    for label in chart.labels:
        short = visible(label)[-(group - 1) :] if group > 1 else ""
        out.append(f"{short:<{group}}", style="dim")
    out.append("\n")
    return out


def legend(chart: Chart) -> Text:
    out = Text(end="")
    if len(chart.series) > 1:
        for i, name in enumerate(chart.series):
            out.append("■ ", style=SERIES_STYLES[i % len(SERIES_STYLES)])
            out.append(f"{name}   ", style="dim")
        out.append("\n")
    return out


def chart_table(chart: Chart) -> Table:
    """The same numbers as a table."""
    table = Table(box=None, padding=(0, 1), show_edge=False, header_style="bold")
    table.add_column("", no_wrap=True)
    for name in chart.series:
        table.add_column(Text(name), justify="right")
    for label, row in zip(chart.labels, chart.values, strict=True):
        table.add_row(Text(visible(label)), *(Text(_num(v) + chart.unit) for v in row))
    return table


class ChartPanel(Widget, can_focus=True):
    """One titled panel: the chart (or, with `as_table`, the table) of a `Chart`."""

    DEFAULT_CSS = """
    ChartPanel {
        height: auto;
        border: round $panel-lighten-2;
        border-title-color: $text-accent;
        padding: 0 1;
        &:focus { border: round $accent; }
    }
    """

    chart: reactive[Chart | None] = reactive(None, layout=True)
    as_table: reactive[bool] = reactive(False, layout=True)

    def __init__(self, title: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = title

    def render(self) -> RenderableType:
        chart = self.chart
        if chart is None:
            return Text("…", style="dim")
        parts: list[RenderableType] = []
        if chart.note:
            parts.append(Text(visible(chart.note, multiline=True), style="dim"))
        if chart.empty:
            parts.append(Text("nothing yet", style="dim"))
        elif self.as_table:
            parts.append(chart_table(chart))
        else:
            width = max(20, self.size.width or 60)
            if len(chart.series) > 1:
                parts.append(legend(chart))
            parts.append(columns_text(chart, width) if chart.kind == "columns" else bars_text(chart, width))
        return Group(*parts)


def rows_of(
    labels: Sequence[str], values: Sequence[Sequence[float]]
) -> tuple[tuple[str, ...], tuple[tuple[float, ...], ...]]:
    """Labels and value rows as the tuples a `Chart` holds."""
    return tuple(labels), tuple(tuple(float(v) for v in row) for row in values)
