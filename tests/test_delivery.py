"""The outbox deliverer on SQLite and PostgreSQL: backoff, permanent failures, leases, concurrency, order."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.delivery.deliverer import Deliverer, PermanentError, TemporaryError
from bot.domain.messages import Choice, Outbound
from storage.db import Database
from storage.models import OutboxMessage, OutboxStatus

T0 = datetime(2026, 11, 2, 3, 0, 0, tzinfo=UTC)


class Clock:
    """Moves only when told to."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class FakeSender:
    """Records what it sends; `outcomes` are raised (exceptions) or returned (ids) in turn, then "ok-<id>"."""

    def __init__(self, *outcomes: object, channel: str = "fake") -> None:
        self.channel = channel
        self.outcomes = list(outcomes)
        self.sent: list[int] = []
        self.calls = 0

    async def send(self, outbound: Outbound, parts: object = None) -> str | None:
        self.calls += 1
        await asyncio.sleep(0)
        if self.outcomes:
            outcome = self.outcomes.pop(0)
            if isinstance(outcome, BaseException):
                raise outcome
        self.sent.append(outbound.outbox_id or 0)
        return f"ok-{outbound.outbox_id}"


async def add_rows(db: Database, count: int = 1, *, channel: str = "fake", address: str = "chat-1",
                   at: datetime = T0) -> list[int]:
    async with db.transaction() as session:
        rows = []
        for n in range(count):
            outbound = Outbound(channel, address, f"message {n}", choices=[Choice("a", "A")])
            rows.append(OutboxMessage(channel=channel, address=address, payload=outbound.to_payload(),
                                      next_attempt_at=at, created_at=at))
        session.add_all(rows)
        await session.flush()
        return [row.id for row in rows]  # type: ignore[misc]


async def get(db: Database, row_id: int) -> OutboxMessage:
    async with db.transaction() as session:
        row = await session.get(OutboxMessage, row_id)
    assert row is not None
    return row


async def test_temporary_failure_is_retried_after_backoff(database: Database) -> None:
    [row_id] = await add_rows(database)
    clock = Clock()
    sender = FakeSender(TemporaryError("timeout"))
    deliverer = Deliverer(database, {"fake": sender}, clock=clock, base_delay=30)

    assert await deliverer.deliver_due() == 1
    row = await get(database, row_id)
    assert row.status == OutboxStatus.pending and row.attempts == 1
    assert row.next_attempt_at == T0 + timedelta(seconds=30)
    assert "timeout" in (row.last_error or "")

    clock.advance(29)
    assert await deliverer.deliver_due() == 0
    clock.advance(1)
    assert await deliverer.deliver_due() == 1
    row = await get(database, row_id)
    assert row.status == OutboxStatus.sent and row.attempts == 2
    assert row.provider_message_id == f"ok-{row_id}" and row.sent_at == clock.now and row.last_error is None
    assert sender.sent == [row_id] and sender.calls == 2

    clock.advance(3600)
    assert await deliverer.deliver_due() == 0


async def test_backoff_doubles_and_respects_retry_after(database: Database) -> None:
    [row_id] = await add_rows(database)
    clock = Clock()
    sender = FakeSender(TemporaryError("a"), TemporaryError("b"), TemporaryError("flood", retry_after=600))
    deliverer = Deliverer(database, {"fake": sender}, clock=clock, base_delay=10)

    await deliverer.deliver_due()
    assert (await get(database, row_id)).next_attempt_at == T0 + timedelta(seconds=10)
    clock.advance(10)
    await deliverer.deliver_due()
    assert (await get(database, row_id)).next_attempt_at == clock.now + timedelta(seconds=20)
    clock.advance(20)
    await deliverer.deliver_due()  # the API asked for 600 s, more than the 40 s of backoff
    assert (await get(database, row_id)).next_attempt_at == clock.now + timedelta(seconds=600)
    clock.advance(599)
    assert await deliverer.deliver_due() == 0
    clock.advance(1)
    assert await deliverer.deliver_due() == 1
    row = await get(database, row_id)
    assert row.status == OutboxStatus.sent and row.attempts == 4


async def test_permanent_failure_is_not_retried(database: Database) -> None:
    [row_id] = await add_rows(database)
    clock = Clock()
    sender = FakeSender(PermanentError("Forbidden: bot was blocked by the user"))
    deliverer = Deliverer(database, {"fake": sender}, clock=clock)

    assert await deliverer.deliver_due() == 1
    row = await get(database, row_id)
    assert row.status == OutboxStatus.failed and row.attempts == 1 and "blocked" in (row.last_error or "")
    clock.advance(86400)
    assert await deliverer.deliver_due() == 0
    assert sender.calls == 1


async def test_gives_up_after_max_attempts(database: Database) -> None:
    [row_id] = await add_rows(database)
    clock = Clock()
    sender = FakeSender(TemporaryError("down"), TemporaryError("still down"))
    deliverer = Deliverer(database, {"fake": sender}, clock=clock, max_attempts=2, base_delay=1)

    await deliverer.deliver_due()
    clock.advance(1)
    await deliverer.deliver_due()
    row = await get(database, row_id)
    assert row.status == OutboxStatus.failed and row.attempts == 2 and "still down" in (row.last_error or "")
    clock.advance(3600)
    assert await deliverer.deliver_due() == 0


