"""Who uses the 2-core machine while `umkm-bot run` takes wrk's onboarding mix: the bot, PostgreSQL, the fake Bot
API, and wrk with the rest. It shows why a second web process cannot double one process's updates/s here.

    python benchmarks/machine_share.py [--seconds 10]

For PostgreSQL with 1 and 2 processes (as in benchmarks/webhook.py, a database of its own each): committed
updates/s, then the cores each part used during wrk (CPU seconds / wall seconds, read from /proc: the bot's
process tree, every `postgres` process, this process, which serves the fake Bot API, and the rest of the machine,
which is mostly wrk), and how busy the whole machine was. Skipped with one line when no PostgreSQL answers.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import load  # noqa: E402
import webhook  # noqa: E402


def postgres_pids() -> list[int]:
    """Every PostgreSQL server process on the machine (the postmaster, the backends, its workers)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def machine_seconds() -> float:
    """Busy CPU seconds of the whole machine so far, every core."""
    return load.machine_jiffies()[0] / os.sysconf("SC_CLK_TCK")


async def share(workers: int, seconds: int, work: Path) -> tuple[float, dict[str, float], float] | None:
    """(updates/s committed, cores used per part, machine busy %) for `workers` web processes on PostgreSQL."""
    url = await webhook.postgres_database()
    if url is None:
        return None
    try:
        async with load.TimedBotAPI() as api:
            port = load.free_port()
            log = work / f"bot-{workers}.log"
            with log.open("wb") as out:
                process = subprocess.Popen(  # noqa: ASYNC220
                    [sys.executable, "-m", "bot", "run", "--port", str(port), "--workers", str(workers)],
                    env=load.bot_env(api, url, port, work / "media"), stdout=out, stderr=subprocess.STDOUT, cwd=work)
            try:
                await load.wait_healthy(port, process, log)
                await load.wrk(port, 2, 700_000_000)  # warm-up
                bot, database = load.process_tree(process.pid), postgres_pids()
                me = [os.getpid()]
                before = {"bot": load.cpu_seconds(bot), "PostgreSQL": load.cpu_seconds(database),
                          "fake Bot API": load.cpu_seconds(me)}
                machine, jiffies = machine_seconds(), load.machine_jiffies()
                done, started = await webhook.committed(url), time.monotonic()
                await load.wrk(port, seconds, 800_000_000)
                elapsed = time.monotonic() - started
                database = sorted(set(database) | set(postgres_pids()))  # backends opened meanwhile too
                used = {"bot": load.cpu_seconds(bot) - before["bot"],
                        "PostgreSQL": load.cpu_seconds(database) - before["PostgreSQL"],
                        "fake Bot API": load.cpu_seconds(me) - before["fake Bot API"]}
                busy = load.busy_percent(jiffies, load.machine_jiffies())
                used["wrk and the rest"] = max(machine_seconds() - machine - sum(used.values()), 0.0)
                rate = (await webhook.committed(url) - done) / elapsed
                return rate, {part: seconds_used / elapsed for part, seconds_used in used.items()}, busy
            finally:
                await load.stop(process)
    finally:
        await webhook.drop_database(url)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="umkm-share-") as tmp:
        work = Path(tmp)
        (work / "media").mkdir()
        rows = []
        for workers in (1, 2):
            result = await share(workers, args.seconds, work)
            if result is None:
                print(f"SKIPPED: no PostgreSQL answers at {load.PG_ADMIN}")
                return
            rows.append((workers, *result))
    parts = list(rows[0][2])
    print(f"| PostgreSQL | updates/s | {' | '.join(f'{part}, cores' for part in parts)} | machine busy % |")
    print(f"|---|---|{'---|' * len(parts)}---|")
    for workers, rate, cores, busy in rows:
        print(f"| {workers} process{'es' if workers > 1 else ''} | {rate:.0f} | "
              f"{' | '.join(f'{cores[part]:.2f}' for part in parts)} | {busy:.0f} |")
    one, two = rows[0][1], rows[1][1]
    print(f"2 processes / 1: {two / max(one, 1):.2f}x; the machine has 2 cores, and with one process "
          f"{sum(rows[0][2].values()):.2f} of them were in use")


if __name__ == "__main__":
    asyncio.run(main())
