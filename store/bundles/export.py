"""Export: which records a bundle to a ministry may carry (the rules are `store.policy.exclusion`), and writing it."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session as OrmSession

from crypto import bundle as fmt
from crypto.bundle import BundleError, Recipient
from crypto.export_pool import RecordTags, record_object
from crypto.kdf import params_for_profile
from store import policy
from store import sqlite as dialect
from store.audit import log as audit
from store.audit import rekeys
from store.audit.fullcheck import FullCheck
from store.audit.snapshot import Contents
from store.audit.state import damaged_among
from store.bundles.ahead import Content, OpenAhead, tags_of
from store.bundles.common import BATCH, NothingToExport, Progress
from store.bundles.ledger import ledger_item
from store.bundles.witness import note_sent, outgoing
from store.contacts import contact, keyring_of, own_identity
from store.errors import IntegrityError, NotFound, ValidationError
from store.files import atomic_file, check_target
from store.identity import note_carried, transitions_for, unconfirmed
from store.jwg.sync import pending_entries, record_sent
from store.models import BundleItem, BundleLog, Record, RecordParty, Revision
from store.policy import Candidate, Exclusion, exclusion
from store.reference import check_domain, check_recipient
from store.vocab import Role, Status, Tlp, stored_status, stored_tlp
from store.withdrawals import pending_notices, record_deliveries, withdrawn_clause

if TYPE_CHECKING:
    from store.service import Session


@dataclass
class ExportPlan:
    """Which records an export to `recipient` carries, and how many were left out for each reason."""

    recipient: str
    included: list[int] = field(default_factory=list)
    included_refs: list[str] = field(default_factory=list)
    excluded: dict[Exclusion, list[str]] = field(default_factory=dict)
    #: Every record the filters selected (included or not): reference by id. An export refuses when any is damaged.
    selected: dict[int, str] = field(default_factory=dict)
    #: The damaged records among them (reference → reason), filled by `plan_export` and the export itself.
    damaged: dict[str, str] = field(default_factory=dict)

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


#: The columns a `policy.Candidate` starts from, in its field order (id … revision), for a bundle and a file alike.
CANDIDATE_COLUMNS = (
    Record.id,
    Record.reference,
    Record.status,
    Record.tlp,
    Record.origin,
    Record.no_reexport,
    Record.revision,
)


def selection_conditions(
    s: OrmSession, since: datetime | None, domains: Sequence[str], refs: Sequence[str]
) -> list[Any]:
    """The WHERE clauses of an export's filters (changed since, domains, references), for a bundle and a STIX/MISP
    file alike; an unknown domain is refused listing the valid ones, a reference not held is NotFound."""
    for slug in domains:
        check_domain(s, slug)
    conds: list[Any] = []
    if since is not None:
        conds.append(Record.updated_at >= since)
    if domains:
        conds.append(Record.domain.in_(sorted({d.strip().lower() for d in domains})))
    if refs:
        wanted = sorted({r.strip().upper() for r in refs})
        found = set(s.scalars(select(Record.reference).where(Record.reference.in_(wanted))))
        missing = [r for r in wanted if r not in found]
        if missing:
            raise NotFound(f"no record {missing[0]}", reference=missing[0])
        conds.append(Record.reference.in_(wanted))
    return conds


def _plan(
    session: Session, s: OrmSession, recipient: str, since: datetime | None, domains: Sequence[str], refs: Sequence[str]
) -> ExportPlan:
    conds = selection_conditions(s, since, domains, refs)
    sent = (
        select(func.max(BundleItem.revision))
        .join(BundleLog, BundleLog.bundle_id == BundleItem.bundle_id)
        .where(BundleLog.direction == "out", BundleLog.peer == recipient, BundleItem.record_uuid == Record.uuid)
        .scalar_subquery()
    )
    releasable = exists().where(
        RecordParty.record_id == Record.id, RecordParty.ministry == recipient, RecordParty.is_origin.is_(False)
    )
    stmt = (
        select(*CANDIDATE_COLUMNS, releasable, sent, withdrawn_clause())
        .where(*conds)
        .order_by(Record.created_at, Record.id)
    )
    plan = ExportPlan(recipient)
    for row in s.execute(stmt):
        candidate = Candidate(
            row[0],
            row[1],
            stored_status(row[2], row[1]),
            stored_tlp(row[3], row[1]),
            row[4],
            bool(row[5]),
            row[6],
            bool(row[7]),
            row[8],
            bool(row[9]),
        )
        reason = exclusion(candidate, session.ministry, recipient)
        plan.selected[candidate.id] = candidate.reference
        if reason is None:
            plan.included.append(candidate.id)
            plan.included_refs.append(candidate.reference)
        else:
            plan.excluded.setdefault(reason, []).append(candidate.reference)
    return plan


def plan_export(
    session: Session,
    recipient: str,
    *,
    since: datetime | None = None,
    domains: Sequence[str] = (),
    refs: Sequence[str] = (),
) -> ExportPlan:
    """Preview an export: what would be included, and what excluded with the reason for each (no changes)."""
    keyring_of(session)
    with session.db.read() as s:
        plan = _plan(session, s, check_recipient(s, recipient, session.ministry), since, domains, refs)
        plan.damaged = damaged_in_selection(session, s, plan.selected, refuse=None)
        return plan


def damaged_in_selection(
    session: Session, s: OrmSession, selected: dict[int, str], *, refuse: str | None
) -> dict[str, str]:
    """Every record of an export's selection (reference by id, included or not) that differs from its latest
    signed event, with why (reference → reason, by reference); the one rule of every export, a bundle and a
    STIX/MISP file alike. When `refuse` names the export (`export to TR-MOI`, `STIX export`), an IntegrityError
    naming every damaged record instead: an export never carries what the log cannot prove, and someone looks."""
    found = damaged_among(s, session.keys(), list(selected), own_ministry=session.ministry, four_eyes=session.four_eyes)
    return named_damage(selected, found, refuse=refuse)


def named_damage(selected: dict[int, str], found: dict[int, str], *, refuse: str | None) -> dict[str, str]:
    """`found` (id → why) by reference, sorted; an IntegrityError naming every one when `refuse` names the export."""
    damaged = {selected[rid]: why for rid, why in sorted(found.items(), key=lambda kv: selected[kv[0]])}
    if refuse is not None and damaged:
        listed = "; ".join(f"{ref}: {why}" for ref, why in damaged.items())
        count = len(damaged)
        raise IntegrityError(
            f"{refuse} refused: {count} damaged record{'s' if count != 1 else ''} in the selection "
            f"({listed}); name intact records to send them",
            reference=next(iter(damaged)),
        )
    return damaged


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
    transitions: int = 0  # this ministry's key-transition statements the bundle carried (store/identity.py)


def record_rows(s: OrmSession, ids: Sequence[int]) -> dict[int, tuple[RecordTags, bytes, bytes]]:
    """Each record's tags as a bundle carries them, and its current revision's title and body ciphertexts, by id."""
    rows = s.execute(
        select(
            Record.id,
            Record.uuid,
            Record.reference,
            Record.domain,
            Record.origin,
            Record.tlp,
            Record.no_reexport,
            Record.revision,
            Record.author,
            Record.created_at,
            Record.updated_at,
            Revision.title_ct,
            Revision.body_ct,
        )
        .join(Revision, and_(Revision.record_id == Record.id, Revision.number == Record.revision))
        .where(dialect.in_values(Record.id, ids))
    ).all()
    parties: dict[int, list[str]] = {i: [] for i in ids}
    for rid, code in s.execute(
        select(RecordParty.record_id, RecordParty.ministry).where(
            dialect.in_values(RecordParty.record_id, ids), RecordParty.is_origin.is_(False)
        )
    ):
        parties[rid].append(code)
    return {
        r.id: (
            RecordTags(
                r.uuid,
                r.reference,
                r.domain,
                r.origin,
                tuple(sorted(parties[r.id])),
                r.tlp,
                bool(r.no_reexport) or r.tlp == Tlp.AMBER_STRICT.value,
                r.revision,
                r.author,
                fmt.format_time(r.created_at),
                fmt.format_time(r.updated_at),
            ),
            r.title_ct,
            r.body_ct,
        )
        for r in rows
    }


def ledger_object(tags: RecordTags) -> dict[str, Any]:
    """What a ledger row (`ledger_item`) reads of a record object, from its tags."""
    return {"uuid": tags.uuid, "reference": tags.reference, "revision": tags.revision, "domain": tags.domain}


def open_record(session: Session, tags: RecordTags, title_ct: bytes, body_ct: bytes) -> dict[str, Any]:
    """A record's bundle record object, decrypted here (a damaged token is a TamperError naming the record)."""
    body = session.open_body(body_ct, tags.reference)
    return record_object(tags, session.open_text(title_ct, tags.reference), body)


