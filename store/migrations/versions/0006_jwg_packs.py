"""Working-group desk: meeting packs received from a counterpart (sealed there with `meetings pack --seal-to`).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jwg_packs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("uuid", sa.String(36), nullable=False, unique=True),
        sa.Column("quarter", sa.String(7), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("text_ct", sa.LargeBinary, nullable=False),
        sa.Column("with_titles", sa.Boolean, nullable=False),
        sa.Column("prepared_at", sa.DateTime, nullable=False),
        sa.Column("prepared_by", sa.String(64), nullable=False),
        sa.Column("received_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_jwg_packs_quarter", "jwg_packs", ["quarter"])


def downgrade() -> None:
    op.drop_index("ix_jwg_packs_quarter", table_name="jwg_packs")
    op.drop_table("jwg_packs")
