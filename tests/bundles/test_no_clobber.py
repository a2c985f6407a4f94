"""Issue 10 item 1 for the CLI writers: `export --out`, `identity export --out`, `import --receipt-out` never
replace a file unless `--force`, and never a store, a database, a directory or a symbolic link even then."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bundles.conftest import Pair
from tests.liaison_helpers import assert_refused, store_fingerprint


def test_export_over_the_store_itself_is_refused_even_with_force(pair: Pair) -> None:
    before = store_fingerprint(pair.pk.path)
    for extra in ([], ["--force"]):
        result = pair.pk.cli("export", "--to", "TR-MOI", "--out", str(pair.pk.path), *extra)
        assert_refused(result, f"{pair.pk.path} is a Liaison store; refusing to replace it")
    assert store_fingerprint(pair.pk.path) == before
    assert pair.pk.list_json()  # still opens


def test_export_over_the_other_ministrys_store_is_refused(pair: Pair) -> None:
    """The reported loss: `export --to PK-MOI --out tr-moi.db` wrote over the TR-MOI store."""
    before_tr, before_pk = store_fingerprint(pair.tr.path), store_fingerprint(pair.pk.path)
    result = pair.pk.cli("export", "--to", "TR-MOI", "--out", str(pair.tr.path), "--force")
    assert_refused(result, f"{pair.tr.path} is a Liaison store; refusing to replace it")
    assert store_fingerprint(pair.tr.path) == before_tr
    assert store_fingerprint(pair.pk.path) == before_pk


@pytest.mark.parametrize("suffix", ["-wal", "-shm"])
def test_export_to_the_stores_side_files_is_refused(pair: Pair, suffix: str) -> None:
    side = Path(f"{pair.pk.path}{suffix}")
    before = store_fingerprint(pair.pk.path)
    result = pair.pk.cli("export", "--to", "TR-MOI", "--out", str(side), "--force")
    assert_refused(result, f"{side} belongs to the database {pair.pk.path}; refusing to write there")
    assert not side.exists()
    assert store_fingerprint(pair.pk.path) == before


def test_export_over_an_existing_file_needs_force(pair: Pair) -> None:
    out = pair.path("earlier.bundle")
    out.write_bytes(b"an earlier bundle")
    before = store_fingerprint(pair.pk.path)
    result = pair.pk.cli("export", "--to", "TR-MOI", "--out", str(out))
    assert_refused(result, f"{out} already exists; refusing to replace it (add --force to replace it)")
    assert out.read_bytes() == b"an earlier bundle"
    assert store_fingerprint(pair.pk.path) == before
    pair.pk.ok("export", "--to", "TR-MOI", "--out", str(out), "--force")
    assert out.read_bytes().startswith(b"liaison-bundle/v2\n")


def test_export_to_a_directory_or_a_link_is_refused_even_with_force(pair: Pair) -> None:
    before = store_fingerprint(pair.pk.path)
    assert_refused(
        pair.pk.cli("export", "--to", "TR-MOI", "--out", str(pair.root), "--force"), f"{pair.root} is a directory"
    )
    link = pair.path("link.bundle")
    link.symlink_to(pair.pk.path)
    result = pair.pk.cli("export", "--to", "TR-MOI", "--out", str(link), "--force")
    assert_refused(result, f"{link} is a symbolic link; refusing to write there (remove it or choose another name)")
    assert link.is_symlink() and link.resolve() == pair.pk.path.resolve()
    assert store_fingerprint(pair.pk.path) == before


def test_identity_export_never_replaces_without_force_and_never_a_store(pair: Pair) -> None:
    card = pair.path("pk.card")  # the template wrote it already
    old = card.read_bytes()
    assert_refused(
        pair.pk.cli("identity", "export", "--out", str(card)),
        f"{card} already exists; refusing to replace it (add --force to replace it)",
    )
    assert card.read_bytes() == old
    pair.pk.ok("identity", "export", "--out", str(card), "--force")
    before = store_fingerprint(pair.tr.path)
    assert_refused(
        pair.pk.cli("identity", "export", "--out", str(pair.tr.path), "--force"),
        f"{pair.tr.path} is a Liaison store; refusing to replace it",
    )
    assert store_fingerprint(pair.tr.path) == before


def test_receipt_out_is_checked_before_the_import(pair: Pair) -> None:
    """An existing --receipt-out path is refused before anything is imported (the store unchanged)."""
    bundle = pair.path("to-tr.bundle")
    pair.pk.ok("export", "--to", "TR-MOI", "--out", str(bundle))
    receipt = pair.path("to-pk.receipt")
    receipt.write_bytes(b"someone's notes")
    before = store_fingerprint(pair.tr.path)
    result = pair.tr.cli("import", str(bundle), "--receipt-out", str(receipt))
    assert_refused(result, f"{receipt} already exists; refusing to replace it (add --force to replace it)")
    assert store_fingerprint(pair.tr.path) == before
    assert receipt.read_bytes() == b"someone's notes"
    result = pair.tr.cli("import", str(bundle), "--receipt-out", str(pair.pk.path), "--force")
    assert_refused(result, f"{pair.pk.path} is a Liaison store; refusing to replace it")
    assert store_fingerprint(pair.tr.path) == before
    pair.tr.ok("import", str(bundle), "--receipt-out", str(receipt), "--force")
    assert receipt.read_bytes().startswith(b"liaison-receipt/v2")
