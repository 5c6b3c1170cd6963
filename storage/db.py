"""Database engine and sessions: SQLite (embedded default) or PostgreSQL, both async."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def async_url(url: str) -> str:
    """`sqlite:///x.db` -> aiosqlite, `postgresql://` (or `postgres://`) -> asyncpg."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    parsed = make_url(url)
    driver = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}.get(parsed.drivername)
    return str(parsed.set(drivername=driver)) if driver else url


def _prepare_sqlite(engine: AsyncEngine) -> None:
    """Take SQLite's write lock at BEGIN, so concurrent events for one chat run one after the other."""

    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(conn):  # type: ignore[no-untyped-def]
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _lock_key(name: str) -> int:
    """A stable signed 64-bit key for pg_advisory_lock, from a name."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


class Database:
    """The engine, a session factory and the migrations for one DATABASE_URL."""

    def __init__(self, url: str, schema: str | None = None) -> None:
        """`schema` (PostgreSQL only) puts every table in that schema, e.g. one per test."""
        self.url = async_url(url)
        parsed = make_url(self.url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite and parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        if self.is_sqlite:
            connect_args: dict = {"timeout": 30}
        else:
            connect_args = {"timeout": 10}  # seconds to connect; a dead server must not hang a request
            if schema:
                connect_args["server_settings"] = {"search_path": schema}
        # pre-ping: a connection the server dropped (restart, failover) is replaced before it is used
        # hide_parameters: SQL parameters (names, NIB, phones) never reach a log line or an error message
        self.migration_lock_key = _lock_key(f"umkm-bot migrations {parsed.database} {schema or ''}")
        self.engine = create_async_engine(self.url, connect_args=connect_args, pool_pre_ping=True,
                                          hide_parameters=True)
        if self.is_sqlite:
            _prepare_sqlite(self.engine)
        self.sessions = async_sessionmaker(self.engine, class_=AsyncSession, expire_on_commit=False)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: committed on success, rolled back on error."""
        async with self.sessions() as session, session.begin():
            yield session

    async def upgrade(self, revision: str = "heads") -> None:
        """Apply Alembic migrations up to `revision` (every head, while parallel branches await a merge).

        On PostgreSQL a transaction-level advisory lock makes processes that start at once migrate one after
        the other: the first applies the migrations, the others then find nothing left to do.
        """
        async with self.engine.begin() as conn:
            if not self.is_sqlite:
                await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": self.migration_lock_key})
            await conn.run_sync(_run_alembic, "upgrade", revision)

    async def downgrade(self, revision: str) -> None:
        async with self.engine.begin() as conn:
            await conn.run_sync(_run_alembic, "downgrade", revision)

    async def dispose(self) -> None:
        await self.engine.dispose()


def alembic_config(connection=None) -> Config:  # type: ignore[no-untyped-def]
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def _run_alembic(sync_connection, action: str, revision: str) -> None:  # type: ignore[no-untyped-def]
    getattr(command, action)(alembic_config(sync_connection), revision)
