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

import struct
import subprocess
from collections.abc import Callable, Sequence

from crypto.events import event_signer
from crypto.helper_process import U32, PoolBroken, end, frame, read_exact, send, serve, spawn

_HEAD = b"sign"
_SIGNATURE = 64


def main() -> None:
    """The helper: answer requests (the head and key, then the bodies) on stdin until it closes."""
    signers: dict[bytes, Callable[[bytes], bytes]] = {}

    def answer(head: list[bytes], bodies: list[bytes]) -> bytes | None:
        if len(head) != 2 or head[0] != _HEAD:
            return None
        sign = signers.get(head[1])
        if sign is None:
            signers.clear()
            sign = signers[head[1]] = event_signer(head[1])
        return U32.pack(len(bodies)) + b"".join(sign(body) for body in bodies)

    serve(answer)


class SignPool:
    """The append's signing helper (see the module's docstring)."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self._proc: subprocess.Popen[bytes] | None = proc
        self._pending: int | None = None

    @classmethod
    def start(cls) -> SignPool | None:
        """A started helper, or None when it cannot be started."""
        proc = spawn("crypto.sign_pool")
        return None if proc is None else cls(proc)

    def submit(self, private: bytes, bodies: Sequence[bytes]) -> None:
        """Hand the helper event bodies to sign with the officer's Ed25519 private key."""
        if self._pending is not None:
            raise PoolBroken("a request is outstanding")
        send(self._proc, frame([_HEAD, private]) + frame(bodies))
        self._pending = len(bodies)

    def collect(self) -> list[bytes]:
        """The signatures of the bodies last handed, in order."""
        expected, self._pending = self._pending, None
        if self._proc is None or expected is None:
            raise PoolBroken("no request is outstanding")
        try:
            stdout = self._proc.stdout
            assert stdout is not None
            (count,) = U32.unpack(read_exact(stdout, 4))
            if count != expected:
                raise PoolBroken("the helper answered for another number of bodies")
            data = read_exact(stdout, count * _SIGNATURE)
        except (OSError, ValueError, EOFError, struct.error) as exc:
            raise PoolBroken(str(exc)) from exc
        return [data[i : i + _SIGNATURE] for i in range(0, len(data), _SIGNATURE)]

    def close(self) -> None:
        """End the helper (its stdin closed: it exits at the end of its pipe)."""
        proc, self._proc = self._proc, None
        if proc is not None:
            end(proc)


if __name__ == "__main__":
    main()


__all__ = ["PoolBroken", "SignPool", "main"]
