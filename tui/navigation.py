"""The app's global keys and the screens they open: lock, help, palette, refresh, inbox, quit, dashboard, audit,
officers (`BINDINGS`), and the navigation actions behind them and the command palette (home, search, review
queue, dashboard, audit log and verify, officers, meetings, help).

`LiaisonApp` (tui/app.py) inherits them; the lock, unlock and hang-up flows stay there. Every action opens a
screen only while a session is open (`self.session`, set by the app), and never a second copy of the one on top.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.app import App
from textual.binding import Binding, BindingType

from tui.modals.help import HelpModal
from tui.screens.keys import keys_of_screen

if TYPE_CHECKING:
    from store.service import Session


class Navigation(App[int]):
    """Global keys and the screens they open (the base of `tui.app.LiaisonApp`)."""

    #: The open session (None while locked); `LiaisonApp` sets it.
    session: Session | None

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "ctrl+l",
            "lock",
            "Lock",
            tooltip="Lock now: forget the keys and every decrypted word.",
            id="app.lock",
            priority=True,
        ),
        Binding("question_mark", "help", "Help", tooltip="Every key of this screen.", id="app.help"),
        Binding(
            "f1",
            "help",
            "Help",
            tooltip="Every key of this screen (also where ? would be typed, and in dialogs).",
            id="app.help_f1",
            priority=True,
        ),
        Binding(
            "ctrl+p",
            "command_palette",
            "Commands",
            show=False,
            tooltip="Find any action by name.",
            id="app.palette",
            priority=True,
        ),
        Binding(
            "ctrl+r,f5",
            "refresh",
            "Refresh",
            show=False,
            tooltip="Reload what is shown from the store.",
            id="app.refresh",
        ),
        Binding(
            "i",
            "open_inbox",
            "Import new",
            tooltip="A new file arrived in the inbox folder: open the import screen on it.",
            id="app.inbox",
        ),
        Binding("ctrl+q", "quit", "Quit", show=False, tooltip="Lock and leave Liaison.", id="app.quit", priority=True),
        Binding(
            "D",
            "dashboard",
            "Dashboard",
            show=False,
            tooltip="The working-group desk: next meeting, overdue actions, shares and acknowledgements.",
            id="desk.dashboard",
        ),
        Binding(
            "A",
            "audit",
            "Audit log",
            show=False,
            tooltip="The signed audit log; v there verifies the whole store.",
            id="audit.open",
        ),
        Binding(
            "O",
            "officers",
            "Officers",
            show=False,
            tooltip="Officers and keys (admins): add, remove, rotate the data key; each key's age.",
            id="officers.open",
        ),
    ]

    # ---- navigation -----------------------------------------------------------------------------

    async def action_home(self) -> None:
        """Back to the records browser."""
        from tui.screens.browser import BrowserScreen

        if self.session is None:
            return
        while len(self.screen_stack) > 2 and not isinstance(self.screen, BrowserScreen):
            await self.pop_screen()

    async def action_search(self) -> None:
        """The browser, with the search field focused."""
        from tui.screens.browser import BrowserScreen

        await self.action_home()
        if isinstance(self.screen, BrowserScreen):
            self.screen.action_search()

    def action_review_queue(self) -> None:
        """Open the review queue (unless it is already open)."""
        from tui.screens.review import ReviewScreen

        if self.session is not None and not isinstance(self.screen, ReviewScreen):
            self.push_screen(ReviewScreen())

    def action_dashboard(self) -> None:
        """Open the working-group dashboard (unless it is already open)."""
        from tui.screens.dashboard import DashboardScreen

        if self.session is not None and not isinstance(self.screen, DashboardScreen):
            self.push_screen(DashboardScreen())

    def action_audit(self) -> None:
        """Open the signed audit log (unless it is already open)."""
        from tui.screens.audit import AuditScreen

        if self.session is not None and not isinstance(self.screen, AuditScreen):
            self.push_screen(AuditScreen())

    def action_officers(self) -> None:
        """Open the officers and keys screen (unless it is already open)."""
        from tui.screens.officers import OfficersScreen

        if self.session is not None and not isinstance(self.screen, OfficersScreen):
            self.push_screen(OfficersScreen())

    def action_audit_verify(self) -> None:
        """Open the audit log and verify the whole store."""
        from tui.screens.audit import AuditScreen

        if self.session is None:
            return
        if not isinstance(self.screen, AuditScreen):
            self.push_screen(AuditScreen(verify=True))
        else:
            self.screen.action_verify()

    def action_meetings(self) -> None:
        """Open the working group's meetings."""
        from tui.screens.meetings import MeetingsScreen

        if self.session is not None and not isinstance(self.screen, MeetingsScreen):
            self.push_screen(MeetingsScreen())

    def action_help(self) -> None:
        """Every key of the screen on top, with what it does."""
        if isinstance(self.screen, HelpModal):
            return
        title = type(self.screen).__name__.removesuffix("Screen").removesuffix("Modal") or "Liaison"
        self.push_screen(HelpModal(title, keys_of_screen(self.screen)))
