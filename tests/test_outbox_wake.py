"""The elected sender wakes once outbox rows are committed: at once in its own process, by one coalesced
NOTIFY from another (bot/delivery/wake.py); never for a transaction that rolled back.

Every sender here polls only every 30 s, so a message sent within seconds was sent because something woke it.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import pytest

from bot.delivery.deliverer import Deliverer
from bot.delivery.outbox import OutboxWriter
from bot.delivery.wake import NOTIFY_CHANNEL, NOTIFY_SPACING
from storage.db import Database
from storage.models import Contact, utcnow
from tests.conftest import POSTGRES_URL
from tests.test_sending import Recording, until

POLL = 30.0  # the senders' own rounds: far longer than any test waits


@pytest.fixture
async def other(postgres: Database) -> AsyncIterator[Database]:
    """Another process's connections to the same database (its own pool, its own wake-up registry)."""
    db = Database(POSTGRES_URL, schema=postgres.schema)
    yield db
    await db.dispose()


async def write_reply(db: Database, address: str, *, fail: bool = False) -> None:
    """One transaction writing one reply through the outbox writer, as a turn does."""
    async with db.transaction(quick=True) as session:
        outbox = OutboxWriter(session, utcnow())
        outbox.send(Contact(channel="fake", address=address, locale="id"), f"balasan untuk {address}")
        await outbox.flush()
        if fail:
            raise RuntimeError("the turn failed after writing its reply")


class Notifications:
    """Counts the NOTIFYs PostgreSQL delivers on the outbox channel for `schema` (the payload), as the elected
    sender's connection would; other tests' schemas, in the same database at the same time, are not counted."""

    def __init__(self, schema: str | None) -> None:
        self.schema = schema
        self.count = 0
        self.conn: asyncpg.Connection | None = None

    async def __aenter__(self) -> Notifications:
        self.conn = await asyncpg.connect(Database(POSTGRES_URL).driver_dsn())
        await self.conn.add_listener(NOTIFY_CHANNEL, self._heard)
        return self

    def _heard(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        self.count += payload == self.schema

    async def __aexit__(self, *_: object) -> None:
        await asyncio.sleep(0.3)  # what is on its way arrives
        assert self.conn is not None
        await self.conn.close()


@asynccontextmanager
async def elected_sender(db: Database) -> AsyncIterator[list]:
    """A sender loop on `db` that has won its election (its first message, to "first", went out); yields what
    it sends, (time, chat, row id), and stops it at the end."""
    log: list = []
    stop = asyncio.Event()
    deliverer = Deliverer(db, {"fake": Recording(log, rate=1000, chat_rate=1000)}, name=f"d{uuid.uuid4().hex[:4]}")
    task = asyncio.create_task(deliverer.run(stop, interval=POLL))
    try:
        await until(lambda: deliverer.running, 5)
        await write_reply(db, "first")
        await until(lambda: len(log) >= 1, 5)
        yield log
    finally:
        stop.set()
        await task


async def test_a_reply_committed_in_the_senders_process_goes_at_once(database: Database) -> None:
    async with elected_sender(database) as log:
        started = time.monotonic()
        await write_reply(database, "second")
        await until(lambda: len(log) >= 2, 5)
        assert time.monotonic() - started < 5 < POLL
    assert [chat for _, chat, _ in log] == ["first", "second"]


async def test_a_reply_committed_in_another_process_wakes_the_sender_with_one_notify(postgres: Database,
                                                                                       other: Database) -> None:
    async with elected_sender(postgres) as log:
        stop = asyncio.Event()  # the other process runs a sender loop too, which lost the election
        losing = Deliverer(other, {"fake": Recording(log, 1000, 1000)}, name="loser")
        loser = asyncio.create_task(losing.run(stop, POLL))
        try:
            async with Notifications(postgres.schema) as heard:
                await write_reply(other, "from-the-other-process")
                await until(lambda: len(log) >= 2, 5)
            assert heard.count == 1
        finally:
            stop.set()
            await loser
    assert [chat for _, chat, _ in log] == ["first", "from-the-other-process"]


async def test_commits_at_once_in_another_process_share_their_notifies(postgres: Database, other: Database) -> None:
    async with elected_sender(postgres) as log, Notifications(postgres.schema) as heard:
        started = time.monotonic()
        await asyncio.gather(*(write_reply(other, f"chat-{n}") for n in range(40)))
        took = time.monotonic() - started
        await until(lambda: len(log) >= 41, 10)
    assert 1 <= heard.count < 40  # shared: fewer NOTIFYs than commits...
    assert heard.count <= took / NOTIFY_SPACING + 2  # ...at most one per NOTIFY_SPACING while they came


async def test_the_senders_own_process_sends_no_notify(postgres: Database) -> None:
    async with elected_sender(postgres) as log, Notifications(postgres.schema) as heard:
        for n in range(10):
            await write_reply(postgres, f"chat-{n}")
        await until(lambda: len(log) >= 11, 5)
    assert heard.count == 0  # no trigger left behind by the migrations, no NOTIFY from a local commit


async def test_a_rolled_back_reply_wakes_no_one(postgres: Database, other: Database) -> None:
    async with elected_sender(postgres) as log:
        async with Notifications(postgres.schema) as heard:
            with pytest.raises(RuntimeError):
                await write_reply(other, "never-sent", fail=True)
        assert heard.count == 0
    assert [chat for _, chat, _ in log] == ["first"]
