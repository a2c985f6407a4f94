"""Import: a bundle is verified (signature before decryption), every record checked — text policy, reference,
dates, sharing rules (`store.policy`) — and written all-or-nothing in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session as OrmSession

from crypto import bundle as fmt
from crypto.bundle import BundleError, BundleReader, Header, KeyTransition
from crypto.identity import PublicIdentity, grouped_fingerprint
from store import policy
from store.audit import log as audit
from store.audit.state import damaged_among
from store.bundles.common import BundleRefused, Progress, open_file, reader_of, refused
from store.bundles.witness import Incoming, WitnessRefused, check_incoming, keep_incoming
from store.contacts import ContactInfo, contact, keyring_of, own_identity
from store.errors import ValidationError
from store.files import FileError
from store.identity import KeyChange, KeyRefused, apply_transitions, confirm_key, resolve_sender, retired_identities
from store.ingest import BulkWriter, IngestItem, is_local_only
from store.jwg.sync import JwgImport, apply_entries, is_desk_entry
from store.models import BundleItem, BundleLog, Domain, Ministry, Record
from store.text import check_block, check_line, quote
from store.vocab import REFERENCE, Role, Status
from store.withdrawals import WithdrawalRefused, apply_notice, link_arrivals

if TYPE_CHECKING:
    from store.service import Session


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
    #: The sender's identity changes the bundle carries (applied when it is imported).
    key_changes: tuple[KeyTransition, ...] = ()

    @property
    def grouped_fingerprint(self) -> str:
        """The sender's fingerprint in readable groups."""
        return grouped_fingerprint(self.fingerprint)


@dataclass(frozen=True)
class _Verified:
    """A bundle whose sender, signature and replay were checked."""

    sender: ContactInfo
    seq: int
    seen: bool
    key: PublicIdentity  # the key the signature verified with: the card's, or the end of the sender's transitions
    transitions: tuple[KeyTransition, ...]  # statements to apply (the held key first handed over)
    incoming: Incoming | None = None  # the sender's checkpoint, checked against the ones seen before


def _verify(session: Session, s: OrmSession, path: Path, reader: BundleReader) -> _Verified:
    """Recipient, sender (and its key transitions), signature and replay checks."""
    header = reader.header
    seq = header.seq_for(session.ministry)
    if seq is None:
        codes = ", ".join(r.code for r in header.recipients)
        raise refused(path, f"the bundle is addressed to {codes}, not to this ministry ({session.ministry})")
    sender = contact(session, s, header.sender)
    if sender is None:
        raise refused(path, f"unknown sender {header.sender}: no contact card", field="sender", value=header.sender)
    try:
        key, transitions = resolve_sender(s, sender, header.sender_fingerprint, header.transitions)
    except KeyRefused as exc:
        raise refused(path, f"the bundle {exc}") from None
    try:
        reader.verify(key.signing_public)
    except BundleError as exc:
        raise refused(path, exc) from None
    seen = s.get(BundleLog, header.bundle_id)
    if seen is not None:
        if seen.direction != "in" or seen.peer != header.sender or seen.header_sha256 != header.preamble_sha256.hex():
            raise refused(
                path, f"bundle id {header.bundle_id} was already used by a different bundle; refusing a replay"
            )
        return _Verified(sender, seq, True, key, transitions)
    incoming = witnessed(path, s, header, key)
    other = s.execute(
        select(BundleLog.bundle_id).where(
            BundleLog.direction == "in", BundleLog.peer == header.sender, BundleLog.seq == seq
        )
    ).scalar_one_or_none()
    if other is not None:
        raise refused(
            path,
            f"sequence number {seq} from {header.sender} was already used by bundle {other}; refusing a replayed or forged bundle",
        )
    return _Verified(sender, seq, False, key, transitions, incoming)


def witnessed(path: Path, s: OrmSession, header: Header, key: PublicIdentity) -> Incoming | None:
    """The sender's checkpoint checked against the last one seen from it (docs/bundle-format.md §14)."""
    try:
        return check_incoming(s, header.sender, key, header.checkpoint, header.proofs, "bundle")
    except WitnessRefused as exc:
        if exc.field == "forked":  # the one line issue 11 spells out, naming the counterpart, not the file
            raise BundleRefused(str(exc)) from None
        raise refused(path, str(exc)) from None


