"""Withdrawals: a shared record its origin withdrew (sent or received), and to whom each withdrawal was delivered.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "withdrawals",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("record_uuid", sa.String(36), nullable=False, unique=True),
        sa.Column("record_id", sa.Integer, sa.ForeignKey("records.id", ondelete="SET NULL"), nullable=True),
        sa.Column("reference", sa.String(40), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("direction", sa.String(3), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime, nullable=False),
        sa.Column("officer", sa.String(64), nullable=False),
        sa.Column("reason_ct", sa.LargeBinary, nullable=False),
        sa.Column("bundle_id", sa.String(32), sa.ForeignKey("bundles.bundle_id", ondelete="SET NULL"), nullable=True),
        sa.Column("recorded_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_withdrawals_record", "withdrawals", ["record_id"])
    op.create_table(
        "withdrawal_deliveries",
        sa.Column("withdrawal_id", sa.Integer, sa.ForeignKey("withdrawals.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("peer", sa.String(16), primary_key=True),
        sa.Column("bundle_id", sa.String(32), sa.ForeignKey("bundles.bundle_id", ondelete="CASCADE"), nullable=False),
    )
    op.create_index("ix_withdrawal_deliveries_bundle", "withdrawal_deliveries", ["bundle_id"])


def downgrade() -> None:
    op.drop_table("withdrawal_deliveries")
    op.drop_table("withdrawals")
