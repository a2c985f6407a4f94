"""Keys in sight: at 80 columns every screen's footer still shows lock and help; F1 and `?` open help in dialogs too."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.binding import ActiveBinding, Binding
from textual.widget import Widget
from textual.widgets import Footer

from tests.tui.helpers import palette, settle, unlock
from tui.app import LiaisonApp
from tui.modals.compose import ComposeModal
from tui.modals.confirm import ConfirmModal
from tui.modals.help import HelpModal
from tui.screens.keys import PALETTE_COLUMNS, fit_footer

#: How to reach each screen from the browser: keys, or a palette command.
SCREENS: dict[str, tuple[str, ...]] = {
    "browser": (),
    "review queue": ("v",),
    "detail": ("enter",),
    "compose": ("n",),
    "export": ("palette:bundles: Export",),
    "import": ("palette:bundles: Import",),
    "contacts": ("palette:contacts: Open",),
    "bundle history": ("palette:bundles: History",),
    "dashboard": ("palette:desk: Dashboard",),
    "meetings": ("palette:desk: Meetings",),
}


def footer_entries(app: LiaisonApp) -> list[str]:
    """The descriptions of the footer's entries that are drawn entirely inside the screen, left to right."""
    footer = app.screen.query_one(Footer)
    entries = [w for w in footer.query("*") if isinstance(getattr(w, "description", None), str)]
    inside = [w for w in entries if isinstance(w, Widget) and w.region.right <= app.screen.size.width]
    return [str(getattr(w, "description", "")) for w in sorted(inside, key=lambda w: w.region.x)]


@pytest.mark.parametrize("name", list(SCREENS))
async def test_lock_and_help_stay_in_the_footer_at_80_columns(make_app: Callable[..., LiaisonApp], name: str) -> None:
    """Each screen at 80×24: `Lock` and `Help` are drawn in full in the footer, whatever else it has to drop."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        for step in SCREENS[name]:
            if step.startswith("palette:"):
                await palette(pilot, step.removeprefix("palette:"))
            else:
                await pilot.press(step)
                await settle(pilot)
        await pilot.pause()
        shown = footer_entries(app)
        assert "Lock" in shown, (name, shown)
        assert "Help" in shown, (name, shown)


async def test_unlock_screen_footer_names_help(make_app: Callable[..., LiaisonApp]) -> None:
    """Before unlocking (no lock key yet) the footer still says how to get help."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "Help" in footer_entries(app)


async def test_f1_opens_help_in_the_compose_form_listing_its_keys(make_app: Callable[..., LiaisonApp]) -> None:
    """F1 in the compose form (where `?` is typed into the title) lists save, discard and the app's global keys."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, ComposeModal)
        await pilot.press("question_mark")
        assert isinstance(app.screen, ComposeModal)  # typed, not a command
        await pilot.press("f1")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, HelpModal)
        described = {k.description for k in modal.keys}
        assert {"Save", "Discard", "Lock", "Help", "Quit"} <= described
        assert not [k for k in modal.keys if "cursor" in k.description.lower()]  # the input's own editing keys
        await pilot.press("escape")
        assert isinstance(app.screen, ComposeModal)


async def test_question_mark_opens_help_in_a_dialog_without_text(make_app: Callable[..., LiaisonApp]) -> None:
    """`?` in a yes/no dialog lists the dialog's own keys; closing help returns to the dialog."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        app.push_screen(ConfirmModal("Discard this draft?"))
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, HelpModal)
        assert "Lock" in {k.description for k in modal.keys}
        assert modal.keys[0].where == "this screen"
        await pilot.press("escape")
        assert isinstance(app.screen, ConfirmModal)


def _bindings(*specs: tuple[str, str, str | None]) -> dict[str, ActiveBinding]:
    node = Widget()
    return {
        key: ActiveBinding(node, Binding(key, action, action.title(), id=binding_id), True, "")
        for key, action, binding_id in specs
    }


def test_fit_footer_hides_the_last_ordinary_keys_first() -> None:
    """Too narrow: the last ordinary entries lose `show`, then the screen's chosen ones; the essential ones never."""
    bindings = _bindings(
        ("a", "approve", "review.approve"),
        ("r", "return", "review.return"),
        ("n", "next", "review.next"),
        ("m", "mine", "review.mine"),
        ("ctrl+l", "lock", "app.lock"),
        ("question_mark", "help", "app.help"),
    )
    width = PALETTE_COLUMNS + sum(len(k) + len(b.binding.description) + 3 for k, b in bindings.items()) - 1
    fitted = fit_footer(bindings, width, lambda b: b.key, frozenset({"review.mine"}))
    shown = [key for key, active in fitted.items() if active.binding.show]
    assert shown == ["a", "r", "m", "ctrl+l", "question_mark"]
    assert list(fitted) == list(bindings)  # nothing removed: help still lists every key
    assert fit_footer(bindings, 500, lambda b: b.key) is bindings
    nothing_fits = fit_footer(bindings, 0, lambda b: b.key)
    assert [k for k, a in nothing_fits.items() if a.binding.show] == ["ctrl+l", "question_mark"]


@pytest.mark.parametrize(("name", "keys"), [("browser", ()), ("officers", ("O",)), ("audit", ("A",))])
async def test_help_fits_80x24_and_its_whole_list_can_be_scrolled_to(
    make_app: Callable[..., LiaisonApp], name: str, keys: tuple[str, ...]
) -> None:
    """At 80×24 the help's closing line stays on screen, and the arrows or `end` reach its last key (the officers
    and audit screens' lists are longer than the room: they were cut off, with no way to scroll)."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, HelpModal), name
        footer = modal.query_one("#help-footer")
        assert footer.region.height and footer.region.bottom <= 24, (name, footer.region)
        listing = modal.query_one("#help-keys")
        assert listing.region.bottom <= footer.region.y, (name, listing.region, footer.region)
        await pilot.press("end")
        await pilot.pause()
        assert listing.scroll_y == listing.max_scroll_y, name
        if name != "browser":
            assert listing.max_scroll_y > 0, name  # longer than the room: it scrolls
        if name == "audit":  # enter on an event opens its record, and the help says so
            assert any(k.description == "Open" and "record" in k.tooltip for k in modal.keys), modal.keys
