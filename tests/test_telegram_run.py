"""`umkm-bot run` with Telegram configured, as a real process: long polling, webhook mode, wrong settings."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import httpx
import pytest

from bot.conversation.engine import Engine
from bot.domain.messages import Outbound
from bot.service.web import Channels, create_app
from bot.settings import Settings
from storage.db import Database
from storage.models import OutboxMessage
from tests.conftest import World
from tests.fake_telegram import TOKEN, FakeBotAPI
from tests.loopback import free_port
from tests.telegram_user import SECRET, TelegramUser
from tests.test_telegram import OWNER


async def wait_for(condition, seconds: float = 15.0) -> None:  # type: ignore[no-untyped-def]
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out")


async def start_bot(tmp_path: Path, api: FakeBotAPI, port: int, **extra: str) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WHATSAPP_", "PUBLIC_URL"))}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'bot.db'}", MEDIA_DIR=str(tmp_path / "media"),
               TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_URL=api.url, **extra)
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", "--port", str(port), cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)


async def stop_bot(process: asyncio.subprocess.Process, signal_it: bool = True) -> str:
    if signal_it and process.returncode is None:
        process.send_signal(signal.SIGTERM)
    output, _ = await asyncio.wait_for(process.communicate(), 30)
    return output.decode()


async def test_long_polling_process_answers_an_owner(tmp_path: Path, api: FakeBotAPI) -> None:
    process = await start_bot(tmp_path, api, free_port())
    try:
        await wait_for(lambda: api.sent("getUpdates"))
        user = TelegramUser(httpx.AsyncClient(), api, OWNER)
        await api.updates.put(user.message_update("command_start", text="/start"))
        await wait_for(lambda: api.texts(OWNER))
        assert "Apakah Bapak/Ibu setuju?" in api.texts(OWNER)[0]
        assert [c.params.get("language_code") for c in api.sent("setMyCommands")] == [None, "en"]
        assert api.sent("deleteWebhook") and not api.sent("setWebhook")
    finally:
        output = await stop_bot(process)
    assert process.returncode == 0, output


async def test_webhook_process_registers_and_answers(tmp_path: Path, api: FakeBotAPI) -> None:
    port = free_port()
    process = await start_bot(tmp_path, api, port, PUBLIC_URL="https://umkm.example.go.id",
                              TELEGRAM_WEBHOOK_SECRET=SECRET)
    try:
        await wait_for(lambda: api.sent("setWebhook"))
        assert api.sent("setWebhook")[0].params["url"] == "https://umkm.example.go.id/telegram/webhook"
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            await wait_for_http(client)
            user = TelegramUser(client, api, OWNER)
            refused = await user.post(user.message_update("command_start", text="/start"), secret="nope")
            assert refused.status_code == 403
            accepted = await user.post(user.message_update("command_start", text="/start"))
            assert accepted.status_code == 200
        await wait_for(lambda: api.texts(OWNER))
        assert len(api.texts(OWNER)) == 1 and not api.sent("getUpdates")
    finally:
        output = await stop_bot(process)
    assert process.returncode == 0, output


async def wait_for_http(client: httpx.AsyncClient) -> None:
    for _ in range(300):
        try:
            if (await client.get("/healthz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.05)
    raise AssertionError("the bot never answered /healthz")


async def test_webhook_mode_without_a_secret_refuses_to_start(tmp_path: Path, api: FakeBotAPI) -> None:
    process = await start_bot(tmp_path, api, free_port(), PUBLIC_URL="https://umkm.example.go.id")
    output = await stop_bot(process, signal_it=False)
    assert process.returncode != 0 and "TELEGRAM_WEBHOOK_SECRET is required" in output


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_polling_in_process_hands_updates_to_the_engine(world: World) -> None:
    telegram, updates = world.channels.telegram, world.channels.telegram_updates
    assert telegram is not None and updates is not None
    stop = asyncio.Event()
    task = asyncio.create_task(telegram.poll(updates.handle_and_send, stop, wait=1))
    owner = world.user(OWNER)
    await world.api.updates.put(owner.message_update("command_start", text="/start"))
    await world.api.updates.put(owner.message_update("command_start", text="/start"))
    await wait_for(lambda: len(world.api.sent("getUpdates")) >= 3)  # both updates fetched and handled
    stop.set()
    await task
    await updates.drain()
    await world.channels.deliverer.deliver_due()  # what waited behind the first reply to the same chat
    texts = world.api.texts(OWNER)
    assert len(texts) == 2 and "Apakah Bapak/Ibu setuju?" in texts[0] and "Apakah Bapak/Ibu setuju?" in texts[1]
    offsets = [c.params.get("offset") for c in world.api.sent("getUpdates")]
    assert offsets[0] is None and offsets[-1] is not None


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_without_a_token_there_is_no_telegram_webhook(database: Database, engine: Engine) -> None:
    settings = Settings(_env_file=None, database_url="sqlite:///x.db", telegram_webhook_secret=SECRET)
    channels = Channels(settings, engine)
    assert channels.telegram is None and channels.routes() == []
    app = create_app(settings, database, channels.routes())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bot.test") as client:
        response = await client.post("/telegram/webhook", json={"update_id": 1},
                                     headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
    assert response.status_code == 404


async def test_worker_process_sends_what_is_waiting(tmp_path: Path, api: FakeBotAPI) -> None:
    db = Database(f"sqlite:///{tmp_path / 'bot.db'}")
    await db.upgrade()
    async with db.transaction() as session:
        outbound = Outbound("telegram", str(OWNER), "Pesan yang menunggu")
        session.add(OutboxMessage(channel="telegram", address=str(OWNER), payload=outbound.to_payload()))
    await db.dispose()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WHATSAPP_", "PUBLIC_URL"))}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'bot.db'}", TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_URL=api.url)
    process = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "worker", cwd=tmp_path, env=env,
                                                   stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        await wait_for(lambda: api.texts(OWNER))
        assert api.texts(OWNER) == ["Pesan yang menunggu"]
    finally:
        output = await stop_bot(process)
    assert process.returncode == 0, output


@pytest.mark.parametrize("secret", ["has spaces", "semi;colon", "x" * 257])
async def test_a_secret_telegram_would_refuse_stops_the_start(tmp_path: Path, api: FakeBotAPI, secret: str) -> None:
    process = await start_bot(tmp_path, api, free_port(), PUBLIC_URL="https://umkm.example.go.id",
                              TELEGRAM_WEBHOOK_SECRET=secret)
    output = await stop_bot(process, signal_it=False)
    assert process.returncode != 0 and "may only use" in output
