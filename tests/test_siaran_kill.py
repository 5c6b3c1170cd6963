"""`umkm-bot broadcast` killed (-9) while it writes a siaran of 3,000 owners on PostgreSQL: nothing of it stays
(one transaction), and the rerun reaches each owner exactly once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import insert

from storage.db import Database
from storage.models import Business, Contact, Owner, utcnow
from tests.conftest import POSTGRES_URL, REQUIRE_POSTGRES

ROOT = Path(__file__).resolve().parent.parent
OWNERS = 3000


async def fresh_database() -> str:
    admin = Database(POSTGRES_URL).url.replace("+asyncpg", "")
    try:
        conn = await asyncpg.connect(admin, timeout=3)
    except (OSError, asyncpg.PostgresError) as exc:
        if REQUIRE_POSTGRES:
            raise
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}: {exc}")
    name = f"kill_{uuid.uuid4().hex[:10]}"
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    return POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"


async def seed(url: str) -> None:
    db = Database(url)
    await db.upgrade()
    now = utcnow()
    ids = range(1, OWNERS + 1)
    async with db.engine.begin() as conn:
        await conn.execute(insert(Owner.__table__), [{"id": i, "created_at": now} for i in ids])  # type: ignore[attr-defined]
        await conn.execute(insert(Business.__table__), [  # type: ignore[attr-defined]
            {"id": i, "owner_id": i, "region_code": "18.03", "skipped": [], "created_at": now} for i in ids])
        await conn.execute(insert(Contact.__table__), [  # type: ignore[attr-defined]
            {"channel": "telegram", "address": str(900_000_000 + i), "locale": "id", "display_name": "",
             "owner_id": i, "created_at": now, "last_inbound_at": now} for i in ids])
    await db.dispose()


def broadcast(url: str, text: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WHATSAPP_", "DATABASE_"))}
    env.update(DATABASE_URL=url, PYTHONPATH=str(ROOT))
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, "-m", "bot", "broadcast", "--region", "18.03", "--status", "all",
                                 "--text-file", str(text)], env=env, stdout=out, stderr=subprocess.STDOUT)


async def writing(conn: asyncpg.Connection, name: str) -> bool:
    """A backend of that database is inside a transaction that has written siaran rows."""
    return bool(await conn.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND xact_start IS NOT NULL "
        "AND (query ILIKE 'INSERT INTO outboxmessage%' OR query ILIKE 'INSERT INTO siaran%')", name))


async def counts(conn: asyncpg.Connection) -> tuple[int, int, int, int]:
    return (await conn.fetchval("SELECT count(*) FROM siaran"),
            await conn.fetchval("SELECT count(*) FROM outboxmessage"),
            await conn.fetchval("SELECT count(DISTINCT address) FROM outboxmessage"),
            await conn.fetchval("SELECT count(*) FROM siaranrecipient"))


async def test_killed_mid_write_leaves_nothing_and_the_rerun_sends_once(tmp_path: Path) -> None:
    url = await fresh_database()
    name = url.rsplit("/", 1)[1]
    admin = Database(POSTGRES_URL).url.replace("+asyncpg", "")
    try:
        await seed(url)
        text = tmp_path / "pesan.txt"
        text.write_text("Pelatihan foto produk, Sabtu 09.00.", encoding="utf-8")
        watch = await asyncpg.connect(admin)
        process = broadcast(url, text, tmp_path / "killed.log")
        deadline = time.monotonic() + 60
        while not await writing(watch, name):
            assert process.poll() is None, (tmp_path / "killed.log").read_text()[-2000:]
            assert time.monotonic() < deadline
            await asyncio.sleep(0.005)
        process.send_signal(signal.SIGKILL)
        process.wait()
        for _ in range(100):  # the server notices the dead client and rolls its transaction back
            if not await watch.fetchval("SELECT count(*) FROM pg_stat_activity WHERE datname = $1 "
                                        "AND xact_start IS NOT NULL AND pid <> pg_backend_pid()", name):
                break
            await asyncio.sleep(0.05)
        conn = await asyncpg.connect(url.replace("+asyncpg", ""))
        assert await counts(conn) == (0, 0, 0, 0)
        rerun = broadcast(url, text, tmp_path / "rerun.log")
        assert rerun.wait(timeout=120) == 0, (tmp_path / "rerun.log").read_text()
        assert await counts(conn) == (1, OWNERS, OWNERS, OWNERS)
        await conn.close()
        await watch.close()
    finally:
        conn = await asyncpg.connect(admin)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()
