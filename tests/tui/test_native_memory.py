"""The app caps glibc's malloc arenas when it is built, before any worker thread takes one (its peak memory at 100k
records, issue 5: docs/performance.md)."""

from __future__ import annotations

import platform
from collections.abc import Callable

import pytest

from tui import native_memory
from tui.app import LiaisonApp


def test_the_app_caps_the_arenas_when_it_is_built(
    make_app: Callable[..., LiaisonApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[int, int]] = []

    class Glibc:
        def gnu_get_libc_version(self) -> bytes:
            return b"2.36"

        def mallopt(self, option: int, value: int) -> int:
            calls.append((option, value))
            return 1

    monkeypatch.setattr(native_memory, "_libc", lambda: Glibc())
    make_app()
    assert calls == [(native_memory.M_ARENA_MAX, native_memory.ARENAS)]


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="only glibc has malloc arenas to cap")
def test_glibc_takes_the_cap() -> None:
    assert native_memory.cap_malloc_arenas()


def test_nothing_is_changed_without_glibc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(native_memory, "_libc", lambda: None)
    assert not native_memory.cap_malloc_arenas()
    monkeypatch.setattr(native_memory, "_libc", lambda: object())  # a C library without mallopt
    assert not native_memory.cap_malloc_arenas()
