"""One record, decrypted: header, tags and releasability, the summary as Markdown, source, ledger and revisions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Markdown, Static

from store.bundles import LedgerEntry
from store.records import RecordDetail
from tui.widgets.record_table import STATUS_COLOURS
from tui.widgets.tlp import tlp_text


def when(moment: datetime) -> str:
    """A timestamp as the officer reads it (UTC, to the minute)."""
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def header_text(detail: RecordDetail) -> Text:
    """Reference, TLP label, status and title."""
    row = detail.row
    return Text.assemble(
        (row.reference, "bold"),
        "  ",
        tlp_text(row.tlp, prefix=True),
        "  ",
        (row.status.value, f"bold {STATUS_COLOURS.get(row.status, '')}".strip()),
        "\n",
        (row.title, "bold"),
    )


def facts_table(detail: RecordDetail) -> Table:
    """Tags and releasability (the plaintext facts about the record)."""
    row = detail.row
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    grid.add_row("Domain", row.domain)
    grid.add_row("Origin", row.origin)
    grid.add_row("Releasable to", ", ".join(row.releasable_to) or "— (not releasable outside the origin)")
    grid.add_row("Author", row.author)
    grid.add_row("Created", when(row.created_at))
    grid.add_row("Updated", when(row.updated_at))
    grid.add_row("Revision", str(row.revision))
    return grid


def ledger_renderable(detail: RecordDetail, ledger: Sequence[LedgerEntry] = ()) -> RenderableType:
    """Who the record is for, each bundle it went out (or came in) with and when it was acknowledged, and its workflow steps."""
    row = detail.row
    parties = Table.grid(padding=(0, 2))
    parties.add_column(no_wrap=True, style="bold")
    parties.add_column()
    parties.add_row(row.origin, "origin")
    for code in row.releasable_to:
        sent = [e for e in ledger if e.direction == "out" and e.peer == code]
        if not sent:
            parties.add_row(code, Text("releasable · not sent yet", style="dim"))
        for entry in sent:
            acknowledged = (
                f"acknowledged {when(entry.acknowledged_at)}" if entry.acknowledged_at else "not acknowledged yet"
            )
            parties.add_row(
                code,
                f"sent {when(entry.at)} (revision {entry.revision}, bundle {entry.bundle_id[:8]}) · {acknowledged}",
            )
    for entry in ledger:
        if entry.direction == "in":
            parties.add_row(
                entry.peer, f"received {when(entry.at)} (revision {entry.revision}, bundle {entry.bundle_id[:8]})"
            )
        elif entry.peer not in row.releasable_to:
            parties.add_row(
                entry.peer, f"sent {when(entry.at)} (revision {entry.revision}) · no longer releasable to it"
            )
    steps = Table.grid(padding=(0, 2))
    steps.add_column(min_width=16)
    steps.add_column(style="bold")
    steps.add_column()
    steps.add_column()
    steps.add_row(Text(when(row.created_at), style="dim"), "created", row.author, "")
    for step in detail.reviews:
        steps.add_row(Text(when(step.at), style="dim"), step.action, step.officer, Text(step.comment))
    return Group(parties, Text(""), steps)


def revisions_table(detail: RecordDetail) -> Table:
    """Every revision, newest first."""
    table = Table(box=None, padding=(0, 1), show_edge=False, header_style="bold")
    for name in ("#", "When", "Officer", "TLP", "To", "Title"):
        table.add_column(name, no_wrap=name != "Title")
    for rev in reversed(detail.revisions):
        table.add_row(
            str(rev.number),
            when(rev.created_at),
            rev.officer,
            tlp_text(rev.tlp),
            ", ".join(rev.releasable_to) or "—",
            Text(rev.title),
        )
    return table


class RecordView(VerticalScroll, can_focus=True, inherit_bindings=False):
    """A decrypted record; `show()` fills it, `forget()` empties it (on lock)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "down,j",
            "scroll_down",
            "Scroll down",
            show=False,
            tooltip="Scroll the record down a line.",
            id="record.down",
        ),
        Binding("up,k", "scroll_up", "Scroll up", show=False, tooltip="Scroll the record up a line.", id="record.up"),
        Binding(
            "pagedown,space",
            "page_down",
            "Page down",
            show=False,
            tooltip="Scroll the record down a screenful.",
            id="record.page_down",
        ),
        Binding(
            "pageup", "page_up", "Page up", show=False, tooltip="Scroll the record up a screenful.", id="record.page_up"
        ),
        Binding("home,g", "scroll_home", "Top", show=False, tooltip="Back to the top of the record.", id="record.top"),
        Binding(
            "end,G",
            "scroll_end",
            "Bottom",
            show=False,
            tooltip="The end of the record (revisions).",
            id="record.bottom",
        ),
    ]

    DEFAULT_CSS = """
    RecordView {
        padding: 0 1;
        & > .section { margin-top: 1; color: $text-accent; text-style: bold; }
        & > #record-header { margin-bottom: 1; }
        & > Markdown { margin: 0; padding: 0; background: $surface; }
    }
    """

    def compose(self) -> ComposeResult:
        yield Static(id="record-header", markup=False)
        yield Static(id="record-facts", markup=False)
        yield Static("Summary", classes="section")
        yield Markdown(id="record-summary", open_links=False)
        yield Static("Source", classes="section")
        yield Static(id="record-source", markup=False)
        yield Static("Notes", classes="section")
        yield Static(id="record-notes", markup=False)
        yield Static("Sharing ledger", classes="section")
        yield Static(id="record-ledger", markup=False)
        yield Static("Revisions", classes="section")
        yield Static(id="record-revisions", markup=False)

    async def show(self, detail: RecordDetail, ledger: Sequence[LedgerEntry] = ()) -> None:
        """Draw `detail` and the bundles it travelled in."""
        self.query_one("#record-header", Static).update(header_text(detail))
        self.query_one("#record-facts", Static).update(facts_table(detail))
        await self.query_one("#record-summary", Markdown).update(detail.summary or "*(no summary)*")
        self.query_one("#record-source", Static).update(Text(detail.source or "—"))
        self.query_one("#record-notes", Static).update(Text(detail.notes or "—"))
        self.query_one("#record-ledger", Static).update(ledger_renderable(detail, ledger))
        self.query_one("#record-revisions", Static).update(revisions_table(detail))

    async def forget(self) -> None:
        """Remove every decrypted word from the screen."""
        for static_id in (
            "#record-header",
            "#record-facts",
            "#record-source",
            "#record-notes",
            "#record-ledger",
            "#record-revisions",
        ):
            self.query_one(static_id, Static).update("")
        await self.query_one("#record-summary", Markdown).update("")
