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
