"""BadgeClasses migrated from other platforms, so that a migration run again finds what it made

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "migrated_badges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issuer_id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.String(length=500), nullable=False),
        sa.Column("microcredential_id", sa.String(length=36), nullable=False),
        sa.Column("migrated_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["issuer_id"], ["issuers.id"], name=op.f("fk_migrated_badges_issuer_id_issuers")),
        sa.ForeignKeyConstraint(
            ["microcredential_id"],
            ["microcredentials.id"],
            name=op.f("fk_migrated_badges_microcredential_id_microcredentials"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_migrated_badges")),
        sa.UniqueConstraint("issuer_id", "source_id", name=op.f("uq_migrated_badges_issuer_id_source_id")),
    )


def downgrade() -> None:
    op.drop_table("migrated_badges")
