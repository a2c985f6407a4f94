"""Export bundles and imports with receipts: what may leave, the sharing ledger, sequence numbers, all-or-nothing imports.

The format itself lives in `crypto/bundle.py`; this module holds the rules. The CLI and the TUI both
call these functions, so they cannot disagree about what an export may carry or what an import accepts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from sqlalchemy import and_, exists, func, insert, select, update
from sqlalchemy.orm import Session as OrmSession

from crypto import bundle as fmt
from crypto.bundle import BundleError, BundleReader, Header, Recipient
from crypto.identity import grouped_fingerprint
from crypto.kdf import params_for_profile
from store import policy
from store.contacts import ContactInfo, contact, keyring_of, own_identity
from store.errors import LiaisonError, NotFound, ValidationError
from store.files import FileError, atomic_file, atomic_write_bytes, check_target, read_limited
from store.ingest import BulkWriter, IngestItem
from store.jwg.sync import JwgImport, apply_entries, is_desk_entry, pending_entries, record_sent
from store.models import BundleItem, BundleLog, Domain, Ministry, Receipt, Record, RecordParty, Revision
from store.text import check_block, check_line, quote
from store.vocab import INBOUND_STATUSES, REFERENCE, RELEASED_STATUSES, Role, Status, Tlp, stored_status, stored_tlp
from store.withdrawals import WithdrawalRefused, apply_notice, link_arrivals, pending_notices, record_deliveries, withdrawn_clause

if TYPE_CHECKING:
    from store.service import Session

Progress = Callable[[int, int], None]
BATCH = 500
MAX_RECEIPT_FILE = 96 * 1024 * 1024
SHAREABLE_RECEIVED_TLPS = frozenset({Tlp.GREEN, Tlp.CLEAR})


class BundleRefused(LiaisonError):
    """A bundle or receipt that is not imported; the store is unchanged."""


class NothingToExport(LiaisonError):
    """No record qualifies for the export; the message lists why each was excluded."""


# ---- what an export may carry -----------------------------------------------------------------------


class Exclusion(Enum):
    """Why a record stays out of a bundle, in the order the rules are checked (received records: the re-export rules first)."""

    NOT_APPROVED = "not approved yet"
    CLOSED = "closed"
    RED = "TLP:RED (never leaves in a bundle)"
    NOT_RELEASABLE = "not releasable to the recipient"
    FROM_RECIPIENT = "received from the recipient itself"
    NO_REEXPORT = "received AMBER+STRICT (marked no re-export)"
    RECEIVED_NOT_SHAREABLE = "received from another ministry and not GREEN or CLEAR (never re-exported)"
    ALREADY_SENT = "already sent to the recipient (latest revision)"
    WITHDRAWN = "withdrawn by its origin"


@dataclass(frozen=True)
class Candidate:
    """The plaintext tags of a record that the export rules look at."""

    id: int
    reference: str
    status: Status
    tlp: Tlp
    origin: str
    no_reexport: bool
    revision: int
    releasable: bool
    sent_revision: int | None
    withdrawn: bool = False


def exclusion(c: Candidate, local: str, recipient: str) -> Exclusion | None:
    """The first rule that keeps a record out of a bundle to the recipient, or None when it may go."""
    inbound = c.origin != local
    if c.withdrawn:
        return Exclusion.WITHDRAWN
    if c.status is Status.CLOSED:
        return Exclusion.CLOSED
    if (inbound and c.status not in INBOUND_STATUSES) or (not inbound and c.status not in RELEASED_STATUSES):
        return Exclusion.NOT_APPROVED
    if c.tlp is Tlp.RED:
        return Exclusion.RED
    if inbound:
        if c.origin == recipient:
            return Exclusion.FROM_RECIPIENT
        if c.no_reexport or c.tlp is Tlp.AMBER_STRICT:
            return Exclusion.NO_REEXPORT
        if c.tlp not in SHAREABLE_RECEIVED_TLPS:
            return Exclusion.RECEIVED_NOT_SHAREABLE
    if not c.releasable:
        return Exclusion.NOT_RELEASABLE
    if c.sent_revision is not None and c.sent_revision >= c.revision:
        return Exclusion.ALREADY_SENT
    return None


@dataclass
class ExportPlan:
    """Which records an export to `recipient` carries, and how many were left out for each reason."""

    recipient: str
    included: list[int] = field(default_factory=list)
    included_refs: list[str] = field(default_factory=list)
    excluded: dict[Exclusion, list[str]] = field(default_factory=dict)

    @property
    def excluded_count(self) -> int:
        """How many candidates were left out."""
        return sum(len(refs) for refs in self.excluded.values())

    def reasons(self) -> str:
        """`12 TLP:RED never leaves in a bundle, 3 closed` (most frequent first)."""
        ordered = sorted(self.excluded.items(), key=lambda kv: (-len(kv[1]), list(Exclusion).index(kv[0])))
        return ", ".join(f"{len(refs)} {self.label(reason)}" for reason, refs in ordered)

    def label(self, reason: Exclusion) -> str:
        """A reason's text with the recipient named."""
        return reason.value.replace("the recipient", self.recipient)


