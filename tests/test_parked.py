"""Turns keep their connections between turns (storage/fast/parked.py): no pool checkout while turns go well, the pool
again after a failure, after an idle spell, and beyond `keep` connections."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from sqlalchemy import event, func, select

from bot.conversation import locking
from bot.domain.messages import Inbound
from storage.db import Database
from storage.fast import driver
from storage.models import InboundEvent, utcnow


def count_checkouts(db: Database) -> list[int]:
    checkouts = [0]
    event.listen(db.quick_engine.sync_engine, "checkout", lambda *_: checkouts.__setitem__(0, checkouts[0] + 1))
    return checkouts


async def a_turn(db: Database, n: int) -> None:
    async with db.transaction(quick=True) as session:
        assert await locking.begin_turn(session, Inbound("fake", "62811", f"e{n}", "text", "halo"), utcnow())


async def test_turns_reuse_one_connection_without_the_pool(database: Database) -> None:
    await a_turn(database, 0)
    checkouts = count_checkouts(database)
    for n in range(1, 6):
        await a_turn(database, n)
    assert checkouts[0] == 0 and database.parked.count == 1
    if not database.is_sqlite:
        pids = set()
        for _ in range(3):
            async with database.transaction(quick=True) as session:
                ((pid,),) = await driver.fetch(session, select(func.pg_backend_pid()), {})
                pids.add(pid)
        assert len(pids) == 1


async def test_a_failed_turn_gives_its_connection_back_to_the_pool(database: Database) -> None:
    await a_turn(database, 0)
    assert database.parked.count == 1
    with pytest.raises(RuntimeError):
        async with database.transaction(quick=True) as session:
            assert await locking.begin_turn(session, Inbound("fake", "62811", "e1", "text", "halo"), utcnow())
            raise RuntimeError("the turn failed")
    assert database.parked.count == 0  # rolled back through the pool, not parked half-done
    checkouts = count_checkouts(database)
    await a_turn(database, 1)  # the same event again: it was rolled back, so it is new
    assert checkouts[0] == 1 and database.parked.count == 1


async def test_a_connection_idle_too_long_goes_back_to_the_pool(database: Database,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The pool's checkout pings a connection that sat idle (storage/db.py); a parked one must meet it too."""
    await a_turn(database, 0)
    monkeypatch.setattr(database.parked, "idle_limit", 0.0)
    checkouts = count_checkouts(database)
    await a_turn(database, 1)
    assert checkouts[0] == 1


async def test_no_more_than_keep_connections_are_parked(database: Database) -> None:
    """The rest of the pool stays free for delivery, the console and jobs."""
    if database.is_sqlite:
        pytest.skip("SQLite's turns run one at a time")
    keep = database.parked.keep
    release, all_started = asyncio.Event(), asyncio.Event()
    started = 0

    async def held(n: int) -> None:
        nonlocal started
        async with database.transaction(quick=True) as session:
            await driver.fetch(session, select(func.abs(-n)), {})
            started += 1
            if started == keep + 3:
                all_started.set()
            await release.wait()

    turns = [asyncio.create_task(held(n)) for n in range(keep + 3)]
    await asyncio.wait_for(all_started.wait(), 10)
    release.set()
    await asyncio.gather(*turns)
    assert database.parked.count == keep
    await database.dispose()
    assert database.parked.count == 0
    assert database.engine.pool.checkedout() == 0  # type: ignore[attr-defined]


async def test_a_parked_connection_starts_its_next_transaction_with_the_commit(database: Database,
                                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """`COMMIT; BEGIN` in one round trip: the next turn sends its statements and that, no BEGIN of its own; a
    connection that will not be parked commits plainly; one given back to the pool is rolled back there."""
    if database.is_sqlite:
        pytest.skip("PostgreSQL's round trips")
    sent: list[str] = []
    async with database.transaction(quick=True) as session:
        ((pid,),) = await driver.fetch(session, select(func.pg_backend_pid()), {})
        session.info[driver.BOUND][1]._connection.add_query_logger(lambda logged: sent.append(logged.query))
    admin = await asyncpg.connect(database.driver_dsn())
    try:
        state = "SELECT state FROM pg_stat_activity WHERE pid = $1"
        assert await admin.fetchval(state, pid) == "idle in transaction"  # parked, its next transaction begun
        sent.clear()
        await a_turn(database, 1)
        await asyncio.sleep(0)  # asyncpg calls its query loggers soon after, not at once
        assert sent[-1] == "COMMIT; BEGIN" and not any(q.startswith("BEGIN") for q in sent), sent  # no BEGIN
        monkeypatch.setattr(database.parked, "keep", 0)  # no room: this turn's connection goes back to the pool
        sent.clear()
        await a_turn(database, 2)
        await asyncio.sleep(0)
        assert sent[-1] == "COMMIT;" and "COMMIT; BEGIN" not in sent  # asyncpg's own COMMIT
        assert await admin.fetchval(state, pid) == "idle"
        async with database.sessions() as session:  # both turns committed
            assert (await session.exec(select(func.count()).select_from(InboundEvent))).one()[0] == 2
    finally:
        await admin.close()


async def test_a_connection_left_parked_goes_back_to_the_pool_by_itself(database: Database,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """With no turn to come (a quiet night), a parked connection does not wait "idle in transaction" for long."""
    monkeypatch.setattr(database.parked, "idle_limit", 0.05)
    await a_turn(database, 0)
    assert database.parked.count == 1
    pid = None
    if not database.is_sqlite:  # the parked connection's backend (taking it parks it again)
        async with database.transaction(quick=True) as session:
            ((pid,),) = await driver.fetch(session, select(func.pg_backend_pid()), {})
    for _ in range(100):
        if database.parked.count == 0:
            break
        await asyncio.sleep(0.02)
    assert database.parked.count == 0
    if not database.is_sqlite:
        admin = await asyncpg.connect(database.driver_dsn())
        try:  # rolled back on its way to the pool
            assert await admin.fetchval("SELECT state FROM pg_stat_activity WHERE pid = $1", pid) == "idle"
        finally:
            await admin.close()
