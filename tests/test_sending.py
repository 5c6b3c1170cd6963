"""One elected sender per channel account: the account's rate and each chat's rate hold across deliverers."""

from __future__ import annotations

import asyncio
import time

from bot.delivery.deliverer import Deliverer
from bot.delivery.pacing import Pacer
from bot.domain.messages import Outbound
from storage.db import Database
from tests.test_delivery import add_rows


class Recording:
    """A sender with the account's limits; records (monotonic time, chat, row id) of every send."""

    channel = "fake"
    account = "number-1"

    def __init__(self, log: list[tuple[float, str, int]], rate: float, chat_rate: float) -> None:
        self.log = log
        self.rate = rate
        self.chat_rate = chat_rate

    async def send(self, outbound: Outbound, parts: object = None) -> str | None:
        await parts.slot()  # type: ignore[attr-defined]
        self.log.append((time.monotonic(), outbound.address, outbound.outbox_id or 0))
        await asyncio.sleep(0.01)  # the API takes a while to answer
        return "ok"


async def until(done, seconds: float = 30) -> None:  # type: ignore[no-untyped-def]
    for _ in range(int(seconds / 0.02)):
        if done():
            return
        await asyncio.sleep(0.02)
    raise TimeoutError


def most_in_one_second(times: list[float]) -> int:
    times = sorted(times)
    return max((sum(1 for t in times[i:] if t - start < 1.0) for i, start in enumerate(times)), default=0)


async def test_two_processes_never_send_over_the_account_or_chat_rate(database: Database) -> None:
    ids: dict[str, list[int]] = {}
    for n in range(12):
        ids[f"chat-{n}"] = await add_rows(database, 3, address=f"chat-{n}")
    log: list[tuple[float, str, int]] = []
    stop = asyncio.Event()
    deliverers = [Deliverer(database, {"fake": Recording(log, rate=10, chat_rate=2)}, name=f"p{i}")
                  for i in range(2)]
    runs = [asyncio.create_task(d.run(stop, interval=0.05)) for d in deliverers]
    try:
        await until(lambda: len(log) >= 36)
    finally:
        stop.set()
        await asyncio.gather(*runs)
    assert sorted(row_id for _, _, row_id in log) == sorted(i for rows in ids.values() for i in rows)
    assert most_in_one_second([t for t, _, _ in log]) <= 10
    for chat, rows in ids.items():
        sends = [(t, row_id) for t, address, row_id in log if address == chat]
        assert [row_id for _, row_id in sends] == rows
        assert all(b[0] - a[0] >= 0.5 for a, b in zip(sends, sends[1:], strict=False))


async def test_a_replaced_sender_hands_over(database: Database) -> None:
    log: list[tuple[float, str, int]] = []
    first_stop, second_stop = asyncio.Event(), asyncio.Event()
    first = Deliverer(database, {"fake": Recording(log, rate=100, chat_rate=100)}, name="first")
    second = Deliverer(database, {"fake": Recording(log, rate=100, chat_rate=100)}, name="second")
    one = asyncio.create_task(first.run(first_stop, interval=0.05))
    await asyncio.sleep(0.3)
    two = asyncio.create_task(second.run(second_stop, interval=0.05))
    await add_rows(database, 1, address="a")
    await until(lambda: len(log) >= 1, 10)
    first_stop.set()
    await one
    await add_rows(database, 1, address="b")
    await until(lambda: len(log) >= 2, 10)
    second_stop.set()
    await two
    assert [chat for _, chat, _ in log] == ["a", "b"]


async def test_the_per_chat_table_forgets_chats_that_no_longer_wait() -> None:
    pacer = Pacer(rate=None, chat_rate=1000)
    for n in range(5000):
        pacer.finish(f"chat-{n}", await pacer.slot(f"chat-{n}"))
    await asyncio.sleep(0.05)
    pacer.finish("one-more", await pacer.slot("one-more"))
    assert len(pacer) <= 300
