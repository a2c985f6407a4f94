"""Counts and medians on a hand-made store (ledger dates set by hand), and the pack's content."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from store.jwg.quarter import Quarter
from tests.bundles.conftest import Pair
from tests.liaison_helpers import assert_refused


def _exchange(pair: Pair) -> None:
    """PK sends its releasable records to TR (receipt back), TR sends its two to PK; then set the ledger's dates."""
    bundle, receipt = pair.path("pk.bundle"), pair.path("tr.receipt")
    pair.pk.ok("export", "--to", "TR-MOI", "--out", str(bundle))
    pair.tr.ok("import", str(bundle), "--receipt-out", str(receipt))
    pair.pk.ok("import", str(receipt))
    back = pair.path("tr.bundle")
    pair.tr.ok("export", "--to", "PK-MOI", "--out", str(back))
    pair.pk.ok("import", str(back))
    # hand-made ledger: PK's outbound bundle went on 2026-07-10; acknowledgements after 2, 4 and 9 days;
    # the inbound bundle arrived on 2026-08-01
    pk = pair.pk
    pk.sql("UPDATE bundles SET at='2026-07-10 00:00:00.000000' WHERE direction='out'")
    pk.sql("UPDATE bundles SET at='2026-08-01 00:00:00.000000' WHERE direction='in'")
    items = [r[0] for r in pk.sql(
        "SELECT i.record_uuid FROM bundle_items i JOIN bundles b ON b.bundle_id=i.bundle_id WHERE b.direction='out' ORDER BY i.reference"
    )]  # fmt: skip
    assert len(items) >= 4
    pk.sql("UPDATE bundle_items SET acknowledged_at=NULL")
    for uuid, day in zip(items[:3], ("2026-07-12", "2026-07-14", "2026-07-19"), strict=True):
        pk.sql("UPDATE bundle_items SET acknowledged_at=? WHERE record_uuid=?", (f"{day} 00:00:00.000000", uuid))


def test_counts_and_medians_without_decryption(pair: Pair) -> None:
    _exchange(pair)
    session = pair.pk.session()
    try:
        session.keyring.decrypt = None  # the statistics decrypt nothing: any decryption would fail
        stats = session.desk_stats(today=__import__("datetime").date(2026, 11, 1))
        sent = sum(n for (_d, way, _c), n in stats.shares.items() if way == "sent")
        received = sum(n for (_d, way, _c), n in stats.shares.items() if way == "received")
        assert received == 2 and sent == len(
            pair.pk.sql(
                "SELECT 1 FROM bundle_items i JOIN bundles b ON b.bundle_id=i.bundle_id WHERE b.direction='out'"
            )
        )
        assert stats.shares_by_quarter[("2026-Q3", "sent")] == sent
        assert stats.shares_by_quarter[("2026-Q3", "received")] == 2
        assert sum(stats.unacknowledged.values()) == sent - 3
        assert stats.median_ack_days == {"2026-Q3": 4.0}
    finally:
        session.vault.close()


