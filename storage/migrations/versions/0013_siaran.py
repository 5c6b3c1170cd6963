"""siaran: the Dinas's broadcasts to owners, their recipients, the owners' opt-out and the outbox's priority

Revision ID: 0013_siaran
Revises: 0012_invites
Create Date: 2026-12-06 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0013_siaran"
down_revision: str | None = "0012_invites"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("owner", schema=None) as batch_op:
        batch_op.add_column(sa.Column("siaran_off_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    with op.batch_alter_table("outboxmessage", schema=None) as batch_op:
        batch_op.add_column(sa.Column("priority", sa.Integer(), server_default="0", nullable=False))
    op.create_table(
        "siaran",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=True),
        sa.Column("sent_by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("region_code", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("status_filter", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.JSON(), nullable=False),
        sa.Column("request_key", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("cancelled_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["officer_id"], ["officer.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("request_key"),
    )
    op.create_index(op.f("ix_siaran_officer_id"), "siaran", ["officer_id"], unique=False)
    op.create_index(op.f("ix_siaran_region_code"), "siaran", ["region_code"], unique=False)
    op.create_index(op.f("ix_siaran_created_at"), "siaran", ["created_at"], unique=False)
    op.create_table(
        "siaranrecipient",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("siaran_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("route", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.Column("skipped_reason", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.ForeignKeyConstraint(["siaran_id"], ["siaran.id"]),
        sa.ForeignKeyConstraint(["contact_id"], ["contact.id"]),
        sa.ForeignKeyConstraint(["outbox_id"], ["outboxmessage.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("siaran_id", "contact_id"),
    )
    op.create_index(op.f("ix_siaranrecipient_siaran_id"), "siaranrecipient", ["siaran_id"], unique=False)
    op.create_index(op.f("ix_siaranrecipient_outbox_id"), "siaranrecipient", ["outbox_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_siaranrecipient_outbox_id"), table_name="siaranrecipient")
    op.drop_index(op.f("ix_siaranrecipient_siaran_id"), table_name="siaranrecipient")
    op.drop_table("siaranrecipient")
    op.drop_index(op.f("ix_siaran_created_at"), table_name="siaran")
    op.drop_index(op.f("ix_siaran_region_code"), table_name="siaran")
    op.drop_index(op.f("ix_siaran_officer_id"), table_name="siaran")
    op.drop_table("siaran")
    with op.batch_alter_table("outboxmessage", schema=None) as batch_op:
        batch_op.drop_column("priority")
    with op.batch_alter_table("owner", schema=None) as batch_op:
        batch_op.drop_column("siaran_off_at")
