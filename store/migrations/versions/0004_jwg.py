"""Working-group desk: meetings, agenda items, actions, and what each counterpart holds of them.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jwg_meetings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("uuid", sa.String(36), nullable=False, unique=True),
        sa.Column("quarter", sa.String(7), nullable=False, unique=True),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("venue_ct", sa.LargeBinary, nullable=False),
        sa.Column("host", sa.String(16), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("minutes_ct", sa.LargeBinary, nullable=True),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("rev", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "jwg_agenda",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("uuid", sa.String(36), nullable=False, unique=True),
        sa.Column("meeting_id", sa.Integer, sa.ForeignKey("jwg_meetings.id", ondelete="CASCADE"), nullable=False),
        sa.Column("domain", sa.String(40), nullable=False),
        sa.Column("outcome", sa.String(12), nullable=False),
        sa.Column("text_ct", sa.LargeBinary, nullable=False),
        sa.Column("action_uuid", sa.String(36), nullable=True),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("rev", sa.Integer, nullable=False),
    )
    op.create_index("ix_jwg_agenda_meeting_id", "jwg_agenda", ["meeting_id"])
    op.create_table(
        "jwg_actions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("uuid", sa.String(36), nullable=False, unique=True),
        sa.Column("code", sa.String(40), nullable=False, unique=True),
        sa.Column("title_ct", sa.LargeBinary, nullable=False),
        sa.Column("domain", sa.String(40), nullable=False),
        sa.Column("owner", sa.String(16), nullable=False),
        sa.Column("officer", sa.String(64), nullable=False),
        sa.Column("due", sa.Date, nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("note_ct", sa.LargeBinary, nullable=True),
        sa.Column("meeting_quarter", sa.String(7), nullable=True),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("status_at", sa.DateTime, nullable=True),
        sa.Column("status_by", sa.String(64), nullable=False),
        sa.Column("content_rev", sa.Integer, nullable=False),
        sa.Column("status_rev", sa.Integer, nullable=False),
        sa.Column("records", sa.String(2000), nullable=False),
    )
    op.create_index("ix_jwg_actions_owner", "jwg_actions", ["owner"])
    op.create_index("ix_jwg_actions_meeting_quarter", "jwg_actions", ["meeting_quarter"])
    op.create_table(
        "jwg_peer_copies",
        sa.Column("uuid", sa.String(36), primary_key=True),
        sa.Column("peer", sa.String(16), primary_key=True),
        sa.Column("content_rev", sa.Integer, nullable=False),
        sa.Column("status_rev", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("jwg_peer_copies")
    op.drop_table("jwg_actions")
    op.drop_table("jwg_agenda")
    op.drop_table("jwg_meetings")
