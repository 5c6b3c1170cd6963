"""Telegram delivery faults: parts sent once, a bad token pauses the channel, migrated chats, callbacks once."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import select

from bot.delivery.deliverer import Deliverer
from bot.domain.messages import Outbound
from storage.db import Database
from storage.models import ChannelState, Contact, OutboxMessage, OutboxStatus
from tests.conftest import World, make_image
from tests.test_delivery import Clock, get

CHAT = 777001


async def queue(db: Database, outbound: Outbound) -> int:
    async with db.transaction() as session:
        row = OutboxMessage(channel=outbound.channel, address=outbound.address, payload=outbound.to_payload(),
                            next_attempt_at=Clock().now)
        session.add(row)
        await session.flush()
        assert row.id is not None
        return row.id


def deliverer(world: World, clock: Clock) -> Deliverer:
    assert world.channels.telegram is not None
    return Deliverer(world.db, {"telegram": world.channels.telegram}, clock=clock, base_delay=30)


def album(world: World, tmp_path: Path) -> list[str]:
    media = Path(world.channels.settings.media_dir)
    media.mkdir(parents=True, exist_ok=True)
    for name in ("a.jpg", "b.jpg"):
        (media / name).write_bytes(make_image())
    return ["a.jpg", "b.jpg"]


async def test_an_album_is_not_sent_again_when_its_text_failed(world: World, tmp_path: Path) -> None:
    row_id = await queue(world.db, Outbound("telegram", str(CHAT), "Foto produk", photos=album(world, tmp_path)))
    world.api.fail("sendMessage", (502, None))
    clock = Clock()
    sender = deliverer(world, clock)
    await sender.deliver_due()
    assert len(world.api.sent("sendMediaGroup")) == 1 and world.api.texts(CHAT) == ["Foto produk"]  # refused
    clock.advance(30)
    await sender.deliver_due()
    assert len(world.api.sent("sendMediaGroup")) == 1 and world.api.texts(CHAT) == ["Foto produk"] * 2
    assert (await get(world.db, row_id)).status == OutboxStatus.sent


async def test_a_long_text_sends_only_its_missing_pieces_again(world: World) -> None:
    text = "\n".join(f"baris {n:04d} " + "x" * 60 for n in range(100))  # ~7,000 characters: two pieces
    await queue(world.db, Outbound("telegram", str(CHAT), text))
    world.api.fail("sendMessage", (0, None), (502, None))
    clock = Clock()
    sender = deliverer(world, clock)
    await sender.deliver_due()
    clock.advance(30)
    await sender.deliver_due()
    texts = world.api.texts(CHAT)
    assert len(texts) == 3 and texts[1] == texts[2]  # the first piece once; the second refused, then sent
    assert "\n".join(texts[::2]) == text


async def test_a_bad_token_pauses_the_channel_and_keeps_the_queue(world: World) -> None:
    row_id = await queue(world.db, Outbound("telegram", str(CHAT), "Halo"))
    world.api.fail("sendMessage", (401, None))
    world.api.fail("getMe", (401, None))
    clock = Clock()
    sender = deliverer(world, clock)
    await sender.deliver_due()
    row = await get(world.db, row_id)
    assert row.status == OutboxStatus.pending and row.attempts == 0
    async with world.db.transaction() as session:
        state = await session.get(ChannelState, "telegram")
    assert state is not None and state.paused_reason and "401" in state.paused_reason
    clock.advance(3600)
    assert await sender.deliver_due() == 0  # paused: nothing is tried
    assert not await sender.probe_paused()  # the token is still wrong
    assert await sender.probe_paused()  # fixed: getMe answers again
    assert await sender.deliver_due() == 1
    assert world.api.texts(CHAT) == ["Halo", "Halo"]  # the refused try, then the send
    async with world.db.transaction() as session:
        state = await session.get(ChannelState, "telegram")
    assert state is not None and state.paused_reason is None


async def test_a_migrated_chat_gets_its_messages_at_the_new_id(world: World) -> None:
    async with world.db.transaction() as session:
        session.add(Contact(channel="telegram", address=str(CHAT)))
    await queue(world.db, Outbound("telegram", str(CHAT), "Satu"))
    await queue(world.db, Outbound("telegram", str(CHAT), "Dua"))
    world.api.fail("sendMessage", (400, {"migrate_to_chat_id": -100777}))
    await deliverer(world, Clock()).deliver_due()
    assert world.api.texts(-100777) == ["Satu", "Dua"]
    async with world.db.transaction() as session:
        contact = (await session.exec(select(Contact))).one()
    assert contact.address == "-100777"


async def test_a_replayed_callback_is_answered_once(world: World) -> None:
    user = world.user(CHAT)
    await user.send("/start")
    update = None
    original = user.post

    async def keep(data: dict, secret: str | None = None):  # type: ignore[no-untyped-def]
        nonlocal update
        update = data
        return await original(data)

    user.post = keep  # type: ignore[method-assign]
    first = await user.tap("Saya setuju")
    second = await original(update)  # type: ignore[arg-type]
    answers = world.api.sent("answerCallbackQuery")  # called, or given as the webhook's answer
    assert len(answers) == 1 and first.status_code == second.status_code == 200
