"""Pilot tests: the longest reference the format allows is drawn whole at 80×24 and 200×60 in the browser's table
(a reference is an identifier; the title gives way)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from store.audit.log import note
from store.models import Record
from store.service import Vault
from tests.tui.helpers import OFFICERS, fixed_clock, unlock
from tests.tui.hostile import screen_text
from tui.app import LiaisonApp

LONGEST = "TR-ABCDEFGHIJKL-2026-000000001"


def _rereference(path: Path) -> None:
    """The newest record takes the longest reference, signed as a feature would (so it is not damaged)."""
    vault = Vault.open(path, clock=fixed_clock, kdf_profile="minimum")
    try:
        session = vault.unlock("demo", OFFICERS["demo"])
        with session.act("test-setup", LONGEST) as s:
            newest = s.execute(select(Record.id).order_by(Record.created_at.desc(), Record.id.desc())).scalars().first()
            s.connection().exec_driver_sql("UPDATE records SET reference = ? WHERE id = ?", (LONGEST, newest))
            note(s, record_id=newest)
    finally:
        vault.close()


@pytest.mark.parametrize("size", [(80, 24), (200, 60)], ids=["80x24", "200x60"])
async def test_the_longest_reference_is_drawn_whole(
    make_app: Callable[..., LiaisonApp], store_path: Path, size: tuple[int, int]
) -> None:
    _rereference(store_path)
    app = make_app("demo")
    async with app.run_test(size=size) as pilot:
        await unlock(pilot)
        browser = screen_text(app.export_screenshot())
        row = next(line for line in browser.splitlines() if LONGEST[:15] in line and "TLP" not in line)
        assert LONGEST in row, browser
        assert row.index(LONGEST) + len(LONGEST) < size[0]
