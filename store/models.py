"""Typed SQLAlchemy 2.0 schema. Only filter/sort tags are plaintext; every sensitive field is a Fernet token."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, returns aware UTC: sortable in SQLite and unambiguous in Python."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    """Declarative base of every Liaison table."""


class Meta(Base):
    """Store-wide settings and counters (ministry, policy and its MAC, change counter, sequences)."""

    __tablename__ = "liaison_meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Ministry(Base):
    """A sharing party."""

    __tablename__ = "ministries"
    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class Domain(Base):
    """A subject area records are tagged with."""

    __tablename__ = "domains"
    slug: Mapped[str] = mapped_column(String(40), primary_key=True)
    label: Mapped[str] = mapped_column(String(200))


class Officer(Base):
    """An officer: role, passphrase key slot, keyring grant, and a MAC binding them under the keyring."""

    __tablename__ = "officers"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    slot: Mapped[str] = mapped_column(Text)
    grant: Mapped[str] = mapped_column(Text)
    mac: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: The officer's Ed25519 public key (their events' signer); None until a slot written before schema 0007 is upgraded.
    signing_public: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)


class Record(Base):
    """One intelligence record: plaintext tags plus the encrypted title of its current revision."""

    __tablename__ = "records"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    domain: Mapped[str] = mapped_column(ForeignKey("domains.slug"))
    origin: Mapped[str] = mapped_column(ForeignKey("ministries.code"))
    tlp: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    author: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    no_reexport: Mapped[bool] = mapped_column(Boolean, default=False)
    title_ct: Mapped[bytes] = mapped_column(LargeBinary)

    __table_args__ = (
        Index("ix_records_created", "created_at", "id"),
        Index("ix_records_domain_created", "domain", "created_at", "id"),
        Index("ix_records_status_created", "status", "created_at", "id"),
        Index("ix_records_tlp_created", "tlp", "created_at", "id"),
        Index("ix_records_origin_created", "origin", "created_at", "id"),
        Index("ix_records_facets", "domain", "tlp", "status"),  # covering: the sidebar's counts in one scan
    )


class RecordParty(Base):
    """A ministry involved in a record: its origin or one of the ministries it is releasable to."""

    __tablename__ = "record_parties"
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"), primary_key=True)
    ministry: Mapped[str] = mapped_column(ForeignKey("ministries.code"), primary_key=True)
    is_origin: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (Index("ix_parties_ministry", "ministry", "record_id"),)


class Revision(Base):
    """Every version of a record's sensitive fields, encrypted; the newest is the current one."""

    __tablename__ = "revisions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    officer: Mapped[str] = mapped_column(String(64))
    tlp: Mapped[str] = mapped_column(String(16))
    releasable_to: Mapped[str] = mapped_column(String(400))
    title_ct: Mapped[bytes] = mapped_column(LargeBinary)
    body_ct: Mapped[bytes] = mapped_column(LargeBinary)

    __table_args__ = (UniqueConstraint("record_id", "number", name="uq_revision_number"),)


class ReviewEvent(Base):
    """A step of the review workflow (submit, approve, return) with an encrypted comment."""

    __tablename__ = "review_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"), index=True)
    officer: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    comment_ct: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)


class ActionEvent(Base):
    """The unsigned action trail of a store from before schema 0007: kept readable, no longer written (`AuditRow` is)."""

    __tablename__ = "action_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    officer: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(64))


class AuditRow(Base):
    """One signed event of the audit log (`store.audit.log`): seq 1, 2, 3… with no gaps, chained and in the Merkle tree."""

    __tablename__ = "audit_log"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    officer: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(64))
    record_uuid: Mapped[str | None] = mapped_column(String(36), nullable=True)
    #: The canonical JSON event body (what `sig` signs); the columns above repeat it for queries.
    body: Mapped[bytes] = mapped_column(LargeBinary)
    signer: Mapped[bytes] = mapped_column(LargeBinary)
    sig: Mapped[bytes] = mapped_column(LargeBinary)
    #: A content-revealing detail (a comment, a reason), Fernet-encrypted; its SHA-256 is in the body.
    detail_ct: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    chain: Mapped[bytes] = mapped_column(LargeBinary)

    __table_args__ = (
        Index("ix_audit_record", "record_uuid", "seq"),
        Index("ix_audit_target", "target", "seq"),
    )


