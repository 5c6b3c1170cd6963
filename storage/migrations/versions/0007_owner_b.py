"""reminders and digests: nudge counts on drafts, owners' opt-out, officers' last digest

Revision ID: 0004_owner_b
Revises: 0004_owner_a
Create Date: 2026-12-01 13:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0004_owner_b"
down_revision: str | None = "0004_owner_a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reminder_count", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("reminded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    with op.batch_alter_table("owner", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reminders_off_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    with op.batch_alter_table("officer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("digest_sent_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("officer", schema=None) as batch_op:
        batch_op.drop_column("digest_sent_at")
    with op.batch_alter_table("owner", schema=None) as batch_op:
        batch_op.drop_column("reminders_off_at")
    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.drop_column("reminded_at")
        batch_op.drop_column("reminder_count")
