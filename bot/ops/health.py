"""What an operator needs to know: is the service ready (`/readyz`), and how is it doing (`umkm-bot status`, the
database figures of `/metrics`). Everything here only reads; aggregates are done in SQL.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache

from sqlalchemy import func, inspect, text
from sqlmodel import col, select

from bot.media.store import MediaStore
from storage.db import Database, alembic_config
from storage.models import Business, ChannelState, OutboxMessage, OutboxStatus, Product, ProductStatus, Review

READY_TIMEOUT = 3.0


@cache
def script_heads() -> frozenset[str]:
    """The migration heads this code expects."""
    from alembic.script import ScriptDirectory

    return frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


@cache
def known_revisions() -> frozenset[str]:
    """Every migration revision this code has."""
    from alembic.script import ScriptDirectory

    return frozenset(rev.revision for rev in ScriptDirectory.from_config(alembic_config()).walk_revisions())


def _migration_state(sync_connection) -> tuple[frozenset[str], bool]:  # type: ignore[no-untyped-def]
    """The database's migration heads, and whether the channel state table is there yet."""
    tables = inspect(sync_connection)
    heads: frozenset[str] = frozenset()
    if tables.has_table("alembic_version"):  # read directly: alembic's own context logs two lines per call
        heads = frozenset(sync_connection.execute(text("SELECT version_num FROM alembic_version")).scalars())
    return heads, tables.has_table(ChannelState.__tablename__)


@dataclass
class Readiness:
    reasons: list[str] = field(default_factory=list)
    checks: dict[str, str] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        return not self.reasons

    def as_json(self) -> dict[str, object]:
        return {"status": "ok" if self.ready else "unavailable", "checks": self.checks, "reasons": self.reasons}


async def readiness(db: Database, channels: list[str], wait: float = READY_TIMEOUT,
                    store: MediaStore | None = None) -> Readiness:
    """Database reachable (within `wait` seconds), migrations at the code's heads, no configured channel paused,
    and the media `store` (when given) answers."""
    result = Readiness()
    if store is not None:
        await _check_store(store, wait, result)
    try:
        heads, paused = await asyncio.wait_for(_read_state(db, channels), wait)
    except TimeoutError:
        result.checks["database"] = "timeout"
        result.reasons.append(f"database: no answer within {wait:g} s")
        return result
    except Exception as exc:  # any driver error means: not usable now
        result.checks["database"] = "error"
        result.reasons.append(f"database: {type(exc).__name__}")
        return result
    result.checks["database"] = "ok"
    if heads - known_revisions():
        result.checks["migrations"] = "ahead"  # a newer release migrated already; this one keeps serving
    elif heads != script_heads():
        result.checks["migrations"] = "behind"
        result.reasons.append(f"migrations: database at {sorted(heads) or 'none'}, code expects "
                              f"{sorted(script_heads())}; run `umkm-bot db upgrade`")
    else:
        result.checks["migrations"] = "ok"
    for channel in channels:
        reason = paused.get(channel)
        result.checks[f"channel:{channel}"] = "paused" if reason else "ok"
        if reason:
            result.reasons.append(f"channel {channel} paused: {reason}")
    return result


async def _check_store(store: MediaStore, wait: float, result: Readiness) -> None:
    """The bucket answers a HEAD, or the local folder is writable, within `wait` seconds."""
    try:
        await asyncio.wait_for(store.check(), wait)
    except TimeoutError:
        result.checks["media"] = "timeout"
        result.reasons.append(f"media store unreachable: {store.url}: no answer within {wait:g} s")
    except Exception as exc:  # botocore, connection and file-system errors alike: photos cannot be kept now
        result.checks["media"] = "error"
        result.reasons.append(f"media store unreachable: {store.url}: {type(exc).__name__}: {exc}")
    else:
        result.checks["media"] = "ok"


async def _read_state(db: Database, channels: list[str]) -> tuple[frozenset[str], dict[str, str]]:
    async with db.engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
        heads, has_states = await conn.run_sync(_migration_state)
        paused: dict[str, str] = {}
        if has_states:
            rows = await conn.execute(select(ChannelState.channel, ChannelState.paused_reason)
                                      .where(col(ChannelState.paused_reason).is_not(None)))
            paused = {channel: reason for channel, reason in rows.all() if channel in channels}
    return heads, paused


@dataclass
class Queue:
    pending: int = 0
    held: int = 0
    failed: int = 0
    oldest_pending: datetime | None = None
    last_error: str | None = None  # of the newest message that failed to go out (once or for good)


@dataclass
class Snapshot:
    """Figures read from the database at one moment (for `status` and the `/metrics` scrape)."""

    queues: dict[str, Queue]
    products: dict[str, int]
    reviews: dict[str, int]
    waiting_by_region: dict[str, int]
    channel_states: list[ChannelState]


async def snapshot_within(db: Database, wait: float = READY_TIMEOUT) -> Snapshot:
    """`snapshot`, or TimeoutError after `wait` seconds."""
    return await asyncio.wait_for(snapshot(db), wait)


async def snapshot(db: Database) -> Snapshot:
    async with db.transaction() as session:
        queues: dict[str, Queue] = {}
        rows = await session.exec(
            select(OutboxMessage.channel, OutboxMessage.status, func.count(), func.min(OutboxMessage.created_at))
            .where(col(OutboxMessage.status) != OutboxStatus.sent)
            .group_by(OutboxMessage.channel, OutboxMessage.status))
        for channel, status, count, oldest in rows.all():
            queue = queues.setdefault(channel, Queue())
            if status == OutboxStatus.pending:
                queue.pending, queue.oldest_pending = count, _aware(oldest)
            elif status in (OutboxStatus.held, OutboxStatus.failed):
                setattr(queue, status, count)
        newest_failures = (select(func.max(OutboxMessage.id)).where(col(OutboxMessage.last_error).is_not(None))
                           .group_by(OutboxMessage.channel))
        for channel, error in (await session.exec(select(OutboxMessage.channel, OutboxMessage.last_error)
                                                  .where(col(OutboxMessage.id).in_(newest_failures)))).all():
            queues.setdefault(channel, Queue()).last_error = error
        products = {s.value: 0 for s in ProductStatus}
        products.update(dict((await session.exec(
            select(Product.status, func.count()).group_by(Product.status))).all()))
        reviews = dict((await session.exec(select(Review.decision, func.count()).group_by(Review.decision))).all())
        waiting = {code or "": count for code, count in (await session.exec(
            select(Business.region_code, func.count())
            .select_from(Product)
            .join(Business, col(Business.id) == col(Product.business_id))
            .where(Product.status == ProductStatus.submitted)
            .group_by(Business.region_code))).all()}
        states = list((await session.exec(select(ChannelState).order_by(col(ChannelState.channel)))).all())
    return Snapshot(queues, products, reviews, waiting, states)


def _aware(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes for aggregates; they are UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)
