"""Typed messages that more than one screen posts or hears; a message with one poster is declared on it.

Workers never touch widgets: they call `store/`, wrap the result (or the one-line refusal) in one of
these, and the screen's `@on` handler updates what is drawn. Each is a `@dataclass` with typed fields, as
Textual's own `Input.Changed` is. Messages of a single screen live on that screen (`BrowserScreen.PageLoaded`,
`UnlockScreen.Unlocked`, `LiaisonApp.ChangeCounterRead` …).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from textual.message import Message

from store.bundles import LedgerEntry
from store.records import RecordDetail, RecordRow

if TYPE_CHECKING:
    from crypto.card import IdentityCard
    from store.audit.history import AuditEntry
    from store.bundles import BundlePreview, ExportPlan, ExportResult, ImportResult, ReceiptResult
    from store.contacts import ContactInfo
    from store.history import ActivityEvent
    from store.identity import KeyChange, Pending
    from store.withdrawals import WithdrawalInfo


@dataclass
class RecordLoaded(Message):
    """One record, decrypted, for the detail view or the review pane, with the bundles it travelled in."""

    detail: RecordDetail
    ledger: Sequence[LedgerEntry] = ()
    activity: Sequence[ActivityEvent] | None = None  # None: built from `detail` and `ledger`
    withdrawal: WithdrawalInfo | None = None
    history: Sequence[AuditEntry] = ()  # its signed events, oldest first
    damage: str | None = None  # why it differs from its signed history; None: intact


@dataclass
class RecordUnavailable(Message):
    """A record could not be read; `reason` says why."""

    reference: str
    reason: str
    history: Sequence[AuditEntry] = ()  # its signed events, when the record exists but was refused
    damage: str | None = None  # why it differs from its signed history (the usual reason for the refusal)


@dataclass
class QueueLoaded(Message):
    """The oldest records waiting in review, and how many wait in all."""

    rows: Sequence[RecordRow]
    waiting: int


@dataclass
class ActionDone(Message):
    """A workflow action (submit, approve, return, actioned, close) succeeded."""

    reference: str
    verb: str


@dataclass
class ActionRefused(Message):
    """The store refused a workflow action; `reason` is its one-line explanation."""

    reference: str
    verb: str
    reason: str


@dataclass
class SaveDone(Message):
    """The compose form was saved as `reference`."""

    reference: str


@dataclass
class VocabularyLoaded(Message):
    """The store's domains as (slug, label) and ministries as (code, name, is this ministry)."""

    domains: Sequence[tuple[str, str]]
    ministries: Sequence[tuple[str, str, bool]]


# ---- bundles, contacts and receipts -------------------------------------------------------------


@dataclass
class BundleProgress(Message):
    """How far an export or import has come (newer reports replace older ones)."""

    done: int
    total: int

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, BundleProgress)


@dataclass
class BundleStepRefused(Message):
    """The store refused a bundle step (preview, export, check, import, receipt, contact); `reason` is its one line."""

    step: str
    reason: str


@dataclass
class ExportChoicesLoaded(Message):
    """The ministries an export may go to, as (code, name, has a contact card)."""

    ministries: Sequence[tuple[str, str, bool]]


@dataclass
class ExportPlanned(Message):
    """The preview of an export for the form of `generation`: included records and exclusions with reasons."""

    generation: int
    plan: ExportPlan


@dataclass
class ExportFinished(Message):
    """A bundle was written."""

    result: ExportResult


@dataclass
class BundleChecked(Message):
    """A bundle's header, sender and signature were verified."""

    preview: BundlePreview


@dataclass
class ImportFinished(Message):
    """A bundle was imported or a receipt processed."""

    result: ImportResult | ReceiptResult


@dataclass
class ContactsLoaded(Message):
    """This ministry's identity and its contacts."""

    ministry: str
    name: str
    fingerprint: str
    contacts: Sequence[ContactInfo] = field(default_factory=tuple)
    changes: Sequence[KeyChange] = field(default_factory=tuple)  # contacts' identity changes received, oldest first
    pending: Sequence[Pending] = field(default_factory=tuple)  # this ministry's rotations not yet carried to all


@dataclass
class CardRead(Message):
    """An identity card file was read and checked."""

    path: Path
    card: IdentityCard


@dataclass
class ContactSaved(Message):
    """A contact was added (or was already known, or replaced); `outcome` says which."""

    code: str
    outcome: str


@dataclass
class CardWritten(Message):
    """This ministry's identity card was written to `path`."""

    path: Path
    fingerprint: str
