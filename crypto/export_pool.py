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
from crypto.encoding import body_fields
from crypto.helper_process import PoolBroken, cpu_seconds, end, frame, read_exact, send, serve, spawn

_ITEM = struct.Struct(">BI")
#: A reply's head: how many records it answers, and how many bytes their items take (read in one go).
_REPLY = struct.Struct(">II")
_OK, _REFUSED = 0, 1
_HEAD = b"open"
#: A record's items in a request: its tags (`RecordTags`'s fields, as one JSON array), then its title and body
#: ciphertexts.
_PER_RECORD = 3


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
    fields = [
        tags.uuid,
        tags.reference,
        tags.domain,
        tags.origin,
        list(tags.releasable_to),
        tags.tlp,
        tags.no_reexport,
        tags.revision,
        tags.author,
        tags.created_at,
        tags.updated_at,
    ]
    return [json.dumps(fields, separators=(",", ":")).encode("ascii"), title_ct, body_ct]


_TEXT = (0, 1, 2, 3, 5, 8, 9, 10)  # the fields of `_items`'s array that are text


def _tags(items: list[bytes]) -> RecordTags:
    fields = json.loads(items[0])
    if not isinstance(fields, list) or len(fields) != 11 or not all(type(fields[i]) is str for i in _TEXT):
        raise ValueError("tags")
    codes, flag, revision = fields[4], fields[6], fields[7]
    if not isinstance(codes, list) or not all(type(c) is str for c in codes):
        raise ValueError("releasable_to")
    if type(flag) is not bool or type(revision) is not int:
        raise ValueError("tags")
    return RecordTags(
        fields[0], fields[1], fields[2], fields[3], tuple(codes), fields[5], flag, revision, *fields[8:11]
    )


def _open(fernet: MultiFernet, items: list[bytes]) -> bytes:
    """One record's reply item: status, length, then its encoding's SHA-256 and the encoding."""
    try:
        tags = _tags(items)
        title = fernet.decrypt(base64.urlsafe_b64encode(items[1])).decode("utf-8")
        body = body_fields(fernet.decrypt(base64.urlsafe_b64encode(items[2])))
        if body is None:
            return _ITEM.pack(_REFUSED, 0)
        encoded = encode_record(record_object(tags, title, body))
    except (InvalidToken, BundleError, ValueError, TypeError):
        return _ITEM.pack(_REFUSED, 0)
    digest = hashlib.sha256(encoded).digest()
    return _ITEM.pack(_OK, 32 + len(encoded)) + digest + encoded


def _work(keys: list[bytes], items: list[bytes]) -> bytes:
    """The reply: the record count and the length of what follows, then each record's reply item (`_open`)."""
    fernet = MultiFernet([Fernet(k) for k in keys])
    count = len(items) // _PER_RECORD
    body = b"".join(_open(fernet, items[i * _PER_RECORD : (i + 1) * _PER_RECORD]) for i in range(count))
    return _REPLY.pack(count, len(body)) + body


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
            count, length = _REPLY.unpack(read_exact(stdout, _REPLY.size))
            if count != expected:
                raise PoolBroken("the helper answered for another number of records")
            data = read_exact(stdout, length)  # every record's item at once, then taken apart here
            at, head = 0, _ITEM.size
            for _ in range(count):
                status, size = _ITEM.unpack_from(data, at)
                at += head
                if status == _OK and size > 32 and at + size <= length:
                    out.append((data[at + 32 : at + size], data[at : at + 32].hex()))
                    at += size
                elif status == _REFUSED and size == 0:
                    out.append(None)
                else:
                    raise PoolBroken("the helper's reply is malformed")
            if at != length:
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
