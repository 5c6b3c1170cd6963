"""One owner, two linked chats, acting on one product at once (PostgreSQL: rows are really concurrent)."""

from __future__ import annotations

import asyncio

import pytest
from sqlmodel import select

from bot.review.officers import add_officer
from bot.words.i18n import rupiah
from storage.db import Database
from storage.models import Contact, OutboxMessage, Product, ProductHistory, ProductPhoto, ProductStatus
from tests.chat import Chat, Network
from tests.support.conversations import fill_product, onboard

TRIES = 20


@pytest.fixture
async def two_chats(network: Network, database: Database) -> tuple[Chat, Chat]:
    if database.is_sqlite:
        pytest.skip("SQLite takes its write lock at BEGIN: events never overlap there")
    await add_officer(database, "Budi", "18.03", "fake", "officer-1")
    first = network.chat("owner-1")
    await onboard(first)
    await fill_product(first)
    async with database.transaction() as session:
        owner_id = (await session.exec(select(Contact).where(Contact.address == "owner-1"))).one().owner_id
        session.add(Contact(channel="fake", address="owner-2", owner_id=owner_id))
    return first, network.chat("owner-2")


async def copy_of_product_1(database: Database) -> int:
    """A new complete draft, as product 1 was before it was submitted."""
    async with database.transaction() as session:
        original = await session.get(Product, 1)
        assert original is not None
        values = original.model_dump(exclude={"id", "status", "submitted_at", "number"})
        copy = Product(**values, status=ProductStatus.draft)
        session.add(copy)
        await session.flush()
        photos = (await session.exec(select(ProductPhoto).where(ProductPhoto.product_id == 1))).all()
        for photo in photos:
            session.add(ProductPhoto(**photo.model_dump(exclude={"id", "product_id"}), product_id=copy.id))
        assert copy.id is not None
        return copy.id


async def notifications_of(database: Database, product_id: int) -> list[str]:
    async with database.transaction() as session:
        rows = (await session.exec(select(OutboxMessage).where(OutboxMessage.address == "officer-1"))).all()
    return [r.payload["text"] for r in rows if f"Pengajuan produk baru #{product_id} " in r.payload["text"]]


async def test_two_chats_pressing_submit_at_once_submit_once(two_chats: tuple[Chat, Chat],
                                                             database: Database) -> None:
    first, second = two_chats
    for _ in range(TRIES):
        product_id = await copy_of_product_1(database)
        await asyncio.wait_for(asyncio.gather(first.press(f"submit:{product_id}"),
                                              second.press(f"submit:{product_id}")), 30)
        async with database.transaction() as session:
            history = (await session.exec(select(ProductHistory).where(
                ProductHistory.product_id == product_id))).all()
        assert len(history) == 1
        assert len(await notifications_of(database, product_id)) == 1


async def test_an_answer_racing_a_submit_is_seen_by_the_officer_or_refused(two_chats: tuple[Chat, Chat],
                                                                           database: Database) -> None:
    first, second = two_chats
    for attempt in range(TRIES):
        product_id = await copy_of_product_1(database)
        await first.press(f"edit:{product_id}")
        await first.tap("Harga satuan")
        price = 30_000 + attempt
        await asyncio.wait_for(asyncio.gather(first.send(str(price)), second.press(f"submit:{product_id}")), 30)
        async with database.transaction() as session:
            product = await session.get(Product, product_id)
        assert product is not None and product.status == ProductStatus.submitted
        [note] = await notifications_of(database, product_id)
        assert rupiah(product.harga) in note, (product.harga, note)