def preview_bundle(session: Session, path: Path) -> BundlePreview:
    """Check a bundle before importing it: who sent it (signature verified), how many records, whether it is new."""
    keyring_of(session)
    path = Path(path).expanduser()
    with open_file(path) as fh:
        reader = reader_of(path, fh)
        with session.db.read() as s:
            checked = _verify(session, s, path, reader)
        header = reader.header
        return BundlePreview(
            path,
            header.bundle_id,
            header.sender,
            checked.sender.name,
            checked.key.fingerprint,
            checked.seq,
            header.records,
            header.created,
            checked.seen,
            any(st.kind == "x25519" and st.recipient == session.ministry for st in header.stanzas),
            reader.has_passphrase_stanza(),
            checked.transitions,
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
    #: Copies held from a non-origin sender that the origin's own replaced, and squatters moved aside: (reference, what happened).
    replaced: tuple[tuple[str, str], ...] = ()
    #: Withdrawal notices for records not held here: (reference, why); kept so the record is flagged if it arrives.
    withdrawals_skipped: tuple[tuple[str, str], ...] = ()
    #: The sender's identity changes this bundle delivered (statements signed by its old and new keys).
    key_changes: tuple[KeyChange, ...] = ()


def _file_key(path: Path, reader: BundleReader, session: Session, passphrase: bytes | None) -> tuple[bytes, bool]:
    """The bundle's file key, and whether it was sealed to this ministry's current identity (not a retired one)."""
    keys = keyring_of(session)
    own = any(st.kind == "x25519" and st.recipient == session.ministry for st in reader.header.stanzas)
    if not own and reader.has_passphrase_stanza() and passphrase is None:
        raise refused(path, "the bundle is protected by a passphrase", field="bundle_passphrase")
    try:
        if own:
            try:
                return reader.file_key_from_identity(session.ministry, keys.exchange_key), True
            except BundleError:
                # sealed to a key this ministry rotated away from, by a contact that had not learnt the new one yet
                with session.db.read() as s:
                    retired = list(retired_identities(session, s).values())
                for private in retired:
                    try:
                        return reader.file_key_from_identity(session.ministry, private), False
                    except BundleError:
                        continue
                raise
        if reader.has_passphrase_stanza() and passphrase is not None:
            return reader.file_key_from_passphrase(passphrase), False
        raise BundleError(f"the bundle has no key stanza for {session.ministry}")
    except BundleError as exc:
        raise refused(path, exc) from None


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
    for name in ("created_at", "updated_at"):
        why = policy.record_time_refusal(fmt.parse_time(rec[name], name), now)
        if why is not None:
            raise refused(path, f"record {ref} {name} {rec[name]} {why}", field=name, reference=ref, value=rec[name])
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
        self.notes: list[tuple[str, str]] = []  # copies replaced by their origin's, squatters moved aside

    def chunk(self, records: list[dict[str, Any]]) -> None:
        """Check and write one chunk's records (new ones in bulk, newer revisions as updates)."""
        local = self.session.ministry
        for rec in records:
            _check_record(self.path, rec, self.header, local, self.vocab, self.now)
            if rec["uuid"] in self.seen:
                raise refused(self.path, f"record {rec['reference']} appears twice in the bundle")
            self.seen.add(rec["uuid"])
        if len({r["reference"] for r in records}) != len(records):
            raise refused(self.path, "two records in one chunk share a reference")
        uuids = [r["uuid"] for r in records]
        existing = {
            row.uuid: row
            for row in self.s.execute(
                select(Record.id, Record.uuid, Record.reference, Record.origin, Record.revision, Record.title_ct).where(
                    Record.uuid.in_(uuids)
                )
            )
        }
        sender = self.header.sender
        # the origin's own copy replaces a copy held only from a non-origin sender (forward, STIX/MISP import)
        replacing = {
            u
            for u, old in existing.items()
            if policy.origin_copy_replaces(sender, old.origin, self._from_origin(old.id, old.origin))
        }
        self._refuse_damaged(records, existing, replacing)
        wanted = {
            r["reference"]: r
            for r in records
            if r["uuid"] not in existing or (r["uuid"] in replacing and existing[r["uuid"]].reference != r["reference"])
        }
        if wanted:
            rows = self.s.execute(
                select(Record.id, Record.uuid, Record.reference, Record.origin).where(
                    Record.reference.in_(sorted(wanted))
                )
            )
            for row in rows.all():
                rec = wanted[row.reference]
                squatter = (
                    row.uuid not in uuids
                    and rec["origin"] == sender
                    and row.origin == sender
                    and not self._from_origin(row.id, row.origin)
                )
                if not squatter:
                    raise refused(
                        self.path, f"record {row.reference} in the bundle has the reference of a different record here"
                    )
                moved = self.writer.local_only_reference(row.origin, int(row.reference.split("-")[-2]))
                self.writer.rereference(row.id, moved)
                self.notes.append(
                    (
                        row.reference,
                        f"held from {delivered_by(self.s, row.id)} under another id, moved aside to {moved} for its origin's record",
                    )
                )
        new_items: list[IngestItem] = []
        ledger: list[dict[str, Any]] = []
        ids: dict[str, int] = {}
        for rec in records:
            old = existing.get(rec["uuid"])
            if old is None:
                new_items.append(self._item(rec))
                continue
            if old.origin != rec["origin"]:
                raise refused(
                    self.path,
                    f"record {rec['reference']} would overwrite a record of {old.origin}",
                    reference=rec["reference"],
                )
            ids[rec["uuid"]] = old.id
            if rec["uuid"] in replacing:
                self.notes.append(
                    (rec["reference"], f"copy held from {delivered_by(self.s, old.id)} replaced by its origin's own")
                )
                self.writer.replace(old.id, old.reference, old.title_ct, self._item(rec))
                self.updated += 1
                continue
            if old.reference != rec["reference"]:
                raise refused(
                    self.path,
                    f"record {rec['reference']} has the id of {old.reference} here",
                    reference=rec["reference"],
                    value=rec["uuid"],
                )
            if not policy.may_update_held(sender, old.origin):
                held = self._from_origin(old.id, old.origin)
                why = "already held from its origin" if held else "forwarded copies are updated only by their origin"
                self.skipped.append((rec["reference"], why))
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
                    "bundle_id": self.header.bundle_id,
                    "record_uuid": rec["uuid"],
                    "record_id": ids[rec["uuid"]],
                    "reference": rec["reference"],
                    "revision": rec["revision"],
                    "content_sha256": fmt.record_hash(rec),
                }
            )
        self.conn.execute(insert(BundleItem), ledger)

    def _refuse_damaged(self, records: list[dict[str, Any]], existing: dict[str, Any], replacing: set[str]) -> None:
        """A held record this import would rewrite must be the one its log signed: writing over a record tampered
        with in the file would sign what the tampering left (its review steps, its withdrawal) as it stands."""
        touched = [
            existing[r["uuid"]].id
            for r in records
            if r["uuid"] in existing and (r["uuid"] in replacing or r["revision"] > existing[r["uuid"]].revision)
        ]
        session = self.session
        damaged = damaged_among(
            self.s, session.keys(), touched, own_ministry=session.ministry, four_eyes=session.four_eyes, full=False
        )
        if damaged:
            by_id = {old.id: old.reference for old in existing.values()}
            rid, why = min(damaged.items(), key=lambda kv: by_id[kv[0]])
            raise refused(
                self.path,
                f"record {by_id[rid]} held here is damaged ({why}); the import would write over it",
                reference=by_id[rid],
            )

    @staticmethod
    def _item(rec: dict[str, Any]) -> IngestItem:
        return IngestItem(
            domain=rec["domain"],
            origin=rec["origin"],
            tlp=rec["tlp"],
            status=Status.RECEIVED.value,
            author=rec["author"],
            created_at=fmt.parse_time(rec["created_at"], "created_at"),
            updated_at=fmt.parse_time(rec["updated_at"], "updated_at"),
            title=rec["title"],
            summary=rec["summary"],
            source=rec["source"],
            releasable_to=tuple(rec["releasable_to"]),
            reference=rec["reference"],
            uuid=rec["uuid"],
            no_reexport=rec["no_reexport"],
            revision=rec["revision"],
        )

    def _from_origin(self, record_id: int, origin: str) -> bool:
        return held_from_origin(self.s, record_id, origin)

    def _update(self, old: Any, rec: dict[str, Any]) -> None:
        """A newer revision of a received record, written by the one record writer."""
        self.writer.update(old.id, old.reference, old.title_ct, self._item(rec))


