"""Stored text is drawn as text: no markup parsed, no escape, C1 or bidi control reaches the terminal (threats 21–24)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from store.service import Vault
from tests.tui.helpers import PtyApp, fixed_clock, settle, unlock
from tests.tui.hostile import (
    ESCAPE_AUTHOR,
    FORBIDDEN_BYTES,
    MARKUP_TITLE,
    build_hostile_store,
    screen_text,
)
from tui.app import LiaisonApp
from tui.config import Settings
from tui.screens.browser import BrowserScreen
from tui.screens.detail import DetailScreen

RAW_CONTROLS = ("\x1b", "\x9b", "\u202e", "\x07")


@pytest.fixture
def hostile_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[LiaisonApp, str, str]:
    """The app on a store holding a markup title and an escape-laden record, as an older version wrote them."""
    path = tmp_path / "store.db"
    markup, escape = build_hostile_store(path, monkeypatch)
    vault = Vault.open(path, clock=fixed_clock, kdf_profile="minimum")
    settings = Settings(cursor_blink=False, unlock_backoff_cap_seconds=0.0, poll_seconds=3600.0)
    return LiaisonApp(vault, officer="demo", settings=settings), markup, escape


async def test_markup_and_escapes_are_drawn_literally(hostile_app: tuple[LiaisonApp, str, str]) -> None:
    """`[see annex] [/x] [bold]x` shows as typed; ESC, C1 and U+202E show as visible escapes; the app keeps running."""
    app, markup, escape = hostile_app
    async with app.run_test(size=(120, 40)) as pilot:
        await unlock(pilot)
        assert isinstance(app.screen, BrowserScreen)
        browser = screen_text(app.export_screenshot())
        assert MARKUP_TITLE in browser
        assert "Clip␛]52;c;SGVsbG8=␇" in browser
        assert not [c for c in RAW_CONTROLS if c in browser]

        await pilot.press("enter")  # the newest record: the escape-laden one
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen) and app.screen.reference == escape
        detail = screen_text(app.export_screenshot())
        assert "wipe␛[2JB c1\\u009b31m bidi\\u202eevil" in detail
        assert "he␛[2Jron\\u202e" in detail  # the author, from the records table
        assert "[click me](http://evil.example/x)" in detail  # a link is text, not followed
        assert "![pixel](http://evil.example/p.png)" in detail  # an image is text, not fetched
        assert "<b>raw html</b>" in detail  # raw HTML is shown as typed, never interpreted
        assert not [c for c in RAW_CONTROLS if c in detail]
        assert ESCAPE_AUTHOR not in detail

        await pilot.press("escape", "down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen) and app.screen.reference == markup
        detail = screen_text(app.export_screenshot())
        assert detail.count(MARKUP_TITLE) >= 2  # the header and the summary
        assert app.is_running


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pty")
def test_real_app_in_a_pty_never_writes_the_datas_escapes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`liaison` in a real pty: the browser and the detail of a hostile record reach the terminal without its sequences."""
    path = tmp_path / "store.db"
    _, escape = build_hostile_store(path, monkeypatch)
    app = PtyApp(path, size=(120, 40))
    try:
        app.wait_for(b"Passphrase")
        app.type("demo\r")
        app.wait_for(escape.encode())
        app.wait_for("Clip␛]52".encode())  # the hostile title was drawn, visibly
        app.wait_for("by he␛[2Jron".encode())  # the preview line, with the author
        app.type("\r")
        app.wait_for(b"Releasable to")  # the detail's facts: the record was read and drawn
        app.wait_for(b"evil.example/p.png")  # the summary's last paragraph but one
        app.type(b"\x11")  # ctrl+q
        assert app.drain_until_exit() == 0
    finally:
        app.close()
    out = bytes(app.seen)
    leaked = [sequence for sequence in FORBIDDEN_BYTES if sequence in out]
    assert not leaked, leaked
