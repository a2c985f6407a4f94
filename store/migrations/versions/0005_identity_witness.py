"""Identity renewal and the counterpart as witness: this ministry's key-transition statements and their delivery
to each contact, the key changes received from contacts, and the checkpoints sent to and seen from each contact.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identity_transitions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("officer", sa.String(64), nullable=False),
        sa.Column("old_fingerprint", sa.String(64), nullable=False),
        sa.Column("new_fingerprint", sa.String(64), nullable=False),
        sa.Column("statement", sa.Text, nullable=False),
    )
    op.create_table(
        "identity_transition_deliveries",
        sa.Column(
            "transition_id",
            sa.Integer,
            sa.ForeignKey("identity_transitions.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("peer", sa.String(16), primary_key=True),
        sa.Column("carried", sa.Integer, nullable=False),
        sa.Column("last_carried_in", sa.String(64), nullable=True),
        sa.Column("confirmed_at", sa.DateTime, nullable=True),
        sa.Column("confirmed_by", sa.String(80), nullable=True),
    )
    op.create_table(
        "contact_key_changes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("peer", sa.String(16), nullable=False),
        sa.Column("old_fingerprint", sa.String(64), nullable=False),
        sa.Column("new_fingerprint", sa.String(64), nullable=False),
        sa.Column("stated_at", sa.DateTime, nullable=False),
        sa.Column("received_at", sa.DateTime, nullable=False),
        sa.Column("via", sa.String(80), nullable=False),
        sa.Column("statement", sa.Text, nullable=False),
    )
    op.create_index("ix_contact_key_changes_peer", "contact_key_changes", ["peer"])
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


def downgrade() -> None:
    op.drop_table("witness_seen")
    op.drop_table("witness_sent")
    op.drop_table("contact_key_changes")
    op.drop_table("identity_transition_deliveries")
    op.drop_table("identity_transitions")
