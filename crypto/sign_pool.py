"""A helper process that signs a large append's event bodies on another core (`crypto.events.event_signer`).

`SignPool.start()` runs one helper (`python -P -m crypto.sign_pool`), a child of the appending process talking to
it over its stdin and stdout only. `submit(key, bodies)` hands it a window of event bodies with the acting
officer's Ed25519 private key; `collect()` reads back one 64-byte signature per body, in order, made by the same
function the appending process signs with. One request is outstanding at a time (the caller collects a window
before it hands the next), so neither side waits on a full pipe while the other works. The helper holds the key
in memory while the append runs, as the appending process does, and writes nothing anywhere. Any failure of the
helper raises `PoolBroken`; the caller then signs the rest itself.
"""

from __future__ import annotations

import contextlib
import fcntl
import struct
import subprocess
import sys
from collections.abc import Sequence

from crypto.events import event_signer
from crypto.rekey_pool import PoolBroken, frame, read_exact, read_items

_U32 = struct.Struct(">I")
_HEAD = b"sign"
_SIGNATURE = 64
_PIPE_BYTES = 1 << 20


def main() -> None:
    """The helper: answer requests (the head and key, then the bodies) on stdin until it closes."""
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    signers: dict[bytes, object] = {}
    try:
        while True:
            try:
                head = read_items(stdin)
            except EOFError:
                return
            bodies = read_items(stdin)
            if len(head) != 2 or head[0] != _HEAD:
                return  # not a request of this protocol: the caller sees the pipe close
            sign = signers.get(head[1])
            if sign is None:
                signers.clear()
                sign = signers[head[1]] = event_signer(head[1])
            stdout.write(_U32.pack(len(bodies)) + b"".join(sign(body) for body in bodies))  # type: ignore[operator]
            stdout.flush()
    except (BrokenPipeError, EOFError, KeyboardInterrupt, ValueError):
        return


class SignPool:
    """The append's signing helper (see the module's docstring)."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self._proc: subprocess.Popen[bytes] | None = proc
        self._pending: int | None = None

    @classmethod
    def start(cls) -> SignPool | None:
        """A started helper, or None when it cannot be started."""
        try:
            # -P: never a `crypto` package of the working directory (see crypto.export_pool)
            proc = subprocess.Popen(
                [sys.executable, "-P", "-m", "crypto.sign_pool"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        except OSError:
            return None
        for stream in (proc.stdin, proc.stdout):
            with contextlib.suppress(OSError, AttributeError):  # a capacity refused: the default's 64 KiB
                fcntl.fcntl(stream.fileno(), fcntl.F_SETPIPE_SZ, _PIPE_BYTES)  # type: ignore[union-attr]
        return cls(proc)

    def submit(self, private: bytes, bodies: Sequence[bytes]) -> None:
        """Hand the helper event bodies to sign with the officer's Ed25519 private key."""
        if self._proc is None or self._pending is not None:
            raise PoolBroken("the helper is closed or has a request outstanding")
        try:
            stdin = self._proc.stdin
            assert stdin is not None
            stdin.write(frame([_HEAD, private]) + frame(bodies))
            stdin.flush()
        except (OSError, ValueError) as exc:
            raise PoolBroken(str(exc)) from exc
        self._pending = len(bodies)

    def collect(self) -> list[bytes]:
        """The signatures of the bodies last handed, in order."""
        expected, self._pending = self._pending, None
        if self._proc is None or expected is None:
            raise PoolBroken("no request is outstanding")
        try:
            stdout = self._proc.stdout
            assert stdout is not None
            (count,) = _U32.unpack(read_exact(stdout, 4))
            if count != expected:
                raise PoolBroken("the helper answered for another number of bodies")
            data = read_exact(stdout, count * _SIGNATURE)
        except (OSError, ValueError, EOFError, struct.error) as exc:
            raise PoolBroken(str(exc)) from exc
        return [data[i : i + _SIGNATURE] for i in range(0, len(data), _SIGNATURE)]

    def close(self) -> None:
        """End the helper (its stdin closed: it exits at the end of its pipe)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        for stream in (proc.stdin, proc.stdout):
            with contextlib.suppress(OSError):
                if stream is not None:
                    stream.close()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    main()


__all__ = ["PoolBroken", "SignPool", "main"]
