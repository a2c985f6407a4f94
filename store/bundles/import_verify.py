"""Before an import decrypts anything: what kind of file it is, who sent it (signature, the sender's key
transitions, the sender's checkpoint as witness), whether it is a replay, and the file key it is sealed with.
`preview_bundle` runs these checks alone (nothing decrypted) so a face can show the bundle before importing it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session as OrmSession

from crypto import bundle as fmt
from crypto.bundle import BundleError, BundleReader, Header, KeyTransition
from crypto.identity import PublicIdentity, grouped_fingerprint
from store.bundles.common import BundleRefused, open_file, reader_of, refused
from store.bundles.witness import Incoming, WitnessRefused, check_incoming
from store.contacts import ContactInfo, contact, keyring_of, own_identity
from store.files import FileError
from store.identity import KeyRefused, resolve_sender, retired_identities
from store.models import BundleLog

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
class Verified:
    """A bundle whose sender, signature and replay were checked."""

    sender: ContactInfo
    seq: int
    seen: bool
    key: PublicIdentity  # the key the signature verified with: the card's, or the end of the sender's transitions
    transitions: tuple[KeyTransition, ...]  # statements to apply (the held key first handed over)
    incoming: Incoming | None = None  # the sender's checkpoint, checked against the ones seen before


def verify_bundle(session: Session, s: OrmSession, path: Path, reader: BundleReader) -> Verified:
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
        return Verified(sender, seq, True, key, transitions)
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
    return Verified(sender, seq, False, key, transitions, incoming)


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
            checked = verify_bundle(session, s, path, reader)
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


def bundle_file_key(
    path: Path, reader: BundleReader, session: Session, passphrase: bytes | None
) -> tuple[bytes, str | None]:
    """The bundle's file key, and the fingerprint of this ministry's identity it was sealed to (the current one or
    one rotated away from; None: opened with a passphrase)."""
    keys = keyring_of(session)
    own = any(st.kind == "x25519" and st.recipient == session.ministry for st in reader.header.stanzas)
    if not own and reader.has_passphrase_stanza() and passphrase is None:
        raise refused(path, "the bundle is protected by a passphrase", field="bundle_passphrase")
    try:
        if own:
            try:
                return reader.file_key_from_identity(session.ministry, keys.exchange_key), own_identity(
                    session
                ).fingerprint
            except BundleError:
                # sealed to a key this ministry rotated away from, by a contact that had not learnt the new one yet
                with session.db.read() as s:
                    retired = list(retired_identities(session, s).items())
                for fingerprint, private in retired:
                    try:
                        return reader.file_key_from_identity(session.ministry, private), fingerprint
                    except BundleError:
                        continue
                raise
        if reader.has_passphrase_stanza() and passphrase is not None:
            return reader.file_key_from_passphrase(passphrase), None
        raise BundleError(f"the bundle has no key stanza for {session.ministry}")
    except BundleError as exc:
        raise refused(path, exc) from None
