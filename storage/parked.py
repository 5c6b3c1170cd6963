"""Connections kept checked out between turns, so a turn takes one without the pool's checkout and checkin.

SQLAlchemy's pool costs a turn about 0.2 ms of CPU to hand out a connection and take it back (the connection
object, checkout and checkin events, the reset on return), as much as asyncpg spends on the turn's own
statements (`python benchmarks/turn_cost.py`). A turn that ends well parks its connection here (the most recently
parked is taken first); one that fails gives it back to the pool, which rolls it back, or drops it if it died.
A connection parked for longer than `idle_limit` is given back to the pool instead of being used, so the pool's
pre-ping replaces one that the server dropped meanwhile (storage/db.py). At most `keep` are parked, so the rest
of the pool stays free for delivery, the console and jobs.
"""

from __future__ import annotations

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
            self._idle.append((time.monotonic(), connection))
        else:
            await connection.close()

    async def _take(self) -> AsyncConnection:
        if self._idle:
            parked_at, connection = self._idle.pop()
            if time.monotonic() - parked_at < self.idle_limit:
                return connection
            self._idle.append((parked_at, connection))
            await self.close()  # this one and the older ones: back to the pool, which pings them before use
        return await self.engine.connect()

    async def close(self) -> None:
        """Gives every parked connection back to the pool (before the engine is disposed of)."""
        idle, self._idle = self._idle, []
        for _, connection in idle:
            await connection.close()
