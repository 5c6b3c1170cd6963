"""Fixtures: a migrated database (SQLite, and PostgreSQL where it runs), an engine, fake chats, images."""

from __future__ import annotations

import io
import os
import random
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from PIL import Image
from sqlmodel import func, select

from bot.conversation.engine import Engine
from bot.delivery.deliverer import Deliverer
from bot.service.web import Channels, create_app
from bot.settings import Settings
from storage.db import Database
from storage.models import Product
from tests.chat import Network
from tests.fake_telegram import TOKEN, FakeBotAPI
from tests.telegram_user import SECRET, TelegramUser

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REQUIRE_POSTGRES = os.environ.get("REQUIRE_POSTGRES") == "1"


async def _postgres_or_skip(schema: str) -> Database:
    """A PostgreSQL database in a fresh schema; skips (or fails, with REQUIRE_POSTGRES=1) if none runs."""
    import asyncpg

    try:
        conn = await asyncpg.connect(Database(POSTGRES_URL).url.replace("+asyncpg", ""), timeout=3)
    except (OSError, asyncpg.PostgresError) as exc:
        if REQUIRE_POSTGRES:
            raise
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}: {exc}")
    await conn.execute(f'CREATE SCHEMA "{schema}"')
    await conn.close()
    return Database(POSTGRES_URL, schema=schema)


async def _drop_schema(schema: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(Database(POSTGRES_URL).url.replace("+asyncpg", ""))
    await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    await conn.close()


@pytest.fixture(params=["sqlite", "postgres"])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated, empty database; every test using it runs on SQLite and on PostgreSQL."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'umkm.db'}")
    else:
        db = await _postgres_or_skip(schema)
    await db.upgrade()
    yield db
    await db.dispose()
    if request.param == "postgres":
        await _drop_schema(schema)


@pytest.fixture
async def postgres() -> AsyncIterator[Database]:
    """A migrated, empty PostgreSQL database (a schema of its own), for what only PostgreSQL does."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    db = await _postgres_or_skip(schema)
    await db.upgrade()
    yield db
    await db.dispose()
    await _drop_schema(schema)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(_env_file=None, database_url="sqlite:///unused.db", media_dir=tmp_path / "media")


class FixedClock:
    """A clock that moves only when told to, so conversations are repeatable."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 2, 3, 4, 5, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def engine(database: Database, settings: Settings) -> Engine:
    return Engine(database, settings, clock=FixedClock())


@pytest.fixture
def network(engine: Engine) -> Network:
    return Network(engine)


async def count_rows(db: Database, model: type, *where) -> int:  # type: ignore[no-untyped-def]
    """How many rows of `model` (matching `where`) the database holds."""
    async with db.transaction() as session:
        return (await session.exec(select(func.count()).select_from(model).where(*where))).one()


async def product_status(db: Database, product_id: int = 1) -> str:
    async with db.transaction() as session:
        product = await session.get(Product, product_id)
    assert product is not None
    return product.status


async def deliver_later(deliverer: Deliverer, seconds: float = 5.0) -> int:
    """Delivers what will be due in `seconds` (an album's one reply, held back for its window)."""
    clock = deliverer.clock
    deliverer.clock = lambda: clock() + timedelta(seconds=seconds)
    try:
        return await deliverer.deliver_due()
    finally:
        deliverer.clock = clock


def make_image(width: int = 640, height: int = 480, fmt: str = "JPEG", color: str = "red") -> bytes:
    """A usable product photo: `color` over a fixed texture, so it is sharp and neither too dark nor washed
    out (bot/media/photos.py refuses flat images); the same arguments give the same bytes, other colours others."""
    texture = Image.frombytes("L", (width, height), random.Random(f"{width}x{height}").randbytes(width * height))
    image = Image.blend(Image.new("RGB", (width, height), color), texture.convert("RGB"), 0.5)
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


# --- Telegram: the real client against a fake Bot API on loopback ---------------------------------


@dataclass
class World:
    api: FakeBotAPI
    client: httpx.AsyncClient
    channels: Channels
    engine: Engine
    db: Database

    def user(self, chat_id: int) -> TelegramUser:
        user = TelegramUser(self.client, self.api, chat_id)
        user.after_album = lambda: deliver_later(self.channels.deliverer)
        return user


def telegram_settings(api: FakeBotAPI, tmp_path: Path) -> Settings:
    return Settings(_env_file=None, database_url="sqlite:///unused.db", media_dir=tmp_path / "media",
                    telegram_bot_token=TOKEN, telegram_api_url=api.url, telegram_webhook_secret=SECRET,
                    telegram_chat_rate=1000)


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as fake:
        yield fake


@pytest.fixture
async def world(api: FakeBotAPI, database: Database, tmp_path: Path) -> AsyncIterator[World]:
    settings = telegram_settings(api, tmp_path)
    engine = Engine(database, settings)
    channels = Channels(settings, engine)
    assert channels.telegram is not None
    await channels.telegram.start()
    app = create_app(settings, database, channels.routes())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bot.test") as client:
        yield World(api, client, channels, engine, database)
    await channels.telegram.stop()
