"""The HTTP side: one ASGI app (`create_app`) and the `run` service that serves it next to the delivery loop.

Routes are assembled in `create_app` from small lists, so a channel adds its webhook routes (Telegram:
`POST /telegram/webhook`, WhatsApp: `GET`+`POST /whatsapp/webhook`) without touching the others.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from bot.delivery import Deliverer, Sender
from bot.settings import Settings
from storage.db import Database

log = logging.getLogger(__name__)

HEALTH_TIMEOUT = 5.0

HOW_TO_CONFIGURE = """\
No chat channel is configured yet: the server runs, but nobody can reach the bot.
  Telegram: set TELEGRAM_BOT_TOKEN (from @BotFather). With PUBLIC_URL set, Telegram calls
            {PUBLIC_URL}/telegram/webhook and TELEGRAM_WEBHOOK_SECRET is required; without it the bot polls.
  WhatsApp: set WHATSAPP_ACCESS_TOKEN and WHATSAPP_PHONE_NUMBER_ID (Meta WhatsApp Cloud API), plus
            WHATSAPP_APP_SECRET and WHATSAPP_VERIFY_TOKEN for the webhook at {PUBLIC_URL}/whatsapp/webhook.
  Put them in the environment or in a .env file, then restart `umkm-bot run`.
  To try the bot now, in a terminal on the same database: umkm-bot chat
  (register an officer for a terminal chat with: umkm-bot officer add --name NAME --region CODE --terminal ID)"""


def configured_channels(settings: Settings) -> list[str]:
    """The chat channels whose credentials are set."""
    channels = []
    if settings.telegram_bot_token:
        channels.append("telegram")
    if settings.whatsapp_access_token:
        channels.append("whatsapp")
    return channels


def channel_senders(settings: Settings) -> dict[str, Sender]:
    """The senders the `run` service delivers through, one per configured channel that has a handler."""
    return {}


def channel_routes(settings: Settings, db: Database) -> list[BaseRoute]:
    """Webhook routes of the configured channels."""
    return []


def create_app(settings: Settings, db: Database) -> Starlette:
    """The ASGI app: health check, plus each configured channel's webhook routes."""

    async def healthz(request: Request) -> JSONResponse:
        """200 when the database answers `SELECT 1`, 503 when it does not (within a few seconds)."""
        try:
            await asyncio.wait_for(_ping(db), HEALTH_TIMEOUT)
        except Exception as exc:
            log.warning("health check: database unavailable: %s", exc)
            return JSONResponse({"status": "unavailable", "database": "error"}, status_code=503)
        return JSONResponse({"status": "ok"})

    routes: list[BaseRoute] = [Route("/healthz", healthz, methods=["GET"]), *channel_routes(settings, db)]
    app = Starlette(routes=routes)
    app.state.settings = settings
    app.state.db = db
    return app


async def _ping(db: Database) -> None:
    async with db.engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


class _Server(uvicorn.Server):
    """uvicorn's server without its own signal handling: `serve` stops it and the delivery loop together."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve(settings: Settings, host: str, port: int) -> None:
    """`umkm-bot run`: migrate, then serve HTTP and deliver the outbox until SIGINT or SIGTERM."""
    db = Database(settings.database_url)
    try:
        await db.upgrade()
        channels = configured_channels(settings)
        if channels:
            log.info("channels configured: %s", ", ".join(channels))
        else:
            log.warning(HOW_TO_CONFIGURE)
        server = _Server(uvicorn.Config(create_app(settings, db), host=host, port=port, log_config=None,
                                        lifespan="off"))
        stop = asyncio.Event()

        def shutdown() -> None:
            log.info("stopping")
            stop.set()
            server.should_exit = True

        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, shutdown)
        delivery = asyncio.create_task(Deliverer(db, channel_senders(settings)).run(stop))
        try:
            await server.serve()
        finally:
            stop.set()
            await delivery
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
    finally:
        await db.dispose()
