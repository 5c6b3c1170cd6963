"""CPU and SQL of one turn, by kind of update, in-process (no HTTP, no sending): where the webhook's time goes.

    python benchmarks/turn_cost.py [--chats 200] [--no-postgres]

Feeds the onboarding mix of benchmarks/webhook.py (/start, the consent button, profile answers) through the same
code as the webhook (`TelegramUpdates.handle`, uvloop), one update at a time so that each one's CPU is its own,
and prints per kind: CPU ms per update (the process's, so the database driver's threads too), SQL statements
sent (BEGIN and COMMIT not included), and the part spent starting the turn (event + lock) and writing
it (the unit of work's flush + the outbox insert). PostgreSQL in a database of its own, skipped with a line when
none answers.
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
    """Times the start of each turn (event + lock) and its writing (flush + outbox insert)."""
    from bot import locking
    from bot.outbox import OutboxWriter

    locking.begin_turn = timed(SPENT, "start", locking.begin_turn)  # type: ignore[assignment]
    OutboxWriter.flush = timed(SPENT, "write", OutboxWriter.flush)  # type: ignore[method-assign]


async def measure(url: str, chats: int, media: Path) -> list[str]:
    from bot.delivery import Deliverer
    from bot.engine import Engine
    from bot.handlers.telegram import TelegramChannel, TelegramUpdates
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


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chats", type=int, default=200)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    head = ("| update | CPU ms | SQL statements | of which CPU ms: event + lock | writing (flush + outbox) |\n"
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
        finally:
            await webhook.drop_database(url)


if __name__ == "__main__":
    uvloop.run(main())