class RekeyIndex(Base):
    """Which batches moved a record (`store.audit.rekeys`): record uuid → the seq of a key rotation's `rekey`
    event whose signed body names the record's old and new ciphertext hashes, or of an export's `share` event whose
    signed body names its move from approved to shared. An index for queries only, outside the signed log like
    `audit_log.record_uuid`: a rotation's row removed leaves the record damaged (its ciphertexts no longer match
    what its events signed), a row added points at a body that does not name the record; an export and `audit
    verify` read the share batches from the log itself."""

    __tablename__ = "rekey_index"
    record_uuid: Mapped[str] = mapped_column(String(36), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)


class AuditCheckpoint(Base):
    """A signed checkpoint of the log (tree size, Merkle root, time) as a C2SP signed note, one per transaction."""

    __tablename__ = "audit_checkpoints"
    size: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    root: Mapped[bytes] = mapped_column(LargeBinary)
    note: Mapped[str] = mapped_column(Text)


class AuditPending(Base):
    """A failed unlock, written without keys; folded into the signed log at the next successful unlock."""

    __tablename__ = "audit_pending"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    officer: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(32))


class Contact(Base):
    """A counterpart ministry's public identity, from its card; a MAC under the keyring binds the row."""

    __tablename__ = "contacts"
    code: Mapped[str] = mapped_column(ForeignKey("ministries.code"), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    signing_public: Mapped[bytes] = mapped_column(LargeBinary)
    exchange_public: Mapped[bytes] = mapped_column(LargeBinary)
    fingerprint: Mapped[str] = mapped_column(String(64))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)
    added_by: Mapped[str] = mapped_column(String(64))
    mac: Mapped[str] = mapped_column(String(64))


class BundleLog(Base):
    """A bundle sent (`out`) or imported (`in`): peer ministry, its sequence number, header hash and counts."""

    __tablename__ = "bundles"
    bundle_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    direction: Mapped[str] = mapped_column(String(3))
    peer: Mapped[str] = mapped_column(ForeignKey("ministries.code"))
    seq: Mapped[int] = mapped_column(Integer)
    header_sha256: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    officer: Mapped[str] = mapped_column(String(64))
    records: Mapped[int] = mapped_column(Integer)
    receipt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (UniqueConstraint("direction", "peer", "seq", name="uq_bundle_seq"),)


class BundleItem(Base):
    """One record revision in a bundle: the sharing ledger (outbound) and what arrived (inbound)."""

    __tablename__ = "bundle_items"
    bundle_id: Mapped[str] = mapped_column(ForeignKey("bundles.bundle_id", ondelete="CASCADE"), primary_key=True)
    record_uuid: Mapped[str] = mapped_column(String(36), primary_key=True)
    record_id: Mapped[int | None] = mapped_column(ForeignKey("records.id", ondelete="SET NULL"), nullable=True)
    reference: Mapped[str] = mapped_column(String(40))
    revision: Mapped[int] = mapped_column(Integer)
    content_sha256: Mapped[str] = mapped_column(String(64))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: The record's domain when the revision travelled (a plaintext tag, as on `records`; migration 0010), so the
    #: dashboard counts shares per domain without reading each shared record's row. None on rows of older stores
    #: whose record was gone when the column was added.
    domain: Mapped[str | None] = mapped_column(String(64), nullable=True)

    __table_args__ = (
        Index("ix_bundle_items_uuid", "record_uuid", "revision"),
        Index("ix_bundle_items_record", "record_id"),
        # the dashboard's counts by bundle, receipt time and domain, read from the index alone (migrations 0009, 0010)
        Index("ix_bundle_items_ack", "bundle_id", "acknowledged_at", "record_id", "domain"),
    )


class Receipt(Base):
    """A receipt processed from a counterpart: which bundle it acknowledges and how many records matched."""

    __tablename__ = "receipts"
    receipt_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    bundle_id: Mapped[str] = mapped_column(ForeignKey("bundles.bundle_id", ondelete="CASCADE"))
    peer: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    acknowledged: Mapped[int] = mapped_column(Integer)
    mismatched: Mapped[int] = mapped_column(Integer)