def import_bundle(
    session: Session, path: Path, *, passphrase: bytes | None = None, progress: Progress | None = None
) -> ImportResult:
    """Verify a bundle (signature before decryption) and import it all-or-nothing in one transaction."""
    policy.require_role(session.actor, Role.REVIEWER, "import")
    keyring_of(session)
    path = Path(path).expanduser()
    with open_file(path) as fh:
        reader = reader_of(path, fh)
        header = reader.header
        with session.db.read() as s:
            checked = _verify(session, s, path, reader)
        seq = checked.seq
        result = ImportResult(path, header.bundle_id, header.sender, checked.key.fingerprint, seq, header.records)
        if checked.seen:
            return ImportResult(**{**result.__dict__, "already_imported": True})
        file_key, to_current_key = _file_key(path, reader, session, passphrase)
        with session.act("import", header.bundle_id) as s:
            # checked again under the write lock: another process may have imported it meanwhile
            if (
                s.get(BundleLog, header.bundle_id) is not None
                or s.execute(
                    select(BundleLog.bundle_id).where(
                        BundleLog.direction == "in", BundleLog.peer == header.sender, BundleLog.seq == seq
                    )
                ).first()
            ):
                raise refused(path, "the bundle (or its sequence number) was imported by another process meanwhile")
            now = session.clock()
            # the sender's identity changes: its contact now holds (only) the key this bundle is signed with
            key_changes = apply_transitions(
                session, s, header.sender, checked.transitions, f"bundle {header.bundle_id}"
            )
            if to_current_key:  # sealed to our current key: the sender holds it, our rotations reached it
                confirm_key(s, header.sender, own_identity(session).fingerprint, now, f"bundle {header.bundle_id}")
            # checked again under the write lock (another import may have kept a newer checkpoint), then kept
            keep_incoming(s, witnessed(path, s, header, checked.key))
            s.add(
                BundleLog(
                    bundle_id=header.bundle_id,
                    direction="in",
                    peer=header.sender,
                    seq=seq,
                    header_sha256=header.preamble_sha256.hex(),
                    at=now,
                    officer=session.actor.name,
                    records=header.records,
                )
            )
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
                raise refused(path, exc) from None
            importer.writer.finish()
            withdrawn = 0
            withdrawals_skipped: list[tuple[str, str]] = []
            try:
                for notice in notices:
                    outcome = apply_notice(
                        session, s, header.sender, header.bundle_id, notice, now, latest=importer.now
                    )
                    if outcome == "withdrawn":
                        withdrawn += 1
                    elif outcome == "not held":
                        withdrawals_skipped.append((notice["reference"], "not held here"))
            except WithdrawalRefused as exc:
                raise refused(path, str(exc), field=exc.field, reference=exc.reference, value=exc.value) from None
            except ValidationError as exc:
                raise refused(
                    path, f"withdrawal of {exc}", field=exc.field, reference=exc.reference, value=exc.value
                ) from None
            try:
                desk_result = apply_entries(session, s, header.sender, desk, now)
            except ValidationError as exc:
                raise refused(path, str(exc)) from None
            link_arrivals(s)
            log = s.get(BundleLog, header.bundle_id)
            if log is not None:
                log.records = header.records - len(notices) - len(desk)  # records only: receipts count records
            audit.note(
                s,
                data={
                    "bundle_id": header.bundle_id,
                    "sender": header.sender,
                    "seq": seq,
                    "header_sha256": header.preamble_sha256.hex(),
                    "new": importer.new,
                    "updated": importer.updated,
                    "unchanged": importer.unchanged,
                    "withdrawn": withdrawn,
                },
            )
    return ImportResult(
        **{
            **result.__dict__,
            "records": header.records - len(notices) - len(desk),
            "new": importer.new,
            "updated": importer.updated,
            "unchanged": importer.unchanged,
            "withdrawn": withdrawn,
            "skipped": tuple(importer.skipped),
            "desk": desk_result,
            "replaced": tuple(importer.notes),
            "withdrawals_skipped": tuple(withdrawals_skipped),
            "key_changes": tuple(key_changes),
        }
    )
