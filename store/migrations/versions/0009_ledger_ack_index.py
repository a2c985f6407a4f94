"""The sharing ledger by bundle and acknowledgement: the dashboard's statistics (`store/jwg/stats.py`) count a
bundle's rows per receipt time and its unacknowledged rows from this index alone, instead of reading every
ledger row.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_bundle_items_ack", "bundle_items", ["bundle_id", "acknowledged_at", "record_id"])


def downgrade() -> None:
    op.drop_index("ix_bundle_items_ack", table_name="bundle_items")
