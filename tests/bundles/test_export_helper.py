"""An export's records opened a batch ahead by a helper process (`crypto.export_pool`, `store.bundles.ahead`): the
bundle carries the very record objects an export without a helper carries, whether the helper does them all, this
process keeps some, or the helper dies part-way; the helper refuses what it cannot open or the format refuses, and
the exporting process then does that record itself. Also the append's signing helper (`crypto.sign_pool`, `store.audit.log`)."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from hypothesis import given
from hypothesis import strategies as st

import store.audit.log
import store.bundles.ahead
import store.bundles.export
from crypto.bundle import record_hash
from crypto.bundle.limits import MAX_TITLE
from crypto.bundle.record import encode_record
from crypto.bundle.strict import BundleError, format_time
from crypto.encoding import canonical_json
from crypto.export_pool import ExportPool, RecordTags, record_object
from store.bundles import export_bundle, import_bundle, record_objects
from store.bundles.ahead import OpenAhead
from store.models import Record
from tests.bundles.conftest import Pair

CARRIED = ("amber1", "amber2", "amber3", "amber4", "amber5", "green_shared", "strict")


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches of two and a helper for any export; the append signs in a helper process, windows of three events."""
    monkeypatch.setattr(store.bundles.export, "BATCH", 2)
    monkeypatch.setattr(store.bundles.ahead, "HELPER_FROM", 1)
    monkeypatch.setattr(store.audit.log, "SIGN_WINDOW", 3)
    monkeypatch.setattr(store.audit.log, "HELPER_FROM", 1)


def _export_and_compare(pair: Pair) -> None:
    """Export everything due to TR-MOI; each ledger row's content hash is that of the record object an export
    without a helper builds (`record_objects`), the log verifies, and TR-MOI imports every record."""
    bundle = pair.path("out.bundle")
    pk = pair.pk.session()
    try:
        result = export_bundle(pk, "TR-MOI", bundle)
        assert sorted(result.plan.included_refs) == sorted(pair.refs[role] for role in CARRIED)
        with pk.db.read() as s:
            ids = list(s.scalars(Record.__table__.select().with_only_columns(Record.id)))
            inline = {obj["reference"]: record_hash(obj) for _rid, obj in record_objects(pk, s, ids)}
    finally:
        pk.vault.close()
    ledger = dict(pair.pk.sql("SELECT reference, content_sha256 FROM bundle_items"))
    assert ledger == {ref: inline[ref] for ref in ledger}
    assert len(ledger) == len(CARRIED)
    assert pair.pk.cli("audit", "verify").code == 0
    tr = pair.tr.session()
    try:
        assert import_bundle(tr, bundle).records == len(CARRIED)
    finally:
        tr.vault.close()
    for role in CARRIED:
        ref = pair.refs[role]
        assert pair.tr.show(ref)["title"] == pair.pk.show(ref)["title"]


def test_the_helper_encodes_the_records_an_export_without_it_would(pair: Pair, small_batches: None) -> None:
    _export_and_compare(pair)


