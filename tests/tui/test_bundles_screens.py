"""The bundle screens by keyboard: contacts (add a card), the export wizard (preview, write) and import (check, import, receipt)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.binding import Binding
from textual.widgets import DataTable, Select, Static

from store.bundles import export_bundle, plan_export, process_receipt
from store.contacts import add_contact, contacts
from store.service import Draft, Session
from tests.liaison_helpers import store_fingerprint
from tests.tui.helpers import Counterpart, make_counterpart, open_screen, palette, settle, type_text, unlock
from tui.app import LiaisonApp
from tui.modals.confirm import ConfirmModal
from tui.modals.path_input import PathModal
from tui.present import export_summary
from tui.screens.contacts import ContactsScreen
from tui.screens.export import ExportScreen
from tui.screens.import_bundle import ImportScreen


def flat(text: object) -> str:
    """What a widget shows, with line breaks and runs of spaces as single spaces."""
    return " ".join(str(text).split())


@pytest.fixture
def counterpart(tmp_path: Path, reader: Session) -> Iterator[Counterpart]:
    """A TR-MOI store (single officer, four-eyes off) that knows PK-MOI's card; cards written to tmp_path."""
    side = make_counterpart(tmp_path, reader)
    yield side
    side.close()


async def test_contacts_screen_adds_a_card_after_showing_its_fingerprint(
    make_app: Callable[..., LiaisonApp], reader: Session, counterpart: Counterpart
) -> None:
    """`contacts: Open`, `a`, type the card's path, enter, the fingerprint is shown, `y` adds the contact."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await unlock(pilot)
        await palette(pilot, "contacts: open")
        screen = app.screen
        assert isinstance(screen, ContactsScreen)
        from crypto.identity import grouped_fingerprint
        from store.contacts import own_identity

        assert grouped_fingerprint(own_identity(reader).fingerprint) in flat(
            screen.query_one("#identity", Static).content
        )
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, PathModal)
        await type_text(pilot, str(counterpart.tr_card))
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        tr_fingerprint = grouped_fingerprint(own_identity(counterpart.session).fingerprint)
        assert tr_fingerprint in flat(app.screen.question)
        await pilot.press("y")
        await settle(pilot)
        assert [c.code for c in contacts(reader)] == ["TR-MOI"]
        assert screen.query_one("#contacts", DataTable).row_count == 1


async def test_contacts_screen_refuses_a_damaged_card(
    make_app: Callable[..., LiaisonApp], reader: Session, counterpart: Counterpart
) -> None:
    """A card whose name was edited fails its self-signature: refused on screen, nothing added."""
    bad = counterpart.root / "bad.card"
    bad.write_bytes(counterpart.tr_card.read_bytes().replace(b"Interior", b"Interiur"))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await unlock(pilot)
        await app.push_screen(ContactsScreen())
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        await type_text(pilot, str(bad))
        await pilot.press("enter")
        await settle(pilot)
        status = str(app.screen.query_one("#contacts-status", Static).content)
        assert "card refused: bad.card: the card's self-signature does not verify" in status
        assert contacts(reader) == []


async def choose_recipient(pilot: Any, screen: ExportScreen, code: str) -> None:
    """Open the recipient list by keyboard and move to `code`."""
    select = screen.query_one("#export-to", Select)
    select.focus()
    await pilot.press("enter")
    await settle(pilot)
    for _ in range(10):
        await pilot.press("down")
        await pilot.press("enter")
        await settle(pilot)
        if select.value == code:
            return
        await pilot.press("enter")
        await settle(pilot)
    raise AssertionError(f"could not choose {code}: {select.value}")


async def test_export_wizard_previews_then_writes_the_bundle(
    make_app: Callable[..., LiaisonApp], reader: Session, counterpart: Counterpart
) -> None:
    """Choose TR-MOI: the preview matches the store's plan, reasons included; ctrl+s writes a bundle TR-MOI can import."""
    add_contact(reader, counterpart.tr_card)
    expected = plan_export(reader, "TR-MOI")
    assert expected.included and expected.excluded
    app = make_app()
    async with app.run_test(size=(140, 50)) as pilot:
        await unlock(pilot)
        await palette(pilot, "bundles: export")
        screen = app.screen
        assert isinstance(screen, ExportScreen)
        await settle(pilot)
        await choose_recipient(pilot, screen, "TR-MOI")
        await settle(pilot)
        summary = str(screen.query_one("#export-summary", Static).content)
        assert summary == export_summary(expected)
        assert "TLP:RED (never leaves in a bundle)" in summary
        table = screen.query_one("#export-preview", DataTable)
        assert table.row_count == min(500, len(expected.included) + expected.excluded_count)
        out = Path(screen.query_one("#export-out").value)
        await pilot.press("ctrl+s")
        await settle(pilot)
        result = str(screen.query_one("#export-result", Static).content)
        assert result.startswith(f"wrote {out}"), result
        assert out.exists()
        shared = {r.reference for r in reader.list_records(limit=500) if r.status.value == "shared"}
        assert set(expected.included_refs) <= shared
    from store.bundles import import_bundle

    assert import_bundle(counterpart.session, out).new == len(expected.included)


