"""/readyz: 503 with the reason when the database is gone, migrations are behind or a channel is paused."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
from sqlalchemy.engine import make_url

from bot.service.web import create_app
from bot.settings import Settings
from storage.db import Database
from storage.models import ChannelState
from tests.conftest import POSTGRES_URL, _drop_schema, _postgres_or_skip
from tests.loopback import free_port
from tests.s3 import S3, s3_server  # noqa: F401  (fixture)
from tests.tcp_proxy import TcpProxy


def client(settings: Settings, db: Database) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(settings, db)), base_url="http://bot")


async def test_ready_when_all_is_well(database: Database, settings: Settings) -> None:
    async with client(settings, database) as http:
        response = await http.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json()["checks"] == {"media": "ok", "database": "ok", "migrations": "ok"}


async def test_503_when_the_database_cannot_connect(settings: Settings) -> None:
    broken = Database(f"postgresql://bot@127.0.0.1:{free_port()}/umkm")
    try:
        async with client(settings, broken) as http:
            response = await http.get("/readyz")
    finally:
        await broken.dispose()
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "error" and response.json()["reasons"]


async def test_503_while_postgres_is_gone_and_200_when_it_is_back(settings: Settings) -> None:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    await (await _postgres_or_skip(schema)).dispose()  # creates the schema
    url = make_url(POSTGRES_URL)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    db = Database(url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False), schema=schema)
    try:
        await db.upgrade()
        async with client(settings, db) as http:
            assert (await http.get("/readyz")).status_code == 200
            await proxy.cut()
            gone = await http.get("/readyz")
            assert gone.status_code == 503 and gone.json()["checks"]["database"] == "error", gone.text
            await proxy.start()  # PostgreSQL "comes back"
            back = await http.get("/readyz")
            assert back.status_code == 200, back.text
    finally:
        await proxy.cut()
        await db.dispose()
        await _drop_schema(schema)


async def test_503_for_a_paused_configured_channel(database: Database, settings: Settings) -> None:
    telegram = settings.model_copy(update={"telegram_bot_token": "1:x"})
    async with database.transaction() as session:
        session.add(ChannelState(channel="telegram", paused_reason="Unauthorized: the bot token was revoked"))
        session.add(ChannelState(channel="whatsapp", paused_reason="not configured here, so not counted"))
    async with client(telegram, database) as http:
        paused = await http.get("/readyz")
    assert paused.status_code == 503
    assert paused.json()["checks"]["channel:telegram"] == "paused"
    assert paused.json()["reasons"] == ["channel telegram paused: Unauthorized: the bot token was revoked"]
    async with database.transaction() as session:
        row = await session.get(ChannelState, "telegram")
        assert row is not None
        row.paused_reason = None
        session.add(row)
    async with client(telegram, database) as http:
        assert (await http.get("/readyz")).status_code == 200


async def test_503_when_migrations_are_behind(database: Database, settings: Settings) -> None:
    await database.downgrade("0002")
    async with client(settings, database) as http:
        behind = await http.get("/readyz")
    assert behind.status_code == 503
    assert behind.json()["checks"]["migrations"] == "behind"
    assert "umkm-bot db upgrade" in behind.json()["reasons"][0]
    await database.upgrade()
    async with client(settings, database) as http:
        assert (await http.get("/readyz")).status_code == 200


async def test_ready_when_a_newer_release_migrated_already(database: Database, settings: Settings) -> None:
    """During a rolling upgrade the old processes keep serving after `db upgrade` ran for the new release."""
    from sqlalchemy import text

    async with database.engine.begin() as conn:
        await conn.execute(text("INSERT INTO alembic_version (version_num) VALUES ('9999_future')"))
    async with client(settings, database) as http:
        response = await http.get("/readyz")
    assert response.status_code == 200 and response.json()["checks"]["migrations"] == "ahead"


async def test_ready_with_the_s3_bucket_and_503_without_it(database: Database, settings: Settings,
                                                          s3_server: S3) -> None:  # noqa: F811
    bucket = await s3_server.new_bucket()
    there = settings.model_copy(update={"media_url": f"s3://{bucket}/photos", **s3_server.settings()})
    missing = there.model_copy(update={"media_url": f"s3://no-such-{bucket}"})
    async with client(there, database) as http:
        ok = await http.get("/readyz")
    async with client(missing, database) as http:
        gone = await http.get("/readyz")
    assert ok.status_code == 200 and ok.json()["checks"]["media"] == "ok", ok.text
    assert gone.status_code == 503 and gone.json()["checks"]["media"] == "error", gone.text
    assert gone.json()["reasons"][0].startswith(f"media store unreachable: s3://no-such-{bucket}: ")


async def test_503_within_seconds_when_the_s3_endpoint_is_down(database: Database, settings: Settings,
                                                               s3_server: S3) -> None:  # noqa: F811
    import time

    down = settings.model_copy(update={"media_url": "s3://media", **s3_server.settings(),
                                       "s3_endpoint_url": f"http://127.0.0.1:{free_port()}"})
    started = time.monotonic()
    async with client(down, database) as http:
        response = await http.get("/readyz")
    assert response.status_code == 503 and response.json()["checks"]["media"] in ("error", "timeout")
    assert "media store unreachable: s3://media: " in response.json()["reasons"][0]
    assert time.monotonic() - started < 5


async def test_503_when_the_media_folder_is_not_a_folder(database: Database, settings: Settings,
                                                         tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    async with client(settings.model_copy(update={"media_dir": tmp_path / "file" / "media"}), database) as http:
        response = await http.get("/readyz")
    assert response.status_code == 503 and response.json()["checks"]["media"] == "error"
    assert response.json()["reasons"][0].startswith("media store unreachable: ")
