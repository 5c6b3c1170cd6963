"""CPU and SQL of one turn, by kind of update, in-process (no HTTP, no sending): where the webhook's time goes.

    python benchmarks/turn_cost.py [--chats 200] [--no-postgres]

Feeds the onboarding mix of benchmarks/webhook.py (/start, the consent button, profile answers) through the same
code as the webhook (`TelegramUpdates.handle`, uvloop), one update at a time so that each one's CPU is its own,
and prints per kind: CPU ms per update (the process's, so the database driver's threads too), SQL statements
sent (BEGIN and COMMIT not included), and the part spent starting the turn (event + lock) and writing
it (the changed rows and the outbox insert, storage/fast/writes.py). PostgreSQL in a database of its own, skipped with a
line when none answers. Its last line times a turn's start (BEGIN, the event + lock statement, COMMIT) in a
session's own transaction through SQLAlchemy's execution path and through the driver, in a turn's transaction as
it is now, and through asyncpg alone, then one bare round trip.
"""

from __future__ import annotations

import argparse
import functools
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import load  # noqa: E402
import uvloop  # noqa: E402
import webhook  # noqa: E402
from sqlalchemy import event  # noqa: E402

KINDS = {0: "/start (a new chat)", 1: "consent button", 2: "profile answer"}


def timed(spent: Counter[str], label: str, function: Any) -> Any:
    @functools.wraps(function)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.process_time()
        try:
            return await function(*args, **kwargs)
        finally:
            spent[label] += time.process_time() - started
    return wrapper


SPENT: Counter[str] = Counter()


def watch_phases() -> None:
    """Times the start of each turn (event + lock) and its writing (changed rows + outbox insert)."""
    from bot.conversation import locking
    from bot.delivery.outbox import OutboxWriter

    locking.begin_turn = timed(SPENT, "start", locking.begin_turn)  # type: ignore[assignment]
    OutboxWriter.flush = timed(SPENT, "write", OutboxWriter.flush)  # type: ignore[method-assign]


async def measure(url: str, chats: int, media: Path) -> list[str]:
    from bot.conversation.engine import Engine
    from bot.delivery.deliverer import Deliverer
    from bot.handlers.telegram import TelegramChannel
    from bot.handlers.telegram_webhook import TelegramUpdates
    from bot.settings import Settings
    from storage.db import Database

    spent = SPENT
    db = Database(url)
    await db.upgrade()
    async with load.TimedBotAPI() as api:
        settings = Settings(_env_file=None, database_url=url, media_dir=media, telegram_bot_token=load.TOKEN,
                            telegram_api_url=api.url, telegram_webhook_secret=load.SECRET)
        channel = TelegramChannel(settings)
        await channel.start()
        updates = TelegramUpdates(channel, Engine(db, settings), Deliverer(db, {}))
        statements = [0]
        def counted(_conn: object, _cursor: object, sql: str, *_rest: object) -> None:
            statements[0] += not sql.startswith("BEGIN")  # BEGIN/COMMIT not counted, as for asyncpg

        for engine in db.engines:  # SQLite: turns run on the quick engine
            event.listen(engine.sync_engine, "before_cursor_execute", counted)
        for n in range(100):  # warm-up: caches, prepared statements, connections
            await updates.handle(load.update(n, 800_000_000, chats=20))
        lines = []
        for step in range(6):
            spent.clear()
            cpu, sql = time.process_time(), statements[0]
            for n in range(chats):
                await updates.handle(load.update(step * chats + n, 900_000_000, chats=chats))
            cpu = (time.process_time() - cpu) / chats * 1000
            kind = KINDS.get(step, KINDS[2])
            lines.append(f"| {kind} | {cpu:.2f} | {(statements[0] - sql) / chats:.1f} | "
                         f"{spent['start'] / chats * 1000:.2f} | {spent['write'] / chats * 1000:.2f} |")
        await channel.stop()
    await db.dispose()
    return lines


