"""The meeting pack: a Markdown brief a chair can take into the meeting.

Sections: the meeting; what was shared by domain and direction since the previous meeting; the
acknowledgements still outstanding (and the median days to acknowledge); the actions agreed at this
meeting, done since the previous one, overdue, and carried forward; the agenda. The numbers come from
`store.jwg.stats` (no decryption); action titles and agenda text are decrypted for the brief; record
titles appear only with `with_titles`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, select

from crypto.bundle.limits import MAX_TEXT
from store.errors import NotFound, PolicyError, ValidationError
from store.files import atomic_write_bytes, check_target
from store.jwg.quarter import Quarter
from store.models import BundleItem, BundleLog, Record

if TYPE_CHECKING:
    from store.bundles.export import ExportResult
    from store.jwg.actions import ActionInfo
    from store.service import Session


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell or list item: one line, no pipes, no markup that renders."""
    from store.text import visible

    flat = " ".join(visible(text).split())
    for ch in "\\|*_`[]<>#":
        flat = flat.replace(ch, "\\" + ch)
    return flat


def defused(markdown: str) -> str:
    """A counterpart's Markdown made inert under CommonMark and GFM alike: every `<`, `[`, `]`, `&` and `@` not
    already escaped gets a backslash, and so do a `.` between two letters or digits, a `:` before a `/` and the
    second `/` of `//`, so no link, image (a web beacon when the file is opened), autolink, bare-URL or `www.`
    link (GFM's linkify), e-mail link, entity (`&lt;`) or raw HTML renders; headings, lists, tables and emphasis
    stay as written, and a viewer shows every escaped character as itself. A character after an odd run of
    backslashes is escaped already."""
    out: list[str] = []
    slashes = 0
    last = len(markdown) - 1
    for i, ch in enumerate(markdown):
        if slashes % 2 == 0 and (
            ch in "<[]&@"
            or (ch == "." and 0 < i < last and markdown[i - 1].isalnum() and markdown[i + 1].isalnum())
            or (ch == ":" and i < last and markdown[i + 1] == "/")
            or (ch == "/" and i > 0 and markdown[i - 1] == "/")
        ):
            out.append("\\")
        out.append(ch)
        slashes = slashes + 1 if ch == "\\" else 0
    return "".join(out)


def _action_line(a: ActionInfo, *, when: str = "") -> str:
    officer = f", {_cell(a.officer)}" if a.officer else ""
    extra = f" — {when}" if when else ""
    return f"- **{a.id}** ({a.domain}; owner {a.owner}{officer}; due {a.due}): {_cell(a.title)}{extra}"


