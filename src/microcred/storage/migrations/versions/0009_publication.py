"""microcredentials are drafts until published; those that exist already count as published

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("microcredentials", schema=None) as batch_op:
        batch_op.add_column(sa.Column("published_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("exemption", sa.Text(), nullable=True))
    # Everything in the catalogue before drafts existed was live: it stays live, as of its creation.
    op.execute("UPDATE microcredentials SET published_at = created_at")


def downgrade() -> None:
    with op.batch_alter_table("microcredentials", schema=None) as batch_op:
        batch_op.drop_column("exemption")
        batch_op.drop_column("published_at")
