"""The ASGI app: /healthz on a working and on a broken database."""

from __future__ import annotations

import socket

import httpx

from bot import version
from bot.service.web import HOW_TO_CONFIGURE, configured_channels, create_app
from bot.settings import Settings
from storage.db import Database


def client(settings: Settings, db: Database) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(settings, db)), base_url="http://bot")


async def test_healthz_ok(database: Database, settings: Settings) -> None:
    async with client(settings, database) as http:
        response = await http.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok", "version": version()}


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_healthz_503_when_the_database_fails(settings: Settings) -> None:
    broken = Database(f"postgresql://bot@127.0.0.1:{closed_port()}/umkm")  # nothing listens there
    try:
        async with client(settings, broken) as http:
            response = await http.get("/healthz")
    finally:
        await broken.dispose()
    assert response.status_code == 503 and response.json()["status"] != "ok"
    assert response.json()["version"] == version()


async def test_unknown_route_and_method(database: Database, settings: Settings) -> None:
    async with client(settings, database) as http:
        assert (await http.get("/nope")).status_code == 404
        assert (await http.post("/healthz")).status_code == 405


def test_configured_channels_and_how_to(settings: Settings) -> None:
    assert configured_channels(settings) == []
    both = settings.model_copy(update={"telegram_bot_token": "1:x", "whatsapp_access_token": "y"})
    assert configured_channels(both) == ["telegram", "whatsapp"]
    for name in ("TELEGRAM_BOT_TOKEN", "WHATSAPP_ACCESS_TOKEN", "WHATSAPP_PHONE_NUMBER_ID", "umkm-bot chat"):
        assert name in HOW_TO_CONFIGURE