def meeting_pack(session: Session, quarter: str, *, with_titles: bool = False) -> str:
    """The brief for the meeting of `quarter`, as Markdown text."""
    m = session.meeting(quarter)
    q = Quarter.parse(m.quarter)
    earlier = [x for x in session.meetings() if Quarter.parse(x.quarter) < q]
    previous = earlier[-1] if earlier else None
    since = previous.day if previous is not None else q.previous().first_day
    today = session.clock().date()
    until = min(m.day, today) if m.day > today else m.day
    start = datetime(since.year, since.month, since.day, tzinfo=UTC)
    # the period covers its last day whole: it ends at the midnight (UTC) after `until`, exclusive
    after = until + timedelta(days=1)
    end = datetime(after.year, after.month, after.day, tzinfo=UTC)
    stats = session.desk_stats(since=start, until=end)
    # an item edited outside Liaison (it differs from its signed event, Threat 25) is left out of the brief
    all_actions = session.actions()
    actions = [a for a in all_actions if a.damaged is None]
    left_out = [a.id for a in all_actions if a.damaged is not None]
    left_out += [f"agenda item {i.id}" for i in m.agenda if i.damaged is not None]
    out: list[str] = []
    add = out.append
    add(f"# Joint Working Group — brief for the meeting of {m.quarter}")
    add("")
    add(f"- **Date:** {m.day} ({'held' if m.status == 'held' else 'planned'})")
    add(f"- **Venue:** {_cell(m.venue)}")
    add(f"- **Host:** {m.host}")
    add(f"- **Prepared by:** {session.ministry} ({_cell(session.actor.name)}) on {today}")
    prev = f"the previous meeting ({previous.quarter}, {previous.day})" if previous else f"{since} (no earlier meeting)"
    add(f"- **Period covered:** from {prev} to {until}")
    add("")

    add(f"## Shared since {'the previous meeting' if previous else since}")
    add("")
    if stats.shares:
        add("| Domain | Counterpart | Sent | Received |")
        add("| --- | --- | ---: | ---: |")
        keys = sorted({(d, c) for d, _w, c in stats.shares})
        for d, c in keys:
            add(f"| {d} | {c} | {stats.shares.get((d, 'sent', c), 0)} | {stats.shares.get((d, 'received', c), 0)} |")
        add(f"| **Total** | | **{stats.shared('sent')}** | **{stats.shared('received')}** |")
    else:
        add("Nothing was shared in this period.")
    add("")
    if with_titles:
        add("### Records shared in the period")
        add("")
        lines = _shared_titles(session, start, end)
        out.extend(lines or ["None."])
        add("")

    add("## Acknowledgements outstanding")
    add("")
    if stats.unacknowledged:
        add("| Domain | Counterpart | Records not yet acknowledged |")
        add("| --- | --- | ---: |")
        for (d, c), n in sorted(stats.unacknowledged.items()):
            add(f"| {d} | {c} | {n} |")
    else:
        add("No record sent awaits acknowledgement.")
    recent = [(qq, v) for qq, v in stats.median_ack_days.items() if Quarter.parse(qq) <= q][-4:]
    if recent:
        add("")
        add("Median days from shared to acknowledged: " + "; ".join(f"{qq}: {v:g}" for qq, v in recent) + ".")
    add("")

    add("## Actions")
    add("")
    agreed = [a for a in actions if a.meeting == m.quarter]
    done = [
        a for a in actions if a.status == "done" and a.status_at is not None and since <= a.status_at.date() <= until
    ]
    overdue = [a for a in actions if a.overdue]
    carried = [a for a in m.carried if a.damaged is None]
    for title, items, note in (
        (f"Agreed at this meeting ({len(agreed)})", agreed, None),
        (f"Done since the previous meeting ({len(done)})", done, "done"),
        (f"Overdue ({len(overdue)})", overdue, "overdue"),
        (f"Carried forward from earlier meetings ({len(carried)})", carried, "carried"),
    ):
        add(f"### {title}")
        add("")
        if not items:
            add("None.")
        for a in items:
            when = ""
            if note == "done" and a.status_at is not None:
                when = f"done {a.status_at.date()}" + (f" ({_cell(a.note)})" if a.note else "")
            elif note == "overdue":
                when = f"{(today - a.due).days} days overdue"
            elif note == "carried":
                when = f"agreed {a.meeting}, {a.status}"
            elif a.status != "open":
                when = a.status
            add(_action_line(a, when=when))
        add("")
    owners: dict[str, int] = {}
    for a in overdue:
        owners[a.owner] = owners.get(a.owner, 0) + 1
    if owners:
        add("Overdue by owner: " + ", ".join(f"{o} {n}" for o, n in sorted(owners.items())) + ".")
        add("")

    add("## Agenda")
    add("")
    if not m.agenda and not carried:
        add("Nothing on the agenda yet.")
    by_domain: dict[str, list[str]] = {}
    for i in m.agenda:
        if i.damaged is not None:
            continue
        tag = {"information": "Information", "decision": "Decision", "action": "Action"}[i.outcome]
        ref = f" ({i.action})" if i.action else ""
        by_domain.setdefault(i.domain, []).append(f"- {tag}{ref}: {_cell(i.text)}")
    for a in carried:
        by_domain.setdefault(a.domain, []).append(f"- Carried forward ({a.id}, owner {a.owner}): {_cell(a.title)}")
    for domain in sorted(by_domain):
        add(f"### {domain}")
        add("")
        out.extend(by_domain[domain])
        add("")
    if m.minutes:
        add("## Minutes")
        add("")
        out.extend(_cell(line) for line in m.minutes.splitlines())
        add("")
    if left_out:
        add("## Left out")
        add("")
        add(
            f"Left out because they differ from the signed audit log (edited outside Liaison; "
            f"`liaison audit verify` says how): {', '.join(sorted(set(left_out)))}."
        )
        add("")
    return "\n".join(out).rstrip() + "\n"


def _shared_titles(session: Session, start: datetime, end: datetime) -> list[str]:
    """`- REF (domain, sent to/received from X): title` for every ledger row in [start, end) (`end`: the midnight
    after the period's last day)."""
    lines: list[str] = []
    with session.act("pack-titles", "jwg", mutates=False) as s:
        rows = s.execute(
            select(BundleLog.direction, BundleLog.peer, Record.reference, Record.domain, Record.title_ct)
            .join(BundleItem, BundleItem.bundle_id == BundleLog.bundle_id)
            .join(Record, and_(Record.id == BundleItem.record_id))
            .where(BundleLog.at >= start, BundleLog.at < end)
            .order_by(Record.domain, Record.reference)
        ).all()
        for direction, peer, ref, domain, title_ct in rows:
            way = f"sent to {peer}" if direction == "out" else f"received from {peer}"
            lines.append(f"- {ref} ({domain}, {way}): {_cell(session.open_text(title_ct, ref))}")
    return lines


