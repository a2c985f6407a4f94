"""Bundles: contacts (counterpart identities), the bundle log with sequence numbers, bundle items (the sharing ledger), receipts.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contacts",
        sa.Column("code", sa.String(16), sa.ForeignKey("ministries.code"), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("signing_public", sa.LargeBinary, nullable=False),
        sa.Column("exchange_public", sa.LargeBinary, nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("added_at", sa.DateTime, nullable=False),
        sa.Column("added_by", sa.String(64), nullable=False),
        sa.Column("mac", sa.String(64), nullable=False),
    )
    op.create_table(
        "bundles",
        sa.Column("bundle_id", sa.String(32), primary_key=True),
        sa.Column("direction", sa.String(3), nullable=False),
        sa.Column("peer", sa.String(16), sa.ForeignKey("ministries.code"), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("header_sha256", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("officer", sa.String(64), nullable=False),
        sa.Column("records", sa.Integer, nullable=False),
        sa.Column("receipt_at", sa.DateTime, nullable=True),
        sa.UniqueConstraint("direction", "peer", "seq", name="uq_bundle_seq"),
    )
    op.create_table(
        "bundle_items",
        sa.Column("bundle_id", sa.String(32), sa.ForeignKey("bundles.bundle_id", ondelete="CASCADE"), primary_key=True),
        sa.Column("record_uuid", sa.String(36), primary_key=True),
        sa.Column("record_id", sa.Integer, sa.ForeignKey("records.id", ondelete="SET NULL"), nullable=True),
        sa.Column("reference", sa.String(40), nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime, nullable=True),
    )
    op.create_index("ix_bundle_items_uuid", "bundle_items", ["record_uuid", "revision"])
    op.create_index("ix_bundle_items_record", "bundle_items", ["record_id"])
    op.create_table(
        "receipts",
        sa.Column("receipt_id", sa.String(64), primary_key=True),
        sa.Column("bundle_id", sa.String(32), sa.ForeignKey("bundles.bundle_id", ondelete="CASCADE"), nullable=False),
        sa.Column("peer", sa.String(16), nullable=False),
        sa.Column("received_at", sa.DateTime, nullable=False),
        sa.Column("processed_at", sa.DateTime, nullable=False),
        sa.Column("acknowledged", sa.Integer, nullable=False),
        sa.Column("mismatched", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("receipts")
    op.drop_index("ix_bundle_items_record", "bundle_items")
    op.drop_index("ix_bundle_items_uuid", "bundle_items")
    op.drop_table("bundle_items")
    op.drop_table("bundles")
    op.drop_table("contacts")
