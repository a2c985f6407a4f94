"""The counterpart as witness (issue 11): checkpoints sent to and seen from each contact.

Every v2 bundle and receipt carries its writer's latest audit-log checkpoint and consistency proofs from the
tree sizes that writer sent the same counterpart before; each side keeps what it saw from each contact and
refuses a checkpoint that is not an extension of it (docs/bundle-format.md §14).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from store.models import Base, UTCDateTime


class CheckpointSent(Base):
    """A checkpoint of this store's log carried to a contact (in a bundle or a receipt)."""

    __tablename__ = "witness_sent"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    peer: Mapped[str] = mapped_column(String(16))
    size: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    via: Mapped[str] = mapped_column(String(80))

    __table_args__ = (Index("ix_witness_sent_peer", "peer", "id"),)


class CheckpointSeen(Base):
    """A contact's checkpoint, verified and found consistent with what was seen before, and the proofs it came with."""

    __tablename__ = "witness_seen"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    peer: Mapped[str] = mapped_column(String(16))
    size: Mapped[int] = mapped_column(Integer)
    root: Mapped[bytes] = mapped_column(LargeBinary)
    note: Mapped[str] = mapped_column(Text)
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    via: Mapped[str] = mapped_column(String(80))
    #: The consistency proofs that came with it, canonical JSON `[{"from": size, "hashes": [b64…]}, …]`.
    proofs: Mapped[str] = mapped_column(Text)

    __table_args__ = (Index("ix_witness_seen_peer", "peer", "size"),)
