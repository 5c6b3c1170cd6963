"""catalogue link: who (an officer, when one did it) changed a product's status on its road to INAPROC

Revision ID: 0010_catalogue_link
Revises: 0009_catalogue_v6
Create Date: 2026-12-06 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_catalogue_link"
down_revision: str | None = "0009_catalogue_v6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("producthistory", schema=None) as batch_op:
        batch_op.add_column(sa.Column("officer_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_producthistory_officer_id", "officer", ["officer_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("producthistory", schema=None) as batch_op:
        batch_op.drop_constraint("fk_producthistory_officer_id", type_="foreignkey")
        batch_op.drop_column("officer_id")
