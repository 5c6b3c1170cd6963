"""Fault suite, hostile input: a real `umkm-bot run` on PostgreSQL, fed by fake Telegram and WhatsApp on loopback.

    python benchmarks/faults.py [--replays 1000] [--fuzz 300]

It creates its own PostgreSQL database (dropped at the end), starts the fake Bot API and Graph API
(tests/fake_telegram.py, tests/fake_graph.py) on 127.0.0.1, and starts `python -m bot run` against them in
webhook mode. Then it measures, and prints on one line:

- every malformed payload of the corpus (tests/fixtures/malformed/), authenticated, and every payload forged
  (wrong Telegram secret, wrong, empty or non-ASCII WhatsApp signature) -> 5xx answers and rows stored (both 0);
- a 200 MB body to each webhook, streamed -> its status, bytes sent before the refusal, and how much the
  server's peak memory (VmHWM) grew;
- N replays of real updates (same update_id / wamid, all at once) -> double effects (more than one outbox row
  or more than one message sent for one event; 0) and events left unanswered (0);
- a text fuzz drawn by hypothesis from the Unicode digit (Nd, No) and space (Zs) categories, at consent, in
  the business form, at a button step and in an officer's menu -> apologies (0).

It exits 1 when a figure that must be 0 is not, and skips (exit 0) with a line saying so when PostgreSQL is
not reachable. Everything runs on loopback and is bounded in count and time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import sys
import tempfile
import time
import uuid
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
import httpx  # noqa: E402
from hypothesis import Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tests.fake_graph import TOKEN as GRAPH_TOKEN  # noqa: E402
from tests.fake_graph import FakeGraphAPI  # noqa: E402
from tests.fake_telegram import TOKEN as BOT_TOKEN  # noqa: E402
from tests.fake_telegram import FakeBotAPI  # noqa: E402
from tests.loopback import free_port  # noqa: E402
from tests.malformed import corpus  # noqa: E402
from tests.support.conversations import BUSINESS_ANSWERS  # noqa: E402
from tests.telegram_user import SECRET, TelegramUser  # noqa: E402
from tests.whatsapp_user import APP_SECRET, PHONE_NUMBER_ID, VERIFY_TOKEN, WhatsAppUser, sign  # noqa: E402

POSTGRES = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
APOLOGIES = ("gangguan di sistem", "something went wrong on our side")
TABLES = ("contact", "owner", "inboundevent", "outboxmessage")
BIG = 200 * 1024 * 1024


# --- the process under test ------------------------------------------------------------------------------

async def create_database() -> str | None:
    """A new, empty database's URL; None when PostgreSQL is not reachable."""
    try:
        conn = await asyncpg.connect(POSTGRES, timeout=3)
    except (OSError, asyncpg.PostgresError):
        return None
    name = f"faults_{uuid.uuid4().hex[:10]}"
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    return POSTGRES.rsplit("/", 1)[0] + "/" + name


async def drop_database(url: str) -> None:
    conn = await asyncpg.connect(POSTGRES)
    await conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    await conn.close()


