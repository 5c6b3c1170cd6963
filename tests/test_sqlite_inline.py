"""SQLite's quick connections (storage/fast/sqlite_inline.py): a turn's statements run on the event loop's thread, and
a write lock held by another process is waited for in asyncio, never by blocking the loop."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError

from bot.conversation.engine import Engine
from bot.domain.messages import Inbound
from bot.settings import Settings
from storage.db import Database, is_transient
from storage.fast import sqlite_inline


@pytest.fixture
async def sqlite_db(tmp_path: Path):  # type: ignore[no-untyped-def]
    db = Database(f"sqlite:///{tmp_path / 'umkm.db'}")
    await db.upgrade()
    yield db
    await db.dispose()


async def test_a_turn_runs_its_statements_on_the_event_loops_thread(sqlite_db: Database, settings: Settings) -> None:
    seen: dict[str, int] = {"engine": 0, "quick": 0}
    event.listen(sqlite_db.engine.sync_engine, "before_cursor_execute",
                 lambda *_: seen.update(engine=seen["engine"] + 1))
    event.listen(sqlite_db.quick_engine.sync_engine, "before_cursor_execute",
                 lambda *_: seen.update(quick=seen["quick"] + 1))
    for engine in sqlite_db.engines:  # SQLite tells which thread runs a statement
        event.listen(engine.sync_engine, "connect",
                     lambda dbapi, _record: dbapi.create_function("thread_id", 0, threading.get_ident))
    await sqlite_db.dispose()  # new connections from here on, with the function
    replies = await Engine(sqlite_db, settings).handle(Inbound("fake", "628111", "e1", "command", "/start"))
    assert replies and replies[0].outbox_id is not None
    assert seen["quick"] >= 4 and seen["engine"] == 0  # the whole turn on the quick engine
    async with sqlite_db.transaction(quick=True) as session:
        assert (await session.exec(text("SELECT thread_id()"))).scalar() == threading.get_ident()  # type: ignore[call-overload]
    async with sqlite_db.transaction() as session:  # not quick: aiosqlite's worker thread, as before
        assert (await session.exec(text("SELECT thread_id()"))).scalar() != threading.get_ident()  # type: ignore[call-overload]


def hold_write_lock(path: str, seconds: float, locked: threading.Event) -> None:
    """Another process's writer, as SQLite sees it: its own connection holding the write lock."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    locked.set()
    time.sleep(seconds)
    conn.execute("COMMIT")
    conn.close()


async def test_a_locked_database_is_waited_for_in_asyncio(sqlite_db: Database, settings: Settings) -> None:
    assert sqlite_db.sqlite_path is not None
    locked = threading.Event()
    holder = threading.Thread(target=hold_write_lock, args=(sqlite_db.sqlite_path, 0.6, locked))
    holder.start()
    await asyncio.to_thread(locked.wait)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticking = asyncio.create_task(ticker())
    started = time.monotonic()
    replies = await Engine(sqlite_db, settings).handle(Inbound("fake", "628111", "e1", "command", "/start"))
    waited = time.monotonic() - started
    ticking.cancel()
    holder.join()
    assert replies and replies[0].outbox_id is not None  # applied once the other writer let go
    assert waited >= 0.4
    assert ticks >= waited / 0.01 * 0.5  # the loop kept running meanwhile


async def test_a_lock_held_too_long_is_a_transient_error(sqlite_db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    assert sqlite_db.sqlite_path is not None
    monkeypatch.setattr(sqlite_inline, "LOCKED_WAIT", 0.2)
    locked = threading.Event()
    holder = threading.Thread(target=hold_write_lock, args=(sqlite_db.sqlite_path, 0.8, locked))
    holder.start()
    await asyncio.to_thread(locked.wait)
    with pytest.raises(OperationalError) as raised:
        async with sqlite_db.transaction(quick=True) as session:
            await session.exec(text("SELECT 1"))  # type: ignore[call-overload]
    holder.join()
    assert is_transient(raised.value)  # the engine retries it, then answers 503 so the channel sends it again
