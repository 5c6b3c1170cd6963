"""Profile `umkm-bot run` on PostgreSQL under wrk's onboarding mix: py-spy on every bot process, PostgreSQL's
statements (pg_stat_statements, where it is loaded) and what its sessions wait on (pg_stat_activity, sampled).

    python benchmarks/profile_webhook.py [--workers 2] [--seconds 10] [--out /tmp/umkm-profile]

Writes one py-spy flame graph per bot process (SVG, `--format raw` beside it for grepping) to --out, then
prints: committed updates/s; the top statements by total time per update (calls per update, mean ms) when
pg_stat_statements is in `shared_preload_libraries`; the wait events seen in pg_stat_activity, as a share of
samples; the connections each process held. A database of its own, as in benchmarks/webhook.py.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg  # noqa: E402
import load  # noqa: E402
import webhook  # noqa: E402


async def sample_waits(admin: asyncpg.Connection, dbname: str, stop: asyncio.Event,
                       sessions: list[int]) -> collections.Counter[str]:
    """Every 10 ms: the state and wait event of each session on the benchmark's database; `sessions` gets how
    many there were."""
    seen: collections.Counter[str] = collections.Counter()
    while not stop.is_set():
        rows = await admin.fetch(
            "SELECT state, wait_event_type, wait_event FROM pg_stat_activity WHERE datname = $1", dbname)
        sessions.append(len(rows))
        for row in rows:
            seen[f"{row['state']} / {row['wait_event_type'] or '-'}:{row['wait_event'] or 'on CPU'}"] += 1
        await asyncio.sleep(0.01)
    return seen


async def statements(admin: asyncpg.Connection, done: int) -> list[str]:
    try:
        rows = await admin.fetch(
            "SELECT calls, total_exec_time, query FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 25")
    except asyncpg.PostgresError as error:
        return [f"(pg_stat_statements not available: {error})"]
    calls = sum(row["calls"] for row in rows) / done
    lines = [f"{calls:.2f} statements per update in the top {len(rows)}",
             "| calls/update | mean ms | ms/update | statement |", "|---|---|---|---|"]
    for row in rows:
        query = " ".join(row["query"].split())[:110]
        lines.append(f"| {row['calls'] / done:.2f} | {row['total_exec_time'] / max(row['calls'], 1):.3f} "
                     f"| {row['total_exec_time'] / done:.3f} | {query} |")
    return lines


def start_spies(pids: list[int], out: Path, seconds: int) -> list[subprocess.Popen[bytes]]:
    """py-spy on each bot process for `seconds`: a flame graph (SVG) and the raw stacks beside it."""
    if not shutil.which("py-spy"):
        print("py-spy is not on PATH: no flame graphs", file=sys.stderr)
        return []
    return [subprocess.Popen(["py-spy", "record", "--pid", str(pid), "--duration", str(seconds), "--rate", "200",
                              "--nonblocking", "--format", fmt, "--output", str(out / f"bot-{pid}.{suffix}")],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for pid in pids for fmt, suffix in (("flamegraph", "svg"), ("raw", "raw"))]


def print_waits(seen: collections.Counter[str], sessions: list[int], workers: int) -> None:
    total = sum(seen.values())
    print("\n| pg_stat_activity state / wait | share |\n|---|---|")
    for key, count in seen.most_common(12):
        print(f"| {key} | {count / total:.1%} |")
    print(f"\nsessions on the database: median {sorted(sessions)[len(sessions) // 2]}, max {max(sessions)} "
          f"({workers} process(es); each: a pool of DATABASE_POOL_SIZE (20) + 10 overflow, up to 10 of them kept "
          "between turns, and one election connection)")


async def profile(url: str, args: argparse.Namespace, out: Path, work: Path) -> None:
    dbname = url.rsplit("/", 1)[1]
    admin = await asyncpg.connect(load.PG_ADMIN)
    async with load.TimedBotAPI() as api:
        port = load.free_port()
        log = work / "bot.log"
        with log.open("wb") as sink:
            process = subprocess.Popen(  # noqa: ASYNC220
                [sys.executable, "-m", "bot", "run", "--port", str(port), "--workers", str(args.workers)],
                env=load.bot_env(api, url, port, work / "media"), stdout=sink, stderr=subprocess.STDOUT, cwd=work)
        try:
            await load.wait_healthy(port, process, log)
            await load.wrk(port, 2, 500_000_000)
            if args.statements:
                await admin.execute("SELECT pg_stat_statements_reset()")
            pids = load.process_tree(process.pid)
            spies = start_spies(pids, out, args.seconds)
            stop, sessions = asyncio.Event(), []
            waits = asyncio.create_task(sample_waits(admin, dbname, stop, sessions))
            before, started = await webhook.committed(url), time.monotonic()
            await load.wrk(port, args.seconds, 600_000_000)
            done = await webhook.committed(url) - before
            elapsed = time.monotonic() - started
            stop.set()
            seen = await waits
            for spy in spies:
                spy.wait()  # noqa: ASYNC220
            print(f"{done / elapsed:.0f} updates/s committed, {args.workers} process(es), pids {pids}")
            if args.statements:
                print("\n".join(await statements(admin, done)))
            print_waits(seen, sessions, args.workers)
            print(f"flame graphs in {out}")
        finally:
            await load.stop(process)
            await admin.close()


async def run(args: argparse.Namespace, out: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="umkm-profile-") as tmp:
        work = Path(tmp)
        (work / "media").mkdir()
        url = await webhook.postgres_database()
        if url is None:
            raise SystemExit(f"no PostgreSQL answers at {load.PG_ADMIN}")
        try:
            await profile(url, args, out, work)
        finally:
            await webhook.drop_database(url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--out", default="/tmp/umkm-profile")
    parser.add_argument("--no-statements", dest="statements", action="store_false")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    asyncio.run(run(args, out))


if __name__ == "__main__":
    main()
