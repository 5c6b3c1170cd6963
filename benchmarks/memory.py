"""Memory benchmark: RSS of each `umkm-bot run --workers 2` process after start and after load, with 1,000 and
1,000,000 stored products. Target: at most 150 MB per process, flat from 1,000 to 1,000,000 products.

    python benchmarks/memory.py [--sizes 1000,1000000] [--seconds 10]

For each size: a fresh PostgreSQL database, migrated, filled in SQL (benchmarks/dinas.py's officers,
businesses and products of every status with history, reviews and photos; here also a Telegram contact and a
conversation at the menu for every owner), analysed. Then the real server against the fake Bot API: RSS
after start; load = wrk with the onboarding mix, seeded owners sending /produk (their stored products are
read and listed), and Dinas console pages for a district and a province officer; RSS after load.
Skipped with one line when no PostgreSQL answers; the databases are dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as dtime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import dinas  # noqa: E402
import httpx  # noqa: E402
import load  # noqa: E402
import webhook  # noqa: E402

from storage.db import Database  # noqa: E402

TARGET_MB = 150
FLAT = 0.10  # "flat": RSS after load differs by at most 10% between the smallest and the largest size
CHAT0 = 700_000_000  # the seeded owner n chats from Telegram chat id CHAT0 + n
DINAS_KEY = "bench-memory-dinas-key"
OWNER_REQUESTS = 2000

CHATS_SQL = """
INSERT INTO contact (id, channel, address, locale, display_name, owner_id, last_inbound_at, created_at)
  SELECT g, 'telegram', ({chat0} + g)::text, 'id', 'Pemilik ' || g, g, now() - interval '3 days',
         now() - interval '200 days'
  FROM generate_series(1, {owners}) g;
INSERT INTO contact (id, channel, address, locale, display_name, officer_id, created_at)
  VALUES ({owners} + 1, 'telegram', ({chat0} - 1)::text, 'id', 'Petugas 1', 1, now()),
         ({owners} + 2, 'telegram', ({chat0} - 2)::text, 'id', 'Petugas 2', 2, now());
INSERT INTO conversation (id, contact_id, flow, step, data, version, updated_at)
  SELECT g, g, CASE WHEN g <= {owners} THEN 'menu' ELSE 'start' END, '', '{{}}'::json, 0, now() - interval '3 days'
  FROM generate_series(1, {owners} + 2) g;
SELECT setval(pg_get_serial_sequence('contact', 'id'), {owners} + 2);
SELECT setval(pg_get_serial_sequence('conversation', 'id'), {owners} + 2);
"""


@dataclass
class Row:
    products: int
    seed_s: float = 0.0
    started: list[float] = field(default_factory=list)  # RSS MB of each process (parent first) after start
    loaded: list[float] = field(default_factory=list)  # ... and after the load
    phases: dict[str, float] = field(default_factory=dict)  # max RSS MB of the workers after each phase
    pss: float = 0.0  # proportional set size MB of all the processes after the load (shared pages split)
    onboarding: float = 0.0  # wrk updates/s
    product_lists: int = 0  # product lists queued to the seeded owners (one per /produk)
    pages: int = 0  # Dinas pages answered 200
    jobs: tuple[float, float] = (0.0, 0.0)  # a jobs round in a child process: RSS MB before it, peak RSS MB


async def seed(url: str, products: int) -> None:
    """Migrations, then businesses, products, contacts and conversations in SQL, then ANALYZE."""
    import asyncpg

    db = Database(url)
    await db.upgrade()
    await db.dispose()
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(dinas.seed_sql(products) + CHATS_SQL.format(owners=products // 5, chat0=CHAT0))
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


def pss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def product_lists(url: str) -> int:
    """Outbox messages listing a seeded owner's products."""
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        return await conn.fetchval("SELECT count(*) FROM outboxmessage WHERE address::bigint > $1 "
                                   "AND payload::text LIKE '%Produk Bapak/Ibu%'", CHAT0)
    finally:
        await conn.close()


def produk(n: int, chat: int) -> dict[str, object]:
    """The update of an owner's "/produk" command."""
    person = {"id": chat, "is_bot": False, "first_name": "Pemilik", "language_code": "id"}
    return {"update_id": n, "message": {
        "message_id": n, "from": person, "date": 1795409046, "chat": {"id": chat, "type": "private"},
        "text": "/produk", "entities": [{"offset": 0, "length": 7, "type": "bot_command"}]}}


