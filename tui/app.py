"""The Liaison app: unlock, lock (by key or when idle), watch the store for changes, route to screens.

Kept thin on purpose: every screen, modal and widget lives in its own module, and every rule in `store/`.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from textual import events, on, work
from textual.cache import FIFOCache, LRUCache
from textual.message import Message
from textual.notifications import Notification, Notify
from textual.widgets import Input

from store.errors import LiaisonError
from store.service import Clock, Session, Vault, utcnow
from tui import inbox
from tui.commands import (
    AuditCommands,
    BundleCommands,
    DeskCommands,
    OfficerCommands,
    RecordsCommands,
    ReviewCommands,
    VaultCommands,
)
from tui.config import Settings, SettingsError, state_dir
from tui.native_memory import cap_malloc_arenas
from tui.navigation import Navigation
from tui.screens.base import LiaisonModal, LiaisonScreen, ResumePoint, WorkerReports
from tui.screens.unlock import UnlockScreen
from tui.widgets.plain import safe

#: How often the idle timer looks at the clock (the lock itself happens after `idle_lock_minutes`).
IDLE_CHECK_SECONDS = 5.0
#: How often the app checks that its terminal is still there (a hang-up without SIGHUP, e.g. under `make`).
TERMINAL_CHECK_SECONDS = 1.0
#: How long a hung-up app may take to shut down before the process ends without the usual tidying up.
HANGUP_GRACE_SECONDS = 3.0
#: The exit status after a hang-up or termination signal (128 + the signal, as a shell reports it).
HANGUP_EXIT = 128 + signal.SIGHUP


class LiaisonApp(WorkerReports, Navigation):
    """Liaison's terminal workstation; `session` is None whenever the store is locked."""

    CSS_PATH = "app.tcss"
    TITLE = "Liaison"
    COMMANDS: ClassVar[set[Any]] = {
        RecordsCommands,
        ReviewCommands,
        VaultCommands,
        BundleCommands,
        DeskCommands,
        AuditCommands,
        OfficerCommands,
    }
    COMMAND_PALETTE_DISPLAY = "ctrl+p"
    QUIET_GROUPS = frozenset({"poll", "inbox"})

    @dataclass
    class ChangeCounterRead(Message):
        """The store's change counter as the poller last read it (newer readings replace older ones)."""

        counter: int

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, LiaisonApp.ChangeCounterRead)

    @dataclass
    class InboxListed(Message):
        """The files now in the inbox folder (names only; newer listings replace older ones)."""

        names: frozenset[str]

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, LiaisonApp.InboxListed)

    def __init__(
        self,
        vault: Vault,
        *,
        officer: str | None = None,
        settings: Settings | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        notice: str = "",
    ) -> None:
        super().__init__()
        cap_malloc_arenas()  # before any worker thread: each would take an arena of its own
        self.vault = vault
        self.officer = officer
        self.notice = notice
        self.settings = settings or Settings()
        self.session: Session | None = None
        self.unlock_failures = 0
        self.is_locking_or_locked = True
        self._monotonic = monotonic
        self._last_activity = monotonic()
        self._counter: int | None = None
        self._resume: tuple[str, list[ResumePoint]] | None = None
        self._inbox_seen: frozenset[str] | None = None
        self.inbox_arrival: str | None = None
        """The newest file that appeared in the inbox folder and was not opened yet."""
        self._inbox_own: set[str] = set()  # files this app wrote into the inbox folder: never announced
        self._inbox_notice: Notification | None = None  # the "new in the inbox" notice shown, dropped by `i`
        self._keys_notice: Notification | None = (
            None  # the data key's age or an unfinished rotation (`show_key_notice`)
        )
        self.hung_up = False
        """True once the terminal went away (or a termination signal came): the keys are dropped, the app leaves."""
        self._terminal_fd: int | None = None
        self._hangup_signals: list[signal.Signals] = []
        self._hangup_watchdog: threading.Timer | None = None

    def on_mount(self) -> None:
        self.push_screen(UnlockScreen(self.vault, self.officer, notice=self.notice))
        self.set_interval(self.settings.poll_seconds, self.poll_changes, name="poll changes")
        if self.settings.idle_lock_minutes > 0:
            self.set_interval(IDLE_CHECK_SECONDS, self.check_idle_lock, name="idle lock")
        if not self.is_headless:
            self.watch_terminal()

    def on_unmount(self) -> None:
        loop = asyncio.get_running_loop()
        for signum in self._hangup_signals:
            loop.remove_signal_handler(signum)
        self._hangup_signals.clear()

    # ---- the terminal going away ----------------------------------------------------------------

    def watch_terminal(self) -> None:
        """Hang up on SIGHUP or SIGTERM, and when the terminal disappears without a signal.

        Closing a terminal sends SIGHUP only to its session leader: under `make demo` that is make, which waits
        for the app, while the app's input reads end-of-file forever. So the app also checks that its terminal is
        still one.
        """
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGHUP, signal.SIGTERM):
            loop.add_signal_handler(signum, self.hang_up)
            self._hangup_signals.append(signum)
        stdin = sys.__stdin__
        if stdin is not None and os.isatty(stdin.fileno()):
            self._terminal_fd = stdin.fileno()
            self.set_interval(TERMINAL_CHECK_SECONDS, self.check_terminal, name="terminal check")

    def check_terminal(self) -> None:
        """A hung-up terminal is no longer a terminal (its reads end, its writes fail): hang up."""
        if self._terminal_fd is not None and not os.isatty(self._terminal_fd):
            self.hang_up()

    def hang_up(self) -> None:
        """Nobody is at the terminal any more: drop the keys at once, then leave.

        Leaving draws the last frame and restores the terminal; with the terminal gone those writes may block, so
        a timer ends the process if the ordinary exit has not within `HANGUP_GRACE_SECONDS` (the keys are already
        dropped and every write to the store is a committed transaction). `run_app` stops the timer once the app
        has left.
        """
        if self.hung_up:
            return
        self.hung_up = True
        self.is_locking_or_locked = True
        session, self.session = self.session, None
        if session is not None:
            session.lock()
        for screen in self.screen_stack:
            self.workers.cancel_node(screen)
        if not self.is_headless:
            self._hangup_watchdog = threading.Timer(HANGUP_GRACE_SECONDS, os._exit, args=(HANGUP_EXIT,))
            self._hangup_watchdog.daemon = True
            self._hangup_watchdog.start()
        self.exit(HANGUP_EXIT, return_code=HANGUP_EXIT)

    def stop_hangup_watchdog(self) -> None:
        """The app has left after a hang-up: the process may tidy up (close the store) at its own pace."""
        if self._hangup_watchdog is not None:
            self._hangup_watchdog.cancel()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Lock and refresh only mean something while unlocked (hidden from the footer otherwise)."""
        if action == "open_inbox":
            return self.session is not None and self.inbox_arrival is not None
        return not (action in {"lock", "refresh", "dashboard", "audit", "officers"} and self.session is None)

    # ---- unlocking and locking ------------------------------------------------------------------

    async def open_session(self, session: Session) -> None:
        """The store is unlocked: show the browser, or bring the officer back where the lock found them."""
        from tui.modals.compose import unseal_draft
        from tui.screens.browser import BrowserScreen
        from tui.screens.detail import DetailScreen
        from tui.screens.review import ReviewScreen

        self.session = session
        self.is_locking_or_locked = False
        self.refresh_bindings()
        self._last_activity = self._monotonic()
        # The change counter's baseline is read now, before the first page: anything another process commits
        # from here on differs from it, so the first poll already refreshes (none is taken as the baseline).
        self._counter = self.vault.change_counter()
        self._inbox_seen = None
        if self.settings.inbox:
            self.list_inbox()  # the baseline listing: files already there are not news
        points: list[ResumePoint] = []
        if self._resume is not None and self._resume[0] == session.actor.name:
            points = self._resume[1]
        self._resume = None
        browser = next((p for p in points if p.kind == "browser"), None)
        await self.switch_screen(
            BrowserScreen(browser.data["query"], browser.data["cursor"]) if browser else BrowserScreen()
        )
        if self.session is not session:
            return  # locked or hung up while the browser was being shown: the keys are gone, nothing more to open
        self.show_key_notice()
        for point in points:
            if self.session is not session:
                return
            if point.kind == "detail":
                await self.push_screen(DetailScreen(point.data["reference"], point.data.get("scroll_y", 0.0)))
            elif point.kind == "review":
                await self.push_screen(ReviewScreen(point.data.get("reference")))
            elif point.kind == "screen":
                await self.push_screen(point.data["screen"](*point.data["args"]))
            elif point.kind == "compose" and isinstance(self.screen, LiaisonScreen):
                try:
                    draft = unseal_draft(session, point)
                except LiaisonError:
                    continue
                self.screen.open_compose(draft=draft)

    async def action_lock(self) -> None:
        """Forget the keys and every decrypted word, remembering only where the officer was."""
        session = self.session
        if session is None or self.is_locking_or_locked:
            return
        self.is_locking_or_locked = True
        points: list[ResumePoint] = []
        for screen in self.screen_stack:
            if isinstance(screen, LiaisonScreen | LiaisonModal):
                point = screen.resume_point(session)
                if point is not None:
                    points.append(point)
        self._resume = (session.actor.name, points)
        for screen in self.screen_stack:
            self.workers.cancel_node(screen)
            if isinstance(screen, LiaisonScreen):
                await screen.forget()
        self.session = None
        session.lock()
        self.refresh_bindings()
        while len(self.screen_stack) > 2:
            await self.pop_screen()
        await self.switch_screen(
            UnlockScreen(self.vault, session.actor.name, notice="Locked. Unlock to carry on where you were.")
        )
        del session
        scrub_memory()
        self.call_after_refresh(scrub_memory)  # again once the dropped screens are gone from the compositor

    def check_idle_lock(self) -> None:
        """Lock when nobody has pressed a key or clicked for `idle_lock_minutes`."""
        if self.session is None or self.settings.idle_lock_minutes <= 0:
            return
        if self._monotonic() - self._last_activity >= self.settings.idle_lock_minutes * 60:
            self.call_later(self.action_lock)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(
            event, events.Key | events.MouseDown | events.MouseScrollDown | events.MouseScrollUp | events.Paste
        ):
            self._last_activity = self._monotonic()
        await super().on_event(event)

    async def action_quit(self) -> None:
        """Lock, then leave."""
        if self.session is not None:
            self.session.lock()
            self.session = None
        self.exit(0)

    # ---- noticing changes made elsewhere --------------------------------------------------------

    def poll_changes(self) -> None:
        """Ask (cheaply, in a worker) whether anything was committed since the last look, or arrived in the inbox."""
        if self.session is not None:
            self.read_change_counter()
            if self.settings.inbox:
                self.list_inbox()

    @work(thread=True, exclusive=True, exit_on_error=False, group="inbox", name="list inbox")
    def list_inbox(self) -> None:
        """The names of the regular files in the inbox folder (a missing folder lists nothing)."""
        folder = Path(self.settings.inbox).expanduser()
        try:
            names = frozenset(p.name for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
        except OSError:
            names = frozenset()
        self.post_message(self.InboxListed(names))

    @on(InboxListed)
    def _inbox_listed(self, message: LiaisonApp.InboxListed) -> None:
        if self.session is None:
            return
        seen, self._inbox_seen = self._inbox_seen, message.names
        if seen is None:
            return  # the first listing is the baseline: only what arrives while the app runs is news
        new = sorted(message.names - seen - self._inbox_own)
        if new:
            self.inbox_arrival = new[-1]
            self.refresh_bindings()
            self._drop_inbox_notice()
            text = safe(f"{', '.join(new)} arrived in the inbox — press i to import")
            self._inbox_notice = Notification(text, "New in the inbox", "information", 30, markup=False)
            self.post_message(Notify(self._inbox_notice))

    def show_key_notice(self) -> None:
        """The store's notice about its keys (the data key older than the policy, or a rotation left unfinished), in
        place of the one shown before: after a rotation or a removal it goes, or says what is true now."""
        if self._keys_notice is not None and self._keys_notice in self._notifications:
            self._unnotify(self._keys_notice)
        self._keys_notice = None
        notice = self.session.key_notice() if self.session is not None else None
        if notice:
            self._keys_notice = Notification(notice, "Keys", "warning", 15, markup=False)
            self.post_message(Notify(self._keys_notice))

    def _drop_inbox_notice(self) -> None:
        if self._inbox_notice is not None and self._inbox_notice in self._notifications:
            self._unnotify(self._inbox_notice)
        self._inbox_notice = None

    def wrote_file(self, path: Path) -> None:
        """This app is about to write `path`: a file in the inbox folder is its own, never announced as an arrival;
        the outbox beside the inbox is made when first written to."""
        if inbox.in_inbox(path, self.settings.inbox):
            self._inbox_own.add(path.name)
        elif path.parent == inbox.outbox(self.settings.inbox):
            path.parent.mkdir(exist_ok=True)

    async def action_open_inbox(self) -> None:
        """The import screen on the inbox folder, checking the file the last notice named (the notice dropped)."""
        from tui.screens.import_bundle import ImportScreen

        if self.session is None or self.inbox_arrival is None:
            return
        folder, arrived = Path(self.settings.inbox).expanduser(), self.inbox_arrival
        self.inbox_arrival = None
        self.refresh_bindings()
        self._drop_inbox_notice()
        screen = ImportScreen(folder)
        await self.push_screen(screen)
        screen.query_one("#import-path", Input).value = str(folder / arrived)
        screen.check(folder / arrived)

    @work(thread=True, exclusive=True, exit_on_error=False, group="poll", name="read change counter")
    def read_change_counter(self) -> None:
        """The store's change counter."""
        self.post_message(self.ChangeCounterRead(self.vault.change_counter()))

    @on(ChangeCounterRead)
    def _counter_read(self, message: LiaisonApp.ChangeCounterRead) -> None:
        if self.session is None:
            return
        previous, self._counter = self._counter, message.counter
        if previous is not None and previous != message.counter:
            self.refresh_screens()

    def refresh_screens(self) -> None:
        """Every screen reloads what it shows (counts, pages, the open record)."""
        for screen in self.screen_stack:
            if isinstance(screen, LiaisonScreen):
                screen.on_store_changed()

    def action_refresh(self) -> None:
        if self.session is not None:
            self.refresh_screens()


