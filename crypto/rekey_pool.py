"""Re-encryption on the machine's other cores: helper processes that do a key rotation's Fernet work.

`RekeyPool.start(n)` runs n helpers (`python -m crypto.rekey_pool`), children of the rotating process talking to it
over their stdin and stdout only; they never open the store. `submit` hands each helper a share of a batch's
tokens with the data keys (current first), `collect` reads back each token re-encrypted under the current key
(`keyring.reencrypt_token`: the same function the rotating process uses itself), None for a token the current
key already opens, or a DecryptionFailed for one no key opens. The caller writes the results in its own
transaction, so a helper changes nothing a crash could leave half-done: a killed rotating process leaves its
helpers at the end of their pipes, and they exit.

Any failure of a helper (it died, the pipe broke, a reply is malformed) raises `PoolBroken`; the caller then does
the batch itself and stops using the pool.
"""

from __future__ import annotations

import struct
import subprocess
import sys
from collections.abc import Sequence
from typing import IO

from cryptography.fernet import Fernet

from crypto.errors import DecryptionFailed
from crypto.keyring import reencrypt_token

_U32 = struct.Struct(">I")
_ITEM = struct.Struct(">BI")
_NEW, _SAME, _FAILED = 0, 1, 2

Result = bytes | None | DecryptionFailed


class PoolBroken(Exception):
    """A helper process failed; the batch is to be done in the rotating process."""


def _frame(items: Sequence[bytes]) -> bytes:
    parts = [_U32.pack(len(items))]
    for item in items:
        parts += (_U32.pack(len(item)), item)
    return b"".join(parts)


def _read(stream: IO[bytes], n: int) -> bytes:
    data = stream.read(n)
    if data is None or len(data) != n:
        raise EOFError("the pipe closed")
    return data


def _read_items(stream: IO[bytes]) -> list[bytes]:
    (count,) = _U32.unpack(_read(stream, 4))
    return [_read(stream, _U32.unpack(_read(stream, 4))[0]) for _ in range(count)]


def _work(keys: list[bytes], tokens: list[bytes]) -> bytes:
    """The reply to one request: each token re-encrypted under keys[0] (status, length, bytes)."""
    current, older = Fernet(keys[0]), [Fernet(k) for k in keys[1:]]
    parts = [_U32.pack(len(tokens))]
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
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    try:
        while True:
            try:
                keys = _read_items(stdin)
            except EOFError:
                return
            stdout.write(_work(keys, _read_items(stdin)))
            stdout.flush()
    except (BrokenPipeError, EOFError, KeyboardInterrupt):
        return


class RekeyPool:
    """Helper processes for a rotation's Fernet work (see the module's docstring)."""

    def __init__(self, procs: list[subprocess.Popen[bytes]]) -> None:
        self._procs = procs
        self._pending: list[int] = []  # how many tokens each helper was handed by the last submit

    @classmethod
    def start(cls, workers: int) -> RekeyPool | None:
        """`workers` helpers, or None when there are to be none or they cannot be started."""
        if workers < 1:
            return None
        procs: list[subprocess.Popen[bytes]] = []
        try:
            for _ in range(workers):
                procs.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "crypto.rekey_pool"],
                        stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE,
                        stderr=subprocess.DEVNULL,
                    )
                )
        except OSError:
            RekeyPool(procs).close()
            return None
        return cls(procs)

    @property
    def size(self) -> int:
        return len(self._procs)

    def submit(self, keys: Sequence[bytes], tokens: Sequence[bytes]) -> None:
        """Hand the helpers `tokens` in shares, with the data keys (current first, then older, newest first)."""
        share = -(-len(tokens) // len(self._procs)) if tokens else 0
        head = _frame(keys)
        self._pending = []
        try:
            for i, proc in enumerate(self._procs):
                part = tokens[i * share : (i + 1) * share]
                assert proc.stdin is not None
                proc.stdin.write(head + _frame(part))
                proc.stdin.flush()
                self._pending.append(len(part))
        except (OSError, ValueError) as exc:
            raise PoolBroken(str(exc)) from exc

    def collect(self) -> list[Result]:
        """The results of the last `submit`, in the order of its tokens."""
        out: list[Result] = []
        try:
            for proc, expected in zip(self._procs, self._pending, strict=True):
                assert proc.stdout is not None
                (count,) = _U32.unpack(_read(proc.stdout, 4))
                if count != expected:
                    raise PoolBroken("a helper answered for another number of tokens")
                for _ in range(count):
                    status, size = _ITEM.unpack(_read(proc.stdout, _ITEM.size))
                    if status == _NEW:
                        out.append(_read(proc.stdout, size))
                    elif status == _SAME:
                        out.append(None)
                    elif status == _FAILED:
                        out.append(DecryptionFailed("token did not authenticate"))
                    else:
                        raise PoolBroken("a helper's reply is malformed")
        except (OSError, ValueError, EOFError, struct.error) as exc:
            raise PoolBroken(str(exc)) from exc
        finally:
            self._pending = []
        return out

    def close(self) -> None:
        """End the helpers (their stdin closed: each exits at the end of its pipe)."""
        for proc in self._procs:
            for stream in (proc.stdin, proc.stdout):
                try:
                    if stream is not None:
                        stream.close()
                except OSError:
                    pass
        for proc in self._procs:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._procs = []

    def __enter__(self) -> RekeyPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


if __name__ == "__main__":
    main()


__all__ = ["PoolBroken", "RekeyPool", "Result", "main"]