def test_the_pack_reads_like_a_brief(pair: Pair, tmp_path: Path) -> None:
    _exchange(pair)
    pk = pair.pk
    pk.ok("meetings", "add", "--quarter", "2026-Q2", "--date", "2026-06-20", "--venue", "Islamabad", "--host", "PK-MOI")
    pk.ok("meetings", "add", "--quarter", "2026-Q3", "--date", "2026-09-20", "--venue", "Ankara", "--host", "TR-MOI")
    old = pk.ok(
        "actions",
        "add",
        "--title",
        "Map the Balkan route",
        "--domain",
        "narcotics",
        "--owner",
        "PK-MOI",
        "--due",
        "2026-07-30",
        "--meeting",
        "2026-Q2",
    ).out.strip()
    new = pk.ok(
        "actions",
        "add",
        "--title",
        "Joint port visit",
        "--domain",
        "narcotics",
        "--owner",
        "TR-MOI",
        "--due",
        "2026-12-30",
        "--meeting",
        "2026-Q3",
    ).out.strip()
    out = tmp_path / "brief.md"
    pk.ok("meetings", "pack", "2026-Q3", "--out", str(out))
    text = out.read_text()
    assert text.startswith("# Joint Working Group — brief for the meeting of 2026-Q3\n")
    assert "from the previous meeting (2026-Q2, 2026-06-20) to 2026-09-20" in text
    assert "| narcotics | TR-MOI |" in text and "| **Total** |" in text
    assert "## Acknowledgements outstanding" in text and "Median days from shared to acknowledged: 2026-Q3: 4." in text
    agreed = text.split("### Agreed at this meeting (1)")[1].split("###")[0]
    assert new in agreed and "Joint port visit" in agreed
    carried = text.split("### Carried forward from earlier meetings (1)")[1].split("##")[0]
    assert old in carried and "agreed 2026-Q2, open" in carried
    assert f"**{old}**" in text.split("### Overdue (1)")[1]
    assert "Zanzibarite" not in text  # no record titles without --with-titles
    titled = tmp_path / "titled.md"
    pk.ok("meetings", "pack", "2026-Q3", "--out", str(titled), "--with-titles")
    assert "Zanzibarite heroin route 1" in titled.read_text() and "Quokkaville ferry manifest" in titled.read_text()
    assert_refused(pk.cli("meetings", "pack", "2026-Q3", "--out", str(out)), "already exists", exact=False)
    assert_refused(
        pk.cli("meetings", "pack", "1999-Q9", "--out", str(tmp_path / "x.md")),
        "quarter '1999-Q9' does not exist: quarters are Q1..Q4",
    )
    assert not (tmp_path / "x.md").exists()


def _has_fonts() -> bool:
    from store.errors import ValidationError
    from store.jwg.pack_pdf import find_fonts

    try:
        find_fonts()
    except ValidationError:
        return False
    return True


@pytest.mark.skipif(not _has_fonts(), reason="DejaVu Sans is not installed (fonts-dejavu-core)")
def test_the_pack_as_a_pdf_opens_and_says_what_the_markdown_says(pair: Pair, tmp_path: Path) -> None:
    """`--pdf` writes a real PDF (parsed back with pypdf): every heading, the venue in Turkish letters, the
    actions and the table's numbers; an existing file is refused unless --force, like every other writer."""
    from pypdf import PdfReader

    _exchange(pair)
    pk = pair.pk
    pk.ok("meetings", "add", "--quarter", "2026-Q3", "--date", "2026-09-20", "--venue", "İçişleri Bakanlığı, Ankara", "--host", "TR-MOI")  # fmt: skip
    action = pk.ok(
        "actions", "add", "--title", "Joint port visit | *urgent*", "--domain", "narcotics", "--owner", "TR-MOI",
        "--due", "2026-12-30", "--meeting", "2026-Q3",
    ).out.strip()  # fmt: skip
    md, pdf = tmp_path / "brief.md", tmp_path / "brief.pdf"
    pk.ok("meetings", "pack", "2026-Q3", "--out", str(md))
    done = pk.ok("meetings", "pack", "2026-Q3", "--out", str(pdf), "--pdf")
    assert "(PDF)" in done.err
    assert pdf.read_bytes().startswith(b"%PDF-")
    reader = PdfReader(pdf)
    assert (
        reader.metadata is not None and reader.metadata.title == "Joint Working Group: brief for the meeting of 2026-Q3"
    )
    text = " ".join(" ".join(page.extract_text().split()) for page in reader.pages)
    for line in md.read_text().splitlines():
        if line.startswith("#"):
            assert " ".join(line.lstrip("# ").split()) in text, line
    assert "İçişleri Bakanlığı, Ankara" in text
    assert f"{action} (narcotics; owner TR-MOI; due 2026-12-30): Joint port visit | *urgent*" in text  # unescaped
    assert "Total" in text and "\\" not in text and "**" not in text
    assert_refused(pk.cli("meetings", "pack", "2026-Q3", "--out", str(pdf), "--pdf"), "already exists", exact=False)
    pk.ok("meetings", "pack", "2026-Q3", "--out", str(pdf), "--pdf", "--force")
    assert PdfReader(pdf).pages


