"""What the console's Chromium tests share: the served app on loopback (`served_site`, fixture `site`), the browser's
settings at phone size, and signing an officer in."""

from __future__ import annotations

import asyncio
import os
import socket
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from bot.conversation.engine import Engine
from bot.delivery.deliverer import Deliverer
from bot.review.signin import issue_link
from bot.service.web import Channels, create_app
from storage.db import Database
from storage.models import utcnow
from tests.conftest import deliver_later, telegram_settings
from tests.fake_telegram import FakeBotAPI
from tests.telegram_user import TelegramUser

CHROMIUM = Path("/usr/bin/chromium")
# Screenshots go to a temporary folder, or with SCREENSHOT_DIR=docs/screenshots to the README's pictures.
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR") or Path(tempfile.gettempdir()) / "umkm-screenshots").resolve()
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
PHONE = {"width": 390, "height": 844}


@dataclass
class Site:
    url: str
    api: FakeBotAPI
    client: httpx.AsyncClient  # posts Telegram updates to the same app, in process
    db: Database
    deliverer: Deliverer

    def user(self, chat_id: int) -> TelegramUser:
        user = TelegramUser(self.client, self.api, chat_id)
        user.after_album = lambda: deliver_later(self.deliverer)
        return user


@asynccontextmanager
async def served_site(api: FakeBotAPI, database: Database, tmp_path: Path, *, start_telegram: bool = True,
                      **settings: Any) -> AsyncIterator[Site]:
    """The whole app (webhooks and console) served by uvicorn on a free loopback port, with `settings` changed."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    served = telegram_settings(api, tmp_path).model_copy(update={"web_port": port, **settings})
    engine = Engine(database, served)
    channels = Channels(served, engine)
    if start_telegram:
        assert channels.telegram is not None
        await channels.telegram.start()
    app = create_app(served, database, channels.routes(), engine.renderer, channels.deliverer.deliver)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:  # noqa: ASYNC110  (uvicorn offers a flag, not an event)
        await asyncio.sleep(0.01)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bot.test") as client:
            yield Site(f"http://127.0.0.1:{port}", api, client, database, channels.deliverer)
    finally:
        server.should_exit = True
        await serving
        if start_telegram and channels.telegram is not None:
            await channels.telegram.stop()


@pytest.fixture
async def site(api: FakeBotAPI, database: Database, tmp_path: Path) -> AsyncIterator[Site]:
    async with served_site(api, database, tmp_path) as served:
        yield served


async def sign_in_link(site: Site, officer_id: int, tmp_path: Path) -> str:
    """A one-time sign-in link to the served console (signed with the served app's key)."""
    settings = telegram_settings(site.api, tmp_path)
    async with site.db.transaction() as session:
        return site.url + (await issue_link(session, settings, officer_id, utcnow())).split("8080", 1)[1]


@asynccontextmanager
async def phone_signed_in(site: Site, link: str, *, permissions: tuple[str, ...] = (),
                          **context_options: Any) -> AsyncIterator[Any]:
    """Debian's Chromium as an Indonesian phone (390x844, JavaScript off unless `java_script_enabled=True`),
    signed in to the console through `link`: the page is on /dinas/ (its browser: `page.context.browser`)."""
    from playwright.async_api import async_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(**{"viewport": PHONE, "device_scale_factor": 1, "is_mobile": True,
                                                   "locale": "id-ID", "java_script_enabled": False,
                                                   **context_options})
            if permissions:
                await context.grant_permissions(list(permissions), origin=site.url)
            page = await context.new_page()
            await page.goto(link)
            await page.get_by_role("button", name="Masuk").click()
            await page.wait_for_url(f"{site.url}/dinas/")
            yield page
        finally:
            await browser.close()


async def no_sideways_scroll(page, name: str) -> None:  # type: ignore[no-untyped-def]
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{name} scrolls sideways on a phone ({width}px)"
