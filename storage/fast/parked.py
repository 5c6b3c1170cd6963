"""Connections kept checked out between turns, so a turn takes one without the pool's checkout and checkin.

SQLAlchemy's pool costs a turn about 0.2 ms of CPU to hand out a connection and take it back (the connection
object, checkout and checkin events, the reset on return), as much as asyncpg spends on the turn's own
statements (`python benchmarks/turn_cost.py`). A turn that ends well parks its connection here (the most recently
parked is taken first); one that fails gives it back to the pool, which rolls it back, or drops it if it died.
A connection parked for longer than `idle_limit` goes back to the pool, by itself when no turn comes (a sweeper
task runs while any is parked) or when a turn would take it: the pool's pre-ping then replaces one that the
server dropped meanwhile (storage/db.py), and PostgreSQL sees no connection "idle in transaction"
(storage/fast/driver.py, `begin_next`) for long. At most `keep` are parked, so the rest of the pool stays free for
delivery, the console and jobs.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine


class ParkedConnections:
    """`async with parked.connection() as connection:` a connection of `engine`, parked again when it ends well."""

    def __init__(self, engine: AsyncEngine, keep: int, idle_limit: float) -> None:
        self.engine = engine
        self.keep = keep
        self.idle_limit = idle_limit  # seconds
        self._idle: list[tuple[float, AsyncConnection]] = []  # (parked at, connection), the latest last
        self._sweeper: asyncio.Task[None] | None = None

    @property
    def count(self) -> int:
        return len(self._idle)

    @property
    def has_room(self) -> bool:
        """Whether a connection ending its turn now would be parked (its next transaction may then be begun)."""
        return len(self._idle) < self.keep

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[AsyncConnection]:
        connection = await self._take()
        try:
            yield connection
        except BaseException:
            await connection.close()  # rolled back and given back to the pool (dropped there if it died)
            raise
        if self.has_room and not connection.closed and not connection.invalidated and not connection.in_transaction():
            self._park(connection)
        else:
            await connection.close()

    def _park(self, connection: AsyncConnection) -> None:
        self._idle.append((time.monotonic(), connection))
        if self._sweeper is None or self._sweeper.done():
            self._sweeper = asyncio.get_running_loop().create_task(self._sweep())

    async def _sweep(self) -> None:
        """Gives back to the pool what stayed parked longer than `idle_limit`, until nothing is parked."""
        while self._idle:
            await asyncio.sleep(self.idle_limit)
            oldest = time.monotonic() - self.idle_limit
            stale = [connection for parked_at, connection in self._idle if parked_at <= oldest]
            self._idle = [(parked_at, connection) for parked_at, connection in self._idle if parked_at > oldest]
            for connection in stale:
                await connection.close()

    async def _take(self) -> AsyncConnection:
        if self._idle:
            parked_at, connection = self._idle.pop()
            if time.monotonic() - parked_at < self.idle_limit:
                return connection
            self._idle.append((parked_at, connection))
            await self._give_back_all()  # this one and the older ones: back to the pool, which pings them
        return await self.engine.connect()

    async def close(self) -> None:
        """Gives every parked connection back to the pool and stops the sweeper (before the engine is disposed
        of)."""
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        await self._give_back_all()

    async def _give_back_all(self) -> None:
        idle, self._idle = self._idle, []
        for _, connection in idle:
            await connection.close()
