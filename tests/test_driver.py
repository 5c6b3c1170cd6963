"""The turn's statements straight through the driver (storage/fast/driver.py; asyncpg, or aiosqlite): the same objects
as the ORM loads, written back as usual, inside the session's transaction, and errors raised as SQLAlchemy's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from sqlalchemy import Integer, func, inspect, text
from sqlalchemy.exc import DBAPIError, InvalidRequestError
from sqlmodel import select

from bot.conversation import locking
from bot.domain.messages import Inbound
from storage.db import Database, is_transient
from storage.fast import driver
from storage.models import Business, Contact, Conversation, InboundEvent, Owner

MOMENT = datetime(2026, 11, 30, 23, 59, 58, 123456, tzinfo=UTC)


async def an_owner_in_a_conversation(db: Database) -> None:
    async with db.transaction() as session:
        owner = Owner()
        session.add(owner)
        await session.flush()
        contact = Contact(channel="fake", address="62811", owner_id=owner.id, display_name="Sari",
                          last_inbound_at=MOMENT, created_at=MOMENT - timedelta(days=3))
        business = Business(owner_id=owner.id, nama_usaha="Keripik Bu Sari", alamat="Jl. Merdeka\nNo. 5",
                            skipped=["npwp", "email"], consent_at=MOMENT, consent_version="v1")
        session.add_all([contact, business])
        await session.flush()
        session.add(Conversation(contact_id=contact.id, flow="profile", step="nib", version=7, updated_at=MOMENT,
                                 data={"choices": ["1", "2"], "nested": {"harga": 25000, "ok": True}}))


def columns(row: Any) -> dict[str, Any]:
    return {key: getattr(row, key) for key in type(row).__table__.columns.keys()}  # type: ignore[attr-defined]


async def test_the_lock_loads_the_same_objects_as_the_orm(database: Database) -> None:
    await an_owner_in_a_conversation(database)
    async with database.transaction(quick=True) as session:
        locked = await locking.begin_turn(session, Inbound("fake", "62811", "e1", "text", "halo"), MOMENT)
        assert locked is not None and locked.business is not None
        through_driver = [columns(row) for row in (locked.contact, locked.conversation, locked.business)]
        states = [inspect(row) for row in (locked.contact, locked.conversation, locked.business)]
        assert all(state.persistent and not state.modified for state in states)
        for row in (locked.contact, locked.conversation, locked.business):  # in the identity map, not loaded again
            assert await session.get(type(row), row.id) is row
        with pytest.raises(InvalidRequestError):  # one object per row in a session, as the ORM keeps it
            driver.attach_loaded(session, Contact, columns(locked.contact))
    async with database.sessions() as session:  # the same rows through the ORM
        contact = (await session.exec(select(Contact))).one()
        conversation = (await session.exec(select(Conversation))).one()
        business = (await session.exec(select(Business))).one()
        through_orm = [columns(row) for row in (contact, conversation, business)]
    assert through_driver == through_orm
    for loaded, expected in zip(through_driver, through_orm, strict=True):
        assert {k: type(v) for k, v in loaded.items()} == {k: type(v) for k, v in expected.items()}
    assert through_driver[0]["last_inbound_at"] == MOMENT and through_driver[0]["last_inbound_at"].tzinfo
    assert through_driver[1]["data"]["nested"] == {"harga": 25000, "ok": True}
    assert through_driver[2]["skipped"] == ["npwp", "email"]


async def test_objects_loaded_through_the_driver_are_written_back_by_the_session(database: Database) -> None:
    await an_owner_in_a_conversation(database)
    async with database.transaction(quick=True) as session:
        locked = await locking.begin_turn(session, Inbound("fake", "62811", "e1", "text", "halo"), MOMENT)
        assert locked is not None and locked.business is not None
        locked.conversation.data = {**locked.conversation.data, "nib": "1234567890123"}
        locked.conversation.version += 1
        locked.business.skipped = [*locked.business.skipped, "kbli"]
    async with database.sessions() as session:
        conversation = (await session.exec(select(Conversation))).one()
        business = (await session.exec(select(Business))).one()
    assert conversation.version == 8 and conversation.data["nib"] == "1234567890123"
    assert business.skipped == ["npwp", "email", "kbli"]


async def test_a_driver_statement_is_part_of_the_sessions_transaction(database: Database) -> None:
    await an_owner_in_a_conversation(database)
    with pytest.raises(RuntimeError):
        async with database.transaction(quick=True) as session:
            assert await locking.begin_turn(session, Inbound("fake", "62811", "e1", "text", "halo"), MOMENT)
            raise RuntimeError("the turn failed")
    async with database.sessions() as session:  # rolled back with the session: the event was not recorded
        assert (await session.exec(select(func.count()).select_from(InboundEvent))).one() == 0
    async with database.transaction(quick=True) as session:  # ... so it is handled when it comes again
        assert await locking.begin_turn(session, Inbound("fake", "62811", "e1", "text", "halo"), MOMENT)


async def test_a_database_error_is_raised_as_sqlalchemys_with_its_sqlstate(postgres: Database) -> None:
    with pytest.raises(DBAPIError) as raised:
        async with postgres.transaction() as session:
            await driver.fetch(session, select(func.sqrt(-1)), {})
    assert getattr(raised.value.orig, "sqlstate", None) == "2201F"  # invalid argument for a power function
    assert not is_transient(raised.value)
    with pytest.raises(DBAPIError) as raised:
        async with postgres.transaction() as session:
            conflict = text("CREATE FUNCTION pg_temp.conflict() RETURNS int LANGUAGE plpgsql AS "
                            "$$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = '40001'; END $$")
            await (await session.connection()).execute(conflict)
            await driver.fetch(session, select(func.pg_temp.conflict()), {})
    assert getattr(raised.value.orig, "sqlstate", None) == "40001"  # a serialization failure: the engine retries
    assert is_transient(raised.value)
    async with postgres.transaction() as session:  # the connection is usable again
        assert await driver.fetch(session, select(func.abs(-2)), {}) == [[2]]


async def test_a_connection_that_died_is_invalidated_and_not_used_again(postgres: Database) -> None:
    async with postgres.transaction() as session:
        pid = (await (await session.connection()).execute(text("SELECT pg_backend_pid()"))).scalar_one()
    admin = await asyncpg.connect(postgres.driver_dsn())
    await admin.execute("SELECT pg_terminate_backend($1)", pid)
    await admin.close()
    with pytest.raises(DBAPIError) as raised:
        async with postgres.transaction() as session:
            await driver.fetch(session, select(func.abs(-2)), {})
    assert raised.value.connection_invalidated and is_transient(raised.value)
    async with postgres.transaction() as session:
        assert (await (await session.connection()).execute(text("SELECT pg_backend_pid()"))).scalar_one() != pid
        assert await driver.fetch(session, select(func.abs(-2)), {}) == [[2]]


async def test_a_parameter_left_out_is_an_error_not_a_null(database: Database) -> None:
    from sqlalchemy import bindparam

    async with database.transaction(quick=True) as session:
        assert await driver.fetch(session, select(func.coalesce(bindparam("given", type_=Integer), 7)),
                                  {"given": 3}) == [[3]]
        with pytest.raises(KeyError, match="given"):
            await driver.fetch(session, select(func.coalesce(bindparam("given", type_=Integer), 7)), {})


async def test_a_unique_conflict_is_sqlalchemys_integrity_error(database: Database) -> None:
    """The engine retries a first message that lost the race to create its contact on IntegrityError."""
    from sqlalchemy.exc import IntegrityError

    from storage.db import insert_loaded

    async with database.transaction(quick=True) as session:
        assert await insert_loaded(session, Contact(channel="fake", address="62811", created_at=MOMENT))
    with pytest.raises(IntegrityError):
        async with database.transaction(quick=True) as session:
            await insert_loaded(session, Contact(channel="fake", address="62811", created_at=MOMENT))
    async with database.transaction(quick=True) as session:  # with the unique key named: left alone
        assert not await insert_loaded(session, Contact(channel="fake", address="62811", created_at=MOMENT),
                                       unique=("channel", "address"))


async def test_a_turns_commit_flushes_what_the_unit_of_work_still_holds(database: Database) -> None:
    """A turn's transaction commits through the driver; rows added but not flushed are written first."""
    await an_owner_in_a_conversation(database)
    async with database.transaction(quick=True) as session:
        assert await locking.begin_turn(session, Inbound("fake", "62811", "e1", "text", "halo"), MOMENT)
        session.add(InboundEvent(channel="fake", external_id="added-late", received_at=MOMENT))
        (await session.exec(select(Conversation))).one().step = "npwp"  # through the ORM's execution path too
    async with database.sessions() as session:
        events = (await session.exec(select(InboundEvent.external_id).order_by(InboundEvent.id))).all()
        assert events == ["e1", "added-late"]
        assert (await session.exec(select(Conversation.step))).one() == "npwp"


