"""python-telegram-bot over aiohttp (bot/handlers/telegram_http.py): the calls, uploads, timeouts and errors."""

from __future__ import annotations

import asyncio

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from telegram import InputMediaPhoto
from telegram.error import NetworkError, TimedOut
from telegram.ext import ExtBot

from bot.handlers.telegram_http import AiohttpRequest
from tests.fake_telegram import TOKEN, FakeBotAPI
from tests.loopback import LoopbackServer, free_port

JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40 + b"\xff\xd9"


def bot_for(url: str, request: AiohttpRequest | None = None) -> ExtBot:
    return ExtBot(TOKEN, base_url=f"{url}/bot", base_file_url=f"{url}/file/bot",
                  request=request or AiohttpRequest(), get_updates_request=AiohttpRequest(connection_pool_size=1))


async def test_messages_uploads_and_downloads_go_through_aiohttp() -> None:
    async with FakeBotAPI() as api:
        api.add_file("f1", JPEG)
        bot = bot_for(api.url)
        async with bot:
            sent = await bot.send_message(42, "Halo <b>Ibu</b>", parse_mode="HTML")
            await bot.send_photo(42, JPEG)
            await bot.send_media_group(42, [InputMediaPhoto(JPEG), InputMediaPhoto(JPEG[::-1])])
            downloaded = await (await bot.get_file("f1")).download_as_bytearray()
        message = api.sent("sendMessage", 42)[0]
        assert sent.message_id and message.params["text"] == "Halo <b>Ibu</b>"
        assert message.params["parse_mode"] == "HTML"
        assert list(api.sent("sendPhoto", 42)[0].files.values()) == [JPEG]  # multipart, bytes intact
        assert sorted(api.sent("sendMediaGroup", 42)[0].files.values()) == sorted([JPEG, JPEG[::-1]])
        assert bytes(downloaded) == JPEG


async def test_a_refusal_keeps_telegrams_error() -> None:
    async with FakeBotAPI() as api:
        api.fail("sendMessage", (429, {"retry_after": 3}))
        async with bot_for(api.url) as bot:
            with pytest.raises(Exception) as caught:
                await bot.send_message(42, "halo")
        assert type(caught.value).__name__ == "RetryAfter"


async def test_a_slow_answer_times_out_as_telegram_timed_out() -> None:
    async def slow(_request: Request) -> JSONResponse:
        await asyncio.sleep(2)
        return JSONResponse({"ok": True, "result": True})

    server = LoopbackServer(Starlette(routes=[Route("/{path:path}", slow, methods=["GET", "POST"])]))
    await server.start()
    request = AiohttpRequest()
    await request.initialize()
    try:
        started = asyncio.get_running_loop().time()
        with pytest.raises(TimedOut):
            await request.post(f"{server.url}/bot{TOKEN}/sendMessage", read_timeout=0.3)
        assert asyncio.get_running_loop().time() - started < 1.5
    finally:
        await request.shutdown()
        await server.stop()


async def test_nothing_listening_is_a_network_error() -> None:
    request = AiohttpRequest()
    await request.initialize()
    try:
        with pytest.raises(NetworkError) as caught:
            await request.post(f"http://127.0.0.1:{free_port()}/bot{TOKEN}/getMe")
        assert not isinstance(caught.value, TimedOut) and "aiohttp" in str(caught.value)
    finally:
        await request.shutdown()


async def test_an_http_proxy_from_the_environment_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    """HTTP_PROXY names the fake API; the bot's own address does not resolve, so only the proxy can answer."""
    async with FakeBotAPI() as api:
        monkeypatch.setenv("HTTP_PROXY", api.url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        async with bot_for("http://api.telegram.invalid") as bot:
            await bot.send_message(42, "lewat proxy")
        assert [c.params["text"] for c in api.sent("sendMessage", 42)] == ["lewat proxy"]
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{free_port()}")  # nothing listens there
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        async with bot_for(api.url) as bot:  # exempt: straight to the API
            await bot.send_message(42, "langsung")
        assert [c.params["text"] for c in api.sent("sendMessage", 42)] == ["lewat proxy", "langsung"]


async def test_a_request_is_usable_again_after_shutdown() -> None:
    async with FakeBotAPI() as api:
        request = AiohttpRequest()
        bot = bot_for(api.url, request)
        async with bot:
            await bot.send_message(42, "satu")
        with pytest.raises(NetworkError, match="not initialized"):  # python-telegram-bot wraps it
            await request.post(f"{api.url}/bot{TOKEN}/getMe")
        async with bot:  # initialize opens a new session
            await bot.send_message(42, "dua")
        assert [c.params["text"] for c in api.sent("sendMessage", 42)] == ["satu", "dua"]
