"""`liaison demo --no-tui --store PATH`: a fictional store with at least 300 records across every domain, TLP and
status, both ministries as origin, several officers and a real review queue for `demo` (passphrase `demo`)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from store.files import SQLITE_MAGIC
from store.vocab import SEED_DOMAINS, Status, Tlp
from tests.liaison_helpers import LiaisonStore, assert_refused, directory_snapshot, run_cli

DEMO = {"LIAISON_PASSPHRASE": "demo"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[LiaisonStore, str, list[dict]]:
    path = tmp_path_factory.mktemp("demo") / "pk-moi.db"
    result = run_cli("demo", "--no-tui", "--store", str(path))
    assert result.code == 0, result
    store = LiaisonStore(path)
    rows = run_cli("--store", str(path), "--officer", "demo", "list", "--json", env=DEMO)
    assert rows.code == 0, rows
    return store, result.err, rows.json()


def test_demo_prints_the_officer_and_passphrase(demo) -> None:
    _, err, _ = demo
    assert "officer demo, passphrase demo" in err
    assert "Traceback" not in err


def test_demo_has_at_least_300_records_covering_every_tag(demo) -> None:
    _, _, rows = demo
    assert len(rows) >= 300
    assert {r["domain"] for r in rows} == set(SEED_DOMAINS)
    assert {r["tlp"] for r in rows} == {t.value for t in Tlp}
    assert {r["status"] for r in rows} == {s.value for s in Status}
    origins = Counter(r["origin"] for r in rows)
    assert origins["PK-MOI"] > 0 and origins["TR-MOI"] > 0
    assert len({r["reference"] for r in rows}) == len(rows)
    assert all(r["title"] for r in rows)


def test_demo_spans_about_18_months(demo) -> None:
    from datetime import datetime

    _, _, rows = demo
    times = sorted(datetime.fromisoformat(r["created_at"].replace("Z", "+00:00")) for r in rows)
    assert (times[-1] - times[0]).days >= 365


def test_demo_officer_is_an_admin_among_several_officers(demo) -> None:
    store, _, _ = demo
    officers = {o["name"]: o["role"] for o in run_cli("--store", str(store.path), "officers", "list", "--json").json()}
    assert officers["demo"] == "admin"
    assert len(officers) >= 3
    assert {"officer", "reviewer"} <= set(officers.values())


def test_demo_has_a_review_queue_for_demo(demo) -> None:
    store, _, rows = demo
    queue = [r for r in rows if r["status"] == "in-review"]
    others = [r for r in queue if r["author"] != "demo"]
    assert others, "demo needs colleagues' records to review"
    ref = others[0]["reference"]
    approved = run_cli("--store", str(store.path), "--officer", "demo", "review", ref, "--approve", env=DEMO)
    assert approved.code == 0, approved
    shown = run_cli("--store", str(store.path), "--officer", "demo", "show", ref, "--json", env=DEMO).json()
    assert shown["status"] == "approved"
    assert shown["summary"] and shown["source"]


def test_demo_records_are_searchable(demo) -> None:
    store, _, rows = demo
    word = next(w for w in rows[0]["title"].split() if len(w) > 4)
    found = run_cli(
        "--store", str(store.path), "--officer", "demo", "list", "--json", "--search", word, env=DEMO
    ).json()
    assert rows[0]["reference"] in {r["reference"] for r in found}


def test_demo_records_option(tmp_path: Path) -> None:
    path = tmp_path / "small.db"
    result = run_cli("demo", "--no-tui", "--records", "40", "--store", str(path))
    assert result.code == 0, result
    rows = run_cli("--store", str(path), "--officer", "demo", "list", "--json", env=DEMO).json()
    assert len(rows) == 40
    assert_refused(
        run_cli("demo", "--no-tui", "--records", "-1", "--store", str(tmp_path / "neg.db")),
        "--records must not be negative",
    )


def test_demo_rebuilds_an_earlier_demo_store(tmp_path: Path) -> None:
    path = tmp_path / "pk-moi.db"
    assert run_cli("demo", "--no-tui", "--records", "20", "--store", str(path)).code == 0
    assert run_cli("demo", "--no-tui", "--records", "30", "--store", str(path)).code == 0
    rows = run_cli("--store", str(path), "--officer", "demo", "list", "--json", env=DEMO).json()
    assert len(rows) == 30


def test_a_rebuild_removes_what_the_earlier_demo_wrote_beside_it(tmp_path: Path) -> None:
    """`make demo-reset`: the bundles, STIX/MISP files, packs and receipts the app wrote by default beside the earlier
    demo go with it; anything else in the directory (and a SQLite file under one of those names) stays."""
    path = tmp_path / "pk-moi.db"
    assert run_cli("demo", "--no-tui", "--records", "20", "--store", str(path)).code == 0
    old = [
        "to-tr-moi-20261206-0300.bundle",
        "pk-moi-20261206-0300.stix.json",
        "pk-moi-20261206-0300.misp.json",
        "pack-2026-q3.md",
        "pack-2026-q3-to-tr-moi.bundle",
        "receipt-tr-moi-0123abcd.receipt",
    ]
    for name in [*old, "my-notes.md", "to-tr-moi.json"]:
        (tmp_path / name).write_text("left by the earlier demo", encoding="utf-8")
    (tmp_path / "to-az-moi-store.bundle").write_bytes(SQLITE_MAGIC + b"\0" * 100)
    assert run_cli("demo", "--no-tui", "--records", "20", "--store", str(path)).code == 0
    assert not [name for name in old if (tmp_path / name).exists()]
    assert (tmp_path / "my-notes.md").exists() and (tmp_path / "to-tr-moi.json").exists()
    assert (tmp_path / "to-az-moi-store.bundle").exists()


@pytest.mark.parametrize("kind", ["real store", "other file"])
def test_demo_refuses_to_replace_anything_that_is_not_a_demo(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "pk-moi.db"
    if kind == "real store":
        assert (
            run_cli(
                "--store",
                str(path),
                "init",
                "--ministry",
                "PK-MOI",
                "--officer",
                "alice",
                env={"LIAISON_PASSPHRASE": "long enough passphrase"},
            ).code
            == 0
        )
    else:
        path.write_text("not a demo", encoding="utf-8")
    before = directory_snapshot(tmp_path)
    result = run_cli("demo", "--no-tui", "--store", str(path))
    assert_refused(result, f"{path} exists and is not a demo store; refusing to replace it")
    assert directory_snapshot(tmp_path) == before
