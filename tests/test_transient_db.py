"""Issue 9, item 2: a dropped database connection or a database that is down never loses an answer."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy import func, select

import storage.db
from bot.settings import Settings
from storage.db import Database
from storage.fast import driver
from tests.conftest import World


@pytest.mark.parametrize("idle", [False, True])
async def test_a_dropped_connection_does_not_cost_the_answer(world: World, idle: bool,
                                                            monkeypatch: pytest.MonkeyPatch,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    """Fresh from use: the engine retries the event; idle: the connection goes back to the pool, whose pre-ping
    replaces it."""
    if idle:
        monkeypatch.setattr(storage.db, "PING_AFTER_IDLE", 0.0)
        monkeypatch.setattr(world.db.parked, "idle_limit", 0.0)
    if world.db.is_sqlite:
        pytest.skip("a dropped server connection is a PostgreSQL matter")
    user = world.user(424242)
    await user.send("/start")
    async with world.db.transaction(quick=True) as session:  # the connection the next update's turn will get
        ((pid,),) = await driver.fetch(session, select(func.pg_backend_pid()), {})
    admin = await asyncpg.connect(world.db.driver_dsn())
    await admin.execute("SELECT pg_terminate_backend($1)", pid)  # e.g. a PostgreSQL restart or failover
    await admin.close()
    response = await user.send("/start")
    assert response.status_code == 200
    assert not any("gangguan" in t for t in user.texts), user.texts  # no apology
    assert len(user.texts) == 2
    retried = any("transient database error" in r.getMessage() for r in caplog.records)
    assert retried != idle


async def test_a_database_that_is_down_gets_a_503_and_the_update_again_later(world: World,
                                                                           settings: Settings) -> None:
    user = world.user(434343)
    update = user.message_update("command_start", text="/start")
    update["message"]["entities"] = [{"offset": 0, "length": 6, "type": "bot_command"}]
    working = world.engine.db
    world.engine.db = Database("postgresql://postgres@127.0.0.1:1/nowhere")  # nothing listens there
    try:
        response = await user.post(update)
    finally:
        await world.engine.db.dispose()
        world.engine.db = working
    assert response.status_code == 503  # Telegram delivers it again
    response = await user.post(update)  # ... and then it is answered: it was never marked handled
    assert response.status_code == 200 and len(user.texts) == 1
    assert "gangguan" not in user.texts[0]