def bot_env(database_url: str, api: FakeBotAPI, graph: FakeGraphAPI, media: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WHATSAPP_", "PUBLIC_URL"))}
    env.update(DATABASE_URL=database_url, MEDIA_DIR=str(media), PUBLIC_URL="https://umkm.example.go.id",
               TELEGRAM_BOT_TOKEN=BOT_TOKEN, TELEGRAM_API_URL=api.url, TELEGRAM_WEBHOOK_SECRET=SECRET,
               TELEGRAM_CHAT_RATE="1000", WHATSAPP_ACCESS_TOKEN=GRAPH_TOKEN, WHATSAPP_PHONE_NUMBER_ID=PHONE_NUMBER_ID,
               WHATSAPP_APP_SECRET=APP_SECRET, WHATSAPP_VERIFY_TOKEN=VERIFY_TOKEN, WHATSAPP_API_URL=graph.url,
               WHATSAPP_RATE="1000")
    return env


async def wait_until_up(client: httpx.AsyncClient, process: asyncio.subprocess.Process) -> None:
    for _ in range(600):
        if process.returncode is not None:
            raise RuntimeError("umkm-bot run exited while starting")
        try:
            if (await client.get("/healthz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.05)
    raise RuntimeError("umkm-bot run never answered /healthz")


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def rows_stored(database_url: str) -> int:
    conn = await asyncpg.connect(database_url)
    try:
        return sum([await conn.fetchval(f"SELECT count(*) FROM {table}") for table in TABLES])
    finally:
        await conn.close()


# --- 1. malformed and forged payloads ---------------------------------------------------------------------

async def status_of(client: httpx.AsyncClient, path: str, body: bytes, headers: dict[str, str | bytes]) -> int:
    """The answer's HTTP status; 599 when the server dropped the connection instead of answering."""
    try:
        return (await client.post(path, content=body, headers=headers)).status_code
    except httpx.TransportError:
        return 599


async def hostile_corpus(client: httpx.AsyncClient, graph: FakeGraphAPI) -> tuple[int, int, int]:
    """(malformed sent, forged sent, 5xx answers)."""
    statuses: list[int] = []
    telegram, whatsapp = corpus("telegram"), corpus("whatsapp")
    for _, body in telegram:
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}
        statuses.append(await status_of(client, "/telegram/webhook", body, headers))
    for _, body in whatsapp:
        headers = {"X-Hub-Signature-256": sign(body, APP_SECRET), "Content-Type": "application/json"}
        statuses.append(await status_of(client, "/whatsapp/webhook", body, headers))
    malformed = len(statuses)
    real = json.dumps({"update_id": 1, "message": {"message_id": 1, "date": 1, "text": "/start",
                                                   "chat": {"id": 1, "type": "private"},
                                                   "from": {"id": 1, "is_bot": False, "first_name": "X"}}}).encode()
    for _, body in [*telegram, ("real", real)]:
        for secret in (b"", b"wrong", SECRET.encode() + b"x", "rahasia-\u00f1".encode("latin-1")):
            headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
            statuses.append(await status_of(client, "/telegram/webhook", body, headers))
    real_wa = WhatsAppUser(client, graph, "6281234500000").message_payload("text", text={"body": "halo"})
    for _, body in [*whatsapp, ("real", json.dumps(real_wa).encode())]:
        for signature in (None, "sha256=" + "0" * 64, "sha256=\u00e4" + "0" * 63, "sha256=" + "\u00e9" * 64,
                          "md5=1", sign(body, "another-secret"), sign(body + b" ", APP_SECRET)):
            headers = {"X-Hub-Signature-256": signature.encode("utf-8")} if signature is not None else {}
            statuses.append(await status_of(client, "/whatsapp/webhook", body, headers))
    return malformed, len(statuses) - malformed, sum(s >= 500 for s in statuses)


# --- 2. a 200 MB body ------------------------------------------------------------------------------------

async def big_body(port: int, path: str, headers: dict[str, str], declared: bool) -> tuple[int, int]:
    """(HTTP status, bytes of body sent before the server answered or closed) for a 200 MB body."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = [f"POST {path} HTTP/1.1", "Host: bot.test", "Content-Type: application/json",
            f"Content-Length: {BIG}" if declared else "Transfer-Encoding: chunked",
            *(f"{k}: {v}" for k, v in headers.items())]
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode())
    block = b"[" * (256 * 1024)
    chunk = block if declared else f"{len(block):x}\r\n".encode() + block + b"\r\n"
    status_line = asyncio.create_task(reader.readline())
    sent = 0
    try:
        while sent < BIG and not status_line.done():
            writer.write(chunk)
            await asyncio.wait_for(writer.drain(), 10)
            sent += len(block)
    except (ConnectionError, TimeoutError):
        pass
    try:
        line = await asyncio.wait_for(status_line, 10)
    except (ConnectionError, TimeoutError):
        line = b""
    writer.close()
    parts = line.split()
    return (int(parts[1]) if len(parts) > 1 else 0), sent


async def huge_bodies(port: int, pid: int) -> tuple[list[int], int, float]:
    """(statuses, most bytes sent before a refusal, growth of the server's peak memory in MB)."""
    before = peak_rss_mb(pid)
    results = []
    for declared in (True, False):
        results.append(await big_body(port, "/telegram/webhook", {"X-Telegram-Bot-Api-Secret-Token": SECRET},
                                      declared))
        results.append(await big_body(port, "/whatsapp/webhook", {"X-Hub-Signature-256": "sha256=" + "0" * 64},
                                      declared))
    return [s for s, _ in results], max(sent for _, sent in results), peak_rss_mb(pid) - before


# --- 3. replays ------------------------------------------------------------------------------------------

async def replays(client: httpx.AsyncClient, api: FakeBotAPI, graph: FakeGraphAPI, database_url: str,
                  total: int) -> tuple[int, int, int, int]:
    """(events, double effects, events unanswered, 5xx) for `total` posts of a few real updates, concurrently."""
    per_event = 20
    events = max(2, total // per_event)
    posts = []
    telegram = [TelegramUser(client, api, 710_000_000 + i) for i in range(events // 2)]
    whatsapp = [WhatsAppUser(client, graph, f"62812{700_000 + i:07d}") for i in range(events - len(telegram))]
    for user in telegram:
        update = user.message_update("command_start", text="/start")
        posts += [lambda u=user, d=update: u.post(d)] * per_event
    for wa_user in whatsapp:
        payload = wa_user.message_payload("text", text={"body": "halo"})
        posts += [lambda u=wa_user, p=payload: u.post(p)] * per_event
    random.Random(7).shuffle(posts)
    gate = asyncio.Semaphore(64)

    async def post(send):  # type: ignore[no-untyped-def]
        async with gate:
            try:
                return (await send()).status_code
            except httpx.TransportError:
                return 599

    statuses = await asyncio.gather(*(post(p) for p in posts))
    answered = {
        **{str(u.chat_id): lambda u=u: len(api.texts(u.chat_id)) for u in telegram},
        **{u.wa_id: lambda u=u: len(graph.sent(u.wa_id)) for u in whatsapp},
    }
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not all(count() for count in answered.values()):  # noqa: ASYNC110
        await asyncio.sleep(0.1)  # the fakes record sends; they have no event to wait on
    await asyncio.sleep(1.0)  # time for a second, wrong, send to show up
    conn = await asyncpg.connect(database_url)
    try:
        rows = dict(await conn.fetch("SELECT address, count(*) FROM outboxmessage GROUP BY address"))
    finally:
        await conn.close()
    doubles = sum(max(0, rows.get(a, 0) - 1) + max(0, count() - 1) for a, count in answered.items())
    unanswered = sum(count() == 0 for count in answered.values())
    return events, doubles, unanswered, sum(s >= 500 for s in statuses)


# --- 4. text fuzz ----------------------------------------------------------------------------------------

def fuzz_texts(n: int) -> list[str]:
    """`n` texts drawn by hypothesis from every Unicode digit and space character (and their mixes)."""
    drawn: list[str] = []
    alphabet = st.characters(categories=["Nd", "No", "Zs"])

    @settings(max_examples=n, database=None, phases=[Phase.generate], deadline=None)
    @given(st.text(alphabet, min_size=1, max_size=16).filter(lambda s: s.strip()))
    def draw(text: str) -> None:
        drawn.append(text)

    draw()
    return drawn[:n]


async def officer_add(env: dict[str, str], chat_id: int) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "officer", "add", "--name", "Budi", "--region", "18.03",
        "--telegram", str(chat_id), env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    if await process.wait() != 0:
        raise RuntimeError("umkm-bot officer add failed")


async def fuzz(client: httpx.AsyncClient, api: FakeBotAPI, graph: FakeGraphAPI, env: dict[str, str],
               database_url: str, n: int) -> tuple[int, int]:
    """(texts sent, apologies written) for `n` fuzz texts over chats at consent, a form, buttons, an officer."""
    await officer_add(env, 720_000_999)
    at_consent = [TelegramUser(client, api, 720_000_001), WhatsAppUser(client, graph, "6281272000001")]
    in_form = [TelegramUser(client, api, 720_000_002), WhatsAppUser(client, graph, "6281272000002")]
    at_buttons = [TelegramUser(client, api, 720_000_003), WhatsAppUser(client, graph, "6281272000003")]
    officer = TelegramUser(client, api, 720_000_999)
    for user in at_consent:
        await user.send("/start")
    for user in in_form + at_buttons:
        for text in ["/start", "ya"]:
            await user.send(text)
    for user in at_buttons:
        for text in [*BUSINESS_ANSWERS, "Keripik Singkong Balado"]:
            await user.send(text)
    await officer.send("menu")
    chats = [*at_consent, *in_form, *at_buttons, officer]
    texts = fuzz_texts(n)

    async def type_all(user, mine: list[str]) -> None:  # type: ignore[no-untyped-def]
        for text in mine:
            await user.send(text)

    await asyncio.gather(*(type_all(user, texts[i::len(chats)]) for i, user in enumerate(chats)))
    conn = await asyncpg.connect(database_url)
    try:
        payloads = [str(r["payload"]) for r in await conn.fetch("SELECT payload::text AS payload FROM outboxmessage")]
    finally:
        await conn.close()
    return len(texts), sum(any(a in p for a in APOLOGIES) for p in payloads)


# --- all of it -------------------------------------------------------------------------------------------

async def main(replay_count: int, fuzz_count: int) -> int:
    started = time.monotonic()
    database_url = await create_database()
    if database_url is None:
        print(f"faults: skipped, PostgreSQL is not reachable at {POSTGRES} (set TEST_POSTGRES_URL)")
        return 0
    workdir = Path(tempfile.mkdtemp(prefix="faults-"))
    log_path = workdir / "bot.log"
    process = None
    try:
        async with FakeBotAPI() as api, FakeGraphAPI() as graph:
            env = bot_env(database_url, api, graph, workdir / "media")
            port = free_port()
            with log_path.open("wb") as log:
                process = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "bot", "run", "--port", str(port), cwd=workdir, env=env,
                    stdout=log, stderr=asyncio.subprocess.STDOUT)
            # Idle connections are dropped before uvicorn's 5 s keep-alive ends, so none is reused as it closes.
            limits = httpx.Limits(max_connections=64, keepalive_expiry=2.0)
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60, limits=limits) as client:
                await wait_until_up(client, process)
                api_calls, graph_calls = len(api.calls), len(graph.calls)
                malformed, forged, corpus_5xx = await hostile_corpus(client, graph)
                stored = await rows_stored(database_url)
                platform_calls = len(api.calls) - api_calls + len(graph.calls) - graph_calls
                big_statuses, big_sent, rss_growth = await huge_bodies(port, process.pid)
                events, doubles, unanswered, replay_5xx = await replays(client, api, graph, database_url,
                                                                        replay_count)
                texts, apologies = await fuzz(client, api, graph, env, database_url, fuzz_count)
    finally:
        if process is not None and process.returncode is None:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), 30)
        await drop_database(database_url)
    print(f"faults (real umkm-bot run, PostgreSQL): corpus {malformed} malformed + {forged} forged -> "
          f"5xx {corpus_5xx}, rows stored {stored}, platform calls {platform_calls} | "
          f"200 MB bodies -> {'/'.join(map(str, big_statuses))}, at most {big_sent / 2**20:.1f} MB sent before "
          f"the refusal, server peak RSS +{rss_growth:.0f} MB | {replay_count} replays of {events} events -> "
          f"double effects {doubles}, unanswered {unanswered}, 5xx {replay_5xx} | fuzz {texts} texts "
          f"(Unicode Nd/No/Zs) -> apologies {apologies} | {time.monotonic() - started:.0f} s")
    zeros = (corpus_5xx, stored, platform_calls, doubles, unanswered, replay_5xx, apologies)
    ok = not any(zeros) and all(s == 413 for s in big_statuses) and rss_growth < 100
    if not ok:
        print(f"faults: FAILED (server log: {log_path})")
        return 1
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replays", type=int, default=1000, help="posts of real updates, replayed at once")
    parser.add_argument("--fuzz", type=int, default=300, help="fuzz texts to type")
    parser.add_argument("--timeout", type=float, default=600, help="give up after this many seconds")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    sys.exit(asyncio.run(asyncio.wait_for(main(args.replays, args.fuzz), args.timeout)))
