"""The start of a turn (bot/conversation/locking.py): one event once, the chat's rows locked, and what was read with
the lock is what the previous turn of the same chat left, even when this turn waited for it."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import event
from sqlmodel import select

from bot.conversation import locking
from bot.domain.messages import Inbound
from storage.db import Database
from storage.models import Business, Contact, Conversation, InboundEvent, Owner, utcnow
from tests.conftest import count_rows


def inbound(event_id: str, address: str = "628111") -> Inbound:
    return Inbound("fake", address, event_id, "text", "halo")


async def an_owner(database: Database, address: str = "628111") -> None:
    async with database.transaction() as session:
        owner = Owner()
        session.add(owner)
        await session.flush()
        session.add(Business(owner_id=owner.id, nama_usaha="Lama"))
        contact = Contact(channel="fake", address=address, owner_id=owner.id)
        session.add(contact)
        await session.flush()
        session.add(Conversation(contact_id=contact.id))


async def test_a_turn_that_waited_for_the_lock_reads_what_the_previous_turn_left(database: Database) -> None:
    if database.is_sqlite:
        pytest.skip("SQLite takes its write lock at BEGIN: a turn never starts while another runs")
    await an_owner(database)
    first_locked = asyncio.Event()
    release = asyncio.Event()

    async def previous_turn() -> None:
        async with database.transaction() as session:
            locked = await locking.begin_turn(session, inbound("e1"), utcnow())
            assert locked is not None and locked.business is not None
            locked.business.nama_usaha = "Baru"
            locked.conversation.version += 1
            await session.flush()
            first_locked.set()
            await release.wait()

    async def next_turn() -> str | None:
        await first_locked.wait()
        async with database.transaction() as session:
            locked = await locking.begin_turn(session, inbound("e2"), utcnow())  # waits for previous_turn
            assert locked is not None and locked.business is not None
            return locked.business.nama_usaha

    previous = asyncio.create_task(previous_turn())
    following = asyncio.create_task(next_turn())
    await first_locked.wait()
    await asyncio.sleep(0.3)  # next_turn is now waiting for the contact's lock
    assert not following.done()
    release.set()
    await previous
    assert await following == "Baru"


async def test_a_redelivered_event_is_refused_and_a_new_one_recorded_once(database: Database) -> None:
    await an_owner(database)
    for expected in (True, False, False):
        async with database.transaction() as session:
            assert (await locking.begin_turn(session, inbound("same"), utcnow()) is not None) is expected
    assert await count_rows(database, InboundEvent) == 1


async def test_a_first_message_creates_its_contact_and_conversation(database: Database) -> None:
    async with database.transaction() as session:
        locked = await locking.begin_turn(session, Inbound("fake", "62899", "e1", "text", "halo", language="en"),
                                          utcnow())
        assert locked is not None and locked.contact.id is not None and locked.contact.locale == "en"
        assert locked.business is None and not (locked.held or locked.held_back or locked.notice_waiting)
    async with database.transaction() as session:
        contact = (await session.exec(select(Contact).where(Contact.address == "62899"))).one()
        assert (await session.exec(select(Conversation).where(Conversation.contact_id == contact.id))).one()


async def test_an_answer_reads_everything_it_needs_with_the_lock(database: Database) -> None:
    """PostgreSQL: the event and the lock are one statement; SQLite: two. Nothing else is read for them."""
    await an_owner(database)
    statements: list[str] = []
    event.listen(database.engine.sync_engine, "before_cursor_execute",
                 lambda _c, _cur, sql, *_rest: statements.append(sql))
    async with database.transaction() as session:
        locked = await locking.begin_turn(session, inbound("e1"), utcnow())
        assert locked is not None and locked.business is not None and locked.business.nama_usaha == "Lama"
    assert len([s for s in statements if not s.startswith("BEGIN")]) == (2 if database.is_sqlite else 1)
