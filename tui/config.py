"""Typed settings of the TUI, read from the environment once at start-up."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

#: Where this workstation keeps what it has seen of each store (the witness of its audit log).
STATE_DIR_ENV = "LIAISON_STATE_DIR"


def state_dir(env: Mapping[str, str] | None = None) -> Path:
    """The workstation's state directory for both faces: env LIAISON_STATE_DIR, else platformdirs' user state dir.

    The store reads no environment variable; the faces pass this down to `Vault.open`.
    """
    env = os.environ if env is None else env
    given = env.get(STATE_DIR_ENV, "").strip()
    if given:
        return Path(given).expanduser()
    from platformdirs import user_state_dir

    return Path(user_state_dir("liaison", appauthor=False))


class SettingsError(ValueError):
    """An environment variable holds a value the TUI cannot use; the message names it."""


def _number(env: Mapping[str, str], name: str, default: float, *, minimum: float, maximum: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None
    if not minimum <= value <= maximum:
        raise SettingsError(f"{name} must be between {minimum:g} and {maximum:g}, got {raw!r}")
    return value


@dataclass(frozen=True)
class Settings:
    """What an officer or an administrator may tune about the TUI."""

    idle_lock_minutes: float = 10.0
    """Lock the store after this many minutes without a key press or click; 0 turns auto-lock off."""

    poll_seconds: float = 2.0
    """How often to check whether another process (the CLI, a colleague) changed the store."""

    page_size: int = 50
    """Records fetched and decrypted per page of the browser."""

    cached_pages: int = 8
    """Pages of decrypted titles kept in memory (least recently used are dropped first)."""

    unlock_backoff_cap_seconds: float = 30.0
    """The longest wait imposed after repeated wrong passphrases."""

    cursor_blink: bool = True
    """Blink text cursors; snapshot tests turn this off so screenshots are stable."""

    inbox: str = ""
    """A folder where counterparts' bundles arrive (`LIAISON_INBOX`); the app says when a new file appears there."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Settings from `LIAISON_IDLE_LOCK_MINUTES`, `LIAISON_POLL_SECONDS` and `LIAISON_INBOX`; refuses nonsense clearly."""
        env = os.environ if env is None else env
        return cls(
            idle_lock_minutes=_number(
                env, "LIAISON_IDLE_LOCK_MINUTES", cls.idle_lock_minutes, minimum=0, maximum=24 * 60
            ),
            poll_seconds=_number(env, "LIAISON_POLL_SECONDS", cls.poll_seconds, minimum=0.2, maximum=3600),
            inbox=env.get("LIAISON_INBOX", "").strip(),
        )

    def unlock_delay(self, failures: int) -> float:
        """Seconds to wait before the next attempt after `failures` wrong passphrases in a row (1 s, 2 s, 4 s … after the second)."""
        if failures < 2:
            return 0.0
        return float(min(2 ** (failures - 2), self.unlock_backoff_cap_seconds))
