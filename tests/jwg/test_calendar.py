"""ICS export: parsed back with icalendar; titles only when asked; no file replaced unasked."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from icalendar import Calendar

from tests.liaison_helpers import LiaisonStore, assert_refused


def _fill(store: LiaisonStore) -> str:
    store.ok(
        "meetings",
        "add",
        "--quarter",
        "2026-Q4",
        "--date",
        "2026-11-30",
        "--venue",
        "Ankara Secret Venue",
        "--host",
        "TR-MOI",
    )
    return store.ok(
        "actions",
        "add",
        "--title",
        "Quietly watch the ferry",
        "--domain",
        "narcotics",
        "--owner",
        "PK-MOI",
        "--due",
        "2026-12-15",
        "--meeting",
        "2026-Q4",
    ).out.strip()


def test_ics_parsed_back(store: LiaisonStore, tmp_path: Path) -> None:
    code = _fill(store)
    store.ok("actions", "export", "--ics", str(tmp_path / "a.ics"))
    store.ok("meetings", "export", "--ics", str(tmp_path / "m.ics"))
    raw = (tmp_path / "a.ics").read_bytes() + (tmp_path / "m.ics").read_bytes()
    assert b"Quietly" not in raw and b"Secret" not in raw
    todos = Calendar.from_ical((tmp_path / "a.ics").read_bytes()).walk("VTODO")
    assert len(todos) == 1
    assert todos[0].decoded("due") == date(2026, 12, 15)
    assert str(todos[0]["status"]) == "NEEDS-ACTION" and code in str(todos[0]["summary"])
    events = Calendar.from_ical((tmp_path / "m.ics").read_bytes()).walk("VEVENT")
    assert [e.decoded("dtstart") for e in events] == [date(2026, 11, 30)]
    assert "2026-Q4" in str(events[0]["summary"])

    store.ok("actions", "done", code)
    store.ok("actions", "export", "--ics", str(tmp_path / "t.ics"), "--with-titles")
    store.ok("meetings", "export", "--ics", str(tmp_path / "mt.ics"), "--with-titles")
    todo = Calendar.from_ical((tmp_path / "t.ics").read_bytes()).walk("VTODO")[0]
    assert "Quietly watch the ferry" in str(todo["summary"]) and str(todo["status"]) == "COMPLETED"
    assert (
        str(Calendar.from_ical((tmp_path / "mt.ics").read_bytes()).walk("VEVENT")[0]["location"])
        == "Ankara Secret Venue"
    )


def test_ics_never_replaces_a_file_unasked(store: LiaisonStore, tmp_path: Path) -> None:
    _fill(store)
    target = tmp_path / "a.ics"
    target.write_text("keep me")
    result = store.cli("actions", "export", "--ics", str(target))
    assert_refused(result, "already exists", exact=False)
    assert target.read_text() == "keep me"
    assert_refused(store.cli("meetings", "export", "--ics", str(store.path), "--force"), "", exact=False)
    store.ok("actions", "export", "--ics", str(target), "--force")
    assert target.read_bytes().startswith(b"BEGIN:VCALENDAR")
