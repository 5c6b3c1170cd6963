"""Storage: the migrations build exactly the tables the models declare, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel, select

import storage.models  # noqa: F401  (registers the tables)
from storage.db import Database, async_url
from storage.models import Contact, Owner


def _diff(connection) -> list:  # type: ignore[no-untyped-def,type-arg]
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, SQLModel.metadata)


async def test_migrations_match_the_models(database: Database) -> None:
    async with database.engine.connect() as conn:
        diff = await conn.run_sync(_diff)
    assert diff == []


async def test_downgrade_to_nothing_and_back(database: Database) -> None:
    await database.downgrade("base")
    async with database.engine.connect() as conn:
        assert len(await conn.run_sync(_diff)) > 0
    await database.upgrade()
    async with database.transaction() as session:
        owner = Owner(phone="+6281234567890")
        session.add(owner)
        await session.flush()
        session.add(Contact(channel="telegram", address="1", owner_id=owner.id))
    async with database.transaction() as session:
        contact = (await session.exec(select(Contact))).one()
    assert contact.owner_id == owner.id and contact.locale == "id"


def test_urls_pick_the_async_drivers() -> None:
    assert async_url("sqlite:///data/umkm.db") == "sqlite+aiosqlite:///data/umkm.db"
    assert async_url("postgresql://u@h:5432/db") == "postgresql+asyncpg://u@h:5432/db"
    assert async_url("postgres://u@h/db") == "postgresql+asyncpg://u@h/db"
    assert async_url("postgresql+asyncpg://u@h/db") == "postgresql+asyncpg://u@h/db"


async def test_insert_loaded_attaches_the_row_and_leaves_an_existing_one_alone(database: Database) -> None:
    from storage.db import insert_loaded

    async with database.transaction() as session:
        first = Contact(channel="fake", address="628111", display_name="Sari")
        assert await insert_loaded(session, first, unique=("channel", "address"))
        assert first.id is not None and first in session and first not in session.dirty
        first.locale = "en"  # a loaded row: the unit of work writes a change to it
        again = Contact(channel="fake", address="628111", display_name="Someone else")
        assert not await insert_loaded(session, again, unique=("channel", "address"))
        assert again.id is None
    async with database.transaction() as session:
        stored = (await session.exec(select(Contact))).all()
    assert [(c.address, c.display_name, c.locale) for c in stored] == [("628111", "Sari", "en")]


async def test_insert_loaded_pair_links_the_rows_in_one_statement_on_postgresql(database: Database) -> None:
    from sqlalchemy import event

    from storage.db import insert_loaded_pair
    from storage.models import Conversation

    inserts: list[str] = []
    event.listen(database.engine.sync_engine, "before_cursor_execute",
                 lambda _c, _cur, sql, *_: inserts.append(sql) if "INSERT" in sql else None)
    async with database.transaction() as session:
        contact, conversation = Contact(channel="fake", address="628111"), Conversation(flow="start", data={})
        assert await insert_loaded_pair(session, contact, conversation, "contact_id", unique=("channel", "address"))
        assert conversation.contact_id == contact.id is not None and conversation.id is not None
        assert contact in session and conversation in session and not session.dirty and not session.new
        assert len(inserts) == (2 if database.is_sqlite else 1)
        conversation.step = "nib"  # loaded rows: the unit of work writes a change to them
        again = Contact(channel="fake", address="628111", display_name="Someone else")
        assert not await insert_loaded_pair(session, again, Conversation(data={}), "contact_id",
                                            unique=("channel", "address"))
        assert again.id is None
    async with database.transaction() as session:
        stored = (await session.exec(select(Contact.address, Conversation.step).join(
            Conversation, Conversation.contact_id == Contact.id))).all()  # type: ignore[arg-type]
    assert [tuple(row) for row in stored] == [("628111", "nib")]


async def test_a_turns_messages_are_written_in_order_by_one_insert_on_postgresql(database: Database) -> None:
    from sqlalchemy import event

    from bot.delivery.outbox import OutboxWriter
    from storage.models import OutboxMessage, utcnow

    async with database.transaction() as session:
        contacts = [Contact(channel="fake", address=str(n)) for n in range(3)]
        session.add_all(contacts)
        await session.flush()
        outbox = OutboxWriter(session, utcnow())
        for n, contact in enumerate(contacts):
            outbox.send(contact, f"pesan {n}", choices=[])
        statements: list[str] = []
        event.listen(database.engine.sync_engine, "before_cursor_execute",
                     lambda _c, _cur, sql, *_rest: statements.append(sql))
        sent = await outbox.flush()
    inserts = [s for s in statements if s.startswith("INSERT INTO outboxmessage")]
    assert len(inserts) == (len(contacts) if database.is_sqlite else 1)  # SQLite: one per row, to keep the order
    async with database.transaction() as session:
        rows = (await session.exec(select(OutboxMessage).order_by(OutboxMessage.id))).all()  # type: ignore[arg-type]
    assert [(r.id, r.address, r.payload["text"]) for r in rows] == [(o.outbox_id, o.address, o.text) for o in sent]
    assert [r.payload["text"] for r in rows] == ["pesan 0", "pesan 1", "pesan 2"]


async def test_a_burst_of_turns_reuses_the_pools_connections(database: Database, settings) -> None:  # type: ignore[no-untyped-def]
    """Concurrent turns beyond SQLAlchemy's default pool (5) must not open and close a connection each time:
    on PostgreSQL every new one is a server process and its statements prepared again."""
    import asyncio

    from sqlalchemy import event

    from bot.conversation.engine import Engine
    from bot.domain.messages import Inbound

    opened = 0

    def count(*_: object) -> None:
        nonlocal opened
        opened += 1

    for engine in database.engines:
        event.listen(engine.sync_engine, "connect", count)
    engine = Engine(database, settings)
    for burst in range(3):
        replies = await asyncio.gather(*(engine.handle(Inbound("fake", f"62811{n:03d}", f"b{burst}-{n}", "command",
                                                               "/start")) for n in range(15)))
        assert all(r and r[0].outbox_id for r in replies)
    assert opened <= 15  # the default pool: 5 kept, up to 10 more opened and closed in every burst (35)
