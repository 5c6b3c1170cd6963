"""The code at an earlier commit against the working tree, at the same moment: `umkm-bot run` under wrk's
onboarding mix, the two alternating, so a machine that speeds up or slows down shows in both.

    python benchmarks/ab.py REV [--pairs 3] [--workers 1] [--seconds 10] [--sqlite]

REV is checked out in a temporary git worktree (removed at the end) and run with the same Python environment;
only the bot's code differs (its PYTHONPATH). Prints one line per run and a table: committed updates/s, CPU ms
per update (every bot process, sending included) and how busy the whole machine was. PostgreSQL as in
benchmarks/webhook.py (a database of its own per run); `--sqlite` runs the embedded default instead.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import load  # noqa: E402
import webhook  # noqa: E402


async def one_run(root: Path, workers: int, seconds: int, sqlite: bool) -> tuple[float, float, float]:
    """(updates/s committed, CPU ms per update, machine busy %) of the code at `root`."""
    with tempfile.TemporaryDirectory(prefix="umkm-ab-") as tmp:
        work = Path(tmp)
        (work / "media").mkdir()
        url = f"sqlite:///{work / 'ab.db'}" if sqlite else await webhook.postgres_database()
        if url is None:
            raise SystemExit(f"no PostgreSQL answers at {load.PG_ADMIN} (use --sqlite)")
        async with load.TimedBotAPI() as api:
            port = load.free_port()
            env = load.bot_env(api, url, port, work / "media")
            env["PYTHONPATH"] = str(root)
            log = work / "bot.log"
            with log.open("wb") as out:
                process = subprocess.Popen(  # noqa: ASYNC220
                    [sys.executable, "-m", "bot", "run", "--port", str(port), "--workers", str(workers)],
                    env=env, stdout=out, stderr=subprocess.STDOUT, cwd=work)
            try:
                await load.wait_healthy(port, process, log)
                await load.wrk(port, 2, 500_000_000)  # warm-up
                pids = load.process_tree(process.pid)
                cpu, machine = load.cpu_seconds(pids), load.machine_jiffies()
                before, started = await webhook.committed(url), time.monotonic()
                await load.wrk(port, seconds, 600_000_000)
                busy = load.busy_percent(machine, load.machine_jiffies())
                done = await webhook.committed(url) - before
                elapsed = time.monotonic() - started
                return done / elapsed, (load.cpu_seconds(pids) - cpu) / max(done, 1) * 1000, busy
            finally:
                await load.stop(process)
                if not sqlite:
                    await webhook.drop_database(url)


async def alternate(before: Path, args: argparse.Namespace) -> dict[str, list[tuple[float, float, float]]]:
    results: dict[str, list[tuple[float, float, float]]] = {"before": [], "after": []}
    for _ in range(args.pairs):
        for name, root in (("before", before), ("after", load.ROOT)):
            figures = await one_run(root, args.workers, args.seconds, args.sqlite)
            results[name].append(figures)
            print(f"{name}: {figures[0]:.0f} updates/s, {figures[1]:.2f} ms CPU/update, "
                  f"machine {figures[2]:.0f}% busy", file=sys.stderr)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("rev", help="the earlier commit (e.g. HEAD~3)")
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--sqlite", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="umkm-ab-tree-") as tmp:
        before = Path(tmp) / "before"
        subprocess.run(["git", "-C", str(load.ROOT), "worktree", "add", "--detach", "-q", str(before), args.rev],
                       check=True)
        try:
            results = asyncio.run(alternate(before, args))
        finally:
            subprocess.run(["git", "-C", str(load.ROOT), "worktree", "remove", "--force", str(before)], check=True)
    database = "SQLite" if args.sqlite else "PostgreSQL"
    print(f"{database}, {args.workers} process(es), {args.rev} (before) and the working tree (after), "
          f"{args.pairs} alternating pairs of {args.seconds} s:")
    print("| code | updates/s | CPU ms/update | machine busy % |")
    print("|---|---|---|---|")
    for name, runs in results.items():
        rates = ", ".join(f"{r:.0f}" for r, _, _ in runs)
        cpus = ", ".join(f"{c:.2f}" for _, c, _ in runs)
        busies = ", ".join(f"{b:.0f}" for _, _, b in runs)
        print(f"| {name} | {rates} | {cpus} | {busies} |")


if __name__ == "__main__":
    main()
