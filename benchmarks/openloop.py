"""Open-loop load in a process of its own: updates sent at a fixed rate whatever the answers, each timed from the
moment it was due (so a slow server cannot hide its queue), over keep-alive HTTP/1.1 connections.

    python benchmarks/openloop.py PORT RATE SECONDS BASE     -> prints {"p50": ms, "p99": ms, "achieved": per s}

A separate process with a bare asyncio client keeps the measuring side's own pauses (the fake API, httpx, the
garbage collector of the benchmark's process) out of the figures.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import load  # noqa: E402


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> int:
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.writer.write(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\n{head}\r\n"
                          .encode() + body)
        status_line = await self.reader.readline()
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        if length:
            await self.reader.readexactly(length)
        return int(status_line.split()[1])


async def run(port: int, rate: int, seconds: int, base: int) -> dict[str, float]:
    idle: list[Connection] = []
    latencies: list[float] = []
    headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": load.SECRET}

    async def one(n: int, due: float) -> None:
        connection = idle.pop() if idle else Connection(*await asyncio.open_connection("127.0.0.1", port))
        try:
            status = await connection.post("/telegram/webhook", json.dumps(load.update(n, base)).encode(), headers)
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
            connection.writer.close()
            return
        idle.append(connection)
        if status == 200:
            latencies.append(time.monotonic() - due)

    start = time.monotonic()
    tasks = []
    for n in range(rate * seconds):
        due = start + n / rate
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        tasks.append(asyncio.create_task(one(n, due)))
    await asyncio.gather(*tasks)
    elapsed = time.monotonic() - start
    for connection in idle:
        connection.writer.close()
    if not latencies:
        return {"p50": float("nan"), "p99": float("nan"), "achieved": 0.0}
    latencies.sort()
    return {"p50": statistics.median(latencies) * 1000, "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000,
            "achieved": len(latencies) / elapsed}


if __name__ == "__main__":
    import uvloop

    port, rate, seconds, base = (int(a) for a in sys.argv[1:5])
    print(json.dumps(uvloop.run(run(port, rate, seconds, base))))
