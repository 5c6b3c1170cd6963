"""The HTTP side: one ASGI app (`create_app`) and the `run` service that serves it next to the delivery loop.

Routes are assembled in `create_app` from small lists, so a channel adds its webhook routes (Telegram:
`POST /telegram/webhook`, WhatsApp: `GET`+`POST /whatsapp/webhook`) without touching the others.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import re
import signal
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from sqlalchemy import text
from sqlmodel import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from bot import version
from bot.conversation.engine import Engine
from bot.delivery.deliverer import Deliverer, Sender
from bot.dinas import app as dinas
from bot.handlers.telegram import TelegramChannel
from bot.handlers.telegram_webhook import TelegramUpdates
from bot.handlers.telegram_webhook import webhook_route as telegram_webhook_route
from bot.jobs.scheduled import Jobs
from bot.media.photos import media_store
from bot.ops import health, metrics
from bot.settings import Settings
from bot.words.i18n import Renderer
from storage.db import Database
from storage.models import Contact, Officer

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


class Channels:
    """The configured chat channels: their senders, webhook routes, and what they do at start and stop."""

    def __init__(self, settings: Settings, engine: Engine, name: str | None = None) -> None:
        """`name` names this process's deliverer ("host:run-8080-0"); a restart under it takes its leases back."""
        self.settings = settings
        self.db = engine.db
        self.telegram = TelegramChannel(settings) if settings.telegram_bot_token else None
        self.whatsapp: Any = None
        self.whatsapp_updates: Any = None
        if settings.whatsapp_access_token:  # pywa is imported only where WhatsApp is configured (~9 MB)
            from bot.handlers.whatsapp import WhatsAppChannel

            self.whatsapp = WhatsAppChannel(settings, engine.db, engine.renderer)
        senders: dict[str, Sender] = {}
        if self.telegram:
            senders["telegram"] = self.telegram
        if self.whatsapp:
            senders["whatsapp"] = self.whatsapp
        self.deliverer = Deliverer(engine.db, senders, name=name, base_delay=settings.delivery_base_delay,
                                   probe_interval=settings.delivery_probe_seconds)
        self.telegram_updates = TelegramUpdates(self.telegram, engine, self.deliverer) if self.telegram else None
        if self.whatsapp:
            from bot.handlers.whatsapp_webhook import WhatsAppUpdates

            self.whatsapp_updates = WhatsAppUpdates(self.whatsapp, engine, self.deliverer)
        self._tasks: list[asyncio.Task[None]] = []

    def routes(self) -> list[BaseRoute]:
        routes: list[BaseRoute] = []
        if self.telegram_updates:
            routes.append(telegram_webhook_route(self.settings, self.telegram_updates))
        if self.whatsapp_updates:
            from bot.handlers.whatsapp_webhook import routes as whatsapp_routes

            routes.extend(whatsapp_routes(self.settings, self.whatsapp_updates))
        return routes

    async def start(self, stop: asyncio.Event, renderer: Renderer, poll: bool = True) -> None:
        """Telegram: commands menu, then the webhook (with PUBLIC_URL) or long polling.

        `poll` is False for all but one of `run --workers N`: Telegram refuses a second poller of one bot.
        """
        if self.telegram is None or self.telegram_updates is None:
            return
        await self.telegram.start()
        await self.telegram.set_commands(renderer)
        await self.telegram.set_officer_commands(renderer, await _officer_chats(self.db, "telegram"))
        if self.settings.public_url:
            await self.telegram.register_webhook()
            log.info("telegram: webhook at %s/telegram/webhook", self.settings.public_url.rstrip("/"))
        elif poll:
            self._tasks.append(asyncio.create_task(self.telegram.poll(self.telegram_updates.handle_and_send, stop)))
            log.info("telegram: long polling")

    async def stop(self) -> None:
        for task in self._tasks:
            await task
        if self.telegram_updates is not None:
            await self.telegram_updates.drain()
        if self.telegram is not None:
            await self.telegram.stop()
        if self.whatsapp is not None:
            await self.whatsapp.stop()


def check_settings(settings: Settings) -> None:
    """Refuses settings that cannot work, before anything starts."""
    if settings.telegram_bot_token and settings.public_url and not settings.telegram_webhook_secret:
        raise SystemExit("TELEGRAM_WEBHOOK_SECRET is required when PUBLIC_URL is set (webhook mode).")
    if settings.whatsapp_access_token and not settings.whatsapp_phone_number_id:
        raise SystemExit("WHATSAPP_PHONE_NUMBER_ID is required with WHATSAPP_ACCESS_TOKEN.")
    if settings.whatsapp_access_token and not settings.whatsapp_app_secret:
        raise SystemExit("WHATSAPP_APP_SECRET is required with WHATSAPP_ACCESS_TOKEN (it checks the webhook).")
    secret = settings.telegram_webhook_secret
    if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
        raise SystemExit("TELEGRAM_WEBHOOK_SECRET may only use A-Z, a-z, 0-9, _ and - (1 to 256 characters).")


