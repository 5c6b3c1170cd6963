"""The backlog part of benchmarks/webhook.py: N queued messages drained by two `umkm-bot worker` processes.

The elected worker is killed (-9) once a third is out and started again under its name. Figures: lost (rows
never sent), duplicates (arrivals beyond one per row), chats whose messages arrived out of order, most messages
in any second to the bot and to one chat, and how long sending stopped after the kill.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import load
from sqlalchemy import insert

from storage.db import Database
from storage.models import OutboxMessage, utcnow

RATE = 400  # messages a second for the bot in this test (30 by default): 10,000 messages in ~25 s, not 6 min
PER_CHAT = 5


async def fill(url: str, count: int) -> None:
    db = Database(url)
    await db.upgrade()
    now = utcnow()
    rows = [{"channel": "telegram", "address": str(600_000_000 + n // PER_CHAT),
             "payload": {"text": f"backlog {n}", "locale": "id"}, "status": "pending", "attempts": 0,
             "next_attempt_at": now, "created_at": now, "parts_sent": 0} for n in range(count)]
    async with db.engine.begin() as conn:
        for start in range(0, count, 1000):
            await conn.execute(insert(OutboxMessage.__table__), rows[start:start + 1000])  # type: ignore[attr-defined]
    await db.dispose()


def start_worker(api: load.TimedBotAPI, url: str, name: str, work: Path, rate: int) -> subprocess.Popen[bytes]:
    env = load.bot_env(api, url, 0, work / "media", TELEGRAM_RATE=str(rate), DELIVERY_PROBE_SECONDS="3",
                       DELIVERY_BASE_DELAY="2")
    env.pop("PUBLIC_URL")
    out = (work / f"worker-{name}.log").open("ab")
    return subprocess.Popen([sys.executable, "-m", "bot", "worker", "--name", name], env=env, stdout=out,
                            stderr=subprocess.STDOUT, cwd=work)


def elected(work: Path, names: list[str]) -> str | None:
    for name in names:
        if f"({name}) sends for" in (work / f"worker-{name}.log").read_text():
            return name
    return None


async def run(api: load.TimedBotAPI, url: str, count: int, work: Path, rate: int = RATE, faults: bool = False,
              limit: float = 120, workers_count: int = 2, kill: bool = True) -> str:
    """Drains the backlog; with `faults`, the API also answers 429/500/slowly and refuses the token for 2 s;
    with `kill`, the elected worker is killed (-9) once a third is out, and started again."""
    await fill(url, count)
    begin = len(api.arrivals)
    names = [f"bench:w{n + 1}" for n in range(workers_count)]
    workers = {name: start_worker(api, url, name, work, rate) for name in names}
    started = time.monotonic()
    killed_at = None
    api.fault_rate = 0.1 if faults else 0.0
    try:
        while time.monotonic() - started < limit:
            done = {text for _, _, text in api.arrivals[begin:]}
            if faults and not api.unauthorized_until and len(done) >= count // 5:
                api.unauthorized_until = time.monotonic() + 2.0
            if kill and killed_at is None and len(done) >= count // 3 and (victim := elected(work, names)):
                workers[victim].send_signal(signal.SIGKILL)
                workers[victim].wait()
                killed_at = time.monotonic()
                workers[victim] = start_worker(api, url, victim, work, rate)
            if len(done) >= count:
                break
            await asyncio.sleep(0.2)
        await asyncio.sleep(1.5)  # anything sent twice late
    finally:
        api.fault_rate = 0.0
        for process in workers.values():
            await load.stop(process)
    arrivals = [a for a in api.arrivals[begin:] if a[2].startswith("backlog ")]
    texts = Counter(text for _, _, text in arrivals)
    lost = sum(1 for n in range(count) if texts[f"backlog {n}"] == 0)
    duplicates = sum(c - 1 for c in texts.values() if c > 1)
    per_chat: dict[int, list[int]] = defaultdict(list)
    for _, chat, text in arrivals:
        per_chat[chat].append(int(text.split()[1]))
    disordered = sum(1 for sent in per_chat.values() if sorted(set(sent)) != list(dict.fromkeys(sent)))
    bot_max, chat_max = load.outbound_figures(arrivals)
    waits = _gaps_after(arrivals, killed_at)
    elapsed = (max(t for t, _, _ in arrivals) - started) if arrivals else 0.0
    where = "PostgreSQL" if url.startswith("postgres") else "SQLite"
    injected = ", ".join(f"{k} x{v}" for k, v in sorted(api.faults.items())) if faults else ""
    return (f"\n{'faults' if faults else 'backlog'} ({where}): {count:,} messages to {count // PER_CHAT:,} chats, "
            f"bot rate set to {rate}/s, {workers_count} workers"
            + (", the elected one killed -9 at 1/3 and restarted" if kill else ", no fault")
            + (f", API faults injected: {injected} (401 for 2 s)" if faults else "")
            + f": drained in {elapsed:.1f} s; lost {lost}, duplicates {duplicates}, chats out of order "
            f"{disordered}, max/s to the bot {bot_max} (limit {rate}), max/s to one chat {chat_max} (limit 1)"
            + (f", sending stopped for {waits:.1f} s after the kill" if kill else ""))


def _gaps_after(arrivals: list[tuple[float, int, str]], killed_at: float | None) -> float:
    """How long sending stopped after the kill: the longest gap between arrivals from the kill on."""
    if killed_at is None:
        return 0.0
    times = [killed_at] + sorted(t for t, _, _ in arrivals if t > killed_at)
    return max((b - a for a, b in zip(times, times[1:], strict=False)), default=0.0)
