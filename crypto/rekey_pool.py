"""Work on the machine's other cores: helper processes for a key rotation's Fernet work.

`RekeyPool.start(n)` runs n helpers (`python -m crypto.rekey_pool`), children of the rotating process talking to it
over their stdin and stdout only; they never open the store. `submit` hands each helper a share of a batch's
tokens with the data keys (current first), `collect` reads back each token re-encrypted under the current key
(`keyring.reencrypt_token`: the same function the rotating process uses itself), None for a token the current
key already opens, or a DecryptionFailed for one no key opens. Replies come in the order the requests were sent.
The caller writes the results in its own transaction, so a helper changes nothing a crash could leave half-done: a killed rotating process leaves its
helpers at the end of their pipes, and they exit.

Any failure of a helper (it died, the pipe broke, a reply is malformed) raises `PoolBroken`; the caller then does
the batch itself and stops using the pool.
"""

from __future__ import annotations

import struct
import subprocess
from collections.abc import Sequence

from cryptography.fernet import Fernet

from crypto.errors import DecryptionFailed
from crypto.helper_process import U32, PoolBroken, cpu_seconds, end, frame, read_exact, serve, spawn
from crypto.keyring import reencrypt_token

_ITEM = struct.Struct(">BI")
_NEW, _SAME, _FAILED = 0, 1, 2

Result = bytes | None | DecryptionFailed


def _work(keys: list[bytes], tokens: list[bytes]) -> bytes:
    """The reply to one request: each token re-encrypted under keys[0] (status, length, bytes)."""
    current, older = Fernet(keys[0]), [Fernet(k) for k in keys[1:]]
    parts = [U32.pack(len(tokens))]
    for token in tokens:
        try:
            new = reencrypt_token(current, older, token)
        except DecryptionFailed:
            parts.append(_ITEM.pack(_FAILED, 0))
            continue
        if new is None:
            parts.append(_ITEM.pack(_SAME, 0))
        else:
            parts += (_ITEM.pack(_NEW, len(new)), new)
    return b"".join(parts)


def main() -> None:
    """A helper: answer requests (keys, then tokens) on stdin until it closes."""
    serve(_work)


class RekeyPool:
    """Helper processes for a rotation's Fernet work (see the module's docstring)."""

    def __init__(self, procs: list[subprocess.Popen[bytes]]) -> None:
        self._procs = procs
        self._pending: list[tuple[bytes, list[int]]] = []  # each request's kind, and how many items each helper got

    @classmethod
    def start(cls, workers: int) -> RekeyPool | None:
        """`workers` helpers, or None when there are to be none or they cannot be started."""
        if workers < 1:
            return None
        procs: list[subprocess.Popen[bytes]] = []
        for _ in range(workers):
            proc = spawn("crypto.rekey_pool")
            if proc is None:
                RekeyPool(procs).close()
                return None
            procs.append(proc)
        return cls(procs)

    @property
    def size(self) -> int:
        return len(self._procs)

    def cpu_seconds(self) -> float | None:
        """The CPU time the helpers have used so far (Linux's /proc; None where it cannot be read)."""
        total = 0.0
        for proc in self._procs:
            used = cpu_seconds(proc)
            if used is None:
                return None
            total += used
        return total

    def _send(self, kind: bytes, head: Sequence[bytes], items: Sequence[bytes], per: int) -> None:
        """Hand each helper its share of `items` (in whole groups of `per`) after `head`; replies come in order."""
        groups = len(items) // per
        share = -(-groups // len(self._procs)) * per if groups else 0
        first = frame(head)
        counts: list[int] = []
        try:
            for i, proc in enumerate(self._procs):
                part = items[i * share : (i + 1) * share]
                assert proc.stdin is not None
                proc.stdin.write(first + frame(part))
                proc.stdin.flush()
                counts.append(len(part) // per)
        except (OSError, ValueError) as exc:
            raise PoolBroken(str(exc)) from exc
        self._pending.append((kind, counts))

    def submit(self, keys: Sequence[bytes], tokens: Sequence[bytes]) -> None:
        """Hand the helpers `tokens` in shares, with the data keys (current first, then older, newest first)."""
        self._send(b"F", keys, tokens, 1)

    def _replies(self, kind: bytes) -> list[tuple[int, bytes]]:
        """The (status, bytes) replies to the oldest request outstanding, which must be of `kind`."""
        if not self._pending or self._pending[0][0] != kind:
            self._pending = []
            raise PoolBroken("no such request is outstanding")
        _, counts = self._pending.pop(0)
        out: list[tuple[int, bytes]] = []
        try:
            for proc, expected in zip(self._procs, counts, strict=True):
                assert proc.stdout is not None
                (count,) = U32.unpack(read_exact(proc.stdout, 4))
                if count != expected:
                    raise PoolBroken("a helper answered for another number of items")
                for _ in range(count):
                    status, size = _ITEM.unpack(read_exact(proc.stdout, _ITEM.size))
                    out.append((status, read_exact(proc.stdout, size) if status == _NEW else b""))
        except (OSError, ValueError, EOFError, struct.error) as exc:
            self._pending = []
            raise PoolBroken(str(exc)) from exc
        return out

    def collect(self) -> list[Result]:
        """The results of the oldest outstanding `submit`, in the order of its tokens."""
        out: list[Result] = []
        for status, data in self._replies(b"F"):
            if status == _NEW:
                out.append(data)
            elif status == _SAME:
                out.append(None)
            elif status == _FAILED:
                out.append(DecryptionFailed("token did not authenticate"))
            else:
                raise PoolBroken("a helper's reply is malformed")
        return out

    def close(self) -> None:
        """End the helpers (their stdin closed: each exits at the end of its pipe)."""
        for proc in self._procs:
            end(proc)
        self._procs = []

    def __enter__(self) -> RekeyPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


if __name__ == "__main__":
    main()


__all__ = ["PoolBroken", "RekeyPool", "Result", "main"]
