"""The app tells the officer, once unlocked, that the data key is older than the store's policy."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from store import keys as key_lifecycle
from store.service import Vault
from tests.keys.conftest import unlock
from tests.tui.helpers import settle
from tests.tui.helpers import unlock as type_passphrase
from tui.app import LiaisonApp
from tui.config import Settings


async def test_the_app_shows_the_key_age_notice_after_unlock(small_store: Path) -> None:
    session = unlock(small_store)
    created = key_lifecycle.key_status(session).current.created
    session.vault.close()
    assert created is not None
    vault = Vault.open(small_store, clock=lambda: created + timedelta(days=400), kdf_profile="minimum")
    try:
        app = LiaisonApp(vault, officer="demo", settings=Settings(cursor_blink=False, poll_seconds=3600.0))
        async with app.run_test(size=(120, 40)) as pilot:
            await type_passphrase(pilot, "demo")
            await settle(pilot)
            messages = [n.message for n in app._notifications]
            assert (
                "The data key is 400 days old, older than this store's policy of 365 days; an admin should rotate it."
                in messages
            )
    finally:
        vault.close()
