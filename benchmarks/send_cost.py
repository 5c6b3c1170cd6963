"""What one Bot API call costs the bot's process: python-telegram-bot over httpx (its default) and over aiohttp
(bot/handlers/telegram_http.py), against the fake Bot API served by a process of its own on loopback.

    python benchmarks/send_cost.py [--calls 1500] [--rounds 2]

Prints one table: CPU ms and wall ms per `sendMessage` (HTML text with a button, as the bot's replies are), and
the same call with no HTTP at all (python-telegram-bot's own share).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import uvloop  # noqa: E402
from telegram import InlineKeyboardButton, InlineKeyboardMarkup  # noqa: E402
from telegram.ext import ExtBot  # noqa: E402
from telegram.request import BaseRequest, HTTPXRequest  # noqa: E402

from bot.handlers.telegram_http import AiohttpRequest  # noqa: E402
from tests.fake_telegram import BOT_USER, TOKEN  # noqa: E402

SERVER = """
import asyncio, sys, uvloop
sys.path.insert(0, sys.argv[1])
from tests.fake_telegram import FakeBotAPI
async def main():
    async with FakeBotAPI() as api:
        print(api.url, flush=True)
        while True:
            await asyncio.sleep(0.5)
            del api.calls[:-10]
uvloop.run(main())
"""


class NoHTTP(BaseRequest):
    """Answers every call at once without a connection: python-telegram-bot's own work alone."""

    read_timeout = 5.0

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def do_request(self, url: str, method: str, *args: object, **kwargs: object) -> tuple[int, bytes]:
        import json

        if url.endswith("/getMe"):
            return 200, json.dumps({"ok": True, "result": BOT_USER}).encode()
        return 200, json.dumps({"ok": True, "result": {
            "message_id": 1, "date": 1795409046, "text": "x",
            "chat": {"id": 42, "type": "private", "first_name": "Sari"}}}).encode()


async def per_call(request: BaseRequest, url: str, calls: int) -> tuple[float, float]:
    """(CPU ms, wall ms) per sendMessage, after a warm-up."""
    bot = ExtBot(TOKEN, base_url=f"{url}/bot", base_file_url=f"{url}/file/bot", request=request)
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Ya, setuju", callback_data="consent:yes")]])
    text = "Terima kasih, Bapak/Ibu. <b>(3/10)</b> Berapa nomor NIB usaha Bapak/Ibu?"
    async with bot:
        for _ in range(100):
            await bot.send_message(42, text, parse_mode="HTML", reply_markup=markup)
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(calls):
            await bot.send_message(42, text, parse_mode="HTML", reply_markup=markup)
        return (time.process_time() - cpu) / calls * 1000, (time.perf_counter() - wall) / calls * 1000


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=1500)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(ROOT)], stdout=subprocess.PIPE)  # noqa: ASYNC220
    try:
        assert server.stdout is not None
        url = server.stdout.readline().decode().strip()
        rows: dict[str, list[tuple[float, float]]] = {}
        for _ in range(args.rounds):  # alternated, so a machine slowing down shows in both
            for name, request in (("httpx (python-telegram-bot's default)", HTTPXRequest()),
                                  ("aiohttp (bot/handlers/telegram_http.py)", AiohttpRequest()),
                                  ("no HTTP (python-telegram-bot alone)", NoHTTP())):
                rows.setdefault(name, []).append(await per_call(request, url, args.calls))
    finally:
        server.kill()
    print("| client | CPU ms per call | wall ms per call |")
    print("|---|---|---|")
    for name, figures in rows.items():
        cpu = " / ".join(f"{c:.3f}" for c, _ in figures)
        wall = " / ".join(f"{w:.3f}" for _, w in figures)
        print(f"| {name} | {cpu} | {wall} |")


if __name__ == "__main__":
    uvloop.run(main())
