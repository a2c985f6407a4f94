"""Import: a bundle is verified (signature before decryption), every record checked — text policy, reference,
dates, sharing rules (`store.policy`) — and written all-or-nothing in one transaction.
The checks before decryption are in `import_verify.py`, the rules on each record in `import_checks.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session as OrmSession

from crypto import bundle as fmt
from crypto.bundle import BundleError, Header
from store import policy
from store import sqlite as dialect
from store.audit import log as audit
from store.audit.state import damaged_among
from store.bundles.common import Progress, open_file, reader_of, refused
from store.bundles.import_checks import Vocab, check_record, delivered_by, held_from_origin, report_ids
from store.bundles.import_verify import bundle_file_key, verify_bundle, witnessed
from store.bundles.ledger import ledger_item
from store.bundles.witness import keep_incoming
from store.contacts import keyring_of
from store.errors import ValidationError
from store.identity import KeyChange, apply_transitions, confirm_key
from store.ingest import BulkWriter, IngestItem
from store.jwg.sync import JwgImport, apply_entries, is_desk_entry
from store.models import BundleItem, BundleLog, Domain, Ministry, Record
from store.vocab import Role, Status
from store.withdrawals import WithdrawalRefused, apply_notice, link_arrivals

if TYPE_CHECKING:
    from store.service import Session


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
    #: New records from their origin also held as a copy a STIX/MISP import made before: (reference, the copy's).
    file_copies: tuple[tuple[str, str], ...] = ()
    #: Such copies flagged withdrawn with their record: (the copy's reference, the record's).
    withdrawn_copies: tuple[tuple[str, str], ...] = ()


class _Importer:
    """Writes the records of one verified bundle inside the caller's transaction, chunk by chunk."""

    def __init__(self, session: Session, s: OrmSession, path: Path, header: Header, now: datetime) -> None:
        self.session, self.s, self.path, self.header, self.now = session, s, path, header, now
        self.conn = s.connection()
        self.writer = BulkWriter(session, s)
        self.vocab = Vocab(set(s.scalars(select(Ministry.code))), set(s.scalars(select(Domain.slug))))
        self.seen: set[str] = set()
        self.new = self.updated = self.unchanged = 0
        #: uuids of the records this import wrote (new, updated, replaced): their states are signed by it
        self.written: set[str] = set()
        self.skipped: list[tuple[str, str]] = []
        self.notes: list[tuple[str, str]] = []  # copies replaced by their origin's, squatters moved aside
        self.file_copies: list[tuple[str, str]] = []  # new records held already as a STIX/MISP import's copy
        self.times: dict[str, tuple[datetime, datetime]] = {}  # the chunk's records' times, parsed by check_record

    def chunk(self, records: list[dict[str, Any]]) -> None:
        """Check and write one chunk's records (new ones in bulk, newer revisions as updates)."""
        local = self.session.ministry
        self.times = {}
        for rec in records:
            self.times[rec["uuid"]] = check_record(self.path, rec, self.header, local, self.vocab, self.now)
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
                self.written.add(rec["uuid"])
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
                self.written.add(rec["uuid"])
            else:
                self.unchanged += 1
        self._note_file_copies([i for i in new_items if i.origin == sender])
        for (rid, _ref), item in zip(self.writer.write(new_items) if new_items else [], new_items, strict=True):
            assert item.uuid is not None
            ids[item.uuid] = rid
            self.written.add(item.uuid)
        self.new += len(new_items)
        for rec in records:
            ledger.append(ledger_item(self.header.bundle_id, ids[rec["uuid"]], rec))
        dialect.insert_rows(self.conn, BundleItem.__table__, ledger)

    def _note_file_copies(self, items: list[IngestItem]) -> None:
        """New records from their origin that a STIX/MISP import of the origin's own export brought before, as a
        copy under a local-only reference (its id derived from the record's): the copy stays (its id is in the
        signed log), the summary names it, and the origin's withdrawal reaches it too (`store.withdrawals`)."""
        derived = {d: item.reference for item in items if item.uuid for d in report_ids(item.uuid)}
        keys = sorted(derived)
        for start in range(0, len(keys), 5000):
            for row in self.s.execute(
                select(Record.uuid, Record.reference, Record.origin).where(
                    dialect.in_values(Record.uuid, keys[start : start + 5000])
                )
            ):
                if row.origin == self.header.sender and derived[row.uuid] is not None:
                    self.file_copies.append((str(derived[row.uuid]), row.reference))
        self.file_copies.sort()

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

    def _item(self, rec: dict[str, Any]) -> IngestItem:
        created_at, updated_at = self.times[rec["uuid"]]
        return IngestItem(
            domain=rec["domain"],
            origin=rec["origin"],
            tlp=rec["tlp"],
            status=Status.RECEIVED.value,
            author=rec["author"],
            created_at=created_at,
            updated_at=updated_at,
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
            checked = verify_bundle(session, s, path, reader)
        seq = checked.seq
        result = ImportResult(path, header.bundle_id, header.sender, checked.key.fingerprint, seq, header.records)
        if checked.seen:
            return ImportResult(**{**result.__dict__, "already_imported": True})
        file_key, sealed_to = bundle_file_key(path, reader, session, passphrase)
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
            if sealed_to is not None:  # the sender holds that key of ours: our rotations up to it reached it
                confirm_key(s, header.sender, sealed_to, now, f"bundle {header.bundle_id}")
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
            withdrawn_copies: list[tuple[str, str]] = []
            try:
                for notice in notices:
                    outcome = apply_notice(
                        session,
                        s,
                        header.sender,
                        header.bundle_id,
                        notice,
                        now,
                        latest=importer.now,
                        copies=withdrawn_copies,
                        written=importer.written,
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
            "file_copies": tuple(importer.file_copies),
            "withdrawn_copies": tuple(withdrawn_copies),
        }
    )
