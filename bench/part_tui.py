"""Part 4: the TUI on the N-record store in a headless `run_test`, against a bare Textual app in the same run.

Each app runs in its own child process (`python -m bench.worker tui liaison|bare …`), so each peak RSS is
its own. "Painted" means the widget rendered the line: the records table's `render_line` is wrapped to
note when it first draws a decrypted row (the bare app's table notes the same), so the figures include
every worker hop, message and layout pass up to the moment the row is drawn.

Measured:
- first rows: Liaison from "key derived" (the unlock worker's success message, posted with a session
  unlocked in code) to the first record row drawn; the bare app from pushing its screen to its first row;
- page-down: from the key press to the last visible row of the new screenful drawn with data;
- filter: from applying a domain filter to its first row drawn (the bare app filters a list in memory).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from bench.context import Bench
from bench.measure import Row, percentile, python, run_measured

PAGE_DOWNS = 20
FILTERS = (
    "narcotics",
    "cybercrime",
    "coast-guard",
    "policing",
    "border-management",
    "human-smuggling",
    "counterterrorism",
)
SIZE = (120, 40)


class PaintLog:
    """When each row index was last drawn with data."""

    def __init__(self) -> None:
        self.painted: dict[int, float] = {}
        self.first: float | None = None

    def note(self, index: int) -> None:
        now = time.perf_counter()
        self.painted[index] = now
        if self.first is None:
            self.first = now

    def reset(self) -> None:
        self.painted.clear()
        self.first = None


async def _wait(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.perf_counter() + timeout
    while not predicate():
        if time.perf_counter() > deadline:
            raise TimeoutError("the app did not paint in time")
        await asyncio.sleep(0.001)


async def liaison_app(store: Path, officer: str, passphrase: str) -> dict[str, Any]:
    from store.service import Session, Vault
    from tui.app import LiaisonApp
    from tui.config import Settings
    from tui.screens.unlock import UnlockScreen
    from tui.widgets.record_table import RecordTable

    log = PaintLog()
    original = RecordTable.render_line

    def render_line(self: RecordTable, y: int) -> Any:
        strip = original(self, y)
        if y >= 1 and self.total:
            index = round(self.scroll_y) + y - 1
            if index < self.total and self.cache.row(index) is not None:
                log.note(index)
        return strip

    RecordTable.render_line = render_line  # type: ignore[method-assign]
    store_ms: list[float] = []  # time inside the store's calls (in worker threads) during each measurement
    for name in ("list_records", "count_records", "facet_counts"):
        _time_calls(Session, name, store_ms)
    desk_ms: list[float] = []  # the dashboard's statistics (desk_stats: the ledger and the actions)
    _time_calls(Session, "desk_stats", desk_ms)
    vault = Vault.open(store)
    settings = Settings(poll_seconds=3600.0, idle_lock_minutes=0.0, cursor_blink=False)
    app = LiaisonApp(vault, officer=officer, settings=settings)
    result: dict[str, Any] = {}
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        session = vault.unlock(officer, passphrase)  # the key derivation, done before the clock starts
        start = time.perf_counter()
        app.screen.post_message(UnlockScreen.Unlocked(session))
        await _wait(lambda: log.first is not None)
        result["first_rows_ms"] = (log.first - start) * 1000  # type: ignore[operator]
        result["first_rows_store_ms"] = sum(store_ms)
        table = app.screen.query_one(RecordTable)
        table.focus()
        await pilot.pause()
        store_ms.clear()
        result["page_down_ms"] = await _page_downs(pilot, table, log)
        result["page_down_store_ms"] = sum(store_ms) / PAGE_DOWNS
        await pilot.pause()
        store_ms.clear()
        result["filter_ms"] = await _filters(
            pilot, log, lambda domain: app.screen.toggle_filter("domain", domain), table
        )
        result["filter_store_ms"] = sum(store_ms) / (2 * len(FILTERS))  # each filter is applied and removed
        result["rows_total"] = table.total
        result.update(await _dashboard(pilot, app, session))
        result["dashboard_store_ms"] = sum(desk_ms)
    vault.close()
    return result


async def _dashboard(pilot: Any, app: Any, session: Any) -> dict[str, Any]:
    """`D` pressed on the browser → every dashboard panel drawn with its numbers (desk_stats, nothing decrypted)."""
    from tui.widgets.charts import ChartPanel

    drawn: dict[int, float] = {}  # each panel's first render with its chart (the paint's time, as for the rows)
    original = ChartPanel.render

    def render(self: ChartPanel) -> Any:
        out = original(self)
        if self.chart is not None:
            drawn.setdefault(id(self), time.perf_counter())
        return out

    ChartPanel.render = render  # type: ignore[method-assign]
    await pilot.pause()
    start = time.perf_counter()
    await pilot.press("D")

    def painted() -> bool:
        # Only the panels in view are drawn: all charts set (one message sets them all), the top panel drawn.
        panels = list(app.screen.query(ChartPanel))
        return bool(panels) and all(p.chart is not None for p in panels) and id(panels[0]) in drawn

    await _wait(painted)
    # The time the top panel was drawn with its numbers, not when this loop saw it: `pilot.press` returns only
    # once the process is idle, which includes the desk's damage check that follows the paint in a worker.
    top = app.screen.query(ChartPanel).first()
    elapsed = (drawn[id(top)] - start) * 1000
    ChartPanel.render = original  # type: ignore[method-assign]
    return {"dashboard_ms": elapsed, "actions_total": len(session.actions())}


def _time_calls(cls: Any, name: str, out: list[float]) -> None:
    """Wrap a method so each call's duration is appended to `out`."""
    original = getattr(cls, name)

    def timed(self: Any, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return original(self, *args, **kwargs)
        finally:
            out.append((time.perf_counter() - start) * 1000)

    setattr(cls, name, timed)


async def _page_downs(pilot: Any, table: Any, log: PaintLog) -> list[float]:
    times = []
    for _ in range(PAGE_DOWNS):
        await pilot.pause()
        log.reset()
        start = time.perf_counter()
        await pilot.press("pagedown")
        top = round(table.scroll_y)
        bottom = top + table.visible_rows - 1
        await _wait(lambda b=bottom: b in log.painted)
        times.append((log.painted[bottom] - start) * 1000)
    return times


async def _filters(pilot: Any, log: PaintLog, apply: Callable[[str], None], table: Any) -> list[float]:
    times = []
    for domain in FILTERS:
        await pilot.pause()
        previous = apply_generation = getattr(table, "generation", 0)
        log.reset()
        start = time.perf_counter()
        apply(domain)
        await _wait(lambda: getattr(table, "generation", 0) != previous and log.first is not None)  # noqa: B023 (awaited in this iteration)
        times.append((log.first - start) * 1000)  # type: ignore[operator]
        del apply_generation
        apply(domain)  # and off again, so each filter starts from the whole list
        await pilot.pause()
    return times


async def bare_app(records: int) -> dict[str, Any]:
    """The floor: a Textual app with a header, footer and a virtual table over rows already in memory."""
    from rich.segment import Segment
    from textual.app import App, ComposeResult
    from textual.binding import Binding
    from textual.geometry import Size
    from textual.screen import Screen
    from textual.scroll_view import ScrollView
    from textual.strip import Strip
    from textual.widgets import Footer, Header, Static

    log = PaintLog()
    domains = FILTERS
    all_rows = range(records)  # rows are made from their index when drawn: the floor holds no data

    def text(i: int) -> tuple[str, str, str]:
        return f"PK-MOI-2026-{i:05d}", domains[i % len(domains)], f"Title of record {i} " * 3

    class Table(ScrollView, can_focus=True):
        BINDINGS: ClassVar[list[Binding]] = [Binding("pagedown", "page_down")]

        def __init__(self) -> None:
            super().__init__()
            self.rows = all_rows
            self.generation = 0
            self.cursor = 0

        def on_mount(self) -> None:
            self.virtual_size = Size(0, len(self.rows) + 1)

        def show(self, rows: range) -> None:
            self.rows = rows
            self.generation += 1
            self.virtual_size = Size(0, len(rows) + 1)
            self.scroll_to(y=0, animate=False)
            self.refresh()

        @property
        def visible_rows(self) -> int:
            return max(1, self.scrollable_content_region.height - 1)

        def action_page_down(self) -> None:
            self.cursor += self.visible_rows
            self.scroll_to(y=self.cursor, animate=False)

        def render_line(self, y: int) -> Strip:
            width = self.scrollable_content_region.width
            if y == 0:
                return Strip([Segment("Reference  Domain  Title".ljust(width))], width)
            index = round(self.scroll_y) + y - 1
            if index >= len(self.rows):
                return Strip.blank(width)
            ref, domain, title = text(self.rows[index])
            log.note(index)
            return Strip([Segment(f"{ref} {domain:18} {title}"[:width].ljust(width))], width)

    class Browser(Screen[None]):
        def compose(self) -> ComposeResult:
            yield Header()
            yield Static("filters")
            yield Table()
            yield Footer()

    class Bare(App[None]):
        pass

    app = Bare()
    result: dict[str, Any] = {}
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        start = time.perf_counter()
        await app.push_screen(Browser())
        await _wait(lambda: log.first is not None)
        result["first_rows_ms"] = (log.first - start) * 1000  # type: ignore[operator]
        table = app.screen.query_one(Table)
        table.focus()
        await pilot.pause()
        result["page_down_ms"] = await _page_downs(pilot, table, log)

        def apply(domain: str) -> None:
            table.show(all_rows if table.rows is not all_rows else range(domains.index(domain), records, len(domains)))

        result["filter_ms"] = await _filters(pilot, log, apply, table)
    return result


def tui_main(args: list[str]) -> None:
    """Child process: run one app, print its figures as JSON."""
    kind = args[0]
    if kind == "liaison":
        result = asyncio.run(liaison_app(Path(args[1]), args[2], os.environ["BENCH_PASSPHRASE"]))
    else:
        result = asyncio.run(bare_app(int(args[1])))
    print(json.dumps(result))


RUNS = 3


def _runs(argv: list[str], env: dict[str, str] | None, what: str) -> tuple[dict[str, Any], float]:
    """RUNS fresh processes of one app: the median first paint, every page-down and filter sample, the largest RSS."""
    results, rss = [], 0.0
    for _ in range(RUNS):
        run = run_measured(argv, env=env, timeout=300)
        if run["returncode"] != 0:
            raise RuntimeError(f"{what} failed: {run['stderr'][-1500:]}")
        results.append(json.loads(run["stdout"].strip().splitlines()[-1]))
        rss = max(rss, run["maxrss_mb"])
    merged: dict[str, Any] = {
        "first_rows_ms": sorted(r["first_rows_ms"] for r in results)[RUNS // 2],
        "first_rows_all": [r["first_rows_ms"] for r in results],
    }
    for key in ("page_down_ms", "filter_ms"):
        merged[key] = [x for r in results for x in r[key]]
    if "dashboard_ms" in results[0]:
        merged["dashboard_all"] = [r["dashboard_ms"] for r in results]
        merged["dashboard_ms"] = sorted(merged["dashboard_all"])[RUNS // 2]
    for key in (
        "first_rows_store_ms",
        "page_down_store_ms",
        "filter_store_ms",
        "rows_total",
        "actions_total",
        "dashboard_store_ms",
    ):
        if key in results[0]:
            merged[key] = sorted(r[key] for r in results)[RUNS // 2]
    return merged, rss


def run(b: Bench) -> None:
    try:
        import tui.app  # noqa: F401
    except ImportError as exc:
        b.skipped["tui"] = f"tui/app.py is not importable ({exc})"
        return
    from bench.desk import seed_desk

    desk = seed_desk(b.store, b.officer, b.passphrase)  # the dashboard's actions, meetings and sharing ledger
    print(f"  desk: {desk}", flush=True)
    lia, lia_rss = _runs(
        [python(), "-m", "bench.worker", "tui", "liaison", str(b.store), b.officer],
        {"BENCH_PASSPHRASE": b.passphrase},
        "TUI run",
    )
    base, base_rss = _runs([python(), "-m", "bench.worker", "tui", "bare", str(b.records)], None, "bare app run")
    b.add(
        Row(
            "tui",
            f"key derived → first rows painted (median of {RUNS} runs)",
            lia["first_rows_ms"],
            "ms",
            base["first_rows_ms"],
            "≤ 500 ms",
            lia["first_rows_ms"] <= 500,
            note=f"store calls {lia['first_rows_store_ms']:.0f} ms",
            extra={
                "runs": lia["first_rows_all"],
                "bare_runs": base["first_rows_all"],
                "rows_total": lia.get("rows_total"),
                "store_ms": lia["first_rows_store_ms"],
            },
        )
    )
    p95, bp95 = percentile(lia["page_down_ms"], 95), percentile(base["page_down_ms"], 95)
    b.add(
        Row(
            "tui",
            f"page-down repaint ({len(lia['page_down_ms'])} presses)",
            p95,
            "ms",
            bp95,
            "≤ 100 ms",
            p95 <= 100,
            note=f"p95; p50 {percentile(lia['page_down_ms'], 50):.1f} vs {percentile(base['page_down_ms'], 50):.1f}; store {lia['page_down_store_ms']:.1f} ms a press",
            extra={
                "liaison": lia["page_down_ms"],
                "bare": base["page_down_ms"],
                "store_ms_per_press": lia["page_down_store_ms"],
            },
        )
    )
    p95, bp95 = percentile(lia["filter_ms"], 95), percentile(base["filter_ms"], 95)
    b.add(
        Row(
            "tui",
            f"domain filter applied → first rows painted ({len(lia['filter_ms'])} changes)",
            p95,
            "ms",
            bp95,
            "≤ 100 ms",
            p95 <= 100,
            note=f"p95; p50 {percentile(lia['filter_ms'], 50):.1f} vs {percentile(base['filter_ms'], 50):.1f}; store {lia['filter_store_ms']:.1f} ms a change",
            extra={
                "liaison": lia["filter_ms"],
                "bare": base["filter_ms"],
                "store_ms_per_change": lia["filter_store_ms"],
            },
        )
    )
    if "dashboard_ms" in lia:
        b.add(
            Row(
                "tui",
                f"D on the browser → dashboard painted (median of {RUNS} runs)",
                lia["dashboard_ms"],
                "ms",
                None,
                "≤ 500 ms",
                lia["dashboard_ms"] <= 500,
                note=(
                    f"{lia.get('actions_total', 0)} actions, {desk.get('ledger_out', 0):,} ledger rows sent and "
                    f"{desk.get('ledger_in', 0):,} received; desk_stats {lia.get('dashboard_store_ms', 0):.0f} ms"
                ),
                extra={
                    "runs": lia["dashboard_all"],
                    "actions_total": lia.get("actions_total"),
                    "desk": desk,
                    "desk_stats_ms": lia.get("dashboard_store_ms"),
                },
            )
        )
    b.add(
        Row(
            "tui",
            "peak RSS of the app process",
            lia_rss,
            "MB",
            base_rss,
            "≤ 150 MB",
            lia_rss <= 150,
            extra={"liaison_mb": lia_rss, "bare_mb": base_rss},
        )
    )
