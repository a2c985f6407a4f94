"""One record, decrypted: header, tags and releasability, the summary as Markdown, source, ledger and revisions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from markdown_it import MarkdownIt
from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Markdown, Static

from store.bundles import LedgerEntry
from store.records import RecordDetail
from store.text import visible
from tui.widgets.plain import plain, safe
from tui.widgets.record_cells import STATUS_COLOURS
from tui.widgets.tlp import tlp_text

if TYPE_CHECKING:
    from store.audit.history import AuditEntry
    from store.history import ActivityEvent
    from store.withdrawals import WithdrawalInfo


def when(moment: datetime) -> str:
    """A timestamp as the officer reads it (UTC, to the minute)."""
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def summary_parser() -> MarkdownIt:
    """Markdown without raw HTML, links, autolinks or images: a summary is shown, never followed or fetched."""
    return MarkdownIt("commonmark").enable("table").disable(["html_block", "html_inline", "link", "image", "autolink"])


def header_text(detail: RecordDetail) -> Text:
    """Reference, TLP label, status and title."""
    row = detail.row
    return Text.assemble(
        plain(row.reference, "bold"),
        "  ",
        tlp_text(row.tlp, prefix=True),
        "  ",
        (row.status.value, f"bold {STATUS_COLOURS.get(row.status, '')}".strip()),
        "\n",
        plain(row.title, "bold"),
    )


def facts_table(detail: RecordDetail) -> Table:
    """Tags and releasability (the plaintext facts about the record)."""
    row = detail.row
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    grid.add_row("Domain", plain(row.domain))
    grid.add_row("Origin", plain(row.origin))
    grid.add_row("Releasable to", plain(", ".join(row.releasable_to) or "— (not releasable outside the origin)"))
    grid.add_row("Author", plain(row.author))
    grid.add_row("Created", when(row.created_at))
    grid.add_row("Updated", when(row.updated_at))
    grid.add_row("Revision", str(row.revision))
    return grid


def ledger_renderable(
    detail: RecordDetail, ledger: Sequence[LedgerEntry] = (), own_ministry: str = ""
) -> RenderableType:
    """Who the record is for and each bundle it went out (or came in) with, and when it was acknowledged.

    The receiving ministry of an inbound record is not a party it could still be sent to, so it is not listed
    as "not sent yet": the bundle it came in with says how it got here.
    """
    row = detail.row
    parties = Table.grid(padding=(0, 2))
    parties.add_column(no_wrap=True, style="bold")
    parties.add_column()
    parties.add_row(
        plain(row.origin), "origin" if row.origin != own_ministry or not own_ministry else "origin (this ministry)"
    )
    for code in row.releasable_to:
        if code == own_ministry:
            continue
        sent = [e for e in ledger if e.direction == "out" and e.peer == code]
        if not sent:
            parties.add_row(plain(code), Text("releasable · not sent yet", style="dim"))
        for entry in sent:
            acknowledged = (
                f"acknowledged {when(entry.acknowledged_at)}" if entry.acknowledged_at else "not acknowledged yet"
            )
            parties.add_row(
                plain(code),
                plain(
                    f"sent {when(entry.at)} (revision {entry.revision}, bundle {entry.bundle_id[:8]}) · {acknowledged}"
                ),
            )
    for entry in ledger:
        if entry.direction == "in":
            received = f"received {when(entry.at)} (revision {entry.revision}, bundle {entry.bundle_id[:8]})"
            parties.add_row(plain(entry.peer), plain(received))
        elif entry.peer not in row.releasable_to:
            gone = f"sent {when(entry.at)} (revision {entry.revision}) · no longer releasable to it"
            parties.add_row(plain(entry.peer), plain(gone))
    return parties


def activity_rows(detail: RecordDetail, ledger: Sequence[LedgerEntry] = ()) -> list[tuple[datetime, str, str, str]]:
    """Everything that happened to the record, oldest first: created, each edit, workflow steps, bundles in and out."""
    row = detail.row
    events: list[tuple[datetime, str, str, str]] = []
    first = detail.revisions[0] if detail.revisions else None
    events.append(
        (first.created_at if first else row.created_at, "created", first.officer if first else row.author, "")
    )
    for rev in detail.revisions[1:]:
        events.append((rev.created_at, "edited", rev.officer, f"revision {rev.number}"))
    for step in detail.reviews:
        events.append((step.at, step.action, step.officer, step.comment))
    for entry in ledger:
        if entry.direction == "out":
            events.append((entry.at, "shared", entry.peer, f"revision {entry.revision}, bundle {entry.bundle_id[:8]}"))
            if entry.acknowledged_at is not None:
                events.append((entry.acknowledged_at, "acknowledged", entry.peer, f"bundle {entry.bundle_id[:8]}"))
        else:
            events.append(
                (entry.at, "received", entry.peer, f"revision {entry.revision}, bundle {entry.bundle_id[:8]}")
            )
    return sorted(events, key=lambda event: event[0])


def withdrawal_text(withdrawal: WithdrawalInfo) -> str:
    """The banner of a withdrawn record: who withdrew it, when and why (outside text made safe)."""
    reason = f": {withdrawal.reason}" if withdrawal.reason else ""
    return safe(
        f"WITHDRAWN by {withdrawal.origin} on {withdrawal.withdrawn_at:%Y-%m-%d}{reason}", multiline=True
    ).rstrip()


def event_rows(events: Sequence[ActivityEvent]) -> list[tuple[datetime, str, str, str]]:
    """The store's activity events (`Session.record_activity`) as rows: when, what, who, details."""
    rows: list[tuple[datetime, str, str, str]] = []
    for event in events:
        by_ministry = event.kind in ("received", "acknowledged", "withdrawal-sent") or (
            event.kind == "withdrawn" and event.counterpart
        )
        who = event.counterpart if by_ministry else event.officer
        if event.kind == "shared" and event.counterpart:
            who = f"{event.officer} → {event.counterpart}" if event.officer else event.counterpart
        details = []
        if event.revision is not None and event.kind not in ("created",):
            details.append(f"revision {event.revision}")
        if event.bundle_id:
            details.append(f"bundle {event.bundle_id[:8]}")
        if event.comment:
            details.append(event.comment)
        rows.append((event.at, event.kind, who or "", ", ".join(details)))
    return rows