async def driver_floor(url: str, count: int = 1500) -> str:
    """The turn's start (BEGIN, the event + lock statement, COMMIT) four ways: in an ORM session's own transaction
    through SQLAlchemy's execution path; the same session with the statement sent by storage/fast/driver.py (the
    previous round's turn); a turn's transaction now (`Database.transaction(quick=True)`: the session bound to a
    connection the driver begins and commits); and asyncpg alone. Then what one round trip costs the client."""
    from datetime import UTC, datetime

    import asyncpg
    from sqlalchemy.dialects import postgresql

    from bot.conversation import locking
    from storage.db import Database
    from storage.fast import driver

    db = Database(url)
    compiled = locking.RECORD_AND_LOCK.compile(dialect=postgresql.asyncpg.dialect())
    raw = await asyncpg.connect(db.driver_dsn())
    numbers = iter(range(10**9))

    def params() -> dict[str, Any]:  # a chat that has no contact: the event is new every time, as in a turn
        return {"channel": "floor", "address": "1", "event_id": f"f{next(numbers)}", "now": datetime.now(UTC)}

    async def through_sqlalchemy() -> None:
        async with db.sessions() as session, session.begin():
            (await session.exec(locking.RECORD_AND_LOCK, params=params())).one()

    async def session_and_driver() -> None:
        async with db.sessions() as session, session.begin():
            await driver.fetch(session, locking.RECORD_AND_LOCK, params())

    async def as_a_turn() -> None:
        async with db.transaction(quick=True) as session:
            await driver.fetch(session, locking.RECORD_AND_LOCK, params())

    async def through_asyncpg() -> None:
        given = {**compiled.params, **params()}
        async with raw.transaction():
            await raw.fetchrow(str(compiled), *(given[name] for name in compiled.positiontup or ()))

    async def round_trip() -> None:
        await raw.fetchval("SELECT $1::int", 1)

    ways = (("SQLAlchemy", through_sqlalchemy), ("session", session_and_driver), ("turn", as_a_turn),
            ("asyncpg", through_asyncpg), ("round trip", round_trip))
    figures: dict[str, float] = {}
    for name, run in ways * 2:
        for _ in range(200):  # warm-up: prepared statements, pool
            await run()
        started = time.process_time()
        for _ in range(count):
            await run()
        figures[name] = (time.process_time() - started) / count * 1000
    await raw.close()
    await db.dispose()
    return (f"BEGIN + event and lock statement + COMMIT, CPU ms: in an ORM session's transaction through "
            f"SQLAlchemy's execution {figures['SQLAlchemy']:.2f}, the same session with the statement sent by "
            f"storage/fast/driver.py {figures['session']:.2f}, a turn's transaction now (driver.bind) "
            f"{figures['turn']:.2f}, asyncpg alone {figures['asyncpg']:.2f}; one round trip through asyncpg "
            f"(SELECT $1) {figures['round trip']:.3f}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chats", type=int, default=200)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    head = ("| update | CPU ms | SQL statements | of which CPU ms: event + lock | writing (changed rows + outbox) |\n"
            "|---|---|---|---|---|")
    watch_phases()
    with tempfile.TemporaryDirectory(prefix="umkm-turn-") as tmp:
        print("SQLite:\n" + head)
        print("\n".join(await measure(f"sqlite:///{tmp}/turn.db", args.chats, Path(tmp))))
        url = None if args.no_postgres else await webhook.postgres_database()
        if url is None:
            print(f"PostgreSQL skipped: {'--no-postgres' if args.no_postgres else 'none answers at ' + load.PG_ADMIN}")
            return
        try:
            print("PostgreSQL:\n" + head)
            print("\n".join(await measure(url, args.chats, Path(tmp))))
            print(await driver_floor(url))
        finally:
            await webhook.drop_database(url)


if __name__ == "__main__":
    uvloop.run(main())
