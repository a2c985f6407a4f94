"""The inbox folder (`LIAISON_INBOX`) at 80x24: a bundle that arrives is announced, `i` checks that very file, the
import's result stays in view, and the receipt written for it goes to the outbox beside the inbox, never back into
the inbox (where the app would announce its own receipt as news and refuse to import it)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from textual.widgets import Input, Static

from store.bundles import export_bundle, process_receipt
from store.contacts import add_contact
from store.service import Draft, Session
from tests.tui.helpers import Counterpart, make_counterpart, settle, unlock
from tui.app import LiaisonApp
from tui.modals.confirm import ConfirmModal
from tui.modals.path_input import PathModal
from tui.screens.import_bundle import ImportScreen


@pytest.fixture
def counterpart(tmp_path: Path, reader: Session) -> Iterator[Counterpart]:
    side = make_counterpart(tmp_path, reader)
    add_contact(reader, side.tr_card)
    tr = side.session
    tr.approve(
        tr.add_record(
            Draft(domain="narcotics", tlp="AMBER", title="Ferry manifest anomaly", releasable_to=["PK-MOI"]),
            submit=True,
        )
    )
    yield side
    side.close()


def _toasts_over(app: LiaisonApp, selector: str) -> list[str]:
    """The notifications drawn over the widget `selector` of the current screen."""
    region = app.screen.query_one(selector).region
    return [str(t.render()) for t in app.screen.query("Toast") if t.region.overlaps(region)]


async def test_i_checks_the_arrived_bundle_and_its_receipt_is_not_news(
    make_app: Callable[..., LiaisonApp], counterpart: Counterpart, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    app = make_app(inbox=str(inbox))
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await unlock(pilot)
        app.poll_changes()  # the baseline listing
        await settle(pilot)
        bundle = inbox / "from-tr.bundle"
        export_bundle(counterpart.session, "PK-MOI", bundle)
        app.poll_changes()
        await settle(pilot)
        assert app.inbox_arrival == "from-tr.bundle"

        await pilot.press("i")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ImportScreen)
        # the file the notice named is the one checked: no picking it again in the tree
        assert screen.path == bundle
        preview = str(screen.query_one("#import-preview", Static).content)
        assert "TR-MOI" in preview and "signature verified" in preview
        assert _toasts_over(app, "#import-result") == []

        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, PathModal)
        default = Path(modal.query_one(Input).value)
        assert default.parent == tmp_path / "outbox", default
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen
        result = str(screen.query_one("#import-result", Static).content)
        assert "imported bundle" in result and "wrote receipt" in result, result
        receipts = list((tmp_path / "outbox").glob("receipt-tr-moi-*.receipt"))
        assert len(receipts) == 1
        assert list(inbox.iterdir()) == [bundle]

        app.poll_changes()
        await settle(pilot)
        assert app.inbox_arrival is None  # nothing new arrived: the app wrote its receipt elsewhere
        assert not list(app.screen.query("Toast"))
        # a file arriving while the import screen is open: its notice is drawn clear of the result
        (inbox / "next.bundle").write_bytes(b"next")
        app.poll_changes()
        await settle(pilot)
        assert [str(t.render()) for t in app.screen.query("Toast")], "no notice"
        assert _toasts_over(app, "#import-result") == []
        assert "wrote receipt" in str(screen.query_one("#import-result", Static).content)
    assert process_receipt(counterpart.session, receipts[0]).acknowledged == 1


async def test_a_file_this_app_writes_into_the_inbox_is_not_announced(
    make_app: Callable[..., LiaisonApp], counterpart: Counterpart, tmp_path: Path
) -> None:
    """A receipt written into the inbox itself (a path typed by hand) is the app's own file, not an arrival."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    app = make_app(inbox=str(inbox))
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await unlock(pilot)
        app.poll_changes()
        await settle(pilot)
        bundle = inbox / "from-tr.bundle"
        export_bundle(counterpart.session, "PK-MOI", bundle)
        app.poll_changes()
        await settle(pilot)
        await pilot.press("i")
        await settle(pilot)
        await pilot.press("ctrl+o")
        app.screen.query_one("#import-path", Input).value = str(bundle)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        app.screen.query_one(Input).value = str(inbox / "receipt.receipt")
        await pilot.press("enter")
        await settle(pilot)
        assert (inbox / "receipt.receipt").exists()
        app.poll_changes()
        await settle(pilot)
        assert app.inbox_arrival is None
        assert not [t for t in app.screen.query("Toast") if "receipt.receipt" in str(t.render())]
        assert "wrote receipt" in str(app.screen.query_one("#import-result", Static).content)