def _filters(since: datetime | None, domains: Sequence[str], refs: Sequence[str]) -> list[Any]:
    conds: list[Any] = []
    if since is not None:
        conds.append(Record.updated_at >= since)
    if domains:
        conds.append(Record.domain.in_(sorted({d.strip().lower() for d in domains})))
    if refs:
        conds.append(Record.reference.in_(sorted({r.strip().upper() for r in refs})))
    return conds


def _check_recipient(session: Session, s: OrmSession, recipient: str) -> str:
    code = recipient.strip().upper() if recipient.isascii() else ""
    if not code or s.get(Ministry, code) is None:
        valid = ", ".join(s.scalars(select(Ministry.code).order_by(Ministry.code)))
        raise ValidationError(f"unknown ministry {quote(recipient)}; valid: {valid}", field="recipient", value=recipient)
    if code == session.ministry:
        raise ValidationError(f"{code} is this store's own ministry", field="recipient", value=recipient)
    return code


def _plan(session: Session, s: OrmSession, recipient: str, since: datetime | None, domains: Sequence[str], refs: Sequence[str]) -> ExportPlan:
    for slug in domains:
        if s.get(Domain, slug.strip().lower()) is None:
            valid = ", ".join(s.scalars(select(Domain.slug).order_by(Domain.slug)))
            raise ValidationError(f"unknown domain {quote(slug)}; valid: {valid}", field="domain", value=slug)
    if refs:
        wanted = {r.strip().upper() for r in refs}
        found = set(s.scalars(select(Record.reference).where(Record.reference.in_(sorted(wanted)))))
        missing = sorted(wanted - found)
        if missing:
            raise NotFound(f"no record {missing[0]}")
    sent = (
        select(func.max(BundleItem.revision))
        .join(BundleLog, BundleLog.bundle_id == BundleItem.bundle_id)
        .where(BundleLog.direction == "out", BundleLog.peer == recipient, BundleItem.record_uuid == Record.uuid)
        .scalar_subquery()
    )
    releasable = exists().where(RecordParty.record_id == Record.id, RecordParty.ministry == recipient, RecordParty.is_origin.is_(False))
    stmt = (
        select(Record.id, Record.reference, Record.status, Record.tlp, Record.origin, Record.no_reexport, Record.revision, releasable, sent, withdrawn_clause())
        .where(*_filters(since, domains, refs))
        .order_by(Record.created_at, Record.id)
    )
    plan = ExportPlan(recipient)
    for row in s.execute(stmt):
        candidate = Candidate(
            row[0], row[1], stored_status(row[2], row[1]), stored_tlp(row[3], row[1]), row[4], bool(row[5]), row[6], bool(row[7]), row[8], bool(row[9])
        )
        reason = exclusion(candidate, session.ministry, recipient)
        if reason is None:
            plan.included.append(candidate.id)
            plan.included_refs.append(candidate.reference)
        else:
            plan.excluded.setdefault(reason, []).append(candidate.reference)
    return plan


def plan_export(session: Session, recipient: str, *, since: datetime | None = None, domains: Sequence[str] = (), refs: Sequence[str] = ()) -> ExportPlan:
    """Preview an export: what would be included, and what excluded with the reason for each (no changes)."""
    keyring_of(session)
    with session.db.read() as s:
        return _plan(session, s, _check_recipient(session, s, recipient), since, domains, refs)


@dataclass(frozen=True)
class ExportResult:
    """A written bundle."""

    path: Path
    bundle_id: str
    recipient: str
    seq: int
    plan: ExportPlan
    passphrase: bool
    sealed_to_contact: bool
    withdrawals: int = 0  # withdrawal notices the bundle carried (store/withdrawals.py)
    desk: int = 0  # working-group meetings, agenda items and actions carried (store/jwg/sync.py)


