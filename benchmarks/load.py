"""Load, processes and measurements for benchmarks/webhook.py (see there)."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from starlette.requests import Request  # noqa: E402
from starlette.responses import Response  # noqa: E402

from tests.fake_telegram import TOKEN, FakeBotAPI  # noqa: E402
from tests.loopback import free_port as free_port  # noqa: E402,F401

SECRET = "bench-secret"
PG_ADMIN = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
ANSWERS = ["Keripik Bu Sari", "Sari Wulandari", "perorangan", "1234567890123", "10794", "01.312.166.0-091.000",
           "bukan pkp", "mikro", "lampung utara", "Jl. Merdeka No. 5, Kotabumi", "0812 3456 7890", "lewati"]
CHATS = 1000


def update(n: int, base: int, chats: int = CHATS) -> dict[str, Any]:
    """The n-th update of the mix (as benchmarks/webhook.lua builds them)."""
    chat, step = base + n % chats, n // chats
    person = {"id": chat, "is_bot": False, "first_name": "Sari", "language_code": "id"}
    message: dict[str, Any] = {"message_id": n, "from": person, "date": 1795409046,
                               "chat": {"id": chat, "first_name": "Sari", "type": "private"}}
    if step == 0:
        message.update(text="/start", entities=[{"offset": 0, "length": 6, "type": "bot_command"}])
        return {"update_id": base + n, "message": message}
    if step == 1:
        message["text"] = "Apakah Bapak/Ibu setuju?"
        return {"update_id": base + n, "callback_query": {"id": f"q{n}", "from": person, "message": message,
                                                          "chat_instance": "1", "data": "consent:yes"}}
    message["text"] = ANSWERS[(step - 2) % len(ANSWERS)]
    return {"update_id": base + n, "message": message}


class TimedBotAPI(FakeBotAPI):
    """The fake Bot API, remembering when each message arrived: (monotonic time, chat id, text)."""

    def __init__(self) -> None:
        super().__init__()
        self.arrivals: list[tuple[float, int, str]] = []
        self.fault_rate = 0.0  # share of sendMessage calls answered 429, 500 or slowly (the fault suite)
        self.unauthorized_until = 0.0  # monotonic time until which every call answers 401 (a revoked token)
        self.faults: dict[str, int] = defaultdict(int)

    async def api(self, request: Request) -> Response:
        method = request.path_params.get("method", "")
        if time.monotonic() < self.unauthorized_until:
            self.faults["401"] += 1
            self.fail(method, (401, None))
        elif method == "sendMessage" and self.fault_rate and random.random() < self.fault_rate:
            kind = random.choice(["429", "500", "slow"])
            self.faults[kind] += 1
            if kind == "429":
                self.fail(method, (429, {"retry_after": 1}))
            elif kind == "500":
                self.fail(method, (500, None))
            else:
                await asyncio.sleep(1.5)
        response = await super().api(request)
        call = self.calls[-1] if self.calls else None
        if call is not None and call.method == "sendMessage" and response.status_code == 200:
            self.arrivals.append((time.monotonic(), int(call.params["chat_id"]), str(call.params.get("text"))))
        if len(self.calls) > 1000:
            del self.calls[:-100]
        return response


# --- processes ------------------------------------------------------------------------------------------

def process_tree(pid: int) -> list[int]:
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return pids
    for child in children:
        pids += process_tree(int(child))
    return pids


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def machine_jiffies() -> tuple[int, int]:
    """(busy, total) CPU time of the whole machine so far, every core (idle and I/O wait are not busy)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return sum(fields) - fields[3] - fields[4], sum(fields)