def activity_table(
    detail: RecordDetail, ledger: Sequence[LedgerEntry] = (), events: Sequence[ActivityEvent] | None = None
) -> Table:
    """The record's activity list: when, what, who (officer or ministry), and any comment."""
    steps = Table.grid(padding=(0, 2))
    steps.add_column(min_width=16, no_wrap=True)
    steps.add_column(style="bold", no_wrap=True)
    steps.add_column(no_wrap=True)
    steps.add_column()
    rows = event_rows(events) if events is not None else activity_rows(detail, ledger)
    for at, action, who, comment in rows:
        steps.add_row(Text(when(at), style="dim"), plain(action), plain(who), plain(comment, multiline=True))
    return steps


def revisions_table(detail: RecordDetail) -> Table:
    """Every revision, newest first."""
    table = Table(box=None, padding=(0, 1), show_edge=False, header_style="bold")
    for name in ("#", "When", "Officer", "TLP", "To", "Title"):
        table.add_column(name, no_wrap=name != "Title")
    for rev in reversed(detail.revisions):
        table.add_row(
            str(rev.number),
            when(rev.created_at),
            plain(rev.officer),
            tlp_text(rev.tlp),
            plain(", ".join(rev.releasable_to) or "—"),
            plain(rev.title),
        )
    return table


