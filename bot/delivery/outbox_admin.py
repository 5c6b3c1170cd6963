"""Given-up messages for the operator: `umkm-bot outbox failed` lists them, `outbox retry` queues them again."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Update, select, update

from storage.db import Database
from storage.models import OutboxMessage, OutboxStatus, utcnow

OUTBOX = OutboxMessage.__table__  # type: ignore[attr-defined]


async def failed(db: Database, limit: int = 200) -> list[OutboxMessage]:
    """The newest given-up messages first."""
    async with db.engine.connect() as conn:
        rows = (await conn.execute(select(OUTBOX).where(OUTBOX.c.status == OutboxStatus.failed.value)
                                   .order_by(OUTBOX.c.id.desc()).limit(limit))).all()
    return [OutboxMessage(**row._mapping) for row in rows]


async def retry(db: Database, ids: list[int] | None) -> int:
    """Puts given-up messages (these ids, or all with None) back in the queue with a fresh retry window.

    A re-queued message is sent in its chat's order by id, so it may arrive after newer messages.
    """
    async with db.begin() as conn:
        result = await conn.execute(retry_statement(ids, utcnow()))
    return result.rowcount


def retry_statement(ids: list[int] | None, now: datetime) -> Update:
    """The UPDATE of `retry`, for a caller's own transaction (the admin health page)."""
    query = update(OUTBOX).where(OUTBOX.c.status == OutboxStatus.failed.value)
    if ids is not None:
        query = query.where(OUTBOX.c.id.in_(ids))
    return query.values(status=OutboxStatus.pending.value, attempts=0, next_attempt_at=now, created_at=now,
                        lease_owner=None, leased_until=None)