def test_records_this_process_keeps_are_the_same(
    pair: Pair, small_batches: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With one record of each batch kept by the exporting process (the balancing), nothing differs."""
    start = OpenAhead.start

    def keeping(session: object, total: int) -> OpenAhead:
        ahead = start(session, total)  # type: ignore[arg-type]
        assert ahead.pool is not None
        ahead.keep = 1
        ahead.take = _pinned(ahead.take, ahead)  # type: ignore[method-assign]
        return ahead

    monkeypatch.setattr(OpenAhead, "start", staticmethod(keeping))
    _export_and_compare(pair)


def _pinned(
    take: Callable[[], dict[int, tuple[bytes, str]]], ahead: OpenAhead
) -> Callable[[], dict[int, tuple[bytes, str]]]:
    def pinned() -> dict[int, tuple[bytes, str]]:
        got = take()
        ahead.keep = 1  # the balancing would move it: held at one
        assert len(got) <= 1
        return got

    return pinned


def test_a_helper_that_dies_part_way_leaves_the_work_to_the_export(
    pair: Pair, small_batches: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The helper killed after its first batch: the export does the rest itself, and the bundle is the same."""
    calls: list[int] = []
    collect = ExportPool.collect

    def dying(self: ExportPool) -> list[tuple[bytes, str] | None]:
        calls.append(1)
        if len(calls) == 2:
            assert self._proc is not None
            self._proc.kill()
            self._proc.wait()
        return collect(self)

    monkeypatch.setattr(ExportPool, "collect", dying)
    _export_and_compare(pair)
    assert len(calls) == 2  # the second collect found the helper dead; no third was asked


def _tags(reference: str = "PK-MOI-2026-00001") -> RecordTags:
    at = format_time(datetime(2026, 11, 2, 9, 30, tzinfo=UTC))
    return RecordTags(
        "6f1b4b8e-4a4e-4d0c-9a35-3b6f3f1d2c10",
        reference,
        "narcotics",
        "PK-MOI",
        ("TR-MOI",),
        "AMBER",
        False,
        1,
        "ayesha",
        at,
        at,
    )


def _raw(fernet: Fernet, data: bytes) -> bytes:
    return base64.urlsafe_b64decode(fernet.encrypt(data))


@pytest.fixture
def helper() -> Iterator[ExportPool]:
    pool = ExportPool.start()
    assert pool is not None
    try:
        yield pool
    finally:
        pool.close()


def test_the_helper_answers_each_record_or_refuses_it(helper: ExportPool) -> None:
    """A real helper process: a good record comes back encoded as `encode_record` encodes it, with its hash; a
    token no key opens, a body that is not a JSON object and a title the format refuses (too long)
    come back refused; a record under an older key opens. Replies are in order, request after request."""
    keys = [Fernet.generate_key(), Fernet.generate_key()]  # current first
    new, old = Fernet(keys[0]), Fernet(keys[1])
    body = canonical_json({"summary": "route via Gwadar", "source": "liaison", "notes": "not carried"})
    stranger = Fernet(Fernet.generate_key())
    records = [
        (_tags("PK-MOI-2026-00001"), _raw(new, "Heroin route — Gwadar".encode()), _raw(new, body)),
        (_tags("PK-MOI-2026-00002"), _raw(stranger, b"x"), _raw(new, body)),
        (_tags("PK-MOI-2026-00003"), _raw(new, b"title"), _raw(new, b"[1, 2]")),
        (_tags("PK-MOI-2026-00004"), _raw(new, b"t" * (MAX_TITLE + 1)), _raw(new, body)),
        (_tags("PK-MOI-2026-00005"), _raw(old, "Eski anahtarı".encode()), _raw(old, body)),
    ]
    for _ in range(2):
        helper.submit(keys, records)
        assert helper.busy
        got = helper.collect()
        assert [g is None for g in got] == [False, True, True, True, False]
        for (tags, _t, _b), title, result in zip(
            [records[0], records[4]], ["Heroin route — Gwadar", "Eski anahtarı"], [got[0], got[4]], strict=True
        ):
            assert result is not None
            expected = encode_record(
                record_object(tags, title, {"summary": "route via Gwadar", "source": "liaison", "notes": ""})
            )
            assert result == (expected, hashlib.sha256(expected).hexdigest())
            assert b"not carried" not in result[0]


def test_tags_of_any_text_reach_the_helper_as_they_are(helper: ExportPool) -> None:
    """The tags go over the pipe as one JSON array: with quotes, brackets, commas, backslashes, non-ASCII letters
    or a lone surrogate in them, the helper encodes exactly what this process would — or refuses what the format
    refuses, as this process would."""
    key = Fernet.generate_key()
    fernet = Fernet(key)
    body = canonical_json({"summary": "s", "source": "src"})
    base = _tags("PK-MOI-2026-00009")
    variants = [
        dataclasses.replace(base, domain='narcotics",[]'),
        dataclasses.replace(base, releasable_to=("TR-MOI", 'x"],[1')),
        dataclasses.replace(base, author="ayşe"),
        dataclasses.replace(base, author='a\\b"c'),
        dataclasses.replace(base, reference="PK-MOI-2026-\ud800"),
        dataclasses.replace(base, revision=7, no_reexport=True),
        base,
    ]
    helper.submit([key], [(tags, _raw(fernet, "İstanbul".encode()), _raw(fernet, body)) for tags in variants])
    got = helper.collect()
    outcomes = []
    for tags, result in zip(variants, got, strict=True):
        try:
            expected: tuple[bytes, str] | None = None
            encoded = encode_record(record_object(tags, "İstanbul", {"summary": "s", "source": "src"}))
            expected = (encoded, hashlib.sha256(encoded).hexdigest())
        except BundleError:
            pass
        assert result == expected, tags
        outcomes.append(result is not None)
    assert outcomes[-1] and outcomes[-2] and not all(outcomes)  # some go, some are refused


class _Replying:
    """A helper process stand-in whose stdout holds a given reply."""

    def __init__(self, reply: bytes) -> None:
        import io

        self.stdout = io.BytesIO(reply)


def test_a_malformed_reply_breaks_the_pool_and_a_well_formed_one_is_read() -> None:
    """A reply is read whole, then taken apart: lengths that overrun it, leave bytes over, a status of neither
    kind or a count for another number of records make the pool broken (the export then opens its records
    itself); a well-formed reply gives each record's encoding and hash, or None."""
    import struct

    from crypto.rekey_pool import PoolBroken

    def reply(count: int, *items: bytes) -> bytes:
        body = b"".join(items)
        return struct.pack(">II", count, len(body)) + body

    digest, encoded = b"d" * 32, b'{"r":1}'
    good = struct.pack(">BI", 0, 32 + len(encoded)) + digest + encoded
    refused = struct.pack(">BI", 1, 0)
    pool = ExportPool(_Replying(reply(2, good, refused)))  # type: ignore[arg-type]
    pool._pending = 2
    assert pool.collect() == [(encoded, digest.hex()), None]
    for bad in (
        reply(2, good),  # one record short
        reply(1, good, refused),  # a byte over
        reply(1, struct.pack(">BI", 0, 400) + digest + encoded),  # a length past the end
        reply(1, struct.pack(">BI", 2, 0)),  # neither status
        reply(1, struct.pack(">BI", 1, 3) + b"abc"),  # refused with bytes
        reply(1, struct.pack(">BI", 0, 32) + digest),  # an encoding of nothing
        reply(3, good, refused, refused),  # for three records, two were handed
        b"\x00\x00",  # cut short
    ):
        pool = ExportPool(_Replying(bad))  # type: ignore[arg-type]
        pool._pending = 2 if bad.startswith(b"\x00\x00\x00\x02") or bad.startswith(b"\x00\x00\x00\x03") else 1
        with pytest.raises(PoolBroken):
            pool.collect()


def test_a_closed_helper_is_reported_not_waited_on(helper: ExportPool) -> None:
    from crypto.rekey_pool import PoolBroken

    helper.close()
    with pytest.raises(PoolBroken):
        helper.submit([Fernet.generate_key()], [])
    with pytest.raises(PoolBroken):
        helper.collect()


@given(
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59, 999999)),
    st.sampled_from([UTC, timezone(timedelta(hours=3)), timezone(timedelta(hours=-5, minutes=-30))]),
)
def test_format_time_is_the_one_canonical_text(moment: datetime, zone: timezone) -> None:
    """The fast path for UTC times writes exactly what the general one writes."""
    aware = moment.replace(tzinfo=zone)
    try:
        expected = aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    except OverflowError:
        return
    if aware.astimezone(UTC).year < 1000:
        return  # strftime's %Y does not pad below year 1000 on every platform: not a time a store holds
    assert format_time(aware) == expected


