"""The app's export wizard writes STIX and MISP files with the same live preview; the import screen detects them."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import stix2
from textual.widgets import DataTable, Select, Static

from store.interop.common import preview_export
from store.service import Session
from tests.interop.conftest import FIXTURES
from tests.liaison_helpers import store_fingerprint
from tests.tui.helpers import unlock
from tui.app import LiaisonApp
from tui.present import export_summary
from tui.screens.export import ExportScreen
from tui.screens.import_bundle import ImportScreen
from tui.widgets.status_line import StatusLine


async def settle(pilot: Any) -> None:
    """Wait for every worker to finish, except a DirectoryTree's loader, which runs as long as its tree is shown."""
    from textual.worker import WorkerCancelled, WorkerFailed

    app = pilot.app
    for _ in range(50):
        await pilot.pause()
        busy = [w for w in app.workers if w.is_running and w.name != "_loader"]
        if not busy:
            await pilot.pause()
            return
        for worker in busy:
            with contextlib.suppress(WorkerCancelled, WorkerFailed):
                await worker.wait()
    raise AssertionError("workers did not settle")


async def open_export(pilot: Any, app: LiaisonApp, fmt: str) -> ExportScreen:
    await unlock(pilot)
    await app.push_screen(ExportScreen())
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, ExportScreen)
    screen.query_one("#export-format", Select).value = fmt
    await settle(pilot)
    return screen


async def test_export_wizard_writes_a_stix_file_with_the_live_preview(
    make_app: Callable[..., LiaisonApp], reader: Session
) -> None:
    """STIX 2.1 file: no recipient asked, the preview is the store's selection (reasons included), ctrl+s writes it."""
    expected = preview_export(reader)
    assert expected.included and expected.excluded
    app = make_app()
    async with app.run_test(size=(140, 50)) as pilot:
        screen = await open_export(pilot, app, "stix")
        assert not screen.query_one("#export-to").display or not screen.query_one("#export-to").parent.display
        summary = str(screen.query_one("#export-summary", Static).content)
        assert summary == export_summary(expected)
        assert "TLP:RED (never leaves)" in summary
        table = screen.query_one("#export-preview", DataTable)
        assert table.row_count == min(500, len(expected.included) + expected.excluded_count)
        out = Path(screen.query_one("#export-out").value)
        assert out.name.endswith(".stix.json")
        await pilot.press("ctrl+s")
        await settle(pilot)
        result = str(screen.query_one("#export-result", Static).content)
        assert result.startswith(f"wrote {out}: STIX 2.1 with {len(expected.included)} records"), result
    bundle = stix2.parse(out.read_text())
    assert len([o for o in bundle.objects if o.type == "report"]) == len(expected.included)


async def test_export_wizard_amber_ceiling_and_misp(make_app: Callable[..., LiaisonApp], reader: Session) -> None:
    """MISP event with the AMBER ceiling: the preview follows the ceiling; the event holds one report per record."""
    expected = preview_export(reader, max_tlp="AMBER")
    app = make_app()
    async with app.run_test(size=(140, 50)) as pilot:
        screen = await open_export(pilot, app, "misp")
        screen.query_one("#export-max-tlp", Select).value = "AMBER"
        await settle(pilot)
        assert str(screen.query_one("#export-summary", Static).content) == export_summary(expected)
        out = Path(screen.query_one("#export-out").value)
        await pilot.press("ctrl+s")
        await settle(pilot)
    event = json.loads(out.read_text())["Event"]
    assert len(event["EventReport"]) == len(expected.included)


async def test_export_wizard_at_80x24_shows_the_format(make_app: Callable[..., LiaisonApp]) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_export(pilot, app, "stix")
        assert screen.query_one("#export-format", Select).region.height > 0
        assert screen.query_one("#export-max-tlp", Select).region.height > 0


