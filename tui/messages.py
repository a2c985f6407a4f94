"""Typed messages that thread workers post back to the screens that started them.

Workers never touch widgets: they call `store/`, wrap the result (or the one-line refusal) in one of
these, and the screen's `@on` handler updates what is drawn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from textual.message import Message

from store.bundles import LedgerEntry
from store.records import RecordDetail, RecordRow
from store.service import Session


class UnlockSucceeded(Message):
    """The passphrase opened the officer's key slot."""

    def __init__(self, session: Session) -> None:
        self.session = session
        super().__init__()


class UnlockFailed(Message):
    """The store refused to unlock; `reason` is the store's one-line message."""

    def __init__(self, officer: str | None, reason: str, *, wrong_passphrase: bool) -> None:
        self.officer = officer
        self.reason = reason
        self.wrong_passphrase = wrong_passphrase
        super().__init__()


class ChangeCounterRead(Message):
    """The store's change counter as the poller last read it (newer readings replace older ones)."""

    def __init__(self, counter: int) -> None:
        self.counter = counter
        super().__init__()

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ChangeCounterRead)


class StoreChanged(Message):
    """Something was committed to the store (by this app or another process): reload what is shown."""

    def __init__(self, counter: int) -> None:
        self.counter = counter
        super().__init__()

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, StoreChanged)


class PageLoaded(Message):
    """One page of the records browser, titles decrypted, for the query of `generation`."""

    def __init__(self, generation: int, page: int, rows: Sequence[RecordRow]) -> None:
        self.generation = generation
        self.page = page
        self.rows = rows
        super().__init__()


class CountLoaded(Message):
    """How many records match the query of `generation` (sent first: the table needs it to draw)."""

    def __init__(self, generation: int, total: int) -> None:
        self.generation = generation
        self.total = total
        super().__init__()


class FacetsLoaded(Message):
    """The live facet counts under the query of `generation` (sent after the total)."""

    def __init__(self, generation: int, facets: Mapping[str, Mapping[str, int]]) -> None:
        self.generation = generation
        self.facets = facets
        super().__init__()


class QueryRefused(Message):
    """The store refused the browser's query (e.g. a search with no searchable word)."""

    def __init__(self, generation: int, reason: str) -> None:
        self.generation = generation
        self.reason = reason
        super().__init__()


class RecordLoaded(Message):
    """One record, decrypted, for the detail view or the review pane, with the bundles it travelled in."""

    def __init__(self, detail: RecordDetail, ledger: Sequence[LedgerEntry] = ()) -> None:
        self.detail = detail
        self.ledger = ledger
        super().__init__()


class RecordUnavailable(Message):
    """A record could not be read; `reason` says why."""

    def __init__(self, reference: str, reason: str) -> None:
        self.reference = reference
        self.reason = reason
        super().__init__()


class QueueLoaded(Message):
    """The oldest records waiting in review, and how many wait in all."""

    def __init__(self, rows: Sequence[RecordRow], waiting: int) -> None:
        self.rows = rows
        self.waiting = waiting
        super().__init__()


class ActionDone(Message):
    """A workflow action (submit, approve, return) succeeded."""

    def __init__(self, reference: str, verb: str) -> None:
        self.reference = reference
        self.verb = verb
        super().__init__()


class ActionRefused(Message):
    """The store refused a workflow action; `reason` is its one-line explanation."""

    def __init__(self, reference: str, verb: str, reason: str) -> None:
        self.reference = reference
        self.verb = verb
        self.reason = reason
        super().__init__()


class SaveDone(Message):
    """The compose form was saved as `reference`."""

    def __init__(self, reference: str) -> None:
        self.reference = reference
        super().__init__()


class SaveRefused(Message):
    """The store refused the compose form; `reason` is the one-line explanation."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__()


class VocabularyLoaded(Message):
    """The store's domains and ministries (for the sidebar and the compose form)."""

    def __init__(self, domains: Sequence[tuple[str, str]], ministries: Sequence[tuple[str, str, bool]]) -> None:
        self.domains = domains
        self.ministries = ministries
        super().__init__()


# ---- bundles, contacts and receipts -------------------------------------------------------------


class BundleProgress(Message):
    """How far an export or import has come (newer reports replace older ones)."""

    def __init__(self, done: int, total: int) -> None:
        self.done = done
        self.total = total
        super().__init__()

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, BundleProgress)


class BundleStepRefused(Message):
    """The store refused a bundle step (preview, export, check, import, receipt, contact); `reason` is its one line."""

    def __init__(self, step: str, reason: str) -> None:
        self.step = step
        self.reason = reason
        super().__init__()


class ExportChoicesLoaded(Message):
    """The ministries an export may go to, as (code, name, has a contact card)."""

    def __init__(self, ministries: Sequence[tuple[str, str, bool]]) -> None:
        self.ministries = ministries
        super().__init__()


class ExportPlanned(Message):
    """The preview of an export for the form of `generation`: included records and exclusions with reasons."""

    def __init__(self, generation: int, plan: object) -> None:
        self.generation = generation
        self.plan = plan
        super().__init__()


class ExportFinished(Message):
    """A bundle was written (`result` is a `store.bundles.ExportResult`)."""

    def __init__(self, result: object) -> None:
        self.result = result
        super().__init__()


class BundleChecked(Message):
    """A bundle's header, sender and signature were verified (`preview` is a `store.bundles.BundlePreview`)."""

    def __init__(self, preview: object) -> None:
        self.preview = preview
        super().__init__()


class ReceiptPicked(Message):
    """The file picked for import is a receipt."""

    def __init__(self, path: object) -> None:
        self.path = path
        super().__init__()


class ImportFinished(Message):
    """A bundle was imported or a receipt processed (`result` is an ImportResult or a ReceiptResult)."""

    def __init__(self, result: object) -> None:
        self.result = result
        super().__init__()


class ReceiptWritten(Message):
    """A receipt for an imported bundle was written to `path`."""

    def __init__(self, path: object, peer: str) -> None:
        self.path = path
        self.peer = peer
        super().__init__()


class ContactsLoaded(Message):
    """This ministry's identity and its contacts (`contacts` are `store.contacts.ContactInfo`)."""

    def __init__(self, ministry: str, name: str, fingerprint: str, contacts: Sequence[object]) -> None:
        self.ministry = ministry
        self.name = name
        self.fingerprint = fingerprint
        self.contacts = contacts
        super().__init__()


class CardRead(Message):
    """An identity card file was read and checked (`card` is a `crypto.card.IdentityCard`)."""

    def __init__(self, path: object, card: object) -> None:
        self.path = path
        self.card = card
        super().__init__()


class ContactSaved(Message):
    """A contact was added (or was already known, or replaced); `outcome` says which."""

    def __init__(self, code: str, outcome: str) -> None:
        self.code = code
        self.outcome = outcome
        super().__init__()


class CardWritten(Message):
    """This ministry's identity card was written to `path`."""

    def __init__(self, path: object, fingerprint: str) -> None:
        self.path = path
        self.fingerprint = fingerprint
        super().__init__()
