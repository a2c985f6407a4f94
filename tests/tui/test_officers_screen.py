"""Issue 12 in the app: the officers and keys screen (admins) — add, remove (full revocation), rotate the data key
with a progress bar, each key's age; every refusal is the store's, one line (Threats 4 and 6)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, ProgressBar, Static

from store.errors import LiaisonError
from store.identity import rotate_identity
from store.service import Vault
from tests.liaison_helpers import CutShort, stop_at
from tests.tui.helpers import OFFICERS, fixed_clock, settle, unlock
from tui.app import LiaisonApp
from tui.config import Settings
from tui.modals.officer_form import AddOfficerModal
from tui.screens.officers import OfficersScreen
from tui.widgets.status_line import StatusLine

NEW_PASSPHRASE = "plover lantern quarry 1987"


async def open_officers(pilot: object, app: LiaisonApp, passphrase: str = OFFICERS["demo"]) -> OfficersScreen:
    await unlock(pilot, passphrase)  # type: ignore[arg-type]
    await pilot.press("O")  # type: ignore[attr-defined]
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, OfficersScreen)
    return screen


async def open_add_form(pilot: object, app: LiaisonApp) -> tuple[OfficersScreen, AddOfficerModal]:
    """The officers screen, then `a`: the add-officer form."""
    screen = await open_officers(pilot, app)
    await pilot.press("a")  # type: ignore[attr-defined]
    await settle(pilot)
    modal = app.screen
    assert isinstance(modal, AddOfficerModal)
    return screen, modal


def status_of(screen: OfficersScreen) -> StatusLine:
    return screen.query_one("#officers-status", StatusLine)


def fresh(store_path: Path, officer: str, passphrase: str) -> object:
    vault = Vault.open(store_path, kdf_profile="minimum")
    try:
        return vault.unlock(officer, passphrase)
    finally:
        vault.close()


async def test_officers_and_key_ages(make_app: Callable[..., LiaisonApp]) -> None:
    """O lists every officer with role and date added (the admin marked `you`) and the data key's and master
    secret's versions and ages against the policy."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_officers(pilot, app)
        table = screen.query_one("#officers", DataTable)
        names = [str(key.value) for key in table.rows]
        assert names == ["demo", "heron", "kestrel"]
        assert str(table.get_row("demo")[4]) == "you"
        keys = str(screen.query_one("#officers-keys", Static).content)
        assert keys.startswith("Data key v1, ") and "policy: rotate after 365 days" in keys
        assert "Master secret v1, " in keys
        assert screen.status is not None and screen.status.current.version == 1


