"""The key-rotation index: a rotation signs one `rekey` event per batch naming each record's old and new ciphertext
hashes (`store.audit.rekeys`) instead of one event per record; this table finds a record's batches.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rekey_index",
        sa.Column("record_uuid", sa.String(36), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("record_uuid", "seq"),
    )


def downgrade() -> None:
    op.drop_table("rekey_index")
