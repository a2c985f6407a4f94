"""Work on the machine's other cores: helper processes for a key rotation's Fernet work and signature checks.

`RekeyPool.start(n)` runs n helpers (`python -m crypto.rekey_pool`), children of the rotating process talking to it
over their stdin and stdout only; they never open the store. `submit` hands each helper a share of a batch's
tokens with the data keys (current first), `collect` reads back each token re-encrypted under the current key
(`keyring.reencrypt_token`: the same function the rotating process uses itself), None for a token the current
key already opens, or a DecryptionFailed for one no key opens; `submit_signed` and `collect_signed` do the same
for event signatures (`events.verify_event`); `submit_batch` hands both in one request (checks first), so a
helper that is idle reads all of it at once and the caller never waits on a full pipe while the helper works.
Replies come in the order the requests were sent. The caller writes the results in its own
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

from cryptography.fernet import Fernet

from crypto.errors import DecryptionFailed
from crypto.events import verify_event
from crypto.helper_process import U32, PoolBroken, cpu_seconds, end, frame, read_exact, read_items, serve, spawn
from crypto.keyring import reencrypt_token

_ITEM = struct.Struct(">BI")
_NEW, _SAME, _FAILED, _GOOD, _BAD = 0, 1, 2, 3, 4
#: The heads of a request to verify event signatures, and of one to verify and re-encrypt (a Fernet key is 44
#: bytes: never these).
_VERIFY, _BOTH = b"verify", b"verify+reencrypt"

Result = bytes | None | DecryptionFailed


def _verify(items: list[bytes]) -> bytes:
    """The reply to a request of signed events (signer, body, signature, …): whether each verifies."""
    parts = [U32.pack(len(items) // 3)]
    for i in range(0, len(items) - 2, 3):
        parts.append(_ITEM.pack(_GOOD if verify_event(items[i], items[i + 1], items[i + 2]) else _BAD, 0))
    return b"".join(parts)


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
    """A helper: answer requests (keys, then tokens; or events to verify; or both) on stdin until it closes."""

    def answer(head: list[bytes], items: list[bytes]) -> bytes:
        if head == [_BOTH]:  # signed events, then the keys and tokens: the checks answered first
            keys, tokens = read_items(sys.stdin.buffer), read_items(sys.stdin.buffer)
            return _verify(items) + _work(keys, tokens)
        return _verify(items) if head == [_VERIFY] else _work(head, items)

    serve(answer)


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

    def submit_batch(
        self, keys: Sequence[bytes], tokens: Sequence[bytes], signed: Sequence[tuple[bytes, bytes, bytes]]
    ) -> None:
        """`submit_signed(signed)` and `submit(keys, tokens)` in one request each helper reads at once: collect with
        `collect_signed`, then `collect`."""
        flat = [part for triple in signed for part in triple]
        n = len(self._procs)
        share_v = -(-len(signed) // n) * 3
        share_f = -(-len(tokens) // n)
        head, key_frame = frame([_BOTH]), frame(keys)
        verify, fernet = [], []
        try:
            for i, proc in enumerate(self._procs):
                mine_v, mine_f = flat[i * share_v : (i + 1) * share_v], tokens[i * share_f : (i + 1) * share_f]
                assert proc.stdin is not None
                proc.stdin.write(head + frame(mine_v) + key_frame + frame(mine_f))
                proc.stdin.flush()
                verify.append(len(mine_v) // 3)
                fernet.append(len(mine_f))
        except (OSError, ValueError) as exc:
            raise PoolBroken(str(exc)) from exc
        self._pending += [(b"V", verify), (b"F", fernet)]

    def submit_signed(self, signed: Sequence[tuple[bytes, bytes, bytes]]) -> None:
        """Hand the helpers events to verify: (signer's public key, body, signature) each (`verify_event`)."""
        self._send(b"V", [_VERIFY], [part for triple in signed for part in triple], 3)

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

    def collect_signed(self) -> list[bool]:
        """Whether each event of the oldest outstanding `submit_signed` verifies, in order."""
        out: list[bool] = []
        for status, _ in self._replies(b"V"):
            if status not in (_GOOD, _BAD):
                raise PoolBroken("a helper's reply is malformed")
            out.append(status == _GOOD)
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
