"""delivery: leases by deliverer, parts sent, the chat index; PostgreSQL wakes the sender on insert

Revision ID: 0004_delivery
Revises: 0004_owner_b
Create Date: 2026-12-01 13:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0004_delivery"
down_revision: str | None = "0004_owner_b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NOTIFY_FUNCTION = """
CREATE OR REPLACE FUNCTION outbox_notify() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('umkm_outbox', current_schema());
    RETURN NULL;
END;
$$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    with op.batch_alter_table("outboxmessage", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lease_owner", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column("leased_until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("parts_sent", sa.Integer(), server_default="0", nullable=False))
        batch_op.create_index("ix_outboxmessage_chat", ["channel", "address", "status"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        # One notification per inserting statement wakes the elected sender (bot/delivery/sending.py), whichever
        # process wrote the rows: the web processes need no extra statement to hand messages over.
        op.execute(NOTIFY_FUNCTION)
        op.execute("CREATE TRIGGER outbox_notify AFTER INSERT OR UPDATE OF next_attempt_at ON outboxmessage "
                   "FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS outbox_notify ON outboxmessage")
        op.execute("DROP FUNCTION IF EXISTS outbox_notify()")
    with op.batch_alter_table("outboxmessage", schema=None) as batch_op:
        batch_op.drop_index("ix_outboxmessage_chat")
        batch_op.drop_column("parts_sent")
        batch_op.drop_column("leased_until")
        batch_op.drop_column("lease_owner")