#: The type of a `functools.lru_cache`-wrapped function (module-level caches Rich and Textual draw through).
_LRU_WRAPPER = type(functools.lru_cache(maxsize=1)(lambda: None))


def scrub_memory() -> None:
    """Drop every render cache that may hold drawn (decrypted) text, then collect garbage.

    Rich and Textual keep module-level caches keyed by the strings they drew (cell widths, split segments,
    parsed content); after a lock they are cleared so no live object still refers to a decrypted word. CPython
    cannot wipe the freed memory itself: see the README's security model.
    """
    for obj in gc.get_objects():
        if isinstance(obj, LRUCache | FIFOCache):
            obj.clear()
        elif isinstance(obj, _LRU_WRAPPER) and str(getattr(obj, "__module__", "")).startswith(
            ("rich.", "textual.", "tui.")
        ):
            obj.cache_clear()
    gc.collect()


def run_app(store_path: Path, officer: str | None, *, clock: Clock = utcnow, notice: str = "") -> int:
    """Open the store at `store_path` and run the TUI until the officer quits; returns the exit code.

    `notice` is shown on the unlock screen (e.g. `liaison demo` naming the demo passphrase).
    """
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        vault = Vault.open(
            store_path, clock=clock, kdf_profile=os.environ.get("LIAISON_KDF_PROFILE") or None, state_dir=state_dir()
        )
    except LiaisonError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    app = LiaisonApp(vault, officer=officer, settings=settings, notice=notice)
    try:
        result = app.run()
    finally:
        app.stop_hangup_watchdog()
        if app.session is not None:
            app.session.lock()
        vault.close()
    return int(result or 0) if app.return_code in (None, 0) else int(app.return_code or 1)