async def test_import_screen_detects_stix_previews_then_imports(
    make_app: Callable[..., LiaisonApp], reader: Session, store_path: Path, tmp_path: Path
) -> None:
    """A STIX bundle typed as the path: a dry run's counts shown (nothing written); ctrl+s imports it."""
    fixture = tmp_path / "opencti_report.json"  # dated before the app's fixed clock
    fixture.write_text((FIXTURES / "opencti_report.json").read_text().replace('"2026-', '"2025-'))
    app = make_app()
    async with app.run_test(size=(140, 50)) as pilot:
        await unlock(pilot)
        await app.push_screen(ImportScreen())
        await settle(pilot)
        screen = app.screen
        screen.query_one("#import-path").focus()
        before = store_fingerprint(store_path)
        await pilot.press(*str(fixture), "enter")
        await settle(pilot)
        preview = str(screen.query_one("#import-preview", Static).content)
        assert "STIX 2.1 bundle opencti_report.json" in preview, str(screen.query_one("#import-result", Static).content)
        assert "would import opencti_report.json (STIX 2.1): 1 record (1 new" in preview
        assert store_fingerprint(store_path) == before
        await pilot.press("ctrl+s")
        await settle(pilot)
        result = str(screen.query_one("#import-result", Static).content)
        assert result.startswith("imported opencti_report.json (STIX 2.1): 1 record (1 new"), result
    received = [r for r in reader.list_records(limit=500) if r.origin == "PK-ANF"]
    assert [r.title for r in received] == ["Heroin consignment routed through Gwadar fishing fleet"]


async def test_import_screen_offers_the_tlp_of_an_unmarked_stix_file_inline(
    make_app: Callable[..., LiaisonApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(140, 50)) as pilot:
        await unlock(pilot)
        await app.push_screen(ImportScreen())
        await settle(pilot)
        screen = app.screen
        screen.query_one("#import-path").focus()
        await pilot.press(*str(FIXTURES / "missing_marking.json"), "enter")
        await settle(pilot)
        result = str(screen.query_one("#import-result", Static).content)
        assert "missing_marking.json:" in result
        assert "has no TLP marking" in result
        assert screen.query_one("#import-tlp-row").display
        assert screen.interop is None


def _cert_report(tmp_path: Path, *, labels: list[str]) -> Path:
    """A STIX bundle of a CERT whose identity is no known ministry, its report without a TLP marking."""
    bundle = {
        "type": "bundle",
        "id": "bundle--1f0e2d3c-4b5a-4968-8776-a5b4c3d2e1f0",
        "objects": [
            {
                "type": "identity",
                "spec_version": "2.1",
                "id": "identity--2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d",
                "created": "2025-01-01T00:00:00.000Z",
                "modified": "2025-01-01T00:00:00.000Z",
                "name": "National CERT",
                "identity_class": "organization",
            },
            {
                "type": "report",
                "spec_version": "2.1",
                "id": "report--3b4c5d6e-7f80-4a9b-8c1d-2e3f4a5b6c7d",
                "created": "2025-06-01T10:00:00.000Z",
                "modified": "2025-06-01T10:00:00.000Z",
                "name": "Phishing kit aimed at visa applicants",
                "description": "Kit hosted on look-alike domains.",
                "report_types": ["threat-report"],
                "published": "2025-06-01T10:00:00.000Z",
                "labels": labels,
                "created_by_ref": "identity--2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d",
                "object_refs": ["identity--2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d"],
            },
        ],
    }
    path = tmp_path / "cert_report.json"
    path.write_text(json.dumps(bundle))
    return path


async def _choose(pilot: Any, screen: ImportScreen, select_id: str, value: str) -> None:
    row = screen.query_one(f"#{select_id}-row")
    assert row.display and row.region.height == 1, f"{select_id} is not shown"
    screen.query_one(f"#{select_id}", Select).value = value
    await settle(pilot)


async def test_import_screen_asks_the_choices_a_cert_report_needs(
    make_app: Callable[..., LiaisonApp], reader: Session, store_path: Path, tmp_path: Path
) -> None:
    """Unknown CERT identity, no marking: at 80x24 the app offers TLP then ministry; the dry run re-runs; ctrl+s imports."""
    path = _cert_report(tmp_path, labels=["narcotics"])
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        await app.push_screen(ImportScreen())
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ImportScreen)
        before = store_fingerprint(store_path)
        screen.check(path)
        await settle(pilot)
        assert not screen.query_one("#import-as-row").display
        assert not screen.query_one("#import-domain-row").display
        result = str(screen.query_one("#import-result", Static).content)
        assert "has no TLP marking" in result, result
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert store_fingerprint(store_path) == before
        await _choose(pilot, screen, "import-tlp", "GREEN")
        result = str(screen.query_one("#import-result", Static).content)
        assert "which is no known ministry" in result, result
        assert "Choose “Received from (ministry)”" in str(screen.query_one("#import-preview", Static).content)
        await _choose(pilot, screen, "import-as", "PK-ANF")
        preview = str(screen.query_one("#import-preview", Static).content)
        assert "would import cert_report.json (STIX 2.1): 1 record (1 new" in preview, preview
        assert "1 from PK-ANF" in preview
        assert not screen.query_one("#import-domain-row").display
        assert store_fingerprint(store_path) == before
        await pilot.press("ctrl+s")
        await settle(pilot)
        result = str(screen.query_one("#import-result", Static).content)
        assert result.startswith("imported cert_report.json (STIX 2.1): 1 record (1 new"), result
    received = [r for r in reader.list_records(limit=500) if r.title == "Phishing kit aimed at visa applicants"]
    assert [(r.origin, str(r.tlp), r.status) for r in received] == [("PK-ANF", "GREEN", "received")]


