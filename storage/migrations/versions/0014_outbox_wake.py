"""outbox wake-up: the per-transaction NOTIFY trigger goes; committing processes wake the sender themselves

Revision ID: 0014_outbox_wake
Revises: 0013_siaran
Create Date: 2026-12-06 23:40:00

PostgreSQL takes one lock for every committing transaction that issued a NOTIFY and wakes the listener for
each, so a trigger on every outbox write made the turns' commits wait for each other. bot/delivery/wake.py now
wakes the elected sender after the commit (in its process, with no I/O; from another, one coalesced NOTIFY).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014_outbox_wake"
down_revision: str | None = "0013_siaran"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# as created by 0008 (revision "0004_delivery"), for the downgrade
NOTIFY_FUNCTION = """
CREATE OR REPLACE FUNCTION outbox_notify() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('umkm_outbox', current_schema());
    RETURN NULL;
END;
$$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS outbox_notify ON outboxmessage")
        op.execute("DROP FUNCTION IF EXISTS outbox_notify()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(NOTIFY_FUNCTION)
        op.execute("CREATE TRIGGER outbox_notify AFTER INSERT OR UPDATE OF next_attempt_at ON outboxmessage "
                   "FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify()")