def record_objects(session: Session, s: OrmSession, ids: list[int]) -> Iterator[tuple[int, dict[str, Any]]]:
    """The bundle record objects of `ids` (current revision, decrypted), in the order given."""
    rows = s.execute(
        select(
            Record.id, Record.uuid, Record.reference, Record.domain, Record.origin, Record.tlp, Record.no_reexport,
            Record.revision, Record.author, Record.created_at, Record.updated_at, Revision.title_ct, Revision.body_ct,
        )
        .join(Revision, and_(Revision.record_id == Record.id, Revision.number == Record.revision))
        .where(Record.id.in_(ids))
    ).all()
    parties: dict[int, list[str]] = {i: [] for i in ids}
    for rid, code in s.execute(
        select(RecordParty.record_id, RecordParty.ministry).where(RecordParty.record_id.in_(ids), RecordParty.is_origin.is_(False))
    ):
        parties[rid].append(code)
    by_id = {row[0]: row for row in rows}
    for rid in ids:
        r = by_id[rid]
        body = session.open_body(r.body_ct, r.reference)
        yield rid, {
            "uuid": r.uuid,
            "reference": r.reference,
            "domain": r.domain,
            "origin": r.origin,
            "releasable_to": sorted(parties[rid]),
            "tlp": r.tlp,
            "no_reexport": bool(r.no_reexport) or r.tlp == Tlp.AMBER_STRICT.value,
            "revision": r.revision,
            "author": r.author,
            "created_at": fmt.format_time(r.created_at),
            "updated_at": fmt.format_time(r.updated_at),
            "title": session.open_text(r.title_ct, r.reference),
            "summary": body["summary"],
            "source": body["source"],
        }


def export_bundle(
    session: Session,
    recipient: str,
    out: Path,
    *,
    since: datetime | None = None,
    domains: Sequence[str] = (),
    refs: Sequence[str] = (),
    passphrase: bytes | None = None,
    progress: Progress | None = None,
    chunk_records: int = fmt.DEFAULT_CHUNK_RECORDS,
    overwrite: bool = False,
) -> ExportResult:
    """Write a signed bundle of every qualifying record to `out` (atomically) and record it in the sharing ledger.

    `out` must not exist unless `overwrite`; a store, a database or the open store is never replaced (`check_target`).
    """
    policy.require_role(session.actor, Role.REVIEWER, "export")
    keys = keyring_of(session)
    identity = own_identity(session)
    out = check_target(out, overwrite=overwrite, protect=(session.db.path,))
    with session.db.read() as s:
        code = _check_recipient(session, s, recipient)
        peer = contact(session, s, code)
    if peer is None and passphrase is None:
        raise NotFound(f"no contact card for {code}", field="recipient_key", value=code)
    stanzas_params = params_for_profile(session.vault.kdf_profile) if passphrase is not None else None
    with session.act("export", code) as s:
        plan = _plan(session, s, code, since, domains, refs)
        notices = pending_notices(session, s, code)
        desk = pending_entries(session, s, code)
        if not plan.included and not notices and not desk:
            detail = plan.reasons() or "no record matches the filters"
            raise NothingToExport(f"nothing to export to {code} ({detail})")
        seq = int(s.execute(select(func.coalesce(func.max(BundleLog.seq), 0)).where(BundleLog.direction == "out", BundleLog.peer == code)).scalar_one()) + 1
        bundle_id = fmt.new_bundle_id()
        file_key = fmt.new_file_key()
        stanzas = []
        if peer is not None:
            stanzas.append(fmt.x25519_stanza(bundle_id, code, peer.identity.exchange_public, file_key))
        if passphrase is not None and stanzas_params is not None:
            stanzas.append(fmt.passphrase_stanza(bundle_id, passphrase, stanzas_params, file_key))
        now = session.clock()
        total = len(plan.included)
        with atomic_file(out, overwrite=overwrite, protect=(session.db.path,)) as fh:
            writer = fmt.BundleWriter(
                fh, bundle_id=bundle_id, sender=session.ministry, sender_fingerprint=identity.fingerprint,
                recipients=[Recipient(code, seq)], stanzas=stanzas, records=total + len(notices) + len(desk),
                signing_key=keys.signing_key, file_key=file_key, created=now, chunk_records=chunk_records,
            )
            s.add(BundleLog(bundle_id=bundle_id, direction="out", peer=code, seq=seq, header_sha256=writer.preamble_sha256.hex(), at=now, officer=session.actor.name, records=total))
            s.flush()
            conn = s.connection()
            done = 0
            for start in range(0, total, BATCH):
                ids = plan.included[start : start + BATCH]
                ledger = []
                for rid, obj in record_objects(session, s, ids):
                    try:
                        digest = writer.add(obj)
                    except BundleError as exc:
                        raise ValidationError(f"cannot export {obj['reference']}: {exc}") from None
                    ledger.append({"bundle_id": bundle_id, "record_uuid": obj["uuid"], "record_id": rid, "reference": obj["reference"], "revision": obj["revision"], "content_sha256": digest})
                conn.execute(insert(BundleItem), ledger)
                conn.execute(update(Record).where(Record.id.in_(ids), Record.status == Status.APPROVED.value).values(status=Status.SHARED.value))
                done += len(ids)
                if progress:
                    progress(done, total)
            for _wid, notice in notices:
                writer.add_withdrawal(notice)
            record_deliveries(s, bundle_id, code, [wid for wid, _n in notices])
            for *_revs, entry in desk:
                writer.add_entry(entry)
            record_sent(s, code, desk)
            writer.finish()
    return ExportResult(out, bundle_id, code, seq, plan, passphrase is not None, peer is not None, len(notices), len(desk))


