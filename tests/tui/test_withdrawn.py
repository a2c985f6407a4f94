"""A received record its origin withdrew: the detail opens with a WITHDRAWN banner and its activity lists the
withdrawal (built from the store's `record_activity`)."""

from __future__ import annotations

import io
from collections.abc import Callable

from rich.console import Console
from textual.widgets import Static

from tests.bundles.conftest import Pair, _template, pair  # noqa: F401 (fixtures)
from tests.liaison_helpers import PASSPHRASES
from tests.tui.helpers import open_screen, settle, unlock
from tests.withdrawn_pair import REASON, withdrawn_at_receiver
from tui.app import LiaisonApp
from tui.screens.detail import DetailScreen
from tui.widgets.record_table import RecordTable


def _drawn(static: Static) -> str:
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(static.content)
    return console.export_text()


async def test_detail_of_a_withdrawn_record_shows_the_banner_and_the_activity(
    make_app: Callable[..., LiaisonApp],
    pair: Pair,  # noqa: F811
) -> None:
    ref = withdrawn_at_receiver(pair)
    when = pair.tr.show(ref)["withdrawal"]["withdrawn_at"][:10]
    other = pair.refs["amber1"]
    app = make_app("alice", path=pair.tr.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await unlock(pilot, PASSPHRASES["alice"])
        table = app.screen.query_one(RecordTable)
        lines = ["".join(seg.text for seg in table.render_line(y)) for y in range(table.size.height)]
        marked = {line.split()[0] for line in lines if "WITHDRAWN · " in line}
        assert marked == {ref}, lines
        screen = await open_screen(pilot, DetailScreen(ref))
        banner = screen.query_one("#record-withdrawn", Static)
        assert banner.display and banner.has_class("-shown")
        assert _drawn(banner).strip() == f"WITHDRAWN by PK-MOI on {when}: {REASON}"
        activity = _drawn(screen.query_one("#record-activity", Static))
        kinds = [line.split()[3] for line in activity.splitlines() if line.strip()]
        assert kinds[0] == "created" and "received" in kinds and kinds[-1] == "withdrawn"
        last = activity.splitlines()[-1].split()
        assert last[3:5] == ["withdrawn", "PK-MOI"] and REASON in " ".join(last)
        await pilot.press("escape")
        await settle(pilot)
        await app.push_screen(DetailScreen(other))
        await settle(pilot)
        assert not app.screen.query_one("#record-withdrawn", Static).has_class("-shown")