async def ask_products(port: int, owners: int, base: int, count: int = OWNER_REQUESTS) -> None:
    """`count` /produk commands from randomly chosen seeded owners, 16 at a time."""
    chats = [CHAT0 + random.randint(1, owners) for _ in range(count)]
    headers = {"X-Telegram-Bot-Api-Secret-Token": load.SECRET, "Content-Type": "application/json"}
    async with httpx.AsyncClient(trust_env=False, timeout=30) as client:
        async def sender(k: int) -> None:
            for n in range(k, count, 16):
                response = await client.post(f"http://127.0.0.1:{port}/telegram/webhook", headers=headers,
                                             content=json.dumps(produk(base + n, chats[n])))
                assert response.status_code == 200, response.text

        await asyncio.gather(*(sender(k) for k in range(16)))


def jobs_clock() -> datetime:
    """10:00 in Jakarta on the latest working day: reminders and digests are due then."""
    from bot.domain.workdays import is_working_day as working_day
    from bot.jobs.scheduled import WIB

    day = datetime.now(WIB).date()
    while not working_day(day):
        day -= timedelta(days=1)
    return datetime.combine(day, dtime(10), WIB)


def jobs_child(url: str) -> None:
    """Child process: one round of the jobs every server process runs each minute (reminders, digests), at
    10:00 on a working day; prints its RSS MB before the round (the parent reads the peak with os.wait4)."""
    from bot.jobs.scheduled import Jobs
    from bot.settings import Settings

    async def run() -> None:
        db = Database(url)
        jobs = Jobs(db, Settings(_env_file=None, database_url=url), clock=jobs_clock)
        async with db.engine.connect():
            pass
        print(load.rss_mb(os.getpid()), flush=True)
        await jobs.run_due()
        await db.dispose()

    asyncio.run(run())


