"""dinas data: catalogue export mark, region targets, indexes of the console's figures

Revision ID: 0004_dinas_data
Revises: 0004_dinas_review
Create Date: 2026-12-01 13:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0004_dinas_data"
down_revision: str | None = "0004_dinas_review"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("product") as batch:
        batch.add_column(sa.Column("exported_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    op.create_table(
        "regiontarget",
        sa.Column("region_code", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("target", sa.Integer(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("region_code"),
    )
    op.create_index("ix_product_business_id_status", "product", ["business_id", "status"])
    op.create_index("ix_review_product_id_decision_created_at", "review", ["product_id", "decision", "created_at"])
    op.create_index("ix_producthistory_product_id_status_created_at", "producthistory",
                    ["product_id", "status", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_producthistory_product_id_status_created_at", table_name="producthistory")
    op.drop_index("ix_review_product_id_decision_created_at", table_name="review")
    op.drop_index("ix_product_business_id_status", table_name="product")
    op.drop_table("regiontarget")
    with op.batch_alter_table("product") as batch:
        batch.drop_column("exported_at")