def test_pdf_without_its_font_is_refused(tmp_path: Path) -> None:
    from store.errors import ValidationError
    from store.jwg.pack_pdf import find_fonts

    with pytest.raises(ValidationError, match="fonts-dejavu-core"):
        find_fonts([tmp_path])


def _pack_totals(text: str) -> tuple[int, int]:
    """(sent, received) of the pack's Total row, or (0, 0) when it says nothing was shared."""
    for line in text.splitlines():
        if line.startswith("| **Total** |"):
            cells = [c.strip().strip("*") for c in line.strip("|").split("|")]
            return int(cells[2]), int(cells[3])
    assert "Nothing was shared in this period." in text
    return 0, 0


def test_the_pack_covers_the_last_day_of_its_period_whole(pair: Pair, tmp_path: Path) -> None:
    """A pack's period ends on the meeting's day (or today, for a meeting still ahead), and that day counts whole:
    records shared on it — at 00:00 and at 23:59 UTC — are in the pack's table and its titles, not only those of
    the days before. The day after the period is left out."""
    _exchange(pair)
    pk = pair.pk
    sent = len(pk.sql("SELECT 1 FROM bundle_items i JOIN bundles b ON b.bundle_id=i.bundle_id WHERE b.direction='out'"))
    pk.ok("meetings", "add", "--quarter", "2026-Q2", "--date", "2026-06-20", "--venue", "Islamabad", "--host", "PK-MOI")
    pk.ok("meetings", "add", "--quarter", "2026-Q3", "--date", "2026-09-20", "--venue", "Ankara", "--host", "TR-MOI")
    pk.sql("UPDATE bundles SET at='2026-09-20 00:00:00.000000' WHERE direction='out'")
    pk.sql("UPDATE bundles SET at='2026-09-20 23:59:59.000000' WHERE direction='in'")
    out = tmp_path / "last-day.md"
    pk.ok("meetings", "pack", "2026-Q3", "--out", str(out), "--with-titles")
    text = out.read_text()
    assert "to 2026-09-20" in text
    assert _pack_totals(text) == (sent, 2)
    assert "Quokkaville ferry manifest" in text and "Zanzibarite heroin route 1" in text
    # the day after the meeting is the next period's
    pk.sql("UPDATE bundles SET at='2026-09-21 00:00:00.000000' WHERE direction='in'")
    after = tmp_path / "day-after.md"
    pk.ok("meetings", "pack", "2026-Q3", "--out", str(after))
    assert _pack_totals(after.read_text()) == (sent, 0)
    # a meeting still ahead: the period runs to today, and today counts whole (also its last minute)
    session = pk.session()
    try:
        today = session.clock().date()
    finally:
        session.vault.close()
    nxt = Quarter.of(today).next()
    pk.ok("meetings", "add", "--quarter", str(nxt), "--date", str(nxt.first_day + timedelta(days=20)), "--venue", "Ankara", "--host", "TR-MOI")  # fmt: skip
    pk.sql("UPDATE bundles SET at=? WHERE direction='in'", (f"{today} 23:59:00.000000",))
    pk.sql("UPDATE bundles SET at=? WHERE direction='out'", (f"{today} 00:00:00.000000",))
    ahead = tmp_path / "ahead.md"
    pk.ok("meetings", "pack", str(nxt), "--out", str(ahead))
    text = ahead.read_text()
    assert f"to {today}" in text
    assert _pack_totals(text) == (sent, 2)
