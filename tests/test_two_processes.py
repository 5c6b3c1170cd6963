"""Two `umkm-bot run` processes, each in its own working directory, share one PostgreSQL database and one S3
bucket (moto's server on loopback) and serve one owner's journey between them over the Telegram webhook."""

from __future__ import annotations

import asyncio
import itertools
import os
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import make_url
from sqlmodel import func, select

from bot.review.officers import add_officer
from storage.db import Database
from storage.models import OutboxMessage
from tests.conftest import POSTGRES_URL, REQUIRE_POSTGRES, make_image
from tests.fake_telegram import TOKEN, FakeBotAPI
from tests.loopback import free_port
from tests.s3 import S3, s3_server  # noqa: F401  (fixture)
from tests.support.conversations import FOOD_PRODUCT, play
from tests.telegram_user import SECRET, TelegramUser
from tests.test_telegram import OFFICER, OWNER, onboard
from tests.test_telegram_run import stop_bot, wait_for_http


@pytest.fixture
async def postgres_database() -> AsyncIterator[str]:
    """A new, empty PostgreSQL database (not a schema: the processes get a plain DATABASE_URL)."""
    name = f"ops_{uuid.uuid4().hex[:10]}"
    admin_url = Database(POSTGRES_URL).url.replace("+asyncpg", "")
    try:
        conn = await asyncpg.connect(admin_url, timeout=3)
    except (OSError, asyncpg.PostgresError) as exc:
        if REQUIRE_POSTGRES:
            raise
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    await conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


class Alternating:
    """One Telegram user whose every action goes to the next process in turn, and waits until it is answered."""

    def __init__(self, user: TelegramUser, clients: list[httpx.AsyncClient], db: Database) -> None:
        self.user, self.db = user, db
        self.clients = clients
        self.turn = itertools.count()
        self.served_by: list[int] = []

    def then_on(self, index: int) -> Alternating:
        """The next action goes to process `index` (and the turns go on from there)."""
        self.turn = itertools.count(index)
        return self

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.user, name)
        if name not in ("send", "tap", "post", "photos", "press"):
            return attr

        async def act(*args: Any, **kwargs: Any) -> Any:
            index = next(self.turn) % len(self.clients)
            self.user.client = self.clients[index]
            self.served_by.append(index)
            result = await attr(*args, **kwargs)
            await settled(self.db)
            return result

        return act


async def settled(db: Database, seconds: float = 20.0) -> None:
    """Waits until every message in the outbox is sent."""
    for _ in range(int(seconds / 0.05)):
        async with db.transaction() as session:
            pending = (await session.exec(select(func.count()).select_from(OutboxMessage)
                                          .where(OutboxMessage.status == "pending"))).one()
        if not pending:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("messages still waiting in the outbox")


async def handled_updates(client: httpx.AsyncClient) -> float:
    text = (await client.get("/metrics")).text
    return sum(s.value for family in text_string_to_metric_families(text) for s in family.samples
               if s.name == "umkm_updates_total" and s.labels.get("outcome") == "handled")


@pytest.mark.postgres
async def test_two_processes_share_postgres_and_s3(tmp_path: Path, api: FakeBotAPI, s3_server: S3,  # noqa: F811
                                                   postgres_database: str) -> None:
    bucket = await s3_server.new_bucket()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WHATSAPP_", "PUBLIC_URL", "MEDIA_"))}
    env.update(DATABASE_URL=postgres_database, MEDIA_URL=f"s3://{bucket}/umkm", TELEGRAM_BOT_TOKEN=TOKEN,
               TELEGRAM_API_URL=api.url, PUBLIC_URL="https://umkm.example.go.id", TELEGRAM_WEBHOOK_SECRET=SECRET,
               **s3_server.env())
    ports, processes = [free_port(), free_port()], []
    for name, port in zip("ab", ports, strict=True):
        (tmp_path / name).mkdir()
        processes.append(await asyncio.create_subprocess_exec(  # both start at once on an empty database
            sys.executable, "-m", "bot", "run", "--port", str(port), cwd=tmp_path / name, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT))
    db = Database(postgres_database)
    clients = [httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) for port in ports]
    try:
        for client in clients:
            await wait_for_http(client)
            assert (await client.get("/readyz")).status_code == 200
        await add_officer(db, "Budi", "18.03", "telegram", str(OFFICER))
        owner = Alternating(TelegramUser(clients[0], api, OWNER), clients, db)
        await onboard(owner)  # type: ignore[arg-type]
        await play(owner, FOOD_PRODUCT)
        assert set(owner.served_by) == {0, 1}
        photo = make_image(900, 900, color="purple")
        await owner.then_on(0).photos(photo)  # stored in the bucket by the first process
        assert "Foto tersimpan: 1" in owner.last
        await owner.then_on(1).tap("Kirim ke Dinas")  # the officer's notification comes from the second
        notes = [c for c in api.calls if str(c.params.get("chat_id")) == str(OFFICER) and c.method == "sendPhoto"]
        assert notes and photo in notes[-1].files.values()  # read back from the bucket, not from a disk
        officer = Alternating(TelegramUser(clients[0], api, OFFICER, first_name="Budi"), clients, db)
        await officer.tap("Setujui")
        assert any("disetujui" in t.lower() for t in owner.texts[-2:])
        assert [await handled_updates(c) > 3 for c in clients] == [True, True]  # both served the journey
    finally:
        outputs = [await stop_bot(p) for p in processes]
        for client in clients:
            await client.aclose()
        await db.dispose()
    assert [p.returncode for p in processes] == [0, 0], outputs
    for name in "ab":  # nothing on either machine's disk: the photo lives in the bucket only
        assert not list((tmp_path / name).rglob("*.jpg"))
    for output in outputs:
        assert TOKEN not in output and "Traceback" not in output, output