def record_objects(session: Session, s: OrmSession, ids: list[int]) -> Iterator[tuple[int, dict[str, Any]]]:
    """The bundle record objects of `ids` (current revision, decrypted), in the order given."""
    rows = record_rows(s, ids)
    for rid in ids:
        yield rid, open_record(session, *rows[rid])


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
    records: bool = True,
    entries: Sequence[dict[str, Any]] = (),
) -> ExportResult:
    """Write a signed bundle of every qualifying record to `out` (atomically) and record it in the sharing ledger.

    `out` must not exist unless `overwrite`; a store, a database or the open store is never replaced (`check_target`).
    Without `records`, no record goes (a desk-only bundle); `entries` are desk entries to add (a meeting pack).
    """
    policy.require_role(session.actor, Role.REVIEWER, "export")
    keys = keyring_of(session)
    identity = own_identity(session)
    out = check_target(out, overwrite=overwrite, protect=(session.db.path,))
    with session.db.read() as s:
        code = check_recipient(s, recipient, session.ministry)
        peer = contact(session, s, code)
    if peer is None and passphrase is None:
        raise NotFound(f"no contact card for {code}", field="recipient_key", value=code)
    stanzas_params = params_for_profile(session.vault.kdf_profile) if passphrase is not None else None
    with session.act("export", code) as s:
        plan = _plan(session, s, code, since, domains, refs) if records else ExportPlan(code)
        refuse = f"export to {code}"
        # the log proven once (its Merkle root over every event); the selection's records are then compared batch
        # by batch, those left out first and those carried as they are written: every damaged record is named,
        # and nothing is kept (the file is removed and the transaction rolled back) if there is one
        check = FullCheck.prove(
            s, session.keys(), list(plan.selected), own_ministry=session.ministry, four_eyes=session.four_eyes
        )
        if check.problem is not None:
            named_damage(plan.selected, dict.fromkeys(plan.selected, check.problem), refuse=refuse)
        found: dict[int, str] = {}
        carried = set(plan.included)
        for _ids, _states, damaged in check.batches([rid for rid in plan.selected if rid not in carried]):
            found.update(damaged)
        notices = pending_notices(session, s, code)
        desk = pending_entries(session, s, code) + [(e["uuid"], 0, 0, e) for e in entries]
        # this ministry's identity rotations travel in the (signed) header — in a bundle of their own when nothing
        # else is due and the recipient has not confirmed one yet: a rotation must not wait for the next record
        transitions = transitions_for(session, s, code) if peer is not None else ()
        due = bool(transitions) and unconfirmed(s, code)
        if not plan.included and not notices and not desk and not due:
            plan.damaged = named_damage(plan.selected, found, refuse=refuse)
            detail = plan.reasons() or "no record matches the filters"
            raise NothingToExport(f"nothing to export to {code} ({detail})")
        seq = (
            int(
                s.execute(
                    select(func.coalesce(func.max(BundleLog.seq), 0)).where(
                        BundleLog.direction == "out", BundleLog.peer == code
                    )
                ).scalar_one()
            )
            + 1
        )
        bundle_id = fmt.new_bundle_id()
        file_key = fmt.new_file_key()
        stanzas = []
        if peer is not None:
            stanzas.append(fmt.x25519_stanza(bundle_id, code, peer.identity.exchange_public, file_key))
        if passphrase is not None and stanzas_params is not None:
            stanzas.append(fmt.passphrase_stanza(bundle_id, passphrase, stanzas_params, file_key))
        now = session.clock()
        total = len(plan.included)
        # this store's latest checkpoint, proven consistent with the ones sent to the recipient before
        witness = outgoing(s, code)
        with atomic_file(out, overwrite=overwrite, protect=(session.db.path,)) as fh:
            writer = fmt.BundleWriter(
                fh,
                bundle_id=bundle_id,
                sender=session.ministry,
                sender_fingerprint=identity.fingerprint,
                recipients=[Recipient(code, seq)],
                stanzas=stanzas,
                records=total + len(notices) + len(desk),
                signing_key=keys.signing_key,
                file_key=file_key,
                created=now,
                chunk_records=chunk_records,
                transitions=transitions,
                checkpoint=witness.note,
                proofs=witness.proofs,
            )
            note_carried(s, code, transitions, f"bundle {bundle_id}")
            note_sent(s, code, witness)
            s.add(
                BundleLog(
                    bundle_id=bundle_id,
                    direction="out",
                    peer=code,
                    seq=seq,
                    header_sha256=writer.preamble_sha256.hex(),
                    at=now,
                    officer=session.actor.name,
                    records=total,
                )
            )
            s.flush()
            conn = s.connection()
            done = 0
            invalid: ValidationError | None = None  # a record the bundle format refuses (after every damage)
            batches = [plan.included[i : i + BATCH] for i in range(0, total, BATCH)]

            def checked(ids: list[int]) -> tuple[dict[int, dict[str, Any]], dict[int, Content]]:
                """A batch compared with the log (its damaged records noted), its states, and what it carries."""
                read: dict[int, Contents] = {}
                states, damaged = check.batch(ids, contents=read)
                found.update(damaged)
                return states, {
                    rid: (tags_of(states[rid], created, updated), title_ct, body_ct)
                    for rid, (created, updated, title_ct, body_ct) in read.items()
                    if rid in states
                }

            # each batch is checked two batches before it is written and handed to a helper process one batch
            # before: the helper opens batch k+1's records while this process checks batch k+2 and writes batch k
            ahead_of: dict[int, tuple[dict[int, dict[str, Any]], dict[int, Content]]] = {}

            def check_ahead(j: int) -> None:
                if j < len(batches) and j not in ahead_of:
                    ahead_of[j] = checked(batches[j])

            with OpenAhead.start(session, total) as ahead:
                check_ahead(0)
                if batches and not found:
                    ahead.hand(ahead_of[0][1], batches[0])
                check_ahead(1)
                for k, ids in enumerate(batches):
                    states, contents = ahead_of.pop(k)
                    encoded = ahead.take()
                    if k + 1 < len(batches) and not found and invalid is None:
                        ahead.hand(ahead_of[k + 1][1], batches[k + 1])
                    check_ahead(k + 2)
                    if found or invalid is not None:
                        continue  # nothing more is written: the rest is only checked, so every damaged record is named
                    ledger = []
                    for rid in ids:
                        if rid not in contents:  # no current revision row (its damage check says so too)
                            found[rid] = "its current revision is missing"
                            break
                        tags, title_ct, body_ct = contents[rid]
                        try:
                            if rid in encoded:
                                digest = writer.add_encoded(*encoded[rid])
                            else:
                                digest = writer.add(open_record(session, tags, title_ct, body_ct))
                        except BundleError as exc:
                            invalid = ValidationError(f"cannot export {tags.reference}: {exc}")
                            break
                        ledger.append(ledger_item(bundle_id, rid, ledger_object(tags), digest=digest))
                    if found or invalid is not None:
                        continue
                    dialect.insert_rows(conn, BundleItem.__table__, ledger)
                    # the only change to these records in this transaction is the status set just below, from
                    # approved (as checked) to shared: one signed `share` event for the batch names each record's
                    # move (`store.audit.rekeys`), not one event per record
                    shared = [rid for rid in ids if states[rid]["status"] == Status.APPROVED.value]
                    if shared:
                        uuids = [states[rid]["uuid"] for rid in shared]
                        audit.note_batch(
                            s,
                            rekeys.SHARE,
                            code,
                            {
                                "bundle_id": bundle_id,
                                "recipient": code,
                                "records": {uuid: rekeys.share_entry() for uuid in uuids},
                            },
                            uuids,
                        )
                    # one primary-key lookup per record: `id IN (…) AND status = …` would have SQLite walk the
                    # status index over every approved record, batch after batch
                    if shared:
                        conn.exec_driver_sql(
                            "UPDATE records SET status = ? WHERE id = ? AND status = ?",
                            [(Status.SHARED.value, rid, Status.APPROVED.value) for rid in shared],
                        )
                    done += len(ids)
                    if progress:
                        progress(done, total)
            plan.damaged = named_damage(plan.selected, found, refuse=refuse)
            if invalid is not None:
                raise invalid
            for _wid, notice in notices:
                writer.add_withdrawal(notice)
            record_deliveries(s, bundle_id, code, [wid for wid, _n in notices])
            for *_revs, entry in desk:
                writer.add_entry(entry)
            record_sent(s, code, desk)
            writer.finish()
            audit.note(
                s,
                data={
                    "bundle_id": bundle_id,
                    "recipient": code,
                    "seq": seq,
                    "records": total,
                    "withdrawals": len(notices),
                    "desk": len(desk),
                    "header_sha256": writer.preamble_sha256.hex(),
                },
            )
    return ExportResult(
        out,
        bundle_id,
        code,
        seq,
        plan,
        passphrase is not None,
        peer is not None,
        len(notices),
        len(desk),
        len(transitions) if due else 0,  # said only while a rotation is unconfirmed (a confirmed one rides along)
    )
