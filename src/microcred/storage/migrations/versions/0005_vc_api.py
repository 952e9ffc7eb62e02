"""VC-API: issuers enabled for it, scoped tokens, the credentials it signed and their status entries

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
        "vcapi_credentials",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("issuer_id", sa.Integer(), nullable=False),
        sa.Column("credential_ref", sa.String(length=2000), nullable=True),
        sa.Column("credential", sa.Text(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("suspended", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["issuer_id"], ["issuers.id"], name=op.f("fk_vcapi_credentials_issuer_id_issuers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vcapi_credentials")),
    )
    with op.batch_alter_table("vcapi_credentials", schema=None) as batch_op:
        batch_op.create_index("ix_vcapi_credentials_issuer_ref", ["issuer_id", "credential_ref"], unique=False)

    op.create_table(
        "vcapi_status_entries",
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("index", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("credential_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["credential_id"],
            ["vcapi_credentials.id"],
            name=op.f("fk_vcapi_status_entries_credential_id_vcapi_credentials"),
        ),
        sa.ForeignKeyConstraint(
            ["list_id"], ["status_lists.id"], name=op.f("fk_vcapi_status_entries_list_id_status_lists")
        ),
        sa.PrimaryKeyConstraint("list_id", "index", name=op.f("pk_vcapi_status_entries")),
    )
    with op.batch_alter_table("vcapi_status_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vcapi_status_entries_credential_id"), ["credential_id"], unique=False)

    with op.batch_alter_table("issuers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("vcapi", sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scopes", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_column("scopes")
    with op.batch_alter_table("issuers", schema=None) as batch_op:
        batch_op.drop_column("vcapi")
    with op.batch_alter_table("vcapi_status_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vcapi_status_entries_credential_id"))
    op.drop_table("vcapi_status_entries")
    with op.batch_alter_table("vcapi_credentials", schema=None) as batch_op:
        batch_op.drop_index("ix_vcapi_credentials_issuer_ref")
    op.drop_table("vcapi_credentials")
