"""The unlock screen: choose an officer, type the passphrase; the key derivation runs in a worker."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Center, Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Input, Label, LoadingIndicator, Select, Static

from store.errors import AuthError, LiaisonError
from store.service import OfficerInfo, Session, Vault
from store.vocab import Role
from tui.screens.base import WorkerReports
from tui.screens.keys import ShownKeys
from tui.widgets.passphrase_input import PassphraseInput
from tui.widgets.plain import plain
from tui.widgets.status_line import StatusLine

if TYPE_CHECKING:
    from tui.app import LiaisonApp


class UnlockScreen(ShownKeys, WorkerReports, Screen[None]):
    """Masked passphrase, officer chooser when there are several, inline errors and a growing wait after failures."""

    AUTO_FOCUS = "#passphrase"

    DEFAULT_CSS = """
    UnlockScreen {
        align: center middle;
        & Center { height: auto; }
        & #unlock-box { width: 72; height: auto; padding: 1 3; border: thick $primary; background: $surface; }
        & #unlock-title { text-style: bold; color: $text-accent; text-align: center; width: 100%; }
        & #unlock-store { color: $text-muted; margin-bottom: 1; text-align: center; width: 100%; }
        & .unlock-label { width: 100%; margin-top: 1; color: $text-muted; }
        & #unlock-box Select { width: 100%; }
        & #officer-loading { color: $text-disabled; padding: 0 1; }
        & #unlock-notice { color: $text-warning; margin-top: 1; display: none; }
        & #unlock-notice.-shown { display: block; }
        & #unlock-keys { color: $text-muted; margin-top: 1; }
        & #unlock-error { margin-top: 1; padding: 0; }
        & #unlock-progress { height: auto; margin-top: 1; display: none; }
        &.-busy #unlock-progress { display: block; }
        & #unlock-progress LoadingIndicator { height: 1; }
        & #unlock-status { color: $text-muted; text-align: center; width: 100%; }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "ctrl+o",
            "choose_officer",
            "Officer",
            tooltip="Choose which officer unlocks the store.",
            id="unlock.officer",
        ),
    ]

    @dataclass
    class OfficersLoaded(Message):
        """The officers of the store (names and roles are not secret) and its ministry."""

        officers: list[OfficerInfo]
        ministry: str
        demo: bool = False

    @dataclass
    class Unlocked(Message):
        """The passphrase opened the officer's key slot."""

        session: Session

    @dataclass
    class Failed(Message):
        """The store refused to unlock; `reason` is the store's one-line message."""

        officer: str | None
        reason: str
        wrong_passphrase: bool

    busy: reactive[bool] = reactive(False, init=False)
    """True while the key is derived from the passphrase: the progress shows and the passphrase field waits."""
    notice: reactive[str] = reactive("")
    """What the unlock box says under the passphrase (the demo's officers, "Locked …"); empty: nothing."""

    def __init__(self, vault: Vault, officer: str | None, notice: str = "") -> None:
        super().__init__()
        self.vault = vault
        self.preferred_officer = officer
        self.set_reactive(UnlockScreen.notice, notice)
        self.retry_in = 0.0
        self._last_reason = ""
        self._wait_timer: Timer | None = None

    @property
    def liaison(self) -> LiaisonApp:
        return cast("LiaisonApp", self.app)

    def compose(self) -> ComposeResult:
        with Center(), Vertical(id="unlock-box"):
            yield Static("LIAISON", id="unlock-title")
            yield Static(plain(f"Encrypted store {self.vault.path}"), id="unlock-store", markup=False)
            yield Label("Officer", classes="unlock-label")
            yield Static("loading officers…", id="officer-loading")
            yield Label("Passphrase", classes="unlock-label")
            yield PassphraseInput(id="passphrase")
            yield Static(id="unlock-notice", markup=False)
            yield StatusLine(error=True, hide_when_empty=True, id="unlock-error")
            yield Static("enter: unlock    ctrl+o: choose officer    ctrl+q: quit", id="unlock-keys")
            with Vertical(id="unlock-progress"):
                yield LoadingIndicator()
                yield Static("unlocking… deriving the key from your passphrase", id="unlock-status")
        yield Footer()

    def on_mount(self) -> None:
        self.freeze_cursors()
        self.load_officers()

    @work(thread=True, exclusive=True, exit_on_error=False, group="officers", name="list officers")
    def load_officers(self) -> None:
        """Officer names and roles, and the store's ministry."""
        self.post_message(self.OfficersLoaded(self.vault.officers(), self.vault.ministry, self.vault.is_demo()))

    @on(OfficersLoaded)
    async def _show_officers(self, message: UnlockScreen.OfficersLoaded) -> None:
        active = [o for o in message.officers if not o.revoked]
        names = [o.name for o in active]
        admins = [o.name for o in active if o.role is Role.ADMIN]
        chosen = self.preferred_officer if self.preferred_officer in names else next(iter(admins + names), None)
        # The chooser is built once the names are known, so no greyed placeholder entry stays in its list.
        select = Select[str](
            [(plain(f"{o.name} ({o.role.value})"), o.name) for o in active],
            prompt="no officer",
            allow_blank=chosen is None,
            value=chosen if chosen is not None else Select.NULL,
            id="officer",
            compact=True,
            disabled=len(active) <= 1,
        )
        loading = self.query_one("#officer-loading")
        await self.query_one("#unlock-box").mount(select, after=loading)
        await loading.remove()
        self.watch(select, "expanded", self._chooser_toggled, init=False)
        self.query_one("#unlock-store", Static).update(plain(f"Store of {message.ministry} · {self.vault.path}"))
        if message.demo:
            from store.demo import DEMO_PASSPHRASE

            roster = ", ".join(f"{o.name} ({o.role.value})" for o in active)
            notice = f"Demo store: officers {roster}; each one's passphrase is {DEMO_PASSPHRASE!r}."
            self.notice = f"{self.notice}\n{notice}" if self.notice and notice not in self.notice else notice

    def watch_notice(self, notice: str) -> None:
        widget = self.query_one("#unlock-notice", Static)
        widget.update(plain(notice, multiline=True))
        widget.set_class(bool(notice), "-shown")

    def _chooser_toggled(self, expanded: bool) -> None:
        """The officer list closed (a choice made, or escape): back to the passphrase, so enter unlocks."""
        if not expanded and not self.busy and self.retry_in <= 0:
            self.query_one("#passphrase", Input).focus()

    @property
    def officer(self) -> str | None:
        """The chosen officer (None lets the store pick the only one)."""
        chooser = self.query("#officer")
        value = chooser.first(Select).value if chooser else None
        return value if isinstance(value, str) else self.preferred_officer

    def action_choose_officer(self) -> None:
        chooser = self.query("#officer")
        if chooser and not chooser.first(Select).disabled:
            select = chooser.first(Select)
            select.focus()
            select.expanded = True

    @on(Select.Changed, "#officer")
    def _officer_changed(self) -> None:
        if self.is_mounted and not self.busy:
            self.query_one("#passphrase", Input).focus()

    @on(Input.Submitted, "#passphrase")
    def _submit(self, event: Input.Submitted) -> None:
        event.stop()
        field = self.query_one("#passphrase", PassphraseInput)
        passphrase = field.value
        field.forget()
        if self.busy or self.retry_in > 0:
            return
        if not passphrase:
            self._show_error("type your passphrase, then press enter")
            return
        self.busy = True
        self._show_error("")
        self.unlock(self.officer, passphrase)

    @work(thread=True, exclusive=True, exit_on_error=False, group="unlock", name="unlock", description="unlock")
    def unlock(self, officer: str | None, passphrase: str) -> None:
        """Derive the key and open the officer's slot (slow on purpose)."""
        try:
            session = self.vault.unlock(officer, passphrase)
        except AuthError as exc:
            self.post_message(self.Failed(officer, str(exc), wrong_passphrase=True))
        except LiaisonError as exc:
            self.post_message(self.Failed(officer, str(exc), wrong_passphrase=False))
        else:
            self.post_message(self.Unlocked(session))

    @on(Unlocked)
    def _unlocked(self, message: UnlockScreen.Unlocked) -> None:
        self.liaison.unlock_failures = 0
        # The app replaces this screen, so it must do so from its own message loop, not from ours.
        self.app.call_later(self.liaison.open_session, message.session)

    @on(Failed)
    def _failed(self, message: UnlockScreen.Failed) -> None:
        self.busy = False
        if not message.wrong_passphrase:
            self._show_error(message.reason)
            return
        self._last_reason = message.reason
        self.liaison.unlock_failures += 1
        delay = self.liaison.settings.unlock_delay(self.liaison.unlock_failures)
        if delay > 0:
            self.retry_in = delay
            self.query_one("#passphrase", Input).disabled = True
            self._show_error(f"{message.reason} — wait {delay:g} s before trying again")
            self._wait_timer = self.set_timer(delay, self.end_wait)
        else:
            self._show_error(message.reason)

    def end_wait(self) -> None:
        """The imposed wait after repeated failures is over."""
        self.retry_in = 0.0
        if self._wait_timer is not None:
            self._wait_timer.stop()
            self._wait_timer = None
        field = self.query_one("#passphrase", Input)
        field.disabled = False
        field.focus()
        self._show_error(self._last_reason)

    def worker_failed(self, worker: Any) -> None:
        self.busy = False

    def watch_busy(self, busy: bool) -> None:
        self.set_class(busy, "-busy")
        self.query_one("#passphrase", Input).disabled = busy or self.retry_in > 0
        if not busy and self.retry_in <= 0:
            self.query_one("#passphrase", Input).focus()

    def _show_error(self, text: str) -> None:
        self.query_one("#unlock-error", StatusLine).show(text, error=True)
