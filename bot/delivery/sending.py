"""One elected sender per channel account, in whichever process wins; the others only write the outbox.

PostgreSQL: the winner holds a session advisory lock (keyed by schema, channel and account) on a connection of
its own, and that connection LISTENs for the notification another process sends after it committed outbox rows
(bot/delivery/wake.py; a commit in the winner's own process wakes it directly), so a reply written by any web
process is sent within milliseconds. When the winner dies its connection closes, the lock is free, and another
process takes over within `ELECTION_RETRY` seconds.
SQLite: the same code, the lock being an exclusive `flock` on a file beside the database (one process in
practice). Because one process sends for an account, its in-memory pacing (bot/delivery/pacing.py) is the account's.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import time
from pathlib import Path
from typing import Any, Protocol

from bot.delivery import wake
from bot.delivery.wake import NOTIFY_CHANNEL
from storage.db import Database

log = logging.getLogger(__name__)

ELECTION_RETRY = 2.0


class Deliverer(Protocol):
    """What the loop drives: `bot.delivery.deliverer.Deliverer` (which runs this loop from `run`)."""

    db: Database
    name: str
    senders: dict[str, Any]
    wakeups: dict[str, asyncio.Event]
    paused: dict[str, str]
    probe_interval: float
    running: bool

    async def reclaim_own_leases(self) -> None: ...

    async def load_paused(self) -> None: ...

    async def probe_paused(self) -> bool: ...

    async def take_over(self, channel: str) -> None: ...

    async def deliver_due(self, channel: str | None = None, address: str | None = None, limit: int = 50,
                          where: Any = None) -> int: ...


class _PostgresElection:
    def __init__(self, deliverer: Deliverer) -> None:
        self.deliverer = deliverer
        self.conn: Any = None
        self.held: set[str] = set()

    async def _connection(self) -> Any:
        import asyncpg

        if self.conn is not None and not self.conn.is_closed():
            return self.conn
        self.held.clear()
        db = self.deliverer.db
        settings = {"search_path": db.schema} if db.schema else {}
        self.conn = await asyncpg.connect(db.driver_dsn(), server_settings=settings)
        schema = await self.conn.fetchval("SELECT current_schema()")

        def wake(_conn: Any, _pid: int, _channel: str, payload: str) -> None:
            if payload == schema:
                for event in self.deliverer.wakeups.values():
                    event.set()

        await self.conn.add_listener(NOTIFY_CHANNEL, wake)
        return self.conn

    async def acquire(self, key: str) -> bool:
        conn = await self._connection()
        if key in self.held:
            return True
        if await conn.fetchval("SELECT pg_try_advisory_lock(hashtext(current_schema() || ':' || $1))", key):
            self.held.add(key)
        return key in self.held

    def holds(self, key: str) -> bool:
        return key in self.held and self.conn is not None and not self.conn.is_closed()

    async def close(self) -> None:
        if self.conn is not None and not self.conn.is_closed():
            await self.conn.close()  # the locks go with the connection


class _FileElection:
    def __init__(self, deliverer: Deliverer) -> None:
        self.path = deliverer.db.sqlite_path
        self.files: dict[str, Any] = {}

    async def acquire(self, key: str) -> bool:
        if key in self.files or self.path is None:
            self.files.setdefault(key, None)
            return True
        handle = _try_lock(Path(f"{self.path}.{key.replace(':', '-').replace('/', '-')}.sender"))
        if handle is None:
            return False
        self.files[key] = handle
        return True

    def holds(self, key: str) -> bool:
        return key in self.files

    async def close(self) -> None:
        for handle in self.files.values():
            if handle is not None:
                handle.close()
        self.files.clear()


def _try_lock(path: Path) -> Any:
    """The open file holding an exclusive lock on `path`, or None when another process holds it."""
    handle = open(path, "a")  # noqa: SIM115 (kept open: the lock lives as long as the file)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return None
    return handle


async def _wait(event: asyncio.Event, stop: asyncio.Event, seconds: float) -> None:
    stopping = asyncio.ensure_future(stop.wait())
    waking = asyncio.ensure_future(event.wait())
    try:
        await asyncio.wait({stopping, waking}, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (stopping, waking):
            task.cancel()
        await asyncio.gather(stopping, waking, return_exceptions=True)


async def run_elected(deliverer: Deliverer, stop: asyncio.Event, interval: float, limit: int) -> None:
    """Until `stop`: for each channel, win its election, then send whenever woken (or every `interval` s)."""
    if not deliverer.senders:
        log.info("delivery: no channel sender registered, nothing to deliver")
        await stop.wait()
        return
    election = _FileElection(deliverer) if deliverer.db.is_sqlite else _PostgresElection(deliverer)
    deliverer.running = True

    def wake_if_elected(channel: str) -> bool:
        if channel not in deliverer.senders or not election.holds(_election_key(deliverer, channel)):
            return False
        deliverer.wakeups[channel].set()
        return True

    wake.register(deliverer.db, wake_if_elected)
    try:
        with contextlib.suppress(Exception):  # the database may be down at start; the loops retry
            await deliverer.reclaim_own_leases()  # at once, elected or not: another process may send them
            await deliverer.load_paused()
        await asyncio.gather(*(_channel_loop(deliverer, election, channel, stop, interval, limit)
                               for channel in deliverer.senders))
    finally:
        wake.unregister(deliverer.db, wake_if_elected)
        deliverer.running = False
        await election.close()


async def _channel_loop(deliverer: Deliverer, election: Any, channel: str, stop: asyncio.Event,
                        interval: float, limit: int) -> None:
    sender = deliverer.senders[channel]
    key = _election_key(deliverer, channel)
    wakeup = deliverer.wakeups[channel]
    elected = False
    next_probe = 0.0
    while not stop.is_set():
        try:
            if not election.holds(key):
                if elected:
                    log.warning("delivery: lost the %s sender election; trying again", key)
                elected = await election.acquire(key)
                if not elected:  # not woken by writes: another process sends them
                    await _wait(asyncio.Event(), stop, ELECTION_RETRY)
                    wakeup.clear()
                    continue
                log.info("delivery: this process (%s) sends for %s", deliverer.name, key)
                await deliverer.take_over(channel)
            wakeup.clear()
            if channel in deliverer.paused:
                if time.monotonic() >= next_probe:
                    next_probe = time.monotonic() + deliverer.probe_interval
                    await deliverer.probe_paused()
                if channel in deliverer.paused:
                    await _wait(asyncio.Event(), stop, min(interval, deliverer.probe_interval))
                    continue
            await deliverer.deliver_due(channel, limit=_batch(sender, limit))
        except Exception:
            log.exception("delivery: a %s round failed; trying again in %s s", channel, interval)
            await _wait(asyncio.Event(), stop, interval)
            continue
        await _wait(wakeup, stop, interval)


def _election_key(deliverer: Deliverer, channel: str) -> str:
    """One election per channel account."""
    return f"{channel}:{getattr(deliverer.senders[channel], 'account', '')}"


def _batch(sender: Any, limit: int) -> int:
    """Claim about two seconds' worth at the account's rate (well inside a lease), at most 1,000 chats."""
    rate = getattr(sender, "rate", None)
    return max(1, min(1000, int(rate * 2))) if rate else limit
