"""dinas review: review source and snapshot, owner-action source, console sign-in links, queue index

Revision ID: 0004_dinas_review
Revises: 0003
Create Date: 2026-12-01 13:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0004_dinas_review"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("review") as batch:
        batch.add_column(sa.Column("source", sqlmodel.sql.sqltypes.AutoString(), server_default="chat",
                                   nullable=False))
        batch.add_column(sa.Column("snapshot", sa.JSON(), nullable=True))
    with op.batch_alter_table("producthistory") as batch:
        batch.add_column(sa.Column("source", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    op.create_index("ix_product_status_submitted_at", "product", ["status", "submitted_at"], unique=False)
    op.create_table(
        "dinaslogin",
        sa.Column("token_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("used_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("ended_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["officer_id"], ["officer.id"]),
        sa.PrimaryKeyConstraint("token_id"),
    )
    op.create_index(op.f("ix_dinaslogin_officer_id"), "dinaslogin", ["officer_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_dinaslogin_officer_id"), table_name="dinaslogin")
    op.drop_table("dinaslogin")
    op.drop_index("ix_product_status_submitted_at", table_name="product")
    with op.batch_alter_table("producthistory") as batch:
        batch.drop_column("source")
    with op.batch_alter_table("review") as batch:
        batch.drop_column("snapshot")
        batch.drop_column("source")
