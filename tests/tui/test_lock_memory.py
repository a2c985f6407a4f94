"""Threat 28: after ctrl+l no live Python object holds a decrypted title or the passphrase (issue 9 item 9).

CPython cannot wipe freed memory: a raw scan of the process (`/proc/self/mem`) may still find copies in
freed blocks. That scan is measured here and reported, and the README's security model says so.
"""

from __future__ import annotations

import gc
import secrets
import sys
from pathlib import Path

import pytest

from store.service import Draft, Vault
from tests.tui.helpers import fixed_clock, settle
from tui.app import LiaisonApp
from tui.config import Settings
from tui.screens.browser import BrowserScreen
from tui.screens.detail import DetailScreen
from tui.screens.unlock import UnlockScreen


def _canary_store(path: Path) -> tuple[bytes, bytes]:
    """A store whose one record has a random canary title and whose officer a random canary passphrase.

    Only the UTF-8 bytes of each canary are returned (the strings themselves are dropped), so the test's own
    frame holds no `str` copy of them.
    """
    title = "Canary title " + secrets.token_hex(8)
    passphrase = "canary-pass-" + secrets.token_hex(8)
    vault = Vault.create(path, "PK-MOI", "demo", passphrase, kdf_profile="minimum", clock=fixed_clock)
    session = vault.unlock("demo", passphrase)
    session.add_record(Draft(domain="narcotics", tlp="AMBER", title=title, summary=f"About {title}."))
    session.lock()
    vault.close()
    return title.encode(), passphrase.encode()


def live_holders(needle: bytes) -> list[str]:
    """Types of the live objects that refer to a `str` or `bytes` containing `needle` (after a full collection)."""
    gc.collect()
    text = needle.decode()
    found: list[str] = []
    for obj in gc.get_objects():
        if obj is needle:
            continue
        for ref in gc.get_referents(obj):
            if ref is needle:
                continue
            if (isinstance(ref, str) and text in ref) or (isinstance(ref, bytes | bytearray) and needle in ref):
                name = getattr(obj, "__wrapped__", None)
                extra = f" {name.__module__}.{name.__qualname__}" if name is not None else ""
                found.append(f"{type(obj).__module__}.{type(obj).__qualname__}{extra}")
    return found


def raw_memory_copies(needle: bytes) -> int | None:
    """How many times `needle` (UTF-8 / Latin-1 form, as CPython stores ASCII) appears in this process's readable memory."""
    if not sys.platform.startswith("linux"):
        return None
    count = 0
    with open("/proc/self/maps") as maps, open("/proc/self/mem", "rb", buffering=0) as mem:
        for line in maps:
            parts = line.split()
            start, end = (int(x, 16) for x in parts[0].split("-"))
            if "r" not in parts[1] or (len(parts) > 5 and parts[5].startswith("[v")):
                continue
            try:
                mem.seek(start)
                count += mem.read(end - start).count(needle)
            except (OSError, ValueError, OverflowError):
                continue
    return count


async def test_lock_drops_every_decrypted_title_and_the_passphrase(tmp_path: Path) -> None:
    """Before the lock the canaries are live (drawn and held); after ctrl+l and a collection no live object holds them."""
    title, passphrase = _canary_store(tmp_path / "store.db")
    vault = Vault.open(tmp_path / "store.db", clock=fixed_clock, kdf_profile="minimum")
    app = LiaisonApp(vault, officer="demo", settings=Settings(cursor_blink=False, poll_seconds=3600.0))
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            app.screen.query_one("#passphrase").focus()
            await pilot.press(*passphrase.decode(), "enter")
            await settle(pilot)
            assert isinstance(app.screen, BrowserScreen)
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, DetailScreen)
            assert live_holders(title), "the canary title should be live while the record is open"
            before = raw_memory_copies(title)

            await pilot.press("ctrl+l")
            await settle(pilot)
            assert isinstance(app.screen, UnlockScreen) and app.session is None
            assert live_holders(title) == []
            assert live_holders(passphrase) == []
            after = raw_memory_copies(title)
            print(f"raw copies of the canary title in process memory: before lock {before}, after lock {after}")
    finally:
        vault.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/mem")
def test_raw_memory_scan_finds_what_it_looks_for() -> None:
    """The raw scan is not blind: a live canary is found in /proc/self/mem."""
    canary = ("raw-scan-" + secrets.token_hex(8)).encode()
    holder = bytearray(canary)
    assert (raw_memory_copies(canary) or 0) >= 1
    del holder