@pytest.mark.parametrize("module", ["export_pool", "rekey_pool"])
def test_a_crypto_package_in_the_working_directory_is_not_the_helper(
    module: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Threat: an officer runs Liaison from a directory where someone left a `crypto/` package; `python -m` would
    run its module as the helper, handed the data keys. The helpers start with `-P`: the real module runs."""
    fake = tmp_path / "crypto"
    fake.mkdir()
    marker = tmp_path / "ran"
    (fake / "__init__.py").write_text("")
    (fake / f"{module}.py").write_text(f"open({str(marker)!r}, 'w').write('keys')\n")
    monkeypatch.chdir(tmp_path)
    if module == "export_pool":
        pool = ExportPool.start()
        assert pool is not None
        try:
            pool.submit([Fernet.generate_key()], [])
            assert pool.collect() == []
        finally:
            pool.close()
    else:
        from crypto.rekey_pool import RekeyPool

        rekey = RekeyPool.start(1)
        assert rekey is not None
        with rekey:
            key = Fernet.generate_key()
            token = base64.urlsafe_b64decode(Fernet(key).encrypt(b"x"))
            rekey.submit([key], [token])
            assert rekey.collect() == [None]
    assert not marker.exists()


def test_the_signing_helper_signs_as_the_append_would(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ed25519 signatures are deterministic: the helper's (`crypto.sign_pool`) are byte for byte those
    `event_signer` makes here, window after window, with this process signing a share of some; and when the helper
    dies part-way, the append signs the rest itself and every signature is still right."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    from crypto.events import event_signer
    from crypto.sign_pool import SignPool

    private = Ed25519PrivateKey.generate().private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    sign = event_signer(private)
    monkeypatch.setattr(store.audit.log, "HELPER_FROM", 1)
    for kill_after in (None, 2):
        windows = [[{"body": b'{"seq":%d}' % (w * 10 + i), "sig": None} for i in range(10)] for w in range(6)]
        windows[1][3]["sig"] = b"presigned"  # a row already signed is left as it is
        signing = store.audit.log._Signing(private, 60)
        got: list[list[dict[str, Any]]] = []
        with signing:
            assert isinstance(signing._pool, SignPool)
            for n, window in enumerate(windows):
                signing.keep = n % 3  # this process signs the last 0, 1 or 2 bodies of a window
                if n == kill_after:
                    proc = signing._pool._proc
                    assert proc is not None
                    proc.kill()
                    proc.wait()
                signing.submit(window)
                got += list(signing.ready())
            got += list(signing.drain())
        assert got == windows
        expected = [sign(row["body"]) for w in windows for row in w]
        expected[13] = b"presigned"
        assert [row["sig"] for w in got for row in w] == expected
        if kill_after is not None:
            assert signing._pool is None  # it stopped using the dead helper