# ---- import -----------------------------------------------------------------------------------------


def file_kind(path: Path) -> str:
    """`bundle` or `receipt`, from the file's first bytes."""
    path = Path(path).expanduser()
    try:
        with path.open("rb") as fh:
            first = fh.read(fmt.MAX_VERSION_LINE)
    except OSError as exc:
        raise FileError(f"cannot read {path}: {exc.strerror}") from None
    try:
        return fmt.sniff(first)
    except BundleError as exc:
        raise BundleRefused(f"{path.name}: {exc}") from None


@dataclass(frozen=True)
class BundlePreview:
    """A bundle whose header, recipient, sender and signature were checked (nothing decrypted yet)."""

    path: Path
    bundle_id: str
    sender: str
    sender_name: str
    fingerprint: str
    seq: int
    records: int
    created: datetime
    already_imported: bool
    has_own_stanza: bool
    has_passphrase_stanza: bool

    @property
    def grouped_fingerprint(self) -> str:
        """The sender's fingerprint in readable groups."""
        return grouped_fingerprint(self.fingerprint)


def _refused(path: Path, exc: BundleError | str, *, field: str | None = None, reference: str | None = None, value: object = None) -> BundleRefused:
    return BundleRefused(f"{path.name}: {exc}", field=field, reference=reference, value=value)


def _verify(session: Session, s: OrmSession, path: Path, reader: BundleReader) -> tuple[ContactInfo, int, bool]:
    """Recipient, sender, signature and replay checks; returns the sender's contact, our sequence number and whether it was seen."""
    header = reader.header
    seq = header.seq_for(session.ministry)
    if seq is None:
        codes = ", ".join(r.code for r in header.recipients)
        raise _refused(path, f"the bundle is addressed to {codes}, not to this ministry ({session.ministry})")
    sender = contact(session, s, header.sender)
    if sender is None:
        raise _refused(path, f"unknown sender {header.sender}: no contact card", field="sender", value=header.sender)
    if sender.fingerprint != header.sender_fingerprint:
        raise _refused(path, f"the bundle names a sender key ({grouped_fingerprint(header.sender_fingerprint)}) that is not on {header.sender}'s contact card")
    try:
        reader.verify(sender.identity.signing_public)
    except BundleError as exc:
        raise _refused(path, exc) from None
    seen = s.get(BundleLog, header.bundle_id)
    if seen is not None:
        if seen.direction != "in" or seen.peer != header.sender or seen.header_sha256 != header.preamble_sha256.hex():
            raise _refused(path, f"bundle id {header.bundle_id} was already used by a different bundle; refusing a replay")
        return sender, seq, True
    other = s.execute(select(BundleLog.bundle_id).where(BundleLog.direction == "in", BundleLog.peer == header.sender, BundleLog.seq == seq)).scalar_one_or_none()
    if other is not None:
        raise _refused(path, f"sequence number {seq} from {header.sender} was already used by bundle {other}; refusing a replayed or forged bundle")
    return sender, seq, False


def _open(path: Path) -> BinaryIO:
    try:
        return Path(path).expanduser().open("rb")
    except OSError as exc:
        raise FileError(f"cannot read {path}: {exc.strerror}") from None


def _reader(path: Path, fh: BinaryIO) -> BundleReader:
    try:
        return BundleReader(fh)
    except BundleError as exc:
        raise _refused(path, exc) from None


def preview_bundle(session: Session, path: Path) -> BundlePreview:
    """Check a bundle before importing it: who sent it (signature verified), how many records, whether it is new."""
    keyring_of(session)
    path = Path(path).expanduser()
    with _open(path) as fh:
        reader = _reader(path, fh)
        with session.db.read() as s:
            sender, seq, seen = _verify(session, s, path, reader)
        header = reader.header
        return BundlePreview(
            path, header.bundle_id, header.sender, sender.name, sender.fingerprint, seq, header.records, header.created, seen,
            any(st.kind == "x25519" and st.recipient == session.ministry for st in header.stanzas), reader.has_passphrase_stanza(),
        )


@dataclass(frozen=True)
class ImportResult:
    """What an import did (or, when `already_imported`, that it did nothing)."""

    path: Path
    bundle_id: str
    sender: str
    fingerprint: str
    seq: int
    records: int
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    already_imported: bool = False
    withdrawn: int = 0  # records the bundle's withdrawal notices flagged withdrawn
    desk: JwgImport | None = None  # what its working-group entries did (store/jwg/sync.py)
    #: Records not written, each with why: a copy forwarded by a third party of a record held from its origin.
    skipped: tuple[tuple[str, str], ...] = ()


