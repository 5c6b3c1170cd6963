"""catalogue v6: penyedia readiness on the business; package size, PPN, catalogue category, INAPROC road

Revision ID: 0009_catalogue_v6
Revises: 0004_delivery
Create Date: 2026-12-08 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0009_catalogue_v6"
down_revision: str | None = "0004_delivery"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BUSINESS_COLUMNS = ("bentuk_usaha", "akta", "pkp", "inaproc_akun")
PRODUCT_INTS = ("panjang_cm", "lebar_cm", "tinggi_cm")
PRODUCT_STRINGS = ("catalogue_path", "kbki", "listing_url")
PRODUCT_TIMES = ("approved_at", "uploaded_at", "listed_at")


def upgrade() -> None:
    with op.batch_alter_table("business", schema=None) as batch_op:
        for name in BUSINESS_COLUMNS:
            batch_op.add_column(sa.Column(name, sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    with op.batch_alter_table("product", schema=None) as batch_op:
        for name in PRODUCT_INTS:
            batch_op.add_column(sa.Column(name, sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("ppn_termasuk", sa.Boolean(), nullable=True))
        for name in PRODUCT_STRINGS:
            batch_op.add_column(sa.Column(name, sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        for name in PRODUCT_TIMES:
            batch_op.add_column(sa.Column(name, sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.create_unique_constraint("uq_product_listing_url", ["listing_url"])


def downgrade() -> None:
    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.drop_constraint("uq_product_listing_url", type_="unique")
        for name in (*reversed(PRODUCT_TIMES), *reversed(PRODUCT_STRINGS), "ppn_termasuk", *reversed(PRODUCT_INTS)):
            batch_op.drop_column(name)
    with op.batch_alter_table("business", schema=None) as batch_op:
        for name in reversed(BUSINESS_COLUMNS):
            batch_op.drop_column(name)
