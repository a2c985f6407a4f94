"""Initial schema: meta, ministries, domains, officers, records, parties, revisions, reviews, actions, search index.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from store.sqlite import SEARCH_TABLE, SEARCH_TABLE_DDL
from store.vocab import SEED_DOMAINS, SEED_MINISTRIES

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "liaison_meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    ministries = op.create_table(
        "ministries",
        sa.Column("code", sa.String(16), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
    )
    domains = op.create_table(
        "domains",
        sa.Column("slug", sa.String(40), primary_key=True),
        sa.Column("label", sa.String(200), nullable=False),
    )
    op.create_table(
        "officers",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("slot", sa.Text, nullable=False),
        sa.Column("grant", sa.Text, nullable=False),
        sa.Column("mac", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("revoked_at", sa.DateTime, nullable=True),
    )
    op.create_table(
        "records",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("reference", sa.String(40), nullable=False, unique=True),
        sa.Column("uuid", sa.String(36), nullable=False, unique=True),
        sa.Column("domain", sa.String(40), sa.ForeignKey("domains.slug"), nullable=False),
        sa.Column("origin", sa.String(16), sa.ForeignKey("ministries.code"), nullable=False),
        sa.Column("tlp", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("no_reexport", sa.Boolean, nullable=False),
        sa.Column("title_ct", sa.LargeBinary, nullable=False),
    )
    for name, cols in {
        "ix_records_created": ["created_at", "id"],
        "ix_records_domain_created": ["domain", "created_at", "id"],
        "ix_records_status_created": ["status", "created_at", "id"],
        "ix_records_tlp_created": ["tlp", "created_at", "id"],
        "ix_records_origin_created": ["origin", "created_at", "id"],
        "ix_records_facets": ["domain", "tlp", "status"],
    }.items():
        op.create_index(name, "records", cols)
    op.create_table(
        "record_parties",
        sa.Column("record_id", sa.Integer, sa.ForeignKey("records.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("ministry", sa.String(16), sa.ForeignKey("ministries.code"), primary_key=True),
        sa.Column("is_origin", sa.Boolean, nullable=False),
    )
    op.create_index("ix_parties_ministry", "record_parties", ["ministry", "record_id"])
    op.create_table(
        "revisions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("record_id", sa.Integer, sa.ForeignKey("records.id", ondelete="CASCADE"), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("officer", sa.String(64), nullable=False),
        sa.Column("tlp", sa.String(16), nullable=False),
        sa.Column("releasable_to", sa.String(400), nullable=False),
        sa.Column("title_ct", sa.LargeBinary, nullable=False),
        sa.Column("body_ct", sa.LargeBinary, nullable=False),
        sa.UniqueConstraint("record_id", "number", name="uq_revision_number"),
    )
    op.create_table(
        "review_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("record_id", sa.Integer, sa.ForeignKey("records.id", ondelete="CASCADE"), nullable=False),
        sa.Column("officer", sa.String(64), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("comment_ct", sa.LargeBinary, nullable=True),
    )
    op.create_index("ix_review_events_record_id", "review_events", ["record_id"])
    op.create_table(
        "action_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("officer", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("target", sa.String(64), nullable=False),
    )
    op.execute(SEARCH_TABLE_DDL)
    op.bulk_insert(ministries, [{"code": c, "name": n} for c, n in SEED_MINISTRIES.items()])
    op.bulk_insert(domains, [{"slug": s, "label": label} for s, label in SEED_DOMAINS.items()])


def downgrade() -> None:
    op.execute(f"DROP TABLE {SEARCH_TABLE}")
    for table in (
        "action_events",
        "review_events",
        "revisions",
        "record_parties",
        "records",
        "officers",
        "domains",
        "ministries",
        "liaison_meta",
    ):
        op.drop_table(table)
