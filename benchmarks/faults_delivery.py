"""Delivery fault suite: a backlog drained by two real `umkm-bot worker` processes on PostgreSQL (SQLite when
none runs) while the fake Bot API answers 10% of sends with 429, 500 or slowly, refuses the token for 2 s
(the channel pauses, then resumes), and the elected worker is killed -9 and restarted. One line of figures.

    python benchmarks/faults_delivery.py [--messages 3000] [--rate 200]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import backlog  # noqa: E402
import load  # noqa: E402
import webhook  # noqa: E402


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--rate", type=int, default=200)
    parser.add_argument("--no-faults", action="store_true", help="only the kill -9, no API faults")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="umkm-faults-") as tmp:
        work = Path(tmp)
        (work / "media").mkdir()
        url = await webhook.postgres_database()
        async with load.TimedBotAPI() as api:
            try:
                print(await backlog.run(api, url or f"sqlite:///{work / 'faults.db'}", args.messages, work,
                                        rate=args.rate, faults=not args.no_faults, limit=240))
            finally:
                if url:
                    await webhook.drop_database(url)


if __name__ == "__main__":
    asyncio.run(main())