def signed_history_table(history: Sequence[AuditEntry]) -> RenderableType:
    """The record's signed events, oldest first: number, when, officer, action, and the signing key's fingerprint."""
    if not history:
        return Text("no signed events (written before the signed log, or not held here)", style="dim")
    table = Table(box=None, padding=(0, 1), show_edge=False, header_style="bold")
    table.add_column("#", no_wrap=True)
    table.add_column("When", no_wrap=True)
    table.add_column("Officer", no_wrap=True, overflow="ellipsis", max_width=24)
    table.add_column("Action", no_wrap=True, overflow="ellipsis", max_width=24)
    table.add_column("Key", no_wrap=True, min_width=16)
    for entry in history:
        table.add_row(
            str(entry.seq), when(entry.at), plain(entry.officer), plain(entry.action), Text(entry.signer_fingerprint)
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
        & > #record-withdrawn { display: none; color: $text-error; background: $error-muted; text-style: bold; }
        & > #record-withdrawn.-shown { display: block; }
        & > Markdown { margin: 0; padding: 0; background: $surface; }
        &.-withheld > .content { display: none; }
        &.-no-history > .signed { display: none; }
    }
    """

    def compose(self) -> ComposeResult:
        yield Static(id="record-withdrawn", markup=False, classes="content")
        yield Static(id="record-header", markup=False, classes="content")
        yield Static(id="record-facts", markup=False, classes="content")
        yield Static("Summary", classes="section content")
        yield Markdown(id="record-summary", open_links=False, parser_factory=summary_parser, classes="content")
        yield Static("Source", classes="section content")
        yield Static(id="record-source", markup=False, classes="content")
        yield Static("Notes", classes="section content")
        yield Static(id="record-notes", markup=False, classes="content")
        yield Static("Sharing ledger", classes="section content")
        yield Static(id="record-ledger", markup=False, classes="content")
        yield Static("Activity", classes="section content")
        yield Static(id="record-activity", markup=False, classes="content")
        yield Static("Revisions", classes="section content")
        yield Static(id="record-revisions", markup=False, classes="content")
        yield Static("Signed history (audit log)", classes="section signed")
        yield Static(id="record-signed", markup=False, classes="signed")

    async def show(
        self,
        detail: RecordDetail,
        ledger: Sequence[LedgerEntry] = (),
        own_ministry: str = "",
        *,
        activity: Sequence[ActivityEvent] | None = None,
        withdrawal: WithdrawalInfo | None = None,
        history: Sequence[AuditEntry] | None = None,
    ) -> None:
        """Draw `detail`, the bundles it travelled in and its activity (`own_ministry` is the store's); a
        withdrawn record opens with a banner saying who withdrew it, when and why; `history` (its signed events)
        ends it, when given."""
        self.remove_class("-withheld")
        self.show_signed_history(history)
        banner = self.query_one("#record-withdrawn", Static)
        banner.update(withdrawal_text(withdrawal) if withdrawal is not None else "")
        banner.set_class(withdrawal is not None, "-shown")
        self.query_one("#record-header", Static).update(header_text(detail))
        self.query_one("#record-facts", Static).update(facts_table(detail))
        summary = visible(detail.summary, multiline=True)
        await self.query_one("#record-summary", Markdown).update(summary or "*(no summary)*")
        self.query_one("#record-source", Static).update(plain(detail.source or "—", multiline=True))
        self.query_one("#record-notes", Static).update(plain(detail.notes or "—", multiline=True))
        self.query_one("#record-ledger", Static).update(ledger_renderable(detail, ledger, own_ministry))
        self.query_one("#record-activity", Static).update(activity_table(detail, ledger, activity))
        self.query_one("#record-revisions", Static).update(revisions_table(detail))

    def show_signed_history(self, history: Sequence[AuditEntry] | None) -> None:
        """Draw the record's signed events (None: the section is not shown, as in the review pane)."""
        self.set_class(history is None, "-no-history")
        self.query_one("#record-signed", Static).update(signed_history_table(history or ()))

    def withhold(self, history: Sequence[AuditEntry]) -> None:
        """The store refused to show the record (damaged): only its signed history is drawn."""
        self.add_class("-withheld")
        self.show_signed_history(history)

    async def forget(self) -> None:
        """Remove every decrypted word from the screen."""
        self.query_one("#record-withdrawn", Static).remove_class("-shown")
        for static_id in (
            "#record-withdrawn",
            "#record-header",
            "#record-facts",
            "#record-source",
            "#record-notes",
            "#record-ledger",
            "#record-activity",
            "#record-revisions",
            "#record-signed",
        ):
            self.query_one(static_id, Static).update("")
        await self.query_one("#record-summary", Markdown).update("")