async def test_home_and_end_go_to_the_first_and_last_officer(make_app: Callable[..., LiaisonApp]) -> None:
    """Found by a new officer's pass: Home in the officers table did nothing (a `DataTable` scrolls sideways on it).
    Home and End now go to the first and last row, in every list of the app built on `RowTable`."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_officers(pilot, app)
        table = screen.query_one("#officers", DataTable)
        assert table.has_focus and table.cursor_row == 0
        await pilot.press("end")
        assert table.cursor_row == table.row_count - 1 > 0
        await pilot.press("home")
        assert table.cursor_row == 0


async def test_every_key_age_at_80_columns(store_path: Path) -> None:
    """Issue 12's "key ages" on the officers and keys screen, from the store's key status (`Session.key_status`,
    as `keys status`): the data key's version and age against the policy's key-max-age, the master secret's, the
    ministry identity's (rotated on day 50) and each active officer's signing key age (farah's key made on day
    100), read on day 150 at 80x24: every line whole, the table without a horizontal scroll."""
    base = fixed_clock()  # the fixture store was made 252 days before it

    def clock(days: int) -> Callable[[], object]:
        return lambda: base + timedelta(days=days)

    for days, step in (
        (50, rotate_identity),
        (100, lambda s: s.add_officer("farah", "officer", NEW_PASSPHRASE, kdf_profile="minimum")),
    ):
        vault = Vault.open(store_path, clock=clock(days), kdf_profile="minimum")  # type: ignore[arg-type]
        try:
            step(vault.unlock("demo", OFFICERS["demo"]))
        finally:
            vault.close()
    vault = Vault.open(store_path, clock=clock(150), kdf_profile="minimum")  # type: ignore[arg-type]
    try:
        app = LiaisonApp(vault, settings=Settings(cursor_blink=False, poll_seconds=3600.0))
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_officers(pilot, app)
            keys = screen.query_one("#officers-keys", Static)
            lines = str(keys.content).splitlines()
            assert lines[0] == "Data key v1, 402 days old (policy: rotate after 365 days)"
            assert lines[1] == "OLDER THAN THE POLICY: R rotates it"
            assert lines[2] == "Master secret v1, 402 days old"
            assert lines[3].startswith("Ministry identity 100 days old (")
            assert all(len(line) <= keys.content_region.width for line in lines), lines
            assert keys.region.height >= len(lines)
            table = screen.query_one("#officers", DataTable)
            ages = {str(key.value): str(table.get_row(key)[3]) for key in table.rows}
            assert ages == {"demo": "402 days", "farah": "50 days", "heron": "402 days", "kestrel": "402 days"}
            assert table.virtual_size.width <= table.content_region.width
            assert table.region.bottom <= 24 and table.region.height >= 6
    finally:
        vault.close()


async def test_add_an_officer(make_app: Callable[..., LiaisonApp], store_path: Path) -> None:
    """a asks for name, role and the passphrase twice; different passphrases are refused in the form; the new
    officer then unlocks with the passphrase given."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen, modal = await open_add_form(pilot, app)
        await pilot.press(*"farah", "enter")
        modal.query_one("#officer-passphrase", Input).value = NEW_PASSPHRASE
        modal.query_one("#officer-repeat", Input).value = NEW_PASSPHRASE + "x"
        modal.query_one("#officer-repeat", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is modal and "differ" in modal.error
        modal.query_one("#officer-repeat", Input).value = NEW_PASSPHRASE
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen
        assert "added farah (officer)" in status_of(screen).message
        assert "farah" in [str(key.value) for key in screen.query_one("#officers", DataTable).rows]
    farah = fresh(store_path, "farah", NEW_PASSPHRASE)
    assert farah.actor.role.value == "officer"  # type: ignore[attr-defined]


async def test_the_add_form_says_the_stores_refusal_and_keeps_what_was_typed(
    make_app: Callable[..., LiaisonApp], store_path: Path
) -> None:
    """A name already taken, then a passphrase too short: each refusal is the store's line, said in the form; the
    form stays open with the name, role and passphrases as typed (nothing to type again), and nothing is added
    until the officer mends it."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen, modal = await open_add_form(pilot, app)
        name = modal.query_one("#officer-name", Input)
        first = modal.query_one("#officer-passphrase", Input)
        second = modal.query_one("#officer-repeat", Input)
        await pilot.press(*"heron", "enter")
        first.value = second.value = NEW_PASSPHRASE
        second.focus()
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is modal and "officer heron already exists" in modal.error, modal.error
        assert (name.value, first.value, second.value) == ("heron", NEW_PASSPHRASE, NEW_PASSPHRASE)
        assert name.has_focus
        name.value = "farah"
        first.value = second.value = "short"
        second.focus()
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is modal and "too short" in modal.error, modal.error
        assert name.value == "farah" and first.has_focus
        first.value = second.value = NEW_PASSPHRASE
        second.focus()
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen
        assert "added farah (officer)" in status_of(screen).message
    farah = fresh(store_path, "farah", NEW_PASSPHRASE)
    assert farah.actor.role.value == "officer"  # type: ignore[attr-defined]


async def test_rotate_with_a_progress_bar(make_app: Callable[..., LiaisonApp], store_path: Path) -> None:
    """Threat 6: R then y rotates the data key in a worker, the progress bar following the store's progress; the
    status line says the new version and what was re-encrypted and retired; the store reads and verifies."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_officers(pilot, app)
        await pilot.press("R")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        said = status_of(screen).message
        assert said.startswith("data key now v2: ") and "re-encrypted" in said and "retired v1" in said, said
        assert not screen.busy
        bar = screen.query_one("#officers-progress", ProgressBar)
        assert bar.total is not None and bar.total > 0 and bar.progress == bar.total
        assert screen.status is not None and screen.status.current.version == 2
    admin = fresh(store_path, "demo", OFFICERS["demo"])
    assert admin.audit_verify().ok  # type: ignore[attr-defined]
    assert len(admin.list_records(limit=500)) == 84  # type: ignore[attr-defined]


async def test_remove_revokes(make_app: Callable[..., LiaisonApp], store_path: Path) -> None:
    """Threat 4: x on heron, then y — heron is listed as removed, new keys (data key v2), and heron's passphrase
    opens nothing any more."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_officers(pilot, app)
        table = screen.query_one("#officers", DataTable)
        table.move_cursor(row=table.get_row_index("heron"))
        await pilot.press("x")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert status_of(screen).message.startswith("removed heron; new keys (data key v2)"), status_of(screen).message
        assert str(table.get_row("heron")[4]) == "removed"
        await pilot.press("x")
        await settle(pilot)
        assert status_of(screen).error and "removed already" in status_of(screen).message
    with pytest.raises(LiaisonError):
        fresh(store_path, "heron", OFFICERS["heron"])


async def test_refusals_are_one_line(make_app: Callable[..., LiaisonApp]) -> None:
    """The store refuses an admin removing themselves: one line on the status line, nothing else changes."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_officers(pilot, app)
        await pilot.press("x")  # the cursor is on demo, the admin themselves
        await settle(pilot)
        assert isinstance(app.screen, OfficersScreen)  # refused at once: no "remove for good?" to answer
        status = status_of(screen)
        assert status.error and status.message.startswith("remove refused: ") and "\n" not in status.message
        assert [o.name for o in screen.officers if o.revoked] == []


async def test_a_non_admin_sees_the_refusals(make_app: Callable[..., LiaisonApp]) -> None:
    """heron (officer) may open the screen: the key status line says the store refused it; adding and rotating are
    refused at once, in one line, with no form or question to answer first."""
    app = make_app("heron")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_officers(pilot, app, OFFICERS["heron"])
        assert screen.status is None
        assert str(screen.query_one("#officers-keys", Static).content).startswith("Key status: ")
        for key, step in (("a", "add"), ("R", "rotate")):
            await pilot.press(key)
            await settle(pilot)
            assert app.screen is screen, (key, app.screen)  # no form, no "rotate?" to answer
            status = status_of(screen)
            assert status.error and status.message.startswith(f"{step} refused: "), status.message
            assert "\n" not in status.message


async def test_escape_waits_while_keys_change(make_app: Callable[..., LiaisonApp]) -> None:
    """Found by a new officer's pass: escape during a rotation left the screen, and the rotation's outcome (its
    new version, or a refusal) was said nowhere. While keys change, the screen stays and says why."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_officers(pilot, app)
        screen.busy = True
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen
        assert status_of(screen).message.startswith("keys are changing: this screen stays until it ends")
        screen.busy = False
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is not screen


async def test_the_keys_notice_goes_when_a_rotation_finishes(
    make_app: Callable[..., LiaisonApp], store_path: Path
) -> None:
    """Found by a new officer's pass: after R finished an interrupted rotation, the notice that it was interrupted
    stayed up. The notice is the store's answer now: it goes."""
    from store import keys as key_lifecycle

    vault = Vault.open(store_path, kdf_profile="minimum")
    try:
        with pytest.raises(CutShort):
            key_lifecycle.rotate_data_key(vault.unlock("demo", OFFICERS["demo"]), progress=stop_at(2), batch_rows=20)
    finally:
        vault.close()
    app = make_app()
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        screen = await open_officers(pilot, app)
        assert any("A key rotation was interrupted" in str(n.message) for n in app._notifications)
        await pilot.press("R")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert status_of(screen).message.startswith("data key now v2: "), status_of(screen).message
        assert not any("interrupted" in str(n.message) for n in app._notifications)