def _file_key(path: Path, reader: BundleReader, session: Session, passphrase: bytes | None) -> bytes:
    keys = keyring_of(session)
    own = any(st.kind == "x25519" and st.recipient == session.ministry for st in reader.header.stanzas)
    if not own and reader.has_passphrase_stanza() and passphrase is None:
        raise _refused(path, "the bundle is protected by a passphrase", field="bundle_passphrase")
    try:
        if own:
            return reader.file_key_from_identity(session.ministry, keys.exchange_key)
        if reader.has_passphrase_stanza() and passphrase is not None:
            return reader.file_key_from_passphrase(passphrase)
        raise BundleError(f"the bundle has no key stanza for {session.ministry}")
    except BundleError as exc:
        raise _refused(path, exc) from None


@dataclass
class _Vocab:
    ministries: set[str]
    domains: set[str]


#: The human texts of a bundle record and whether each may hold newlines and tabs.
_RECORD_TEXTS = (("title", False), ("author", False), ("summary", True), ("source", True))


def _check_record(path: Path, rec: dict[str, Any], header: Header, local: str, vocab: _Vocab, now: datetime) -> None:
    """The store's rules on one incoming record (its shape was checked by the reader)."""
    ref = rec["reference"]
    match = REFERENCE.fullmatch(ref)
    if match is None:
        raise _refused(path, f"record {quote(ref)} has a malformed reference (expected ORIGIN-YYYY-NUMBER in ASCII)", field="reference", value=ref)
    if match["origin"] != rec["origin"]:
        raise _refused(path, f"record {ref} does not carry the code of its origin {rec['origin']}", field="reference", reference=ref, value=ref)
    for name, block in _RECORD_TEXTS:
        try:
            (check_block if block else check_line)(name, rec[name], reference=ref)
        except ValidationError as exc:
            raise _refused(path, f"record {exc}", field=name, reference=ref, value=rec[name]) from None
    for name in ("created_at", "updated_at"):
        why = policy.record_time_refusal(fmt.parse_time(rec[name], name), now)
        if why is not None:
            raise _refused(path, f"record {ref} {name} {rec[name]} {why}", field=name, reference=ref, value=rec[name])
    if rec["origin"] == local:
        raise _refused(path, f"record {ref} claims to originate at this ministry ({local})")
    if local not in rec["releasable_to"]:
        raise _refused(path, f"record {ref} is not releasable to this ministry ({local})")
    if rec["tlp"] == Tlp.RED.value:
        raise _refused(path, f"record {ref} is TLP:RED, which never travels in a bundle")
    if rec["origin"] != header.sender and (rec["no_reexport"] or rec["tlp"] not in (Tlp.GREEN.value, Tlp.CLEAR.value)):
        raise _refused(path, f"record {ref} from {rec['origin']} is TLP:{rec['tlp']} and may not be re-exported by {header.sender}")
    for code in [rec["origin"], *rec["releasable_to"]]:
        if code not in vocab.ministries:
            raise _refused(path, f"record {ref} names ministry {code}, unknown here", field="ministries", reference=ref, value=code)
    if rec["domain"] not in vocab.domains:
        raise _refused(path, f"record {ref} has domain {rec['domain']}, unknown here", field="domains", reference=ref, value=rec["domain"])


