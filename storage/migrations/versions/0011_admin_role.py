"""admin role: officers' role, invitations, the admins' audit, and the period a region's target counts

Revision ID: 0011_admin_role
Revises: 0010_catalogue_link
Create Date: 2026-12-06 21:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0011_admin_role"
down_revision: str | None = "0010_catalogue_link"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("officer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("role", sqlmodel.sql.sqltypes.AutoString(), server_default="officer",
                                      nullable=False))
    with op.batch_alter_table("regiontarget", schema=None) as batch_op:
        batch_op.add_column(sa.Column("period_start", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("period_end", sa.Date(), nullable=True))
    op.create_table(
        "officerinvite",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("region_code", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("invited_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("used_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("officer_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["invited_by"], ["officer.id"]),
        sa.ForeignKeyConstraint(["officer_id"], ["officer.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code_hash"),
    )
    op.create_index(op.f("ix_officerinvite_invited_by"), "officerinvite", ["invited_by"], unique=False)
    op.create_table(
        "adminaction",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("admin_id", sa.Integer(), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("target", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("region_code", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["admin_id"], ["officer.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_adminaction_admin_id"), "adminaction", ["admin_id"], unique=False)
    op.create_index(op.f("ix_adminaction_region_code"), "adminaction", ["region_code"], unique=False)
    op.create_index(op.f("ix_adminaction_created_at"), "adminaction", ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_adminaction_created_at"), table_name="adminaction")
    op.drop_index(op.f("ix_adminaction_region_code"), table_name="adminaction")
    op.drop_index(op.f("ix_adminaction_admin_id"), table_name="adminaction")
    op.drop_table("adminaction")
    op.drop_index(op.f("ix_officerinvite_invited_by"), table_name="officerinvite")
    op.drop_table("officerinvite")
    with op.batch_alter_table("regiontarget", schema=None) as batch_op:
        batch_op.drop_column("period_end")
        batch_op.drop_column("period_start")
    with op.batch_alter_table("officer", schema=None) as batch_op:
        batch_op.drop_column("role")
