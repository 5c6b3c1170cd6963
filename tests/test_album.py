"""Several photos sent at once get one reply that counts them all, on Telegram and WhatsApp, whichever web
process each photo arrives on (the reply waiting to go out lives in the outbox, not in memory)."""

from __future__ import annotations

from pathlib import Path

import httpx
from sqlmodel import col, select

from bot.conversation.engine import Engine
from bot.domain.messages import Inbound, PhotoIn
from bot.service.web import Channels, create_app
from bot.settings import Settings
from storage.db import Database
from storage.models import OutboxMessage, ProductPhoto
from tests.chat import Network
from tests.conftest import FixedClock, World, count_rows, deliver_later, make_image, telegram_settings
from tests.support.conversations import CRAFT_PRODUCT, onboard, play
from tests.test_telegram import onboard as telegram_onboard
from tests.test_whatsapp import WA, graph, wa  # noqa: F401  (fixtures)
from tests.test_whatsapp import onboard as whatsapp_onboard

COLORS = ("red", "green", "blue")


async def test_telegram_album_of_three_gets_one_reply(world: World) -> None:
    owner = world.user(5552001)
    owner.after_album = None  # the test lets time pass itself
    await telegram_onboard(owner)
    await play(owner, CRAFT_PRODUCT)
    before = len(owner.texts)
    responses = await owner.photos(*(make_image(color=c) for c in COLORS))
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert len(owner.texts) == before  # held back while more photos of the album may come
    await deliver_later(world.channels.deliverer)
    replies = owner.texts[before:]
    assert len(replies) == 1 and "Foto tersimpan: 3" in replies[0], replies
    assert "Ringkasan produk" in replies[0]  # the summary that follows the photos is part of the one reply
    assert await count_rows(world.db, ProductPhoto) == 3


async def test_telegram_single_photo_is_answered_at_once(world: World) -> None:
    owner = world.user(5552002)
    owner.after_album = None
    await telegram_onboard(owner)
    await play(owner, CRAFT_PRODUCT)
    await owner.photos(make_image(), album=False)
    assert "Foto tersimpan: 1" in owner.last


async def test_whatsapp_three_images_get_one_reply(wa: WA) -> None:  # noqa: F811
    owner = wa.user("6281200000002")
    await whatsapp_onboard(owner)
    await play(owner, CRAFT_PRODUCT)
    before = len(owner.texts)
    await owner.images(*(make_image(color=c) for c in COLORS))
    replies = owner.texts[before:]
    assert len(replies) == 1 and "Foto tersimpan: 3" in replies[0], replies
    assert await count_rows(wa.db, ProductPhoto) == 3


async def test_album_across_two_web_processes_and_a_bad_photo(database: Database, settings: Settings) -> None:
    """Two engines (two web processes) share the database; the album's photos alternate between them."""
    clock = FixedClock()  # one wall clock for both processes; it moves a second at each reading
    settings = settings.model_copy(update={"album_window_seconds": 60.0})
    first = Network(Engine(database, settings, clock=clock))
    other = Engine(database, settings, clock=clock)
    owner = first.chat("owner-album")
    await onboard(owner)
    await play(owner, CRAFT_PRODUCT)
    images = [make_image(color="red"), make_image(120, 120), make_image(color="blue"), make_image(color="green")]
    for i, image in enumerate(images):
        engine = first.engine if i % 2 == 0 else other
        await engine.handle(Inbound("fake", "owner-album", f"album-{i}", "photos", album="g1",
                                    photos=(PhotoIn(image, f"f{i}"),)))
    async with database.transaction() as session:
        rows = (await session.exec(select(OutboxMessage).where(col(OutboxMessage.payload).is_not(None))
                                   .order_by(col(OutboxMessage.id)))).all()
    replies = [r for r in rows if "Foto tersimpan" in r.payload["text"]]
    assert len(replies) == 1
    assert "Foto tersimpan: 3" in replies[0].payload["text"] and "terlalu kecil" in replies[0].payload["text"]
    assert replies[0].next_attempt_at > replies[0].created_at  # still held back for more
    assert await count_rows(database, ProductPhoto) == 3


async def test_a_message_after_the_album_releases_its_reply_first(database: Database, settings: Settings) -> None:
    settings = settings.model_copy(update={"album_window_seconds": 60.0})
    network = Network(Engine(database, settings, clock=FixedClock()))
    owner = network.chat("owner-order")
    await onboard(owner)
    await play(owner, CRAFT_PRODUCT)
    for i, color in enumerate(COLORS[:2]):
        await network.deliver(Inbound("fake", "owner-order", f"order-{i}", "photos", album="g2",
                                      photos=(PhotoIn(make_image(color=color)),)))
    replies = await owner.send("selesai")
    assert "Foto tersimpan: 2" in replies[0].text and "Ringkasan produk" in replies[-1].text
    async with network.engine.db.transaction() as session:
        album_reply = await session.get(OutboxMessage, replies[0].outbox_id)
    assert album_reply is not None and album_reply.attempts == 0
    assert replies[0].outbox_id is not None and replies[-1].outbox_id is not None
    assert replies[0].outbox_id < replies[-1].outbox_id  # sent first: the deliverer keeps outbox order


async def test_telegram_album_split_across_two_web_processes(world: World, tmp_path: Path) -> None:
    """Each photo of the album reaches a different web process (its own engine and deliverer)."""
    settings = telegram_settings(world.api, tmp_path)
    second = Channels(settings, Engine(world.db, settings))
    assert second.telegram is not None
    await second.telegram.start()
    app = create_app(settings, world.db, second.routes())
    owner = world.user(5552003)
    owner.after_album = None
    await telegram_onboard(owner)
    await play(owner, CRAFT_PRODUCT)
    before = len(owner.texts)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bot.test") as other:
        clients = [world.client, other, world.client]
        for client, color in zip(clients, COLORS, strict=True):
            owner.client = client
            await owner.photos(make_image(color=color), group="album-77")
    owner.client = world.client
    await second.telegram.stop()
    assert len(owner.texts) == before
    await deliver_later(world.channels.deliverer)
    replies = owner.texts[before:]
    assert len(replies) == 1 and "Foto tersimpan: 3" in replies[0], replies
