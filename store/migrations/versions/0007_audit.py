"""Audit log: signed events, signed checkpoints, failed unlocks awaiting the next unlock, officers' signing keys.

A store upgraded from before this revision has officers (and maybe records) but no events yet: the upgrade marks it
(`audit_genesis` = `pending` in liaison_meta) and the first admin who unlocks afterwards signs its current
state as genesis events (`store.audit.log.genesis`). A store created at this schema starts its log at creation.
`action_events` stays as it was (the unsigned trail of the actions taken before the upgrade, still readable);
nothing writes it any more.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("officer", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("target", sa.String(64), nullable=False),
        sa.Column("record_uuid", sa.String(36), nullable=True),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("signer", sa.LargeBinary, nullable=False),
        sa.Column("sig", sa.LargeBinary, nullable=False),
        sa.Column("detail_ct", sa.LargeBinary, nullable=True),
        sa.Column("chain", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_audit_record", "audit_log", ["record_uuid", "seq"])
    op.create_index("ix_audit_target", "audit_log", ["target", "seq"])
    op.create_table(
        "audit_checkpoints",
        sa.Column("size", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("root", sa.LargeBinary, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
    )
    op.create_table(
        "audit_pending",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("officer", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
    )
    with op.batch_alter_table("officers") as batch:
        batch.add_column(sa.Column("signing_public", sa.LargeBinary, nullable=True))
    conn = op.get_bind()
    if conn.execute(sa.text("SELECT count(*) FROM officers")).scalar_one():
        conn.execute(sa.text("INSERT INTO liaison_meta (key, value) VALUES ('audit_genesis', 'pending')"))


def downgrade() -> None:
    with op.batch_alter_table("officers") as batch:
        batch.drop_column("signing_public")
    op.execute("DELETE FROM liaison_meta WHERE key IN ('audit_genesis', 'audit_frontier')")
    for table in ("audit_pending", "audit_checkpoints", "audit_log"):
        op.drop_table(table)