async def test_import_screen_checks_imports_and_writes_the_receipt(
    make_app: Callable[..., LiaisonApp], reader: Session, counterpart: Counterpart
) -> None:
    """Type a bundle's path: sender, fingerprint and count shown; ctrl+s imports; `y` and enter write the receipt."""
    from crypto.identity import grouped_fingerprint
    from store.contacts import own_identity

    add_contact(reader, counterpart.tr_card)
    tr = counterpart.session
    for title in ("Ferry manifest anomaly", "Port watch list", "Courier sighting"):
        tr.approve(
            tr.add_record(
                Draft(domain="narcotics", tlp="AMBER", title=title, summary="details", releasable_to=["PK-MOI"]),
                submit=True,
            )
        )
    bundle = counterpart.root / "from-tr.bundle"
    export_bundle(tr, "PK-MOI", bundle)
    app = make_app()
    async with app.run_test(size=(140, 50)) as pilot:
        await unlock(pilot)
        await palette(pilot, "bundles: import")
        screen = app.screen
        assert isinstance(screen, ImportScreen)
        await pilot.press("ctrl+o")
        await type_text(pilot, str(bundle))
        await pilot.press("enter")
        await settle(pilot)
        preview = str(screen.query_one("#import-preview", Static).content)
        assert "From:         TR-MOI" in preview and "signature verified" in preview
        assert grouped_fingerprint(own_identity(tr).fingerprint) in preview
        assert "Records:      3" in preview
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, PathModal)
        await pilot.press("enter")
        await settle(pilot)
        result = str(screen.query_one("#import-result", Static).content)
        assert "imported bundle" in result and "3 records (3 new" in result
        assert "wrote receipt" in result
        receipts = list(counterpart.root.glob("receipt-tr-moi-*.receipt"))
        assert len(receipts) == 1
    received = [r for r in reader.list_records(limit=500) if r.status.value == "received" and r.origin == "TR-MOI"]
    assert len(received) == 3
    assert process_receipt(tr, receipts[0]).acknowledged == 3


async def test_import_screen_refuses_a_tampered_bundle(
    make_app: Callable[..., LiaisonApp], reader: Session, counterpart: Counterpart, store_path: Path
) -> None:
    """A flipped byte: the check refuses with the signature error, nothing is imported or decrypted."""
    add_contact(reader, counterpart.tr_card)
    tr = counterpart.session
    tr.approve(
        tr.add_record(
            Draft(
                domain="narcotics", tlp="GREEN", title="Courier sighting", summary="details", releasable_to=["PK-MOI"]
            ),
            submit=True,
        )
    )
    bundle = counterpart.root / "bad.bundle"
    export_bundle(tr, "PK-MOI", bundle)
    data = bytearray(bundle.read_bytes())
    data[-100] ^= 1
    bundle.write_bytes(bytes(data))
    before = store_fingerprint(store_path)
    app = make_app()
    async with app.run_test(size=(140, 50)) as pilot:
        await unlock(pilot)
        await app.push_screen(ImportScreen())
        await settle(pilot)
        await pilot.press("ctrl+o")
        await type_text(pilot, str(bundle))
        await pilot.press("enter")
        await settle(pilot)
        result = str(app.screen.query_one("#import-result", Static).content)
        assert "check refused: bad.bundle: bundle signature does not verify against TR-MOI's key" in result
        await pilot.press("ctrl+s")
        await settle(pilot)
    after = store_fingerprint(store_path)
    assert without_the_log(after) == without_the_log(before)


