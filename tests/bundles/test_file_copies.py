"""A STIX or MISP file exported by a record's origin, imported beside that origin's bundles (Threat 24): the
file never adds a second copy of a record held from its origin, and a copy it made before the origin's record
arrived is withdrawn with it. Two real stores driven through the CLI: PK-MOI writes, TR-MOI receives."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bundles.conftest import Pair

FORMATS = ["misp", "stix"]


def _bundle(pair: Pair, name: str) -> None:
    """PK-MOI sends TR-MOI what is due (records, withdrawal notices); TR-MOI imports it."""
    pair.pk.ok("export", "--to", "TR-MOI", "--out", str(pair.path(name)))
    pair.tr.ok("import", str(pair.path(name)))


def _file(pair: Pair, fmt: str, name: str, ref: str) -> Path:
    """The origin's own STIX bundle or MISP event holding one record (GREEN: under the default ceiling)."""
    path = pair.path(name)
    pair.pk.ok(fmt, "export", "--out", str(path), ref)
    return path


def _copies(pair: Pair, title: str) -> list[dict[str, object]]:
    return [r for r in pair.tr.list_json() if r["title"] == title]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_file_never_duplicates_a_record_held_from_its_origin(pair: Pair, fmt: str) -> None:
    """Threat 24: TR-MOI holds PK-MOI's GREEN record from PK-MOI's bundle; PK-MOI's own MISP event (or STIX
    bundle) of it is skipped with the reason, not written again under a local-only reference; the origin's
    withdrawal then leaves no copy of it unwithdrawn."""
    ref = pair.refs["green_shared"]
    title = pair.pk.show(ref)["title"]
    _bundle(pair, "1.bundle")
    before = pair.tr.list_json()

    path = _file(pair, fmt, f"event.{fmt}.json", ref)
    dry = pair.tr.ok(fmt, "import", str(path), "--dry-run")
    assert f"1 skipped: {ref} already held from its origin" in dry.err, dry.err
    result = pair.tr.ok(fmt, "import", str(path))
    assert "(0 new, 0 updated, 0 unchanged; 1 from PK-MOI)" in result.err, result.err
    assert f"; 1 skipped: {ref} already held from its origin" in result.err, result.err
    assert pair.tr.list_json() == before
    assert [r["reference"] for r in _copies(pair, title)] == [ref]

    pair.pk.ok("withdraw", ref, "--reason", "source recanted")
    _bundle(pair, "2.bundle")
    held = _copies(pair, title)
    assert [r["reference"] for r in held] == [ref]
    assert pair.tr.show(ref)["withdrawal"]["origin"] == "PK-MOI"
    # the file again, after the withdrawal: still nothing new
    again = pair.tr.ok(fmt, "import", str(path))
    assert f"1 skipped: {ref} already held from its origin" in again.err, again.err
    assert len(_copies(pair, title)) == 1


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_copy_made_before_the_origins_record_is_withdrawn_with_it(pair: Pair, fmt: str) -> None:
    """Threat 24: the file came first (a local-only copy), the origin's bundle second (its own record, beside
    the copy, which the summary names); the origin's withdrawal reaches both."""
    ref = pair.refs["green_shared"]
    title = pair.pk.show(ref)["title"]
    path = _file(pair, fmt, f"event.{fmt}.json", ref)
    pair.tr.ok(fmt, "import", str(path))
    (copy,) = _copies(pair, title)
    assert copy["reference"] != ref and str(copy["reference"]).startswith("PK-MOI-")

    pair.pk.ok("export", "--to", "TR-MOI", "--out", str(pair.path("1.bundle")))
    arrived = pair.tr.ok("import", str(pair.path("1.bundle")))
    assert f"{ref} also held as {copy['reference']} from a STIX/MISP import" in arrived.err, arrived.err

    pair.pk.ok("withdraw", ref, "--reason", "source recanted")
    pair.pk.ok("export", "--to", "TR-MOI", "--out", str(pair.path("2.bundle")))
    notice = pair.tr.ok("import", str(pair.path("2.bundle")))
    assert f"{ref} withdrawn with its copy {copy['reference']}" in notice.err, notice.err
    for held in _copies(pair, title):
        shown = pair.tr.show(str(held["reference"]))
        assert shown["withdrawal"] is not None, held["reference"]
        assert shown["withdrawal"]["origin"] == "PK-MOI"
    # withdrawn copies never leave: not in a bundle to PK-ANF, not in a STIX/MISP file
    out = pair.tr.cli(fmt, "export", "--out", str(pair.path("onward.json")), str(copy["reference"]))
    assert out.code == 1 and "withdrawn" in out.err, out
    pair.tr.ok("audit", "verify")