def write_pack(
    session: Session,
    quarter: str,
    out: Path | str,
    *,
    with_titles: bool = False,
    overwrite: bool = False,
    pdf: bool = False,
) -> Path:
    """Write the pack to `out` atomically (never over a store, a database, or an existing file unasked):
    Markdown, or with `pdf` a PDF for printing (`store.jwg.pack_pdf`, which needs the DejaVu Sans font)."""
    target = check_target(Path(out), overwrite=overwrite, protect=(session.db.path,))
    if pdf:
        from store.jwg.pack_pdf import find_fonts, render_pdf

        fonts = find_fonts()  # refused before any work when the font is missing
        text = meeting_pack(session, quarter, with_titles=with_titles)
        q = Quarter.parse(quarter)
        title = f"Joint Working Group: brief for the meeting of {q}"
        data = render_pdf(text, title=title, author=session.ministry, created=session.clock(), fonts=fonts)
    else:
        data = meeting_pack(session, quarter, with_titles=with_titles).encode("utf-8")
    atomic_write_bytes(target, data, overwrite=overwrite, protect=(session.db.path,))
    return target


def seal_pack(
    session: Session,
    quarter: str,
    recipient: str,
    out: Path | str,
    *,
    with_titles: bool = False,
    overwrite: bool = False,
) -> ExportResult:
    """Seal the pack for `recipient` (a party to the working group) into a bundle at `out`: the bundle machinery of
    `liaison export` (signed, sealed to the contact's key), carrying the pack and the desk entries the recipient
    does not hold yet, and no record. The recipient's import keeps it for `meetings pack Q --from ORIGIN`."""
    from store.bundles import export_bundle
    from store.jwg.meetings import check_host
    from store.jwg.sync import desk_parties, pack_entry

    q = Quarter.parse(quarter)
    with session.db.read() as s:
        code = check_host(s, recipient, field="recipient")
        parties = desk_parties(s)
    if code == session.ministry:
        raise ValidationError(
            f"{code} is this store's own ministry: seal the pack to the counterpart", field="recipient"
        )
    if code not in parties:
        others = ", ".join(sorted(parties - {session.ministry})) or "none yet"
        raise PolicyError(
            f"{code} is not a party to the working group (its parties here: {others}); the pack goes to a party only"
        )
    text = meeting_pack(session, str(q), with_titles=with_titles)
    if len(text) > MAX_TEXT:
        hint = ": write it without --with-titles" if with_titles else ""
        raise ValidationError(f"the pack is longer than {MAX_TEXT:,} characters, the most a bundle carries{hint}")
    entry = pack_entry(session, str(q), text, with_titles=with_titles)
    return export_bundle(session, code, Path(out), records=False, entries=[entry], overwrite=overwrite)


def received_pack(session: Session, quarter: str, origin: str) -> tuple[str, Any]:
    """The newest pack for `quarter` received from `origin`: (text, its row), or NotFound."""
    from store.jwg.models import Pack

    q = Quarter.parse(quarter)
    with session.act("pack-read", str(q), mutates=False) as s:
        row = s.execute(
            select(Pack)
            .where(Pack.quarter == str(q), Pack.origin == origin.strip().upper())
            .order_by(Pack.received_at.desc(), Pack.id.desc())
            .limit(1)
        ).scalar_one_or_none()
        if row is None:
            raise NotFound(
                f"no meeting pack for {q} received from {origin.strip().upper()}", field="from", value=origin
            )
        return session.open_text(row.text_ct, str(q)), row


def write_received_pack(
    session: Session, quarter: str, origin: str, out: Path | str, *, overwrite: bool = False, pdf: bool = False
) -> Path:
    """Write the pack received from `origin` for `quarter` (Markdown, or a PDF) atomically to `out`. The Markdown
    is written inert (`defused`): the counterpart wrote it, so no link, image or HTML of theirs renders."""
    target = check_target(Path(out), overwrite=overwrite, protect=(session.db.path,))
    text, row = received_pack(session, quarter, origin)
    if pdf:
        from store.jwg.pack_pdf import find_fonts, render_pdf

        title = f"Joint Working Group: brief for the meeting of {row.quarter} (from {row.origin})"
        data = render_pdf(text, title=title, author=row.origin, created=row.prepared_at, fonts=find_fonts())
    else:
        data = defused(text).encode("utf-8")
    atomic_write_bytes(target, data, overwrite=overwrite, protect=(session.db.path,))
    return target