def test_bundle_screen_bindings_have_descriptions_tooltips_and_ids() -> None:
    """Every binding of the bundle screens and modals is documented and remappable."""
    from tui.modals.bundle_passphrase import BundlePassphraseModal

    for cls in (ContactsScreen, ExportScreen, ImportScreen, PathModal, BundlePassphraseModal):
        for binding in cls.__dict__["BINDINGS"]:
            assert isinstance(binding, Binding)
            assert binding.description and binding.tooltip and binding.id, (cls.__name__, binding.key)


def tr_bundle(
    counterpart: Counterpart, name: str = "from-tr.bundle", titles: tuple[str, ...] = ("Courier sighting",)
) -> Path:
    """A bundle TR-MOI sends to PK-MOI with approved AMBER records."""
    tr = counterpart.session
    for title in titles:
        draft = Draft(domain="narcotics", tlp="AMBER", title=title, summary="details", releasable_to=["PK-MOI"])
        tr.approve(tr.add_record(draft, submit=True))
    bundle = counterpart.root / name
    export_bundle(tr, "PK-MOI", bundle)
    return bundle


async def check_file(pilot: Any, path: Path) -> None:
    """ctrl+o on the import screen, type the path, enter."""
    await pilot.press("ctrl+o")
    await type_text(pilot, str(path))
    await pilot.press("enter")
    await settle(pilot)


async def test_contact_named_like_markup_is_drawn_as_text(
    make_app: Callable[..., LiaisonApp], reader: Session, tmp_path: Path
) -> None:
    """A counterpart whose card name is `[/x] Interior [bold]x` (Rich markup, threat 22): shown literally, no crash."""
    from store.contacts import identity_card
    from store.service import Vault

    hostile = "[/x] Interior [bold]x"
    vault = Vault.create(
        tmp_path / "jnd.db", "TR-JND", "elif", "elif-pass", ministry_name=hostile, kdf_profile="minimum"
    )
    tr = vault.unlock("elif", "elif-pass")
    card = tmp_path / "tr.card"
    card.write_bytes(identity_card(tr))
    tr.lock()
    vault.close()
    add_contact(reader, card)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await unlock(pilot)
        await app.push_screen(ContactsScreen())
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ContactsScreen) and app.is_running
        table = screen.query_one("#contacts", DataTable)
        assert table.row_count == 1
        assert str(table.get_cell_at((0, 0))) == "TR-JND" and str(table.get_cell_at((0, 1))).startswith(hostile)
        await pilot.press("a")
        await settle(pilot)
        await type_text(pilot, str(card))
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        assert f"Add TR-JND ({hostile}) as a contact?" in str(app.screen.question)
        await pilot.press("n")
        await settle(pilot)
        assert app.is_running


async def test_write_my_card_asks_before_replacing_and_never_replaces_the_store(
    make_app: Callable[..., LiaisonApp], store_path: Path, tmp_path: Path
) -> None:
    """`w` to an existing file asks; `n` leaves it; `y` replaces it. The open store is refused even after `y`."""
    existing = tmp_path / "old.card"
    existing.write_bytes(b"keep me")
    before = store_fingerprint(store_path)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await unlock(pilot)
        await app.push_screen(ContactsScreen())
        await settle(pilot)
        screen = app.screen
        for answer in ("n", "y"):
            await pilot.press("w")
            await settle(pilot)
            modal = app.screen
            assert isinstance(modal, PathModal)
            modal.query_one("#path").value = str(existing)
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, ConfirmModal)
            assert "already exists" in str(app.screen.question)
            await pilot.press(answer)
            await settle(pilot)
            if answer == "n":
                assert existing.read_bytes() == b"keep me"
                assert "nothing written" in screen.query_one("#contacts-status").message
        assert existing.read_bytes() != b"keep me"
        await pilot.press("w")
        await settle(pilot)
        app.screen.query_one("#path").value = str(store_path)
        await pilot.press("enter")
        await settle(pilot)
        if isinstance(app.screen, ConfirmModal):
            await pilot.press("y")
            await settle(pilot)
        status = screen.query_one("#contacts-status")
        assert status.error and "write card refused" in status.message and "open store" in status.message
    after = store_fingerprint(store_path)
    assert without_the_log(after) == without_the_log(before)