async def test_a_commit_that_fails_raises_sqlalchemys_error_and_keeps_nothing(postgres: Database) -> None:
    """A deferred unique key is checked at COMMIT: its failure is an IntegrityError, nothing of the turn is kept,
    and the pooled connection is clean for the next turn (not left in a failed transaction)."""
    from sqlalchemy.exc import IntegrityError

    deferred = text("CREATE TEMP TABLE IF NOT EXISTS once (id int, CONSTRAINT once_id UNIQUE (id) "
                    "DEFERRABLE INITIALLY DEFERRED)")
    with pytest.raises(IntegrityError) as raised:
        async with postgres.transaction(quick=True) as session:
            assert await locking.record_event(session, Inbound("fake", "62811", "e1", "text", "halo"), MOMENT)
            connection = await session.connection()
            await connection.execute(deferred)
            await connection.execute(text("INSERT INTO once VALUES (1), (1)"))  # accepted until COMMIT
    assert getattr(raised.value.orig, "sqlstate", None) == "23505"
    async with postgres.transaction(quick=True) as session:
        assert await driver.fetch(session, select(func.count()).select_from(InboundEvent), {}) == [[0]]
        assert await locking.record_event(session, Inbound("fake", "62811", "e1", "text", "halo"), MOMENT)
    async with postgres.sessions() as session:
        assert (await session.exec(select(func.count()).select_from(InboundEvent))).one() == 1


async def test_a_connection_that_dies_before_commit_is_invalidated(postgres: Database) -> None:
    """The backend killed between a turn's statements and its COMMIT: a transient error the engine retries, on a
    new connection."""
    admin = await asyncpg.connect(postgres.driver_dsn())
    try:
        with pytest.raises(DBAPIError) as raised:
            async with postgres.transaction(quick=True) as session:
                assert await locking.record_event(session, Inbound("fake", "62811", "e1", "text", "halo"), MOMENT)
                ((pid,),) = await driver.fetch(session, select(func.pg_backend_pid()), {})
                await admin.execute("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()
    assert raised.value.connection_invalidated and is_transient(raised.value)
    async with postgres.transaction(quick=True) as session:
        assert await driver.fetch(session, select(func.pg_backend_pid()), {}) != [[pid]]
        assert await locking.record_event(session, Inbound("fake", "62811", "e1", "text", "halo"), MOMENT)
