"""Tables of the working-group desk (migrations 0004 and 0006, packs). Plaintext: quarters, dates, codes, domains, statuses;
encrypted (Fernet tokens, `_ct`): venue, minutes, agenda text, action titles, reasons and comments."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from store.models import Base, UTCDateTime


class Meeting(Base):
    """One meeting per quarter. Its header (date, venue, host, status, minutes) is updated by its origin only."""

    __tablename__ = "jwg_meetings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    quarter: Mapped[str] = mapped_column(String(7), unique=True)
    day: Mapped[date] = mapped_column(Date)
    venue_ct: Mapped[bytes] = mapped_column(LargeBinary)
    host: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(8))
    minutes_ct: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    origin: Mapped[str] = mapped_column(String(16))
    rev: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AgendaItem(Base):
    """An agenda item of a meeting, in one domain, with its outcome (information, decision or action)."""

    __tablename__ = "jwg_agenda"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("jwg_meetings.id", ondelete="CASCADE"), index=True)
    domain: Mapped[str] = mapped_column(String(40))
    outcome: Mapped[str] = mapped_column(String(12))
    text_ct: Mapped[bytes] = mapped_column(LargeBinary)
    action_uuid: Mapped[str | None] = mapped_column(String(36), nullable=True)
    origin: Mapped[str] = mapped_column(String(16))
    rev: Mapped[int] = mapped_column(Integer)


class Action(Base):
    """An agreed action. Content is updated by its origin only; its status by its owner ministry only."""

    __tablename__ = "jwg_actions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    title_ct: Mapped[bytes] = mapped_column(LargeBinary)
    domain: Mapped[str] = mapped_column(String(40))
    owner: Mapped[str] = mapped_column(String(16), index=True)
    officer: Mapped[str] = mapped_column(String(64))
    due: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(8))
    note_ct: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    meeting_quarter: Mapped[str | None] = mapped_column(String(7), nullable=True, index=True)
    origin: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    status_by: Mapped[str] = mapped_column(String(64))
    content_rev: Mapped[int] = mapped_column(Integer)
    status_rev: Mapped[int] = mapped_column(Integer)
    records: Mapped[str] = mapped_column(String(2000))  # linked record references, space-separated


class PeerCopy(Base):
    """What a counterpart already holds of a meeting or action (sent to it, or received from it)."""

    __tablename__ = "jwg_peer_copies"
    uuid: Mapped[str] = mapped_column(String(36), primary_key=True)
    peer: Mapped[str] = mapped_column(String(16), primary_key=True)
    content_rev: Mapped[int] = mapped_column(Integer)
    status_rev: Mapped[int] = mapped_column(Integer)


class Pack(Base):
    """A meeting pack received from a counterpart (`origin`, who sealed it to us): the brief's Markdown, encrypted.
    (A pack sealed here is not kept: the brief is made again from the desk at any time.)"""

    __tablename__ = "jwg_packs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    quarter: Mapped[str] = mapped_column(String(7), index=True)
    origin: Mapped[str] = mapped_column(String(16))
    text_ct: Mapped[bytes] = mapped_column(LargeBinary)
    with_titles: Mapped[bool] = mapped_column(Boolean)
    prepared_at: Mapped[datetime] = mapped_column(UTCDateTime)
    prepared_by: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
