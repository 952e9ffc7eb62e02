"""issuers' uploaded logos

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
    op.create_table(
        "issuer_logos",
        sa.Column("issuer_id", sa.Integer(), nullable=False),
        sa.Column("media_type", sa.String(length=32), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["issuer_id"], ["issuers.id"], name=op.f("fk_issuer_logos_issuer_id_issuers")),
        sa.PrimaryKeyConstraint("issuer_id", name=op.f("pk_issuer_logos")),
    )


def downgrade() -> None:
    op.drop_table("issuer_logos")
