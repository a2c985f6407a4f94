"""A helper process that opens an export's records a batch ahead: decrypts, checks and encodes bundle record objects.

`ExportPool.start()` runs one helper (`python -m crypto.export_pool`), a child of the exporting process talking to
it over its stdin and stdout only; it never opens the store. `submit` hands it a batch of records as the store
read them (their tags as text, `RecordTags`, and their title and body ciphertexts) with the data keys; `collect`
reads back, for each record in order, its bundle record object encoded as the bundle carries it (`record_object`,
checked and encoded by `crypto.bundle.record.encode_record`) and that encoding's SHA-256, or None for a record it could not
open or that the format refuses: the exporting process then does that record itself, the same way, and reports
it as it always has. The same function builds the object on both sides, so the bytes are the same.

One request is outstanding at a time: the exporting process collects a batch before it hands the next, so neither
side waits on a full pipe while the other works. Any failure of the helper (it died, the pipe broke, a reply is
malformed) raises `PoolBroken`; the exporting process then does its records itself. The helper holds the data
keys in memory for as long as the export runs, as the exporting process does; it writes nothing anywhere.
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from crypto.bundle.record import encode_record
from crypto.bundle.strict import BundleError
from crypto.encoding import body_fields, canonical_json
from crypto.helper_process import U32, PoolBroken, cpu_seconds, end, frame, read_exact, send, serve, spawn

_ITEM = struct.Struct(">BI")
_OK, _REFUSED = 0, 1
_HEAD = b"open"
#: A record's items in a request: its tags (`RecordTags`'s fields, as text), then its title and body ciphertexts.
_PER_RECORD = 13


@dataclass(frozen=True, slots=True)
class RecordTags:
    """A record's plaintext columns as a bundle record object carries them (the current revision's)."""

    uuid: str
    reference: str
    domain: str
    origin: str
    releasable_to: tuple[str, ...]  # sorted, without the origin
    tlp: str
    no_reexport: bool  # as carried: the stored flag, or AMBER+STRICT
    revision: int
    author: str
    created_at: str  # `format_time`'s text
    updated_at: str


def record_object(tags: RecordTags, title: str, body: dict[str, str]) -> dict[str, Any]:
    """The bundle record object of a record: its tags, its title and its body's summary and source."""
    return {
        "uuid": tags.uuid,
        "reference": tags.reference,
        "domain": tags.domain,
        "origin": tags.origin,
        "releasable_to": list(tags.releasable_to),
        "tlp": tags.tlp,
        "no_reexport": tags.no_reexport,
        "revision": tags.revision,
        "author": tags.author,
        "created_at": tags.created_at,
        "updated_at": tags.updated_at,
        "title": title,
        "summary": body["summary"],
        "source": body["source"],
    }


def _items(tags: RecordTags, title_ct: bytes, body_ct: bytes) -> list[bytes]:
    return [
        tags.uuid.encode(),
        tags.reference.encode(),
        tags.domain.encode(),
        tags.origin.encode(),
        canonical_json(list(tags.releasable_to)),
        tags.tlp.encode(),
        b"1" if tags.no_reexport else b"0",
        b"%d" % tags.revision,
        tags.author.encode(),
        tags.created_at.encode(),
        tags.updated_at.encode(),
        title_ct,
        body_ct,
    ]


def _tags(items: list[bytes]) -> RecordTags:
    codes = json.loads(items[4])
    if not isinstance(codes, list) or not all(type(c) is str for c in codes):
        raise ValueError("releasable_to")
    return RecordTags(
        items[0].decode(),
        items[1].decode(),
        items[2].decode(),
        items[3].decode(),
        tuple(codes),
        items[5].decode(),
        items[6] == b"1",
        int(items[7]),
        items[8].decode(),
        items[9].decode(),
        items[10].decode(),
    )


