"""The store's rules on each incoming bundle record (its shape was checked by the reader): the reference's form
and year, the text policy on its human texts, its dates, the sharing rules of `store.policy.import_refusal`, known
ministries and domains; and where a record held here came from (its origin, or a forward / STIX / MISP import).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session as OrmSession

from crypto import bundle as fmt
from crypto.bundle import Header
from store import policy
from store.bundles.common import refused
from store.errors import ValidationError
from store.ingest import is_local_only
from store.interop.base import NAMESPACE
from store.models import BundleItem, BundleLog
from store.text import check_block, check_line, quote
from store.vocab import REFERENCE


@dataclass
class Vocab:
    ministries: set[str]
    domains: set[str]


#: The human texts of a bundle record and whether each may hold newlines and tabs.
_RECORD_TEXTS = (("title", False), ("author", False), ("summary", True), ("source", True))


def check_record(
    path: Path, rec: dict[str, Any], header: Header, local: str, vocab: Vocab, now: datetime
) -> tuple[datetime, datetime]:
    """The store's rules on one incoming record (its shape was checked by the reader); returns its creation and
    update times, parsed."""
    ref = rec["reference"]
    match = REFERENCE.fullmatch(ref)
    if match is None:
        raise refused(
            path,
            f"record {quote(ref)} has a malformed reference (expected ORIGIN-YYYY-NUMBER in ASCII)",
            field="reference",
            value=ref,
        )
    if match["origin"] != rec["origin"]:
        raise refused(
            path,
            f"record {ref} does not carry the code of its origin {rec['origin']}",
            field="reference",
            reference=ref,
            value=ref,
        )
    if rec["origin"] == header.sender and is_local_only(ref):
        raise refused(
            path,
            f"record {ref} has the local-only form ORIGIN-YYYY-0NNNNNNNN, which a receiving store allocates and "
            "its origin never does",
            field="reference",
            reference=ref,
            value=ref,
        )
    why = policy.reference_year_refusal(int(match["year"]), now)
    if why is not None:
        raise refused(path, f"record {ref} {why}", field="reference", reference=ref, value=ref)
    for name, block in _RECORD_TEXTS:
        try:
            (check_block if block else check_line)(name, rec[name], reference=ref)
        except ValidationError as exc:
            raise refused(path, f"record {exc}", field=name, reference=ref, value=rec[name]) from None
    times = []
    for name in ("created_at", "updated_at"):
        moment = fmt.parse_time(rec[name], name)
        why = policy.record_time_refusal(moment, now)
        if why is not None:
            raise refused(path, f"record {ref} {name} {rec[name]} {why}", field=name, reference=ref, value=rec[name])
        times.append(moment)
    why = policy.import_refusal(
        reference=ref,
        origin=rec["origin"],
        releasable_to=rec["releasable_to"],
        tlp=rec["tlp"],
        no_reexport=rec["no_reexport"],
        sender=header.sender,
        local=local,
    )
    if why is not None:
        raise refused(path, why, reference=ref)
    for code in [rec["origin"], *rec["releasable_to"]]:
        if code not in vocab.ministries:
            raise refused(
                path, f"record {ref} names ministry {code}, unknown here", field="ministries", reference=ref, value=code
            )
    if rec["domain"] not in vocab.domains:
        raise refused(
            path,
            f"record {ref} has domain {rec['domain']}, unknown here",
            field="domains",
            reference=ref,
            value=rec["domain"],
        )
    return times[0], times[1]


def held_from_origin(s: OrmSession, record_id: int, origin: str) -> bool:
    """Whether a record ever arrived here in a bundle from its origin itself (else: forwarded, or a STIX/MISP import)."""
    stmt = (
        select(BundleItem.record_id)
        .join(BundleLog, BundleLog.bundle_id == BundleItem.bundle_id)
        .where(BundleItem.record_id == record_id, BundleLog.direction == "in", BundleLog.peer == origin)
        .limit(1)
    )
    return s.execute(stmt).first() is not None


def delivered_by(s: OrmSession, record_id: int) -> str:
    """Who delivered the copy of a record held here: the senders of the bundles it came in, else a STIX/MISP import."""
    stmt = (
        select(BundleLog.peer)
        .join(BundleItem, BundleItem.bundle_id == BundleLog.bundle_id)
        .where(BundleItem.record_id == record_id, BundleLog.direction == "in")
    )
    peers = sorted(set(s.scalars(stmt)))
    return ", ".join(peers) if peers else "a STIX/MISP import"


_NAMESPACE = NAMESPACE.bytes


def _uuid5(name: str) -> str:
    """`str(uuid.uuid5(NAMESPACE, name))` without the UUID object (a bundle of 100,000 records asks 200,000)."""
    digest = bytearray(hashlib.sha1(_NAMESPACE + name.encode("utf-8")).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    x = digest.hex()
    return f"{x[:8]}-{x[8:12]}-{x[12:16]}-{x[16:20]}-{x[20:]}"


def report_ids(record_uuid: str) -> tuple[str, str]:
    """`store.interop.base.report_uuids`, computed faster (a test holds them equal): the ids a STIX/MISP import's
    copy of the record would hold."""
    return _uuid5("record:" + record_uuid), _uuid5("misp-report:" + record_uuid)