async def test_export_write_to_an_existing_file_asks_first(
    make_app: Callable[..., LiaisonApp], reader: Session, counterpart: Counterpart
) -> None:
    """Write to a file that exists: asked; `n` writes nothing and shares nothing; the summary never says "nothing to export" above "wrote"."""
    add_contact(reader, counterpart.tr_card)
    existing = counterpart.root / "taken.bundle"
    existing.write_bytes(b"an older bundle")
    app = make_app()
    async with app.run_test(size=(140, 50)) as pilot:
        await unlock(pilot)
        screen = await open_screen(pilot, ExportScreen())
        await choose_recipient(pilot, screen, "TR-MOI")
        screen.query_one("#export-out").value = str(existing)
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("n")
        await settle(pilot)
        assert existing.read_bytes() == b"an older bundle"
        assert "nothing written" in screen.query_one("#export-result").message
        assert not [r for r in reader.list_records(limit=500) if r.status.value == "shared"]
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert screen.query_one("#export-result").message.startswith(f"wrote {existing}")
        assert existing.read_bytes() != b"an older bundle"
        summary = screen.query_one("#export-summary").message
        assert "nothing to export" not in summary and "in the bundle written below" in summary


async def test_export_preview_is_cleared_after_a_refusal(
    make_app: Callable[..., LiaisonApp], reader: Session, counterpart: Counterpart
) -> None:
    """A bad date refuses the preview: the rows of the previous preview go with it."""
    add_contact(reader, counterpart.tr_card)
    app = make_app()
    async with app.run_test(size=(140, 50)) as pilot:
        await unlock(pilot)
        screen = await open_screen(pilot, ExportScreen())
        await choose_recipient(pilot, screen, "TR-MOI")
        await settle(pilot)
        table = screen.query_one("#export-preview", DataTable)
        assert table.row_count > 0
        screen.query_one("#export-since").value = "yesterday"
        await settle(pilot)
        assert table.row_count == 0
        summary = screen.query_one("#export-summary")
        assert summary.error and summary.message == "preview refused: invalid date 'yesterday': expected YYYY-MM-DD"


async def test_import_says_already_imported_before_offering_a_receipt(
    make_app: Callable[..., LiaisonApp], reader: Session, counterpart: Counterpart
) -> None:
    """A bundle imported twice: the receipt question itself says it was already imported and nothing changed."""
    from store.bundles import import_bundle

    add_contact(reader, counterpart.tr_card)
    bundle = tr_bundle(counterpart)
    import_bundle(reader, bundle)
    app = make_app()
    async with app.run_test(size=(140, 50)) as pilot:
        await unlock(pilot)
        await app.push_screen(ImportScreen())
        await settle(pilot)
        await check_file(pilot, bundle)
        assert "Already imported" in str(app.screen.query_one("#import-preview", Static).content)
        await pilot.press("ctrl+s")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, ConfirmModal)
        question = flat(modal.question)
        assert "already imported" in question and question.index("already imported") < question.index("receipt")
        await pilot.press("n")
        await settle(pilot)


