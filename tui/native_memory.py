"""The app's native heap: a cap on glibc's malloc arenas, set before the app starts its worker threads.

Every page, count and check runs in a thread worker, and glibc gives threads arenas of their own (up to eight per
core); memory freed in one stays reserved to it. With two arenas the app's peak RSS at 100k records was 6–17 MB
lower (docs/performance.md). Elsewhere than glibc nothing is changed."""

from __future__ import annotations

import ctypes
import sys
from typing import Any

#: glibc's `M_ARENA_MAX` (malloc.h).
M_ARENA_MAX = -8
#: The arenas the app's threads share: the interpreter lock serialises most allocation anyway.
ARENAS = 2


def _libc() -> Any:
    """The C library's handle when it is glibc, else None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # noqa: B018 (only glibc has it: musl's mallopt ignores this option)
        return libc
    except (OSError, AttributeError):
        return None


def cap_malloc_arenas() -> bool:
    """Cap glibc's arenas at `ARENAS` for threads that have none yet; True when the C library took it."""
    libc = _libc()
    if libc is None:
        return False
    try:
        return bool(libc.mallopt(M_ARENA_MAX, ARENAS))
    except AttributeError:
        return False