class _Importer:
    """Writes the records of one verified bundle inside the caller's transaction, chunk by chunk."""

    def __init__(self, session: Session, s: OrmSession, path: Path, header: Header, now: datetime) -> None:
        self.session, self.s, self.path, self.header, self.now = session, s, path, header, now
        self.conn = s.connection()
        self.writer = BulkWriter(session, s)
        self.vocab = _Vocab(set(s.scalars(select(Ministry.code))), set(s.scalars(select(Domain.slug))))
        self.seen: set[str] = set()
        self.new = self.updated = self.unchanged = 0
        self.skipped: list[tuple[str, str]] = []

    def chunk(self, records: list[dict[str, Any]]) -> None:
        """Check and write one chunk's records (new ones in bulk, newer revisions as updates)."""
        local = self.session.ministry
        for rec in records:
            _check_record(self.path, rec, self.header, local, self.vocab, self.now)
            if rec["uuid"] in self.seen:
                raise _refused(self.path, f"record {rec['reference']} appears twice in the bundle")
            self.seen.add(rec["uuid"])
        if len({r["reference"] for r in records}) != len(records):
            raise _refused(self.path, "two records in one chunk share a reference")
        uuids = [r["uuid"] for r in records]
        existing = {row.uuid: row for row in self.s.execute(select(Record.id, Record.uuid, Record.reference, Record.origin, Record.revision, Record.title_ct).where(Record.uuid.in_(uuids)))}
        refs = {r["reference"] for r in records if r["uuid"] not in existing}
        clash = self.s.execute(select(Record.reference).where(Record.reference.in_(sorted(refs)))).scalars().first() if refs else None
        if clash is not None:
            raise _refused(self.path, f"record {clash} in the bundle has the reference of a different record here")
        new_items: list[IngestItem] = []
        ledger: list[dict[str, Any]] = []
        ids: dict[str, int] = {}
        for rec in records:
            old = existing.get(rec["uuid"])
            if old is None:
                new_items.append(self._item(rec))
                continue
            if old.origin != rec["origin"]:
                raise _refused(self.path, f"record {rec['reference']} would overwrite a record of {old.origin}", reference=rec["reference"])
            if old.reference != rec["reference"]:
                raise _refused(
                    self.path, f"record {rec['reference']} has the id of {old.reference} here", reference=rec["reference"], value=rec["uuid"]
                )
            ids[rec["uuid"]] = old.id
            if not policy.may_update_held(self.header.sender, old.origin):
                self.skipped.append((rec["reference"], "already held from its origin"))
            elif rec["revision"] > old.revision:
                self._update(old, rec)
                self.updated += 1
            else:
                self.unchanged += 1
        for (rid, _ref), item in zip(self.writer.write(new_items) if new_items else [], new_items, strict=True):
            assert item.uuid is not None
            ids[item.uuid] = rid
        self.new += len(new_items)
        for rec in records:
            ledger.append(
                {
                    "bundle_id": self.header.bundle_id, "record_uuid": rec["uuid"], "record_id": ids[rec["uuid"]],
                    "reference": rec["reference"], "revision": rec["revision"], "content_sha256": fmt.record_hash(rec),
                }
            )
        self.conn.execute(insert(BundleItem), ledger)

    @staticmethod
    def _item(rec: dict[str, Any]) -> IngestItem:
        return IngestItem(
            domain=rec["domain"], origin=rec["origin"], tlp=rec["tlp"], status=Status.RECEIVED.value, author=rec["author"],
            created_at=fmt.parse_time(rec["created_at"], "created_at"), updated_at=fmt.parse_time(rec["updated_at"], "updated_at"),
            title=rec["title"], summary=rec["summary"], source=rec["source"], releasable_to=tuple(rec["releasable_to"]),
            reference=rec["reference"], uuid=rec["uuid"], no_reexport=rec["no_reexport"], revision=rec["revision"],
        )

    def _update(self, old: Any, rec: dict[str, Any]) -> None:
        """A newer revision of a received record, written by the one record writer."""
        self.writer.update(old.id, old.reference, old.title_ct, self._item(rec))


def import_bundle(session: Session, path: Path, *, passphrase: bytes | None = None, progress: Progress | None = None) -> ImportResult:
    """Verify a bundle (signature before decryption) and import it all-or-nothing in one transaction."""
    policy.require_role(session.actor, Role.REVIEWER, "import")
    keyring_of(session)
    path = Path(path).expanduser()
    with _open(path) as fh:
        reader = _reader(path, fh)
        header = reader.header
        with session.db.read() as s:
            sender, seq, seen = _verify(session, s, path, reader)
        result = ImportResult(path, header.bundle_id, header.sender, sender.fingerprint, seq, header.records)
        if seen:
            return ImportResult(**{**result.__dict__, "already_imported": True})
        file_key = _file_key(path, reader, session, passphrase)
        with session.act("import", header.bundle_id) as s:
            # checked again under the write lock: another process may have imported it meanwhile
            if s.get(BundleLog, header.bundle_id) is not None or s.execute(
                select(BundleLog.bundle_id).where(BundleLog.direction == "in", BundleLog.peer == header.sender, BundleLog.seq == seq)
            ).first():
                raise _refused(path, "the bundle (or its sequence number) was imported by another process meanwhile")
            now = session.clock()
            s.add(BundleLog(bundle_id=header.bundle_id, direction="in", peer=header.sender, seq=seq, header_sha256=header.preamble_sha256.hex(), at=now, officer=session.actor.name, records=header.records))
            s.flush()
            # "in the future" means ahead of both the store's clock (fixed in tests and demos) and the wall clock
            importer = _Importer(session, s, path, header, max(now, datetime.now(UTC)))
            done = 0
            notices: list[dict[str, Any]] = []
            desk: list[dict[str, Any]] = []
            try:
                for entries in reader.chunks(file_key):
                    records = [e for e in entries if fmt.is_record(e)]
                    notices += [e for e in entries if fmt.is_withdrawal(e)]
                    desk += [e for e in entries if is_desk_entry(e)]
                    if records:
                        importer.chunk(records)
                    done += len(entries)
                    if progress:
                        progress(done, header.records)
            except BundleError as exc:
                raise _refused(path, exc) from None
            importer.writer.finish()
            withdrawn = 0
            try:
                for notice in notices:
                    withdrawn += apply_notice(session, s, header.sender, header.bundle_id, notice, now)
            except (WithdrawalRefused, ValidationError) as exc:
                raise _refused(path, str(exc)) from None
            try:
                desk_result = apply_entries(session, s, header.sender, desk, now)
            except ValidationError as exc:
                raise _refused(path, str(exc)) from None
            link_arrivals(s)
            log = s.get(BundleLog, header.bundle_id)
            if log is not None:
                log.records = header.records - len(notices) - len(desk)  # records only: receipts count records
    return ImportResult(
        **{**result.__dict__, "records": header.records - len(notices) - len(desk), "new": importer.new, "updated": importer.updated,
           "unchanged": importer.unchanged, "withdrawn": withdrawn, "skipped": tuple(importer.skipped), "desk": desk_result}
    )