def jobs_round(url: str) -> tuple[float, float]:
    """(RSS MB before, peak RSS MB) of a jobs round in a child process."""
    child = subprocess.Popen([sys.executable, __file__, "--jobs-child", url], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    before = float(child.stdout.readline())
    child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    assert child.returncode == 0
    return before, usage.ru_maxrss / 1024


async def officer_client(url: str, port: int, officer_id: int) -> httpx.AsyncClient:
    """A client signed in to the console as the officer, through a one-time link."""
    from bot.review import signin
    from bot.settings import Settings
    from storage.models import utcnow

    settings = Settings(_env_file=None, database_url=url, public_url=f"http://127.0.0.1:{port}",
                        dinas_secret_key=DINAS_KEY)
    db = Database(url)
    try:
        async with db.transaction() as session:
            link = await signin.issue_link(session, settings, officer_id, utcnow())
    finally:
        await db.dispose()
    client = httpx.AsyncClient(trust_env=False, timeout=60)
    token = re.search(r'name="csrf" value="([^"]+)"', (await client.get(link)).text)
    assert token, "no sign-in form"
    assert (await client.post(link, data={"csrf": token.group(1)})).status_code == 303
    return client


async def console_pages(url: str, port: int, rounds: int = 3) -> int:
    """The district (18.03) and province (18) officers' queue, product list pages and progress; 200s."""
    base, answered = f"http://127.0.0.1:{port}/dinas", 0
    for officer_id in (1, 2):
        client = await officer_client(url, port, officer_id)
        for n in range(rounds):
            for page in ("/", "/products", f"/products?page={2 + n}", "/products?status=approved&q=keripik",
                         "/progress"):
                answered += (await client.get(base + page)).status_code == 200
        await client.aclose()
    return answered


async def measure(products: int, seconds: int, api: load.TimedBotAPI, work: Path) -> Row:
    row = Row(products)
    url = await webhook.postgres_database()
    assert url is not None
    process = None
    try:
        started = time.monotonic()
        await seed(url, products)
        row.seed_s = time.monotonic() - started
        print(f"{products:,} products seeded in {row.seed_s:.0f} s", file=sys.stderr)
        port = load.free_port()
        log = work / f"run-{products}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(  # noqa: ASYNC220
                [sys.executable, "-m", "bot", "run", "--port", str(port), "--workers", "2"],
                env=load.bot_env(api, url, port, work / "media", DINAS_SECRET_KEY=DINAS_KEY),
                stdout=out, stderr=subprocess.STDOUT, cwd=work)
        await load.wait_healthy(port, process, log)
        for _ in range(100):  # both workers forked
            if len(load.process_tree(process.pid)) == 3:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(3)  # and settled
        pids = load.process_tree(process.pid)
        row.started = [load.rss_mb(pid) for pid in pids]
        row.onboarding = (await load.wrk(port, seconds, 500_000_000 + products))[0]
        row.phases["wrk"] = max(load.rss_mb(pid) for pid in pids[1:])
        await ask_products(port, products // 5, 600_000_000 + products)
        row.product_lists = await product_lists(url)
        row.phases["/produk"] = max(load.rss_mb(pid) for pid in pids[1:])
        row.pages = await console_pages(url, port)
        row.loaded = [load.rss_mb(pid) for pid in pids]
        row.phases["console"] = max(row.loaded[1:])
        row.pss = sum(pss_mb(pid) for pid in pids)
        await load.stop(process)
        row.jobs = await asyncio.to_thread(jobs_round, url)
        print(row, f"{time.monotonic() - started:.0f} s", file=sys.stderr)
    finally:
        if process is not None:
            await load.stop(process)
        await webhook.drop_database(url)
    return row


def table(rows: list[Row]) -> str:
    head = ("products stored", "RSS MB per process after start (parent / 2 workers)", "after load (max)",
            "growth", "workers after wrk / +/produk / +console (max)", "PSS MB, 3 processes, after load",
            "jobs round at 10:00 WIB, child: peak MB (growth)")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        growth = max(after - before for before, after in zip(r.started, r.loaded, strict=True))
        lines.append(f"| {r.products:,} | {' / '.join(f'{mb:.0f}' for mb in r.started)} | {max(r.loaded):.0f} "
                     f"| {growth:+.0f} | {' / '.join(f'{mb:.0f}' for mb in r.phases.values())} "
                     f"| {r.pss:.0f} | {r.jobs[1]:.0f} ({r.jobs[1] - r.jobs[0]:+.0f}) |")
    return "\n".join(lines)


def verdict(rows: list[Row]) -> str:
    """Whether the target holds: for the server after load, and for a jobs round (which it runs by day)."""
    checks = {"server after load": [max(r.loaded) for r in rows], "jobs round peak": [r.jobs[1] for r in rows]}
    parts, met = [], True
    for name, mb in checks.items():
        under, change = max(mb) <= TARGET_MB, (mb[-1] - mb[0]) / mb[0]
        flat = abs(change) <= FLAT
        met = met and under and flat
        parts.append(f"{name}: <= {TARGET_MB} MB {'yes' if under else 'NO'} (max {max(mb):.0f}), "
                     f"flat within {FLAT:.0%} {'yes' if flat else 'NO'} ({change:+.1%})")
    return (f"Target (RSS <= {TARGET_MB} MB per process, flat from {rows[0].products:,} to {rows[-1].products:,} "
            f"products): {'met' if met else 'NOT met'}. " + "; ".join(parts) + ".")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,1000000", help="stored products, comma-separated")
    parser.add_argument("--seconds", type=int, default=10, help="length of the wrk onboarding load (default 10)")
    args = parser.parse_args()
    from bot.jobs.scheduled import quiet
    from storage.models import utcnow

    sizes = sorted(int(s) for s in args.sizes.split(","))
    if not await webhook.postgres_database_probe():
        print(f"SKIPPED: no PostgreSQL answers at {load.PG_ADMIN}")
        return
    rows = []
    with tempfile.TemporaryDirectory(prefix="umkm-memory-") as tmp:
        work = Path(tmp)
        (work / "media").mkdir()
        async with load.TimedBotAPI() as api:
            for products in sizes:
                rows.append(await measure(products, args.seconds, api, work))
    print(table(rows))
    print(verdict(rows))
    print("Load per size: wrk onboarding mix for {} s ({}); {:,} /produk from random seeded owners ({}); "
          "30 Dinas pages ({}).".format(args.seconds, ", ".join(f"{r.onboarding:,.0f} updates/s" for r in rows),
                                        OWNER_REQUESTS, ", ".join(f"{r.product_lists:,} lists" for r in rows),
                                        ", ".join(f"{r.pages} answered" for r in rows)))
    print("The server's own jobs " + ("did not run (quiet hours, 21:00-07:00 WIB)." if quiet(utcnow()) else
                                      "ran as in the day (reminders, and digests once a day per officer)."))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--jobs-child"]:
        jobs_child(sys.argv[2])
    else:
        asyncio.run(main())
