"""The counterpart as witness keeps what it sent and received in the signed audit log (`store/bundles/witness.py`):
the unsigned tables schema 0005 reserved for it go (nothing ever wrote them: stores before this one refused a
bundle or receipt that carried a checkpoint).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("witness_seen")
    op.drop_table("witness_sent")


def downgrade() -> None:
    op.create_table(
        "witness_sent",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("peer", sa.String(16), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("via", sa.String(80), nullable=False),
    )
    op.create_index("ix_witness_sent_peer", "witness_sent", ["peer", "id"])
    op.create_table(
        "witness_seen",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("peer", sa.String(16), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("root", sa.LargeBinary, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("signed_at", sa.DateTime, nullable=False),
        sa.Column("received_at", sa.DateTime, nullable=False),
        sa.Column("via", sa.String(80), nullable=False),
        sa.Column("proofs", sa.Text, nullable=False),
    )
    op.create_index("ix_witness_seen_peer", "witness_seen", ["peer", "size"])
