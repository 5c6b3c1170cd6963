"""aiosqlite's connection, with each call run at once on the event loop's thread instead of its worker thread.

For the hot path's short statements (a turn's indexed lookups and writes, a delivery claim): handing each one
to aiosqlite's thread and back cost more than SQLite spends on it (a profile answer: 3.8 -> 1.9 ms of CPU).
Long queries (console pages, exports, jobs) keep aiosqlite's thread, so the event loop never waits on them.

SQLite's own busy handler would sleep on the event loop's thread while another process writes, so it is off
(`busy_timeout=0`): a call that finds the database locked is retried after an asyncio sleep, for as long as
the busy timeout would have waited.

This replaces aiosqlite.Connection's internals (its queue to the thread `_tx`, `_execute`, `_connect`), so
aiosqlite is bounded in pyproject.toml and each one is a row of INTERNALS in tests/test_library_internals.py.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiosqlite

LOCKED_WAIT = 30.0  # seconds a call waits for another process's write lock, as busy_timeout did
FIRST_PAUSE = 0.002  # then doubling, up to MAX_PAUSE
MAX_PAUSE = 0.1


class _RunNow:
    """Stands in for aiosqlite's queue to its thread: a queued call runs at once (SQLAlchemy queues one)."""

    def put_nowait(self, item: tuple[asyncio.Future[Any] | None, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as exc:  # noqa: BLE001  (handed to whoever awaits the future)
            if future is not None:
                future.set_exception(exc)
        else:
            if future is not None:
                future.set_result(result)


class InlineConnection(aiosqlite.Connection):
    """An aiosqlite.Connection without a thread: the same API for SQLAlchemy's aiosqlite dialect."""

    def __init__(self, connector: Callable[[], sqlite3.Connection]) -> None:
        super().__init__(connector, iter_chunk_size=64)
        self._tx = _RunNow()  # type: ignore[assignment]

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        deadline, pause = time.monotonic() + LOCKED_WAIT, FIRST_PAUSE
        while True:
            try:
                return fn(*args, **kwargs)
            except sqlite3.OperationalError as exc:
                if not _is_locked(exc) or time.monotonic() + pause > deadline:
                    raise
            await asyncio.sleep(pause)  # another process holds the write lock: let this loop work meanwhile
            pause = min(pause * 2, MAX_PAUSE)

    async def _connect(self) -> InlineConnection:
        if self._connection is None:
            self._connection = self._connector()
        return self

    def __await__(self):  # type: ignore[no-untyped-def]
        return self._connect().__await__()  # no thread to start

    def stop(self) -> None:
        self._running = False
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def _is_locked(exc: sqlite3.OperationalError) -> bool:
    return getattr(exc, "sqlite_errorcode", None) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or \
        "database is locked" in str(exc)


def creator(path: str) -> Callable[[], Awaitable[InlineConnection]]:
    """For `create_async_engine(async_creator=...)`: inline connections to the SQLite file at `path`."""

    async def connect() -> InlineConnection:
        # check_same_thread off as aiosqlite has it: the pool may close a connection from another thread
        return await InlineConnection(lambda: sqlite3.connect(path, timeout=0, check_same_thread=False))

    return connect
