"""Siaran benchmark: one siaran to N Telegram owners on PostgreSQL, sent by the real `umkm-bot run` to the fake
Bot API over loopback, while M other owners chat with the bot (each: one update, wait for the reply, `--think` seconds'
pause, again).

    python benchmarks/siaran.py [--owners 10000] [--chatters 50] [--rate 30] [--limit 420]

Prints: the time to write the siaran (one transaction), the time until every siaran message reached the API,
messages a second, and the chatting owners' reply latency (from the webhook POST to the reply reaching the API)
p50/p99/max, before the siaran and while it is being sent, so the two can be compared: a siaran goes out at outbox
priority 1, after every waiting reply. Then one table row, from the fake API's recorded sendMessage calls: distinct
recipients reached, duplicates (a siaran message delivered again to a chat that already had it), the most messages
the API received in any 1-second window (every message, replies included: Telegram's limit is per bot) and the
seconds over the rate (whole seconds after the commit in which a 1-second window ending there held more than
--rate), and the chatting owners' worst reply during the siaran. `--rate` is TELEGRAM_RATE for this run, 30 by
default as in production (10,000 messages then take ~333 s). Bounded: at most --limit seconds of sending; loopback
only; a database of its own, created and dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402
import load  # noqa: E402
from sqlalchemy import insert  # noqa: E402
from webhook import drop_database, postgres_database  # noqa: E402

from bot.domain.timezones import WIB  # noqa: E402
from bot.review import siaran  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.words.i18n import Renderer  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.models import Business, Contact, Owner, utcnow  # noqa: E402

FIRST_CHAT = 700_000_000
CHATTER_BASE = 800_000_000
TEXT = "Pelatihan foto produk gratis, Sabtu 09.00 di aula Dinas Koperasi. Balas pesan ini untuk mendaftar."
MARK = "Siaran Dinas"


async def seed(url: str, owners: int) -> None:
    """N owners of Kabupaten Lampung Utara (18.03), each with one Telegram chat."""
    db = Database(url)
    await db.upgrade()
    now = utcnow()
    async with db.engine.begin() as conn:
        for start in range(0, owners, 1000):
            ids = range(start + 1, min(owners, start + 1000) + 1)
            await conn.execute(insert(Owner.__table__), [{"id": i, "created_at": now} for i in ids])  # type: ignore[attr-defined]
            await conn.execute(insert(Business.__table__), [  # type: ignore[attr-defined]
                {"id": i, "owner_id": i, "region_code": "18.03", "skipped": [], "created_at": now} for i in ids])
            await conn.execute(insert(Contact.__table__), [  # type: ignore[attr-defined]
                {"channel": "telegram", "address": str(FIRST_CHAT + i), "locale": "id", "display_name": "",
                 "owner_id": i, "created_at": now, "last_inbound_at": now} for i in ids])
        await conn.exec_driver_sql("SELECT setval('owner_id_seq', (SELECT max(id) FROM owner))")
        await conn.exec_driver_sql("SELECT setval('business_id_seq', (SELECT max(id) FROM business))")
    await db.dispose()


async def send_siaran(url: str) -> tuple[int, float]:
    """Writes the siaran as the CLI does; (recipients, seconds to write it)."""
    db = Database(url)
    settings = Settings(_env_file=None, database_url=url)
    # Written "at" the last 12:00 WIB, so that quiet hours (21:00-07:00) do not hold it when run at night.
    now = utcnow()
    noon = now.astimezone(WIB).replace(hour=12, minute=0, second=0, microsecond=0)
    noon = noon if noon <= now else noon - timedelta(days=1)
    started = time.monotonic()
    async with db.transaction() as session:
        sent = await siaran.send(session, Renderer(settings.templates_dir), settings,
                                 siaran.Ask(None, "18.03", "all", TEXT), noon)
    took = time.monotonic() - started
    await db.dispose()
    return sent.recipients, took


class Chatters:
    """M owners, each sending its next onboarding update once the reply to the last one arrived (+`think` s)."""

    def __init__(self, port: int, api: load.TimedBotAPI, count: int, think: float = 1.0) -> None:
        self.port, self.api, self.count, self.think = port, api, count, think
        self.delays: list[tuple[float, float]] = []  # (sent at, reply latency in ms)
        self.missing: list[float] = []  # sent at, for updates answered 200 whose reply never came within 30 s
        self.step = 0
        self.stop = asyncio.Event()

    async def run(self) -> None:
        async with httpx.AsyncClient(trust_env=False, timeout=30) as client:
            await asyncio.gather(*(self._one(client, i) for i in range(self.count)))

    async def _one(self, client: httpx.AsyncClient, i: int) -> None:
        chat, step = CHATTER_BASE + i, 0
        while not self.stop.is_set():
            body = json.dumps(load.update(step * self.count + i, CHATTER_BASE, chats=self.count))
            seen = len(self.api.arrivals)
            sent = time.monotonic()
            answer = await client.post(f"http://127.0.0.1:{self.port}/telegram/webhook", content=body,
                                       headers={"X-Telegram-Bot-Api-Secret-Token": load.SECRET,
                                                "Content-Type": "application/json"})
            if answer.status_code == 200:
                arrived = await self._reply(chat, seen, sent)
                if arrived is not None:
                    self.delays.append((sent, (arrived - sent) * 1000))
                else:
                    self.missing.append(sent)
            step += 1
            await asyncio.sleep(self.think)

    async def _reply(self, chat: int, seen: int, sent: float) -> float | None:
        for _ in range(300):  # up to 30 s
            for t, to, _text in self.api.arrivals[max(0, seen - 50):]:
                if to == chat and t >= sent:
                    return t
            await asyncio.sleep(0.1)
        return None

    def figures(self, since: float, until: float) -> tuple[float, float, float, int, int]:
        """(p50 ms, p99 ms, max ms, replies, replies missing) for updates sent in [since, until)."""
        window = sorted(d for t, d in self.delays if since <= t < until)
        missing = sum(1 for t in self.missing if since <= t < until)
        if not window:
            return float("nan"), float("nan"), float("nan"), 0, missing
        return (statistics.median(window), window[min(len(window) - 1, int(len(window) * 0.99))], window[-1],
                len(window), missing)


def rate_figures(arrivals: list[tuple[float, int, str]], rate: int, since: float) -> tuple[int, int]:
    """(most messages in any 1-second window, whole seconds after `since` in which a window ending there held
    more than `rate`), over every message the API received."""
    times = sorted(t for t, _, _ in arrivals)
    most, j, over = 0, 0, set()
    for i, t in enumerate(times):
        while times[j] <= t - 1.0:
            j += 1
        most = max(most, i - j + 1)
        if i - j + 1 > rate:
            over.add(int(t - since))
    return most, len(over)


async def main(owners: int, chatters: int, rate: int, limit: float, think: float = 1.0) -> None:
    url = await postgres_database()
    if url is None:
        print("siaran benchmark: no PostgreSQL at", load.PG_ADMIN, "- skipped")
        return
    work = Path(tempfile.mkdtemp(prefix="siaran-bench-"))
    try:
        await seed(url, owners)
        async with load.TimedBotAPI() as api:
            await run(url, api, work, owners, chatters, rate, limit, think=think)
    finally:
        await drop_database(url)


async def run(url: str, api: load.TimedBotAPI, work: Path, owners: int, chatters: int, rate: int,
              limit: float, *, think: float = 1.0) -> None:
    port = load.free_port()
    log = work / "run.log"
    env = load.bot_env(api, url, port, work / "media", TELEGRAM_RATE=str(rate))
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "bot", "run", "--port", str(port)],  # noqa: ASYNC220
                                   env=env, stdout=out, stderr=subprocess.STDOUT, cwd=work)
    chat = Chatters(port, api, chatters, think)
    talking = None
    try:
        await load.wait_healthy(port, process, log)
        talking = asyncio.create_task(chat.run())
        calm_from = time.monotonic()
        await asyncio.sleep(8)  # the chatters alone: latency without a siaran
        recipients, wrote = await send_siaran(url)
        started = time.monotonic()
        done = None
        while time.monotonic() - started < limit:
            if sum(1 for _, _, text in api.arrivals if MARK in text) >= recipients:
                done = time.monotonic()
                break
            await asyncio.sleep(0.2)
        chat.stop.set()
        await talking
        calm = chat.figures(calm_from, started - wrote)
        busy = chat.figures(started - wrote, done or time.monotonic())
        arrived = sum(1 for _, _, text in api.arrivals if MARK in text)
        most, chat_most = load.outbound_figures([a for a in api.arrivals if MARK in a[2]])
        mine = [a for a in api.arrivals if MARK in a[2]]
        reached = len({chat for _, chat, _ in mine})
        duplicates = len(mine) - reached
        all_most, over = rate_figures(list(api.arrivals), rate, started - wrote)
    finally:
        if talking is not None and not talking.done():
            chat.stop.set()
            talking.cancel()
        await load.stop(process)
    took = (done or time.monotonic()) - started
    print(f"siaran to {recipients:,} Telegram owners on PostgreSQL, TELEGRAM_RATE={rate}, {chatters} owners chatting")
    print(f"  written in one transaction: {wrote:.2f} s")
    print(f"  {'all sent' if done else f'NOT all sent ({arrived:,} arrived)'} in {took:.1f} s after the commit: "
          f"{arrived / took:.0f} messages/s (siaran messages, most in any 1 s: {most}; to one chat: {chat_most})")
    print(f"  chatting owners' reply latency, p50 / p99 / max (replies, missing): before the siaran "
          f"{calm[0]:.0f} / {calm[1]:.0f} / {calm[2]:.0f} ms ({calm[3]}, {calm[4]}), while it is sent "
          f"{busy[0]:.0f} / {busy[1]:.0f} / {busy[2]:.0f} ms ({busy[3]}, {busy[4]})")
    print()
    print("| recipients | reached | duplicates | sent in | msgs/s | most in any 1 s (all, limit) | seconds over rate "
          "| chat reply p50 / p99 / max during (before) | replies missing |")
    print("|---|---|---|---|---|---|---|---|---|")
    print(f"| {recipients:,} | {reached:,} | {duplicates} | {took:.1f} s{'' if done else ' (NOT all)'} "
          f"| {arrived / took:.1f} | {all_most} ({rate}) | {over} "
          f"| {busy[0]:.0f} / {busy[1]:.0f} / {busy[2]:.0f} ms ({calm[0]:.0f} / {calm[1]:.0f} / {calm[2]:.0f} ms) "
          f"| {busy[4]} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--owners", type=int, default=10_000)
    parser.add_argument("--chatters", type=int, default=50)
    parser.add_argument("--rate", type=int, default=30)
    parser.add_argument("--limit", type=float, default=420)
    parser.add_argument("--think", type=float, default=1.0,
                        help="seconds a chatting owner waits after a reply before the next message (a person: ~10)")
    args = parser.parse_args()
    asyncio.run(main(min(args.owners, 100_000), min(args.chatters, 500), args.rate, min(args.limit, 900),
                     max(args.think, 0.0)))