async def test_import_screen_asks_the_domain_when_no_label_names_one(
    make_app: Callable[..., LiaisonApp], reader: Session, tmp_path: Path
) -> None:
    path = _cert_report(tmp_path, labels=["phishing"])
    app = make_app()
    async with app.run_test(size=(140, 50)) as pilot:
        await unlock(pilot)
        await app.push_screen(ImportScreen())
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ImportScreen)
        screen.check(path)
        await settle(pilot)
        await _choose(pilot, screen, "import-tlp", "AMBER")
        await _choose(pilot, screen, "import-as", "PK-ANF")
        result = str(screen.query_one("#import-result", Static).content)
        assert "no label naming a domain known here" in result, result
        await _choose(pilot, screen, "import-domain", "cybercrime")
        await pilot.press("ctrl+s")
        await settle(pilot)
        result = str(screen.query_one("#import-result", Static).content)
        assert result.startswith("imported cert_report.json"), result
    received = [r for r in reader.list_records(limit=500) if r.title == "Phishing kit aimed at visa applicants"]
    assert [(r.origin, str(r.tlp), r.domain) for r in received] == [("PK-ANF", "AMBER", "cybercrime")]


async def test_export_wizard_says_a_damaged_record_refuses_the_file_and_writes_nothing(
    make_app: Callable[..., LiaisonApp], store_path: Path, reader: Session
) -> None:
    """Threat 25: a record's TLP edited in the file (no keys) — the STIX preview says the export will be refused,
    naming the record, in the error colours; ctrl+s writes nothing and says why."""
    reference = preview_export(reader).included_refs[0]
    conn = sqlite3.connect(store_path)
    try:
        conn.execute(
            "UPDATE records SET tlp = CASE tlp WHEN 'CLEAR' THEN 'GREEN' ELSE 'CLEAR' END WHERE reference = ?",
            (reference,),
        )
        conn.commit()
    finally:
        conn.close()
    app = make_app()
    async with app.run_test(size=(140, 50)) as pilot:
        screen = await open_export(pilot, app, "stix")
        status = screen.query_one("#export-summary", StatusLine)
        summary = str(status.content)
        assert f"the export will be refused: 1 damaged record in the selection ({reference}: its TLP is" in summary
        assert status.error
        out = Path(screen.query_one("#export-out").value)
        await pilot.press("ctrl+s")
        await settle(pilot)
        result = str(screen.query_one("#export-result", Static).content)
        assert "export to a STIX file refused: 1 damaged record in the selection" in result, result
        assert reference in result
    assert not out.exists()