def _open(fernet: MultiFernet, items: list[bytes]) -> bytes:
    """One record's reply item: status, length, then its encoding's SHA-256 and the encoding."""
    try:
        tags = _tags(items)
        title = fernet.decrypt(base64.urlsafe_b64encode(items[11])).decode("utf-8")
        body = body_fields(fernet.decrypt(base64.urlsafe_b64encode(items[12])))
        if body is None:
            return _ITEM.pack(_REFUSED, 0)
        encoded = encode_record(record_object(tags, title, body))
    except (InvalidToken, BundleError, ValueError, TypeError):
        return _ITEM.pack(_REFUSED, 0)
    digest = hashlib.sha256(encoded).digest()
    return _ITEM.pack(_OK, 32 + len(encoded)) + digest + encoded


def _work(keys: list[bytes], items: list[bytes]) -> bytes:
    fernet = MultiFernet([Fernet(k) for k in keys])
    count = len(items) // _PER_RECORD
    parts = [U32.pack(count)]
    for i in range(count):
        parts.append(_open(fernet, items[i * _PER_RECORD : (i + 1) * _PER_RECORD]))
    return b"".join(parts)


def main() -> None:
    """The helper: answer requests (the head and keys, then the records' items) on stdin until it closes."""

    def answer(head: list[bytes], items: list[bytes]) -> bytes | None:
        if not head or head[0] != _HEAD or len(items) % _PER_RECORD:
            return None
        return _work(head[1:], items)

    serve(answer)


class ExportPool:
    """The export's helper process (see the module's docstring)."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self._proc: subprocess.Popen[bytes] | None = proc
        self._pending: int | None = None  # the outstanding request's record count

    @classmethod
    def start(cls) -> ExportPool | None:
        """A started helper, or None when it cannot be started."""
        proc = spawn("crypto.export_pool")
        return None if proc is None else cls(proc)

    def cpu_seconds(self) -> float | None:
        """The CPU time the helper has used so far (None where it cannot be read)."""
        return None if self._proc is None else cpu_seconds(self._proc)

    @property
    def busy(self) -> bool:
        """Whether a request is outstanding."""
        return self._pending is not None

    def submit(self, keys: Sequence[bytes], records: Sequence[tuple[RecordTags, bytes, bytes]]) -> None:
        """Hand the helper records (tags, title ciphertext, body ciphertext) with the data keys (current first)."""
        if self._pending is not None:
            raise PoolBroken("a request is outstanding")
        items: list[bytes] = []
        for tags, title_ct, body_ct in records:
            items += _items(tags, title_ct, body_ct)
        send(self._proc, frame([_HEAD, *keys]) + frame(items))
        self._pending = len(records)

    def collect(self) -> list[tuple[bytes, str] | None]:
        """Each handed record's (encoding, hex SHA-256), or None for one the helper could not do, in order."""
        expected, self._pending = self._pending, None
        if self._proc is None or expected is None:
            raise PoolBroken("no request is outstanding")
        out: list[tuple[bytes, str] | None] = []
        try:
            stdout = self._proc.stdout
            assert stdout is not None
            (count,) = U32.unpack(read_exact(stdout, 4))
            if count != expected:
                raise PoolBroken("the helper answered for another number of records")
            for _ in range(count):
                status, size = _ITEM.unpack(read_exact(stdout, _ITEM.size))
                if status == _OK and size > 32:
                    data = read_exact(stdout, size)
                    out.append((data[32:], data[:32].hex()))
                elif status == _REFUSED and size == 0:
                    out.append(None)
                else:
                    raise PoolBroken("the helper's reply is malformed")
        except (OSError, ValueError, EOFError, struct.error) as exc:
            raise PoolBroken(str(exc)) from exc
        return out

    def close(self) -> None:
        """End the helper (its stdin closed: it exits at the end of its pipe)."""
        proc, self._proc = self._proc, None
        if proc is not None:
            end(proc)

    def __enter__(self) -> ExportPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


if __name__ == "__main__":
    main()


__all__ = ["ExportPool", "PoolBroken", "RecordTags", "main", "record_object"]
