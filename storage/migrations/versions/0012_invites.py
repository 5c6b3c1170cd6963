"""invites: owner invitations per (region, source) from posters and events, and the one a business came by

Revision ID: 0012_invites
Revises: 0011_admin_role
Create Date: 2026-12-06 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0012_invites"
down_revision: str | None = "0011_admin_role"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ownerinvite",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("region_code", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["created_by"], ["officer.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
        sa.UniqueConstraint("region_code", "source"),
    )
    with op.batch_alter_table("business", schema=None) as batch_op:
        batch_op.add_column(sa.Column("invite_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_business_invite_id"), ["invite_id"], unique=False)
        batch_op.create_foreign_key("fk_business_invite_id", "ownerinvite", ["invite_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("business", schema=None) as batch_op:
        batch_op.drop_constraint("fk_business_invite_id", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_business_invite_id"))
        batch_op.drop_column("invite_id")
    op.drop_table("ownerinvite")