async def test_rows_of_a_crashed_deliverer_come_back_after_the_lease(database: Database) -> None:
    [row_id] = await add_rows(database)
    clock = Clock()

    class Hangs:
        channel = "fake"
        started = asyncio.Event()

        async def send(self, outbound: Outbound, parts: object = None) -> str | None:
            self.started.set()
            await asyncio.Event().wait()  # never answers: the process "dies" here
            return None

    hangs = Hangs()
    crashed = asyncio.create_task(Deliverer(database, {"fake": hangs}, clock=clock, lease_seconds=60,
                                            name="crashed").deliver_due())
    await asyncio.wait_for(hangs.started.wait(), 10)
    crashed.cancel()
    await asyncio.gather(crashed, return_exceptions=True)

    sender = FakeSender()
    other = Deliverer(database, {"fake": sender}, clock=clock, lease_seconds=60, name="other")
    assert await other.deliver_due() == 0  # still leased to the crashed one
    clock.advance(59)
    assert await other.deliver_due() == 0
    clock.advance(1)
    assert await other.deliver_due() == 1
    row = await get(database, row_id)
    assert row.status == OutboxStatus.sent and row.attempts == 2 and sender.sent == [row_id]


async def test_two_deliverers_never_send_a_row_twice(database: Database) -> None:
    ids = []
    for n in range(12):
        ids += await add_rows(database, 2, address=f"chat-{n}")
    clock = Clock()
    first, second = FakeSender(), FakeSender()

    async def drain(deliverer: Deliverer) -> None:
        while await deliverer.deliver_due(limit=3):
            pass

    await asyncio.wait_for(asyncio.gather(
        drain(Deliverer(database, {"fake": first}, clock=clock)),
        drain(Deliverer(database, {"fake": second}, clock=clock)),
    ), 30)
    sent = first.sent + second.sent
    assert sorted(sent) == sorted(ids) and len(set(sent)) == len(sent)
    for row_id in ids:
        row = await get(database, row_id)
        assert row.status == OutboxStatus.sent and row.attempts == 1


async def test_a_chat_waits_behind_its_failed_message(database: Database) -> None:
    first, second = await add_rows(database, 2)
    [elsewhere] = await add_rows(database, address="chat-2")
    clock = Clock()
    sender = FakeSender(TemporaryError("timeout"))
    deliverer = Deliverer(database, {"fake": sender}, clock=clock, base_delay=30)

    assert await deliverer.deliver_due() == 2  # the head of each chat
    assert sender.sent == [elsewhere]  # the second message of chat-1 did not overtake the first
    row = await get(database, second)
    assert row.status == OutboxStatus.pending and row.attempts == 0
    assert await deliverer.deliver_due() == 0
    clock.advance(30)
    assert await deliverer.deliver_due() == 2
    assert sender.sent == [elsewhere, first, second]


async def test_deliver_sends_just_committed_rows_of_channels_with_a_sender(database: Database) -> None:
    clock = Clock()
    fresh = await add_rows(database, 2)
    [other_channel] = await add_rows(database, channel="carrier-pigeon", address="x")
    sender = FakeSender()
    deliverer = Deliverer(database, {"fake": sender}, clock=clock)
    outbound = [Outbound("fake", "chat-1", "hi", outbox_id=i) for i in fresh]
    outbound.append(Outbound("carrier-pigeon", "x", "coo", outbox_id=other_channel))

    assert await deliverer.deliver(outbound) == 2
    assert await deliverer.deliver(outbound) == 0
    assert sender.sent == fresh
    assert (await get(database, other_channel)).status == OutboxStatus.pending
    clock.advance(3600)
    assert await deliverer.deliver_due() == 0


async def test_deliver_due_for_one_address(database: Database) -> None:
    [mine] = await add_rows(database, address="me")
    [theirs] = await add_rows(database, address="officer-1")
    sender = FakeSender()
    deliverer = Deliverer(database, {"fake": sender}, clock=Clock())
    assert await deliverer.deliver_due("fake", "me") == 1
    assert await deliverer.deliver_due("other-channel") == 0
    assert sender.sent == [mine]
    assert (await get(database, theirs)).status == OutboxStatus.pending


async def test_run_loop_delivers_until_stopped(database: Database) -> None:
    [row_id] = await add_rows(database)
    stop = asyncio.Event()

    class StopsWhenSent(FakeSender):
        async def send(self, outbound: Outbound, parts: object = None) -> str | None:
            result = await super().send(outbound)
            stop.set()
            return result

    sender = StopsWhenSent()
    await asyncio.wait_for(Deliverer(database, {"fake": sender}, clock=Clock()).run(stop, interval=0.01), 10)
    assert sender.sent == [row_id]
