"""What the records table draws in each cell, and the preview line under it: column widths for a table width, the
short statuses and their colours, the damaged and withdrawn marks (also used by the desk's lists)."""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len, set_cell_size
from rich.style import Style
from rich.text import Text

from store.records import RecordRow
from store.vocab import Status
from tui.widgets.plain import plain, safe
from tui.widgets.tlp import tlp_text

STATUS_COLOURS: dict[Status, str] = {
    Status.DRAFT: "#9E9E9E",
    Status.IN_REVIEW: "#5FAFFF",
    Status.RETURNED: "#FF87D7",
    Status.APPROVED: "#87D787",
    Status.SHARED: "#87D7AF",
    Status.ACKNOWLEDGED: "#87D7AF",
    Status.RECEIVED: "#D7AFFF",
    Status.ACTIONED: "#AFAFD7",
    Status.CLOSED: "#767676",
}


#: Statuses as the table shows them: short enough never to be cut (the preview line under the table spells them out).
STATUS_SHORT: dict[Status, str] = {
    Status.DRAFT: "draft",
    Status.IN_REVIEW: "review",
    Status.RETURNED: "returned",
    Status.APPROVED: "approved",
    Status.SHARED: "shared",
    Status.ACKNOWLEDGED: "acked",
    Status.RECEIVED: "received",
    Status.ACTIONED: "actioned",
    Status.CLOSED: "closed",
}
#: The narrowest title column the table accepts before it drops the date.
MIN_TITLE = 24


@dataclass(frozen=True)
class Columns:
    """Cell widths of each column for one table width; 0 hides a column (the preview line still shows it)."""

    reference: int = 17
    date: int = 10
    domain: int = 17
    route: int = 22
    tlp: int = 12
    status: int = 8
    title: int = 20

    @classmethod
    def fit(cls, width: int, reference: int = 0) -> Columns:
        """The title first: it keeps at least two fifths of the row; domain, then route, get what is left, else hide.

        Reference, TLP and status are never cut (statuses use their short forms); the reference column is as wide
        as `reference` (the widest reference drawn: a reference is an identifier, up to 30 characters) and the
        title gives way to it. The date goes only when even the title's minimum would not fit.
        """
        reference = max(cls.reference, reference)
        tlp, status = cls.tlp, cls.status
        date = cls.date
        min_title = max(MIN_TITLE, width * 2 // 5)
        fixed = reference + 1 + date + 1 + tlp + 1 + status + 1
        if width - fixed < MIN_TITLE:
            date = 0
            fixed -= cls.date + 1
        spare = width - fixed - min_title
        widths = {"domain": 0, "route": 0}
        for name, full, floor in (("domain", 17, 12), ("route", 22, 14)):
            if spare >= full + 1:
                widths[name] = full
            elif spare >= floor + 1:
                widths[name] = spare - 1
            spare -= widths[name] + 1 if widths[name] else 0
        title = max(1, width - fixed - sum(w + 1 for w in widths.values() if w))
        return cls(
            reference=reference, date=date, domain=widths["domain"], route=widths["route"], status=status, title=title
        )


def fit_text(text: str, width: int) -> str:
    """`text` cut with an ellipsis or padded to exactly `width` cells."""
    if width <= 0:
        return ""
    if cell_len(text) > width:
        return set_cell_size(text, width - 1) + "…"
    return set_cell_size(text, width)


#: Before the title of a record that differs from its signed history, in the error colour (the detail says why;
#: the legend is on the result line above the table).
DAMAGED_MARK = "✗ "

#: Before the title of a record its origin withdrew (the detail says who, when and why).
WITHDRAWN_MARK = "WITHDRAWN · "


DAMAGED_STYLE = Style(color="red", bold=True)


def withdrawn_mark(row: RecordRow) -> str:
    """`WITHDRAWN_MARK` for a record its origin withdrew, else nothing."""
    return WITHDRAWN_MARK if row.withdrawn else ""


def route_text(row: RecordRow) -> str:
    """Origin → recipients, as the table shows it (control characters drawn visibly)."""
    return safe(f"{row.origin}→{','.join(row.releasable_to) or '—'}")


def preview_text(row: RecordRow, damage: str | None) -> Text:
    """The two lines under the table: the highlighted record's reference, TLP, route, status and author, its title,
    and why it is damaged when it is."""
    return Text.assemble(
        plain(row.reference, "bold"),
        "  ",
        tlp_text(row.tlp, prefix=True),
        "  ",
        plain(f"{row.domain} · {route_text(row)} · {row.status.value} · by {row.author}"),
        "\n",
        plain(f"{DAMAGED_MARK}DAMAGED · ", "bold red") if damage else "",
        plain(row.title, "bold"),
        plain(f" · {damage}", "red") if damage else "",
    )
