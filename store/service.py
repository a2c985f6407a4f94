"""`Session`: an unlocked store acting as one officer — the one entry point of every face.

Every user action runs through `Session.act` (`store.session_core.SessionCore`, with the keys held in memory and
the sealing of text fields), which checks nothing itself but gives the action one transaction, appends its events
to the signed audit log (`store.audit.log`: signed by the acting officer, one checkpoint signed by the ministry per
transaction) and bumps the change counter the app watches. The capabilities live in their own modules and take
the session as their first argument; the methods here only delegate:

- `store.vault` — `Vault` (create, open, unlock), the clock, store metadata and officer HMACs;
- `store.authoring` — drafts, edits and the audited read of a record; `store.record_writer` writes every revision;
- `store.review` — submit, approve, return, actioned, close, and which of these are available;
- `store.officers` — add, change passphrase, remove (full revocation, in `store.keys`);
- `store.keys` — key status and the key-age policy, data-key rotation (a resumable, signed re-encryption job);
- `store.reference` — ministries and domains, and the one check of each;
- `store.records` — pages, counts and facets; `store.ingest` — bulk writes;
- `store.bundles` (export, import, receipts, ledger), `store.contacts`, `store.withdrawals`, `store.history`;
- `store.policy` — every rule, `store.text` — the text policy.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session as OrmSession

from store import authoring, officers, policy, reference, review
from store import keys as key_lifecycle
from store.audit import state as audit_state
from store.audit.history import AuditEntry, AuditQuery, query_log
from store.authoring import Changes, Draft
from store.errors import TamperError, ValidationError
from store.ingest import IngestItem, Progress, bulk_ingest
from store.jwg.desk import JwgDesk
from store.models import Record
from store.records import RecordDetail, RecordQuery, RecordRow, count_matching, facet_counts, list_page
from store.reference import MinistryInfo, check_domain, known_ministry
from store.session_core import SessionCore
from store.text import quote
from store.vault import Clock, OfficerInfo, Vault, passphrase_bytes, utcnow
from store.vocab import Status, parse_status, parse_tlp

if TYPE_CHECKING:
    from store.audit.verify import AuditReport
    from store.audit.witness import RollbackAccepted


#: What the app's browser shows for a record whose title does not decrypt (`Session.list_records`).
UNREADABLE_TITLE = "(unreadable: its encrypted title does not authenticate)"


class Session(SessionCore, JwgDesk):
    """An unlocked store acting as one officer. Every method is one user action (the working-group desk's in `store.jwg.desk`)."""

    def _rows(self, s: OrmSession, records: Sequence[Record]) -> list[RecordRow]:
        return authoring.record_rows(self, s, records)

    # ---- records (store.authoring) and review (store.review) ------------------------------------------

    def add_record(self, draft: Draft, *, submit: bool = False) -> str:
        """Create a draft (optionally straight into review); returns its reference."""
        return authoring.add_record(self, draft, submit=submit)

    def edit_record(self, reference: str, changes: Changes) -> int:
        """Write a new revision of a draft or returned record; returns its number."""
        return authoring.edit_record(self, reference, changes)

    def get_record(self, reference: str) -> RecordDetail:
        """Everything about one record, decrypted (an audited read)."""
        return authoring.get_record(self, reference)

    def submit(self, reference: str) -> None:
        """Put a draft or returned record in review."""
        review.submit(self, reference)

    def approve(self, reference: str, comment: str = "") -> None:
        """Approve a record in review (role and four-eyes permitting)."""
        review.approve(self, reference, comment)

    def return_record(self, reference: str, comment: str) -> None:
        """Send a record in review back to its author with a comment."""
        review.return_record(self, reference, comment)

    def mark_actioned(self, reference: str, comment: str = "") -> None:
        """Record that a received record was acted upon."""
        review.mark_actioned(self, reference, comment)

    def close_record(self, reference: str, comment: str = "") -> None:
        """Close a record that needs no more work."""
        review.close_record(self, reference, comment)

    def available_actions(self, reference: str) -> frozenset[policy.RecordAction]:
        """The actions the acting officer may take on `reference` now (the faces show only these keys)."""
        self._keys()
        return review.available_actions(self, reference)

    # ---- queries (store.records) ----------------------------------------------------------------------

    def normalise_query(self, query: RecordQuery) -> RecordQuery:
        """Validate a query's filter values (unknown ones are refused, listing the valid values) and canonicalise them."""
        with self.db.read() as s:
            domains = frozenset(check_domain(s, d) for d in query.domains)
            ministries = {known_ministry(s, code, "ministry") for code in query.ministries}
        return RecordQuery(
            domains=domains,
            ministries=frozenset(ministries),
            tlps=frozenset(parse_tlp(t).value for t in query.tlps),
            statuses=frozenset(parse_status(x).value for x in query.statuses),
            search=query.search,
            order=query.order,
            since=query.since,
            until=query.until,
        )

    def ingest(
        self,
        items: Iterable[IngestItem],
        *,
        total: int = 0,
        progress: Progress | None = None,
        action: str = "ingest",
        target: str = "records",
    ) -> list[tuple[int, str]]:
        """Write many complete records in one transaction (demo builds and bundle imports)."""
        with self._act(action, target) as s:
            return bulk_ingest(self, s, items, total=total, progress=progress)

    def _search_tokens(self, query: RecordQuery) -> list[str] | None:
        if not query.search.strip():
            return None
        tokens = self.indexer.query_tokens(query.search)
        if not tokens:
            raise ValidationError(
                f"nothing to search for in {quote(query.search)}: words need at least two letters or digits",
                field="search",
                value=query.search,
            )
        return tokens

    def list_records(
        self,
        query: RecordQuery = RecordQuery(),
        *,
        limit: int = 50,
        offset: int = 0,
        after: tuple[datetime, int] | None = None,
        keep_unreadable: bool = False,
    ) -> list[RecordRow]:
        """One page of matching records, decrypting only the titles on that page.

        A record whose title no longer decrypts (its ciphertext edited in the file) is a TamperError naming it —
        unless `keep_unreadable` (the app's browser, where one such record must not blank a page of others): then
        it is listed with `UNREADABLE_TITLE` for its title, and the page's damage check names why."""
        if limit < 0 or offset < 0:
            raise ValidationError("limit and offset must not be negative")
        self._keys()
        tokens = self._search_tokens(query)
        open_text = self._listed_title if keep_unreadable else self.open_text
        with self.db.read() as s:
            self._follow_key_changes(s)
            return list_page(s, query, tokens, limit=limit, offset=offset, after=after, open_text=open_text)

    def _listed_title(self, token: bytes, reference: str) -> str:
        try:
            return self.open_text(token, reference)
        except TamperError:
            return UNREADABLE_TITLE

    def count_records(self, query: RecordQuery = RecordQuery()) -> int:
        """How many records match (no decryption)."""
        self._keys()
        with self.db.read() as s:
            return count_matching(s, query, self._search_tokens(query))

    def facet_counts(self, query: RecordQuery = RecordQuery()) -> dict[str, dict[str, int]]:
        """Live counts for each sidebar facet, each computed with the other facets' filters applied."""
        self._keys()
        tokens = self._search_tokens(query)
        with self.db.read() as s:
            return facet_counts(s, query, tokens, self.ministry)

    def review_queue(self, limit: int = 500) -> list[RecordRow]:
        """Records in review, oldest first."""
        return self.list_records(RecordQuery(statuses=frozenset({Status.IN_REVIEW.value}), order="oldest"), limit=limit)

    # ---- history, withdrawals, backups (store/history.py, store/withdrawals.py, store/backup.py) ---------

    def bundle_history(self, *, direction: str | None = None, counterpart: str | None = None) -> list[Any]:
        """Every bundle sent and received, newest first (`store.history.BundleEntry`)."""
        from store.history import bundle_history

        return bundle_history(self, direction=direction, counterpart=counterpart)

    def record_activity(self, reference: str) -> list[Any]:
        """Everything that happened to one record, oldest first (`store.history.ActivityEvent`)."""
        from store.history import record_activity

        return record_activity(self, reference)

    def withdraw(self, reference: str, reason: str = "") -> Any:
        """The origin withdraws a shared record (`store.withdrawals.WithdrawalInfo`)."""
        from store.withdrawals import withdraw

        return withdraw(self, reference, reason)

    def withdrawal(self, reference: str) -> Any:
        """A record's withdrawal (`store.withdrawals.WithdrawalInfo`), or None when it is not withdrawn."""
        from store.withdrawals import withdrawal_of

        return withdrawal_of(self, reference)

    # ---- the audit log: verification and rollbacks (store/audit/verify.py, store/audit/witness.py) -----

    def audit_verify(self, progress: Progress | None = None) -> AuditReport:
        """Check the whole log and every record against it (`store.audit.verify.AuditReport`)."""
        from store.audit.verify import audit_verify

        return audit_verify(self, progress=progress)

    def audit_actions(self) -> list[str]:
        """Every action name the log holds, sorted (what `audit log --action` accepts)."""
        from store.audit.verify import actions_in_log

        self._keys()
        with self.db.read() as s:
            return actions_in_log(s)

    def accept_rollback(self, *, via: str = "command", record_witness: bool = True) -> RollbackAccepted:
        """An admin accepts a store this workstation saw newer (or another); logged, and the witness follows."""
        from store.audit.witness import accept_rollback

        return accept_rollback(self, via=via, record_witness=record_witness)

    def is_demo(self) -> bool:
        """True for a demo store (`liaison demo`): the faces may show the demo officers and passphrase."""
        return self.vault.is_demo()

    # ---- the audit log (store.audit) ------------------------------------------------------------------

    def audit_log(self, query: AuditQuery | None = None) -> list[AuditEntry]:
        """The events matching `query` (all when None), oldest first."""
        self._keys()
        with self.db.read() as s:
            return query_log(s, query or AuditQuery())

    def record_history(self, reference: str) -> list[AuditEntry]:
        """Every signed event about one record, oldest first."""
        self._keys()
        with self.db.read() as s:
            rec = authoring.find_record(s, reference)
            return query_log(s, AuditQuery(record=rec.reference))

    def record_damage(self, reference: str) -> str | None:
        """Why a record differs from its latest signed event (or cannot be proven), None when it is intact."""
        keys = self._keys()
        with self.db.read() as s:
            rec = authoring.find_record(s, reference)
            return audit_state.record_damage(s, keys, rec, own_ministry=self.ministry, four_eyes=self.four_eyes)

    def damaged_among(self, record_ids: Sequence[int], *, full: bool = True) -> dict[int, str]:
        """The damaged records among `record_ids` (ids of `RecordRow`), each with its reason.

        `full=False` is the cheap check of `record_damage` for each (the log's end, each record's events, its latest
        signature) instead of recomputing the Merkle root from every event: the browser's, once per page.
        """
        from store.withdrawals import withdrawal_problem, withdrawals_of

        keys = self._keys()
        with self.db.read() as s:
            found = audit_state.damaged_among(
                s, keys, list(record_ids), own_ministry=self.ministry, four_eyes=self.four_eyes, full=full
            )
            # a withdrawal row against its signed withdraw event (the record's state holds only that it is withdrawn)
            for row in withdrawals_of(s, [rid for rid in record_ids if rid not in found]):
                why = withdrawal_problem(self, s, row)
                if why is not None and row.record_id is not None:
                    found[row.record_id] = f"its withdrawal: {why}"
            return found

    # ---- officers (store.officers) --------------------------------------------------------------------

    def officers(self) -> list[OfficerInfo]:
        """Every officer and role."""
        return self.vault.officers()

    def check_new_officer(self, name: str, role: str, passphrase: str) -> str:
        """What adding this officer would refuse, asked before the slow part (LiaisonError); the name as stored."""
        return officers.check_new_officer(self, name, role, passphrase)

    def add_officer(self, name: str, role: str, passphrase: str, *, kdf_profile: str | None = None) -> None:
        """An admin adds an officer with their own passphrase; they unlock the same keyring."""
        officers.add_officer(self, name, role, passphrase, kdf_profile=kdf_profile)

    def change_passphrase(self, new_passphrase: str) -> None:
        """Re-wrap the acting officer's key under a new passphrase; the old one stops working."""
        officers.change_passphrase(self, new_passphrase)

    def remove_officer(self, name: str, *, progress: Progress | None = None) -> int:
        """Revoke an officer fully (admin): new data key and master secret, index rebuilt, their signing key revoked
        in the log; `progress(done, total)` follows the index rebuild. Returns the new data key version."""
        return officers.remove_officer(self, name, progress=progress)

    # ---- keys (store.keys) ----------------------------------------------------------------------------

    def key_status(self) -> key_lifecycle.KeyStatus:
        """Each data key's version and age, the master secret's, the age policy and any unfinished rotation (admin)."""
        return key_lifecycle.key_status(self)

    def key_notice(self) -> str | None:
        """What to tell an officer after unlocking: the data key is older than the policy, or a rotation was cut."""
        return key_lifecycle.key_notice(self)

    def rotate_data_key(
        self, *, progress: Progress | None = None, batch_rows: int = key_lifecycle.BATCH_ROWS
    ) -> key_lifecycle.RotationReport:
        """Rotate the data key and re-encrypt everything under it (admin); resumes an interrupted rotation.
        `progress(done, total)` (ciphertexts) is called at the start and after each committed batch."""
        return key_lifecycle.rotate_data_key(self, progress=progress, batch_rows=batch_rows)

    def set_key_max_age(self, days: int) -> None:
        """An admin sets how many days a data key may serve before the app asks for a rotation."""
        key_lifecycle.set_key_max_age(self, days)

    # ---- ministries and domains (store.reference) -----------------------------------------------------

    def ministries(self) -> list[MinistryInfo]:
        """Every known sharing party."""
        return reference.ministries(self)

    def add_ministry(self, code: str, name: str) -> None:
        """An admin adds a sharing party."""
        reference.add_ministry(self, code, name)

    def domains(self) -> list[tuple[str, str]]:
        """Every domain slug and label."""
        return reference.domains(self)

    def add_domain(self, slug: str, label: str) -> None:
        """An admin adds a domain."""
        reference.add_domain(self, slug, label)


__all__ = [
    "UNREADABLE_TITLE",
    "AuditEntry",
    "AuditQuery",
    "Changes",
    "Clock",
    "Draft",
    "MinistryInfo",
    "OfficerInfo",
    "Session",
    "Vault",
    "parse_status",
    "passphrase_bytes",
    "utcnow",
]
