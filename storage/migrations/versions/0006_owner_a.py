"""owner experience: per-owner product numbers, submission snapshots, erased owners, food split from drinks

Revision ID: 0004_owner_a
Revises: 0004_dinas_data
Create Date: 2026-12-01 13:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0004_owner_a"
down_revision: str | None = "0004_dinas_data"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("product") as batch:
        batch.add_column(sa.Column("number", sa.Integer(), nullable=True))
    op.execute("UPDATE product SET number = (SELECT COUNT(*) FROM product AS earlier "
               "WHERE earlier.business_id = product.business_id AND earlier.id <= product.id)")
    with op.batch_alter_table("product") as batch:
        batch.create_unique_constraint("uq_product_business_id_number", ["business_id", "number"])
    with op.batch_alter_table("producthistory") as batch:
        batch.add_column(sa.Column("snapshot", sa.JSON(), nullable=True))
    with op.batch_alter_table("owner") as batch:
        batch.add_column(sa.Column("erased_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    # "Makanan & minuman" overlapped "Minuman": the category is "Makanan" now (drinks stay "minuman").
    op.execute("UPDATE product SET kategori = 'makanan' WHERE kategori = 'makanan_minuman'")


def downgrade() -> None:
    op.execute("UPDATE product SET kategori = 'makanan_minuman' WHERE kategori = 'makanan'")
    with op.batch_alter_table("owner") as batch:
        batch.drop_column("erased_at")
    with op.batch_alter_table("producthistory") as batch:
        batch.drop_column("snapshot")
    with op.batch_alter_table("product") as batch:
        batch.drop_constraint("uq_product_business_id_number", type_="unique")
        batch.drop_column("number")
