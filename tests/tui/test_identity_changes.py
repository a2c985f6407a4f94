"""Identity rotation on the contacts screen: this ministry's rotation pending delivery, and a contact's changed
identity (signed by both keys) shown beside it (Threat 11)."""

from __future__ import annotations

import io
from collections.abc import Callable

from rich.console import Console
from textual.widgets import DataTable, Static

from crypto.identity import grouped_fingerprint
from tests.bundles.conftest import Pair, _template, pair  # noqa: F401 (fixtures)
from tests.liaison_helpers import PASSPHRASES
from tests.tui.helpers import open_screen, unlock
from tui.app import LiaisonApp
from tui.screens.contacts import ContactsScreen


def drawn(renderable: object) -> str:
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def fingerprint_of(store: object) -> str:
    line = next(x for x in store.ok("identity", "show").out.splitlines() if x.startswith("fingerprint: "))  # type: ignore[attr-defined]
    return line.removeprefix("fingerprint: ").replace(" ", "")


async def test_a_rotation_shows_as_pending_then_as_a_changed_identity_at_the_contact(
    make_app: Callable[..., LiaisonApp],
    pair: Pair,  # noqa: F811
) -> None:
    """PK-MOI rotates: its contacts screen names the previous fingerprint and TR-MOI as still to be told; once the
    bundle carried the statement, TR-MOI's contacts screen marks PK-MOI's identity as changed, previous key shown."""
    before = fingerprint_of(pair.pk)
    pair.pk.ok("identity", "rotate")
    app = make_app("alice", path=pair.pk.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await unlock(pilot, PASSPHRASES["alice"])
        screen = await open_screen(pilot, ContactsScreen())
        identity = drawn(screen.query_one("#identity", Static).content)
        assert "Identity rotated" in identity and "pending: TR-MOI" in identity
        assert grouped_fingerprint(before)[:39] in " ".join(identity.split())

    out = pair.path("rotation.bundle")
    pair.pk.ok("export", "--to", "TR-MOI", "--out", str(out))
    pair.tr.ok("import", str(out))
    app = make_app("alice", path=pair.tr.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await unlock(pilot, PASSPHRASES["alice"])
        screen = await open_screen(pilot, ContactsScreen())
        table = screen.query_one("#contacts", DataTable)
        who = drawn(table.get_row("PK-MOI")[1])
        assert "identity changed" in who and "signed by both keys" in who
        assert grouped_fingerprint(before)[:19] in who
        assert "Identity rotated" not in drawn(screen.query_one("#identity", Static).content)
