"""The sharing ledger carries the record's domain: the dashboard's shares per domain (`store/jwg/stats.py`) are
counted from the ledger's index alone, instead of reading the row of every record shared in the period (8,000
random reads of the records table for a quarter at 100k records).

Existing rows take their record's current domain (rows whose record is gone keep none: the dashboard does not
count them).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("bundle_items", sa.Column("domain", sa.String(64), nullable=True))
    op.execute(
        "UPDATE bundle_items SET domain = (SELECT records.domain FROM records WHERE records.id = bundle_items.record_id)"
    )
    op.drop_index("ix_bundle_items_ack", table_name="bundle_items")
    op.create_index("ix_bundle_items_ack", "bundle_items", ["bundle_id", "acknowledged_at", "record_id", "domain"])


def downgrade() -> None:
    op.drop_index("ix_bundle_items_ack", table_name="bundle_items")
    op.create_index("ix_bundle_items_ack", "bundle_items", ["bundle_id", "acknowledged_at", "record_id"])
    with op.batch_alter_table("bundle_items") as batch:
        batch.drop_column("domain")
