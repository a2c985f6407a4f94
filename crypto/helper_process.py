"""The plumbing every helper process shares (`rekey_pool`, `export_pool`, `sign_pool`): starting one, framing what
goes over its pipes, reading it back, its CPU time, and ending it.

A helper is `python -P -m crypto.<module>`, a child talking to its parent over its stdin and stdout only. `-P`
keeps the working directory off its path, so a `crypto` package in the directory Liaison is run from is never the
code that runs as the helper, which is handed keys. Requests and replies are framed: a count, then each item's
length and bytes (`frame`, `read_items`).
"""

from __future__ import annotations

import contextlib
import fcntl
import struct
import subprocess
import sys
from collections.abc import Callable, Sequence
from typing import IO

U32 = struct.Struct(">I")
#: The pipes' capacity asked for (Linux): a batch passes in a few writes instead of one per 64 KiB.
_PIPE_BYTES = 1 << 20


class PoolBroken(Exception):
    """A helper process failed; its work is to be done by the process that started it."""


def frame(items: Sequence[bytes]) -> bytes:
    """Items framed for a helper's pipe: their count, then each one's length and bytes."""
    parts = [U32.pack(len(items))]
    for item in items:
        parts += (U32.pack(len(item)), item)
    return b"".join(parts)


def read_exact(stream: IO[bytes], n: int) -> bytes:
    data = stream.read(n)
    if data is None or len(data) != n:
        raise EOFError("the pipe closed")
    return data


def read_items(stream: IO[bytes]) -> list[bytes]:
    (count,) = U32.unpack(read_exact(stream, 4))
    return [read_exact(stream, U32.unpack(read_exact(stream, 4))[0]) for _ in range(count)]


def spawn(module: str) -> subprocess.Popen[bytes] | None:
    """A started helper `python -P -m <module>`, or None when it cannot be started."""
    try:
        proc = subprocess.Popen(
            [sys.executable, "-P", "-m", module],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
    except OSError:
        return None
    for stream in (proc.stdin, proc.stdout):
        with contextlib.suppress(OSError, AttributeError):  # a capacity refused: the default's 64 KiB
            fcntl.fcntl(stream.fileno(), fcntl.F_SETPIPE_SZ, _PIPE_BYTES)  # type: ignore[union-attr]
    return proc


def cpu_seconds(proc: subprocess.Popen[bytes]) -> float | None:
    """The CPU time a helper has used so far (Linux's /proc; None where it cannot be read)."""
    try:
        with open(f"/proc/{proc.pid}/schedstat", encoding="ascii") as stat:
            return int(stat.read().split()[0]) / 1e9  # nanoseconds on a CPU
    except (OSError, ValueError, IndexError):
        return None


def end(proc: subprocess.Popen[bytes]) -> None:
    """End a helper: its pipes closed (it exits at the end of its stdin), then waited for (killed after 5 s)."""
    for stream in (proc.stdin, proc.stdout):
        with contextlib.suppress(OSError):
            if stream is not None:
                stream.close()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def send(proc: subprocess.Popen[bytes] | None, data: bytes) -> None:
    """Write a request to a helper (PoolBroken when it is gone)."""
    if proc is None or proc.stdin is None:
        raise PoolBroken("the helper is closed")
    try:
        proc.stdin.write(data)
        proc.stdin.flush()
    except (OSError, ValueError) as exc:
        raise PoolBroken(str(exc)) from exc


def serve(answer: Callable[[list[bytes], list[bytes]], bytes | None]) -> None:
    """A helper's loop: each request (a head, then items) read from stdin and `answer`ed on stdout, until stdin
    closes or `answer` gives None (a request not of its protocol: the parent sees the pipe close)."""
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    try:
        while True:
            try:
                head = read_items(stdin)
            except EOFError:
                return
            reply = answer(head, read_items(stdin))
            if reply is None:
                return
            stdout.write(reply)
            stdout.flush()
    except (BrokenPipeError, EOFError, KeyboardInterrupt, ValueError):
        return


__all__ = ["U32", "PoolBroken", "cpu_seconds", "end", "frame", "read_exact", "read_items", "send", "serve", "spawn"]