def busy_percent(before: tuple[int, int], after: tuple[int, int]) -> float:
    return 100 * (after[0] - before[0]) / max(after[1] - before[1], 1)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def bot_env(api: TimedBotAPI, database_url: str, port: int, media: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WHATSAPP_", "DATABASE_"))}
    env.update(DATABASE_URL=database_url, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_URL=api.url,
               TELEGRAM_WEBHOOK_SECRET=SECRET, PUBLIC_URL=f"http://127.0.0.1:{port}", MEDIA_DIR=str(media),
               PYTHONPATH=str(ROOT), **extra)
    return env


async def wait_healthy(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    async with httpx.AsyncClient(trust_env=False, timeout=2) as client:
        for _ in range(300):
            if process.poll() is not None:
                raise RuntimeError(f"the server exited:\n{log.read_text()[-3000:]}")  # noqa: ASYNC240
            try:
                if (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("the server did not answer /healthz")


async def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        for _ in range(200):
            if process.poll() is not None:
                return
            await asyncio.sleep(0.1)
        process.kill()
    process.wait()


# --- load -----------------------------------------------------------------------------------------------

async def wrk(port: int, seconds: int, base: int) -> tuple[float, int]:
    """(requests/s, non-2xx) of `wrk -t2 -c40` for `seconds` with the onboarding mix."""
    env = {**os.environ, "BENCH_THREADS": "2", "BENCH_CHATS": str(CHATS), "BENCH_BASE": str(base),
           "BENCH_SECRET": SECRET}
    proc = await asyncio.create_subprocess_exec(
        "wrk", "-t2", "-c40", f"-d{seconds}s", "--timeout", "10s", "-s", str(ROOT / "benchmarks" / "webhook.lua"),
        f"http://127.0.0.1:{port}/telegram/webhook", env=env, stdout=asyncio.subprocess.PIPE)
    out = (await proc.communicate())[0].decode()
    rate = next((float(line.split()[1]) for line in out.splitlines() if line.startswith("Requests/sec")), 0.0)
    bad = next((int(line.split()[-1]) for line in out.splitlines() if "Non-2xx" in line), 0)
    return rate, bad


async def open_loop(port: int, rate: int, seconds: int, base: int) -> tuple[float, float, float]:
    """(p50 ms, p99 ms, achieved/s) of updates sent at a fixed rate whatever the answers (open loop), each timed
    from when it was due, by a client process of its own (benchmarks/openloop.py)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "benchmarks" / "openloop.py"), str(port), str(rate), str(seconds), str(base),
        stdout=asyncio.subprocess.PIPE)
    figures = json.loads((await proc.communicate())[0])
    return figures["p50"], figures["p99"], figures["achieved"]


async def reply_delays(port: int, api: TimedBotAPI, rate: int, seconds: int, base: int) -> tuple[float, float, int]:
    """(p50 ms, max ms, replies missing) from each /start's 200 to its reply reaching the fake API, for new chats
    written at `rate` a second (under the bot's limits, so nothing waits for pacing)."""
    answered: dict[int, float] = {}
    async with httpx.AsyncClient(trust_env=False, timeout=10) as client:
        async def one(n: int) -> None:
            body = json.dumps(update(n, base, chats=rate * seconds))
            response = await client.post(f"http://127.0.0.1:{port}/telegram/webhook", content=body,
                                         headers={"X-Telegram-Bot-Api-Secret-Token": SECRET,
                                                  "Content-Type": "application/json"})
            if response.status_code == 200:
                answered[base + n] = time.monotonic()

        start = time.monotonic()
        tasks = []
        for n in range(rate * seconds):
            await asyncio.sleep(max(0.0, start + n / rate - time.monotonic()))
            tasks.append(asyncio.create_task(one(n)))
        await asyncio.gather(*tasks)
    for _ in range(50):  # up to 5 s for the last replies
        arrived = {chat: t for t, chat, _ in reversed(api.arrivals) if chat in answered}
        if len(arrived) == len(answered):
            break
        await asyncio.sleep(0.1)
    delays = sorted((arrived[chat] - t) * 1000 for chat, t in answered.items() if chat in arrived)
    if not delays:
        return float("nan"), float("nan"), len(answered)
    return statistics.median(delays), delays[-1], len(answered) - len(delays)


def outbound_figures(arrivals: list[tuple[float, int, str]]) -> tuple[int, int]:
    """(most messages in any 1 s to the bot, most in any 1 s to one chat)."""
    times = sorted(t for t, _, _ in arrivals)
    most, j = 0, 0
    for i, t in enumerate(times):
        while times[j] <= t - 1.0:
            j += 1
        most = max(most, i - j + 1)
    per_chat: dict[int, list[float]] = defaultdict(list)
    for t, chat, _ in arrivals:
        per_chat[chat].append(t)
    chat_most = 0
    for chat_times in per_chat.values():
        chat_times.sort()
        k = 0
        for i, t in enumerate(chat_times):
            while chat_times[k] <= t - 1.0:
                k += 1
            chat_most = max(chat_most, i - k + 1)
    return most, chat_most