async def test_receipt_preview_shows_the_verified_sender(
    make_app: Callable[..., LiaisonApp], reader: Session, counterpart: Counterpart, tmp_path: Path
) -> None:
    """A receipt from TR-MOI for a bundle we sent: checked (not processed) shows who signed it; ctrl+s acknowledges."""
    from crypto.identity import grouped_fingerprint
    from store.bundles import import_bundle, write_receipt_file
    from store.contacts import own_identity

    add_contact(reader, counterpart.tr_card)
    sent = tmp_path / "to-tr.bundle"
    result = export_bundle(reader, "TR-MOI", sent)
    import_bundle(counterpart.session, sent)
    receipt = write_receipt_file(counterpart.session, result.bundle_id, tmp_path / "from-tr.receipt")
    app = make_app()
    async with app.run_test(size=(140, 50)) as pilot:
        await unlock(pilot)
        await app.push_screen(ImportScreen())
        await settle(pilot)
        await check_file(pilot, receipt)
        preview = flat(app.screen.query_one("#import-preview", Static).content)
        assert f"Receipt for: bundle {result.bundle_id}" in preview
        assert "From: TR-MOI Ministry of Interior, Türkiye (signature verified)" in preview
        assert grouped_fingerprint(own_identity(counterpart.session).fingerprint) in preview
        assert not [r for r in reader.list_records(limit=500) if r.status.value == "acknowledged"]
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "records acknowledged" in app.screen.query_one("#import-result").message
    assert len([r for r in reader.list_records(limit=500) if r.status.value == "acknowledged"]) == len(
        result.plan.included
    )


def test_file_picker_hides_stores_and_sqlite_side_files(tmp_path: Path) -> None:
    """The picker lists bundles, receipts and cards, never `.db`, `-wal`, `-shm`, `-journal` or hidden files."""
    from tui.widgets.file_tree import FileTree

    names = [
        "a.bundle",
        "b.receipt",
        "c.card",
        "store.db",
        "store.db-wal",
        "store.db-shm",
        "x-journal",
        ".hidden",
        "notes.txt",
    ]
    paths = [tmp_path / n for n in names]
    shown = {p.name for p in FileTree(tmp_path).filter_paths(paths)}
    assert shown == {"a.bundle", "b.receipt", "c.card", "notes.txt"}


async def test_bundle_history_lists_sent_and_received(
    make_app: Callable[..., LiaisonApp], reader: Session, counterpart: Counterpart, tmp_path: Path
) -> None:
    """`bundles: History`: one bundle sent (acknowledged by receipt) and one received, newest first; `d` filters."""
    from store.bundles import import_bundle, write_receipt_file
    from tui.screens.bundle_history import BundleHistoryScreen

    add_contact(reader, counterpart.tr_card)
    sent = export_bundle(reader, "TR-MOI", tmp_path / "to-tr.bundle")
    import_bundle(counterpart.session, sent.path)
    process_receipt(reader, write_receipt_file(counterpart.session, sent.bundle_id, tmp_path / "r.receipt"))
    import_bundle(reader, tr_bundle(counterpart))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await unlock(pilot)
        await palette(pilot, "bundles: history")
        screen = app.screen
        assert isinstance(screen, BundleHistoryScreen)
        table = screen.query_one("#bundles", DataTable)
        assert table.row_count == 2
        assert str(table.get_cell(sent.bundle_id, "direction")) == "→ to"
        assert str(table.get_cell(sent.bundle_id, "acknowledged")).startswith("yes")
        assert str(table.get_cell(sent.bundle_id, "records")) == str(len(sent.plan.included))
        assert screen.query_one("#bundles-status").message.startswith("2 bundles sent and received")
        # the line under the table gives the highlighted bundle in full (its columns at 80 wide are cut)
        table.move_cursor(row=table.get_row_index(sent.bundle_id))
        await settle(pilot)
        detail = str(screen.query_one("#bundles-detail", Static).render())
        assert f"bundle {sent.bundle_id} · sent by" in detail and "receipt processed" in detail
        await pilot.press("d")
        await settle(pilot)
        assert table.row_count == 1 and screen.direction == "sent"
        await pilot.press("d")
        await settle(pilot)
        assert table.row_count == 1 and str(table.get_cell_at((0, 1))) == "← from"


def without_the_log(fingerprint: dict[str, tuple[int, str]]) -> dict[str, tuple[int, str]]:
    """A store fingerprint without what only records that the officer acted (the action log, the signed audit log
    and its checkpoints): the data itself must be as it was."""
    log = {"action_events", "audit_log", "audit_checkpoints"}
    return {k: v for k, v in fingerprint.items() if k not in log}