# ---- receipts ---------------------------------------------------------------------------------------


def make_receipt(session: Session, bundle_id: str) -> bytes:
    """A receipt for an imported bundle: what arrived, signed by this ministry and sealed to the sender."""
    keys = keyring_of(session)
    identity = own_identity(session)
    with session.act("receipt-write", bundle_id) as s:
        log = s.get(BundleLog, bundle_id)
        if log is None or log.direction != "in":
            raise NotFound(f"no imported bundle {bundle_id}")
        sender = contact(session, s, log.peer)
        if sender is None:
            raise NotFound(f"no contact card for {log.peer}", field="contact", value=log.peer)
        items = [
            [u, ref, rev, digest]
            for u, ref, rev, digest in s.execute(
                select(BundleItem.record_uuid, BundleItem.reference, BundleItem.revision, BundleItem.content_sha256)
                .where(BundleItem.bundle_id == bundle_id)
                .order_by(BundleItem.reference, BundleItem.record_uuid)
            )
        ]
        now = session.clock()
        data = fmt.write_receipt(
            bundle_id=bundle_id, sender=session.ministry, sender_fingerprint=identity.fingerprint, signing_key=keys.signing_key,
            recipient=log.peer, recipient_fingerprint=sender.fingerprint, recipient_exchange_public=sender.identity.exchange_public,
            received_at=log.at, items=items, created=now,
        )
        log.receipt_at = now
    return data


def write_receipt_file(session: Session, bundle_id: str, out: Path, *, overwrite: bool = False) -> Path:
    """Write the receipt for an imported bundle atomically (never over a store; over a file only if `overwrite`)."""
    out = check_target(out, overwrite=overwrite, protect=(session.db.path,))
    data = make_receipt(session, bundle_id)
    atomic_write_bytes(out, data, overwrite=overwrite, protect=(session.db.path,))
    return out


@dataclass(frozen=True)
class ReceiptResult:
    """What processing a receipt did."""

    path: Path
    bundle_id: str
    peer: str
    acknowledged: int
    mismatched: int
    missing: int
    received_at: datetime
    already_processed: bool = False