def create_app(settings: Settings, db: Database, routes: list[BaseRoute] | None = None,
               renderer: Renderer | None = None, deliver: dinas.Deliver | None = None) -> Starlette:
    """The ASGI app: health check, the officers' console under /dinas/, each configured channel's webhooks."""

    async def healthz(request: Request) -> JSONResponse:
        """200 when the database answers `SELECT 1`, 503 when it does not (within a few seconds); with the version
        running (pyproject.toml's, see bot/__init__.py)."""
        try:
            await asyncio.wait_for(_ping(db), HEALTH_TIMEOUT)
        except Exception as exc:
            log.warning("health check: database unavailable: %s", exc)
            return JSONResponse({"status": "unavailable", "database": "error", "version": version()},
                                status_code=503)
        return JSONResponse({"status": "ok", "version": version()})

    async def readyz(request: Request) -> JSONResponse:
        """200 when the database answers, migrations are current, no configured channel is paused and the media
        store answers; else 503."""
        found = await health.readiness(db, configured_channels(settings), store=media_store(settings))
        if not found.ready:
            log.warning("not ready: %s", "; ".join(found.reasons))
        return JSONResponse(found.as_json(), status_code=200 if found.ready else 503)

    ops = [Route("/healthz", healthz, methods=["GET"]), Route("/readyz", readyz, methods=["GET"])]
    if settings.metrics_enabled:
        ops.append(metrics.route(settings.metrics_token, db))
    app = Starlette(routes=[*ops, *dinas.routes(settings, db, renderer, deliver=deliver), *(routes or [])])
    app.state.settings = settings
    app.state.db = db
    return app


async def _officer_chats(db: Database, channel: str) -> list[tuple[str, str]]:
    """(address, locale) of the active officers' chats on one channel."""
    async with db.transaction() as session:
        query = (select(Contact.address, Contact.locale).join(Officer, Officer.id == Contact.officer_id)
                 .where(Contact.channel == channel, Officer.active == True))  # noqa: E712
        return [(address, locale) for address, locale in (await session.exec(query)).all()]


async def _ping(db: Database) -> None:
    async with db.engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


class _Server(uvicorn.Server):
    """uvicorn's server without its own signal handling: `serve` stops it and the delivery loop together."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve(settings: Settings, host: str, port: int, sock: socket.socket | None = None, index: int = 0) -> None:
    """`umkm-bot run`: migrate, then serve HTTP and deliver the outbox until SIGINT or SIGTERM.

    With `sock` (one of `--workers N` processes) the listening socket is shared and migrations already ran.
    """
    check_settings(settings)
    db = Database(settings.database_url, pool_size=settings.database_pool_size)
    try:
        if sock is None:
            await db.upgrade()
        configured = configured_channels(settings)
        if configured:
            log.info("channels configured: %s", ", ".join(configured))
        elif index == 0:
            log.warning(HOW_TO_CONFIGURE)
        settings = settings.model_copy(update={"web_port": port})  # sign-in links without PUBLIC_URL
        engine = Engine(db, settings)
        channels = Channels(settings, engine, name=f"{socket.gethostname()}:run-{port}-{index}")
        server = _Server(uvicorn.Config(create_app(settings, db, channels.routes(), engine.renderer,
                                                   channels.deliverer.deliver), host=host, port=port,
                                        log_config=None, lifespan="off", http=_http_protocol(),
                                        access_log=False))
        stop = asyncio.Event()

        def shutdown() -> None:
            log.info("stopping")
            stop.set()
            server.should_exit = True

        with _on_signals(shutdown):
            await channels.start(stop, engine.renderer, poll=index == 0)
            settle_heap()
            delivery = asyncio.create_task(channels.deliverer.run(stop))
            jobs = asyncio.create_task(Jobs(db, settings, engine.renderer).run(stop))
            try:
                await server.serve(sockets=[sock] if sock is not None else None)
            finally:
                stop.set()
                await asyncio.gather(delivery, jobs)
                await channels.stop()
    finally:
        await db.dispose()


async def work(settings: Settings, name: str | None = None) -> None:
    """`umkm-bot worker`: the delivery loop and the jobs (reminders, digests), apart from the web processes."""
    db = Database(settings.database_url, pool_size=settings.database_pool_size)
    try:
        await db.upgrade()
        engine = Engine(db, settings)
        channels = Channels(settings, engine, name=name or f"{socket.gethostname()}:worker")
        stop = asyncio.Event()
        with _on_signals(stop.set):
            if channels.telegram is not None:
                await channels.telegram.start()
            settle_heap()
            try:
                await asyncio.gather(channels.deliverer.run(stop), Jobs(db, settings, engine.renderer).run(stop))
            finally:
                await channels.stop()
    finally:
        await db.dispose()


def settle_heap() -> None:
    """Once started: what start-up loaded (modules, models, templates, regions: ~200,000 objects) is moved out of
    the garbage collector's way (`gc.freeze`), so that its full collections do not walk it: ~100 ms pauses that
    would otherwise hold up every request in flight."""
    gc.collect()
    gc.freeze()


@contextmanager
def _on_signals(callback: Callable[[], None]) -> Iterator[None]:
    """Calls `callback` on SIGINT or SIGTERM while the block runs."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, callback)
    try:
        yield
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


def _http_protocol() -> str:
    """httptools (C) where installed, else uvicorn's pure-Python h11."""
    try:
        import httptools  # noqa: F401
    except ImportError:
        return "h11"
    return "httptools"


def run_event_loop(main: Any) -> Any:
    """Runs a coroutine on uvloop where installed (faster sockets and callbacks), else asyncio's loop."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)