def _batched(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass(frozen=True)
class ReceiptPreview:
    """A receipt checked before it is processed: who sent it (signature verified), for which bundle we sent."""

    path: Path
    bundle_id: str
    sender: str
    sender_name: str
    fingerprint: str
    received_at: datetime
    records: int
    already_processed: bool

    @property
    def grouped_fingerprint(self) -> str:
        return grouped_fingerprint(self.fingerprint)


def _open_receipt(session: Session, path: Path) -> tuple[fmt.ReceiptEnvelope, ContactInfo, fmt.ReceiptBody]:
    """Read a receipt and check it (sender contact, signature, addressed to us); its envelope, sender and body."""
    policy.require_role(session.actor, Role.REVIEWER, "import")
    keys = keyring_of(session)
    data = read_limited(path, MAX_RECEIPT_FILE, "receipt")
    try:
        envelope = fmt.read_receipt(data)
    except BundleError as exc:
        raise _refused(path, exc) from None
    if envelope.recipient != session.ministry:
        raise _refused(path, f"the receipt is addressed to {envelope.recipient}, not to this ministry ({session.ministry})")
    with session.db.read() as s:
        peer = contact(session, s, envelope.sender)
    if peer is None:
        raise _refused(path, f"unknown sender {envelope.sender}: no contact card", field="sender", value=envelope.sender)
    if peer.fingerprint != envelope.sender_fingerprint:
        raise _refused(path, f"the receipt names a sender key that is not on {envelope.sender}'s contact card")
    try:
        fmt.verify_receipt(envelope, peer.identity.signing_public)
        if envelope.recipient_fingerprint != own_identity(session).fingerprint:
            raise BundleError("the receipt was sealed to another key of this ministry")
        body = fmt.open_receipt(envelope, keys.exchange_key)
    except BundleError as exc:
        raise _refused(path, exc) from None
    return envelope, peer, body


def _sent_log(s: OrmSession, path: Path, envelope: fmt.ReceiptEnvelope) -> BundleLog:
    """The ledger entry of the bundle a receipt answers, which must have gone to the receipt's sender."""
    log = s.get(BundleLog, envelope.bundle_id)
    if log is None or log.direction != "out" or log.peer != envelope.sender:
        raise _refused(path, f"receipt for a bundle never sent to {envelope.sender} ({envelope.bundle_id})")
    return log


def preview_receipt(session: Session, path: Path) -> ReceiptPreview:
    """Check a receipt without processing it: the verified sender, the bundle it answers, whether it was seen."""
    path = Path(path).expanduser()
    envelope, peer, body = _open_receipt(session, path)
    with session.db.read() as s:
        log = _sent_log(s, path, envelope)
        seen = s.get(Receipt, envelope.receipt_id) is not None
        records = log.records
    return ReceiptPreview(path, envelope.bundle_id, envelope.sender, peer.name, peer.fingerprint, body.received_at, records, seen)


def process_receipt(session: Session, path: Path) -> ReceiptResult:
    """Check a receipt (sender contact, signature, addressed to us, for a bundle we sent) and mark what arrived acknowledged."""
    path = Path(path).expanduser()
    envelope, _peer, body = _open_receipt(session, path)
    with session.act("receipt", envelope.bundle_id) as s:
        log = _sent_log(s, path, envelope)
        if s.get(Receipt, envelope.receipt_id) is not None:
            return ReceiptResult(path, envelope.bundle_id, envelope.sender, 0, 0, 0, body.received_at, already_processed=True)
        acknowledged = mismatched = 0
        seen: set[str] = set()
        for batch in _batched(body.items, BATCH):
            uuids = [item[0] for item in batch]
            ledger = {
                row.record_uuid: row
                for row in s.execute(
                    select(BundleItem.record_uuid, BundleItem.record_id, BundleItem.revision, BundleItem.content_sha256)
                    .join(BundleLog, BundleLog.bundle_id == BundleItem.bundle_id)
                    # only what went to the receipt's sender: a receipt never acknowledges a record sent elsewhere
                    .where(
                        BundleItem.bundle_id == log.bundle_id, BundleItem.record_uuid.in_(uuids),
                        BundleLog.direction == "out", BundleLog.peer == envelope.sender,
                    )
                )
            }
            matched: list[str] = []
            record_ids: list[int] = []
            for u, _ref, rev, digest in batch:
                row = ledger.get(u)
                if row is None or u in seen or row.revision != rev or row.content_sha256 != digest:
                    mismatched += 1
                    continue
                seen.add(u)
                matched.append(u)
                if row.record_id is not None:
                    record_ids.append(row.record_id)
            if matched:
                s.execute(
                    update(BundleItem).where(BundleItem.bundle_id == log.bundle_id, BundleItem.record_uuid.in_(matched)).values(acknowledged_at=body.received_at)
                )
            if record_ids:
                s.execute(update(Record).where(Record.id.in_(record_ids), Record.status == Status.SHARED.value).values(status=Status.ACKNOWLEDGED.value))
            acknowledged += len(matched)
        missing = max(0, log.records - acknowledged - mismatched)
        now = session.clock()
        log.receipt_at = now
        s.add(Receipt(receipt_id=envelope.receipt_id, bundle_id=log.bundle_id, peer=envelope.sender, received_at=body.received_at, processed_at=now, acknowledged=acknowledged, mismatched=mismatched))
    return ReceiptResult(path, envelope.bundle_id, envelope.sender, acknowledged, mismatched, missing, body.received_at)


# ---- the ledger, for `show` and the TUI ------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerEntry:
    """One time a record revision went to (or came from) a ministry."""

    bundle_id: str
    direction: str
    peer: str
    revision: int
    at: datetime
    acknowledged_at: datetime | None


def ledger(session: Session, reference: str) -> list[LedgerEntry]:
    """Every bundle a record travelled in, oldest first."""
    keyring_of(session)
    with session.db.read() as s:
        rec = s.execute(select(Record.uuid).where(Record.reference == reference.strip().upper())).scalar_one_or_none()
        if rec is None:
            raise NotFound(f"no record {reference}")
        rows = s.execute(
            select(BundleLog.bundle_id, BundleLog.direction, BundleLog.peer, BundleItem.revision, BundleLog.at, BundleItem.acknowledged_at)
            .join(BundleItem, BundleItem.bundle_id == BundleLog.bundle_id)
            .where(BundleItem.record_uuid == rec)
            .order_by(BundleLog.at)
        ).all()
    return [LedgerEntry(*row) for row in rows]


def counts(session: Session) -> Counter[str]:
    """How many bundles were sent and imported (for summaries)."""
    with session.db.read() as s:
        return Counter({d: int(n) for d, n in s.execute(select(BundleLog.direction, func.count()).group_by(BundleLog.direction))})


__all__ = [
    "BundlePreview", "BundleRefused", "Exclusion", "ExportPlan", "ExportResult", "ImportResult", "NothingToExport",
    "ReceiptResult", "export_bundle", "file_kind", "import_bundle", "make_receipt", "plan_export", "preview_bundle",
    "process_receipt", "write_receipt_file",
]
