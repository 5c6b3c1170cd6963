"""Database engine and sessions: SQLite (embedded default) or PostgreSQL, both async."""

from __future__ import annotations

import asyncio
import errno
import hashlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from functools import cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import bindparam, event, insert, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.fast import driver, sqlite_inline
from storage.fast.parked import ParkedConnections

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

log = logging.getLogger(__name__)


def async_url(url: str) -> str:
    """`sqlite:///x.db` -> aiosqlite, `postgresql://` (or `postgres://`) -> asyncpg."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    parsed = make_url(url)
    driver = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}.get(parsed.drivername)
    return str(parsed.set(drivername=driver)) if driver else url


def _prepare_sqlite(engine: AsyncEngine, busy_timeout_ms: int = 30000) -> None:
    """Take SQLite's write lock at BEGIN, so concurrent events for one chat run one after the other."""

    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")  # WAL: durable at checkpoints, safe from corruption
        # another process writing (this one's transactions queue in asyncio, see _one_writer); 0 for the inline
        # connections, which wait in asyncio instead (storage/fast/sqlite_inline.py)
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms:d}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(conn):  # type: ignore[no-untyped-def]
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _lock_key(name: str) -> int:
    """A stable signed 64-bit key for pg_advisory_lock, from a name."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


PING_AFTER_IDLE = 5.0  # seconds
# PostgreSQL connections a process keeps open (and half as many more at a peak, closed when returned). Enough
# for the turns one process runs at once: with SQLAlchemy's default of 5, every burst above it opened and
# closed connections (a server process each, prepared statements prepared again): 145 in a 10-second wrk run,
# ~30% of the machine's CPU. Three processes at 30 (and a listening connection each) stay below PostgreSQL's
# default max_connections of 100; DATABASE_POOL_SIZE sets it (bot/settings.py).
POOL_SIZE = 20


def _pre_ping_when_idle(engine: AsyncEngine) -> None:
    """Pool pre-ping for connections that sat idle: one the server dropped (restart, failover, idle timeout) is
    replaced before use. A connection back from use moments ago is not pinged: under load that round trip
    would cost more than one statement in seven, and a failure then is retried by the engine anyway."""

    @event.listens_for(engine.sync_engine, "checkin")
    def on_checkin(_dbapi_connection, record):  # type: ignore[no-untyped-def]
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def on_checkout(dbapi_connection, record, _proxy):  # type: ignore[no-untyped-def]
        if time.monotonic() - record.info.get("idle_since", 0.0) < PING_AFTER_IDLE:
            return
        try:
            dbapi_connection.ping()
        except Exception as exc:
            raise DisconnectionError(f"pooled connection was dropped: {exc}") from exc


DATABASE = "storage.db.database"  # session.info: the Database whose `transaction` made the session
_AFTER_COMMIT = "storage.db.after_commit"  # session.info: key -> hook, run once its transaction committed


def after_commit(session: AsyncSession, key: str, hook: Callable[[], None]) -> None:
    """Runs `hook` (synchronous, no I/O of its own: it may start a task) once the transaction of a session from
    `Database.transaction` has committed; never if it rolls back. One hook per `key`: the last one given."""
    session.info.setdefault(_AFTER_COMMIT, {})[key] = hook


def _run_after_commit(session: AsyncSession) -> None:
    for hook in session.info.pop(_AFTER_COMMIT, {}).values():
        try:
            hook()
        except Exception:  # the transaction committed: a failed hook must not make its caller think otherwise
            log.exception("an after-commit hook failed")


class Database:
    """The engine, a session factory and the migrations for one DATABASE_URL."""

    def __init__(self, url: str, schema: str | None = None, pool_size: int = POOL_SIZE) -> None:
        """`schema` (PostgreSQL only) puts every table in that schema, e.g. one per test; `pool_size`: see
        POOL_SIZE."""
        self.url = async_url(url)
        self.schema = schema
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
        # hide_parameters: SQL parameters (names, NIB, phones) never reach a log line or an error message;
        # a connection the server dropped is replaced by the idle pre-ping below (and the engine's retry)
        self.migration_lock_key = _lock_key(f"umkm-bot migrations {parsed.database} {schema or ''}")
        pool = {} if self.is_sqlite else {"pool_size": pool_size, "max_overflow": pool_size // 2}
        self.engine = create_async_engine(self.url, connect_args=connect_args, hide_parameters=True, **pool)
        self.quick_engine = self.engine  # for short statements (see `transaction`); SQLite: its own, inline
        if self.is_sqlite:
            _prepare_sqlite(self.engine)
            if self.sqlite_path:
                self.quick_engine = create_async_engine(self.url, async_creator=sqlite_inline.creator(
                    self.sqlite_path), hide_parameters=True)
                _prepare_sqlite(self.quick_engine, busy_timeout_ms=0)
        else:
            _pre_ping_when_idle(self.engine)
        self.sessions = async_sessionmaker(self.engine, class_=AsyncSession, expire_on_commit=False)
        # turns' connections, kept between turns (SQLite's turns run one at a time: one is enough)
        self.parked = ParkedConnections(self.quick_engine, 1 if self.is_sqlite else max(1, pool_size // 2),
                                        PING_AFTER_IDLE)
        self._write_lock = asyncio.Lock()
        self._writer: asyncio.Task[Any] | None = None
        self._aside: set[asyncio.Task[None]] = set()

    @asynccontextmanager
    async def transaction(self, *, quick: bool = False) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: committed on success, rolled back on error.

        `quick`: only short, indexed statements (a conversation's turn). On SQLite they then run on the event
        loop's thread (storage/fast/sqlite_inline.py), which costs less than the hop to aiosqlite's worker thread;
        anything that may scan (console pages, exports, jobs) leaves it off, so the loop never waits on it. The
        session then runs on a connection whose transaction storage/fast/driver.py begins and commits (`driver.bind`),
        without the session's own transaction machinery, and the connection is kept for the next turn
        (storage/fast/parked.py).
        """
        if quick:
            async with self._one_writer(), self.parked.connection() as connection:
                session = await driver.bind(connection)
                session.info[DATABASE] = self
                try:
                    yield session
                    await driver.commit(session, begin_next=self.parked.has_room)
                finally:
                    session.sync_session.close()  # no I/O: the connection is not the session's to close
            _run_after_commit(session)
            return
        async with self._one_writer(), self.sessions() as session:
            session.info[DATABASE] = self
            async with session.begin():
                yield session
        _run_after_commit(session)

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncConnection]:
        """A Core connection inside one transaction (statements without the ORM's unit of work)."""
        async with self._one_writer(), self.engine.begin() as conn:
            yield conn

    @property
    def engines(self) -> list[AsyncEngine]:
        """Every engine of this database (SQLite has a second one for quick statements)."""
        return [self.engine] if self.quick_engine is self.engine else [self.engine, self.quick_engine]

    @asynccontextmanager
    async def _one_writer(self) -> AsyncIterator[None]:
        """SQLite: this process's transactions wait their turn in asyncio, not in SQLite's sleeping busy handler.

        Re-entrant for the task that holds it (a nested transaction would wait for itself otherwise).
        """
        task = asyncio.current_task()
        if not self.is_sqlite or self._writer is task:
            yield
            return
        async with self._write_lock:
            self._writer = task
            try:
                yield
            finally:
                self._writer = None

    @property
    def sqlite_path(self) -> str | None:
        """The SQLite file, or None (PostgreSQL, or SQLite in memory)."""
        database = make_url(self.url).database
        return database if self.is_sqlite and database and database != ":memory:" else None

    def driver_dsn(self) -> str:
        """The PostgreSQL URL for a plain asyncpg connection (LISTEN and advisory locks)."""
        return make_url(self.url).set(drivername="postgresql").render_as_string(hide_password=False)

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

    def run_aside(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Runs `work` (a short statement of its own, e.g. after a commit) as a task that `dispose` waits for."""
        task = asyncio.get_running_loop().create_task(work)
        self._aside.add(task)
        task.add_done_callback(self._aside.discard)
        return task

    async def dispose(self) -> None:
        if self._aside:
            await asyncio.wait(set(self._aside), timeout=5)
        await self.parked.close()
        for engine in self.engines:
            await engine.dispose()


def alembic_config(connection=None) -> Config:  # type: ignore[no-untyped-def]
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def _run_alembic(sync_connection, action: str, revision: str) -> None:  # type: ignore[no-untyped-def]
    getattr(command, action)(alembic_config(sync_connection), revision)


async def insert_loaded(session: AsyncSession, row: SQLModel, unique: tuple[str, ...] = ()) -> bool:
    """Inserts a new ORM row with one Core INSERT ... RETURNING id and attaches it to the session as if loaded.

    For the hot path: no unit of work for a row nobody has changed yet (the INSERT is sent by the driver,
    storage/fast/driver.py). With `unique` (columns of a unique key), a row that exists already is left
    alone (`ON CONFLICT DO NOTHING`) and False is returned.
    """
    table = row.__table__  # type: ignore[attr-defined]
    values = {column.name: getattr(row, column.name) for column in table.columns if column.name != "id"}
    statement = _insert_returning_id(table, session.bind.dialect.name, unique)
    inserted = await driver.fetch(session, statement, values)
    row_id = inserted[0][0] if inserted else None
    if row_id is None:
        return False
    row.id = row_id  # type: ignore[attr-defined]
    make_transient_to_detached(row)
    session.add(row)
    return True


async def insert_loaded_pair(session: AsyncSession, parent: SQLModel, child: SQLModel, link: str,
                             unique: tuple[str, ...] = ()) -> bool:
    """`insert_loaded` for a new row and a row of its own (`child.<link>` = the parent's id), e.g. a contact and
    its conversation: on PostgreSQL one statement (the parent's INSERT in a CTE), elsewhere two. With `unique`,
    a parent that exists already is left alone, nothing is inserted and False is returned."""
    if session.bind.dialect.name != "postgresql":
        if not await insert_loaded(session, parent, unique):
            return False
        setattr(child, link, parent.id)  # type: ignore[attr-defined]
        return await insert_loaded(session, child)
    tables = (parent.__table__, child.__table__)  # type: ignore[attr-defined]
    values = {f"p_{column.name}": getattr(parent, column.name) for column in tables[0].columns if column.name != "id"}
    values.update({f"c_{column.name}": getattr(child, column.name) for column in tables[1].columns
                   if column.name not in ("id", link)})
    inserted = await driver.fetch(session, _insert_pair_returning_ids(*tables, link, unique), values)
    if not inserted:
        return False
    (child_id, parent_id), = inserted
    parent.id, child.id = parent_id, child_id  # type: ignore[attr-defined]
    setattr(child, link, parent_id)
    for row in (parent, child):
        make_transient_to_detached(row)
        session.add(row)
    return True


@cache
def _insert_pair_returning_ids(parent: Any, child: Any, link: str, unique: tuple[str, ...]) -> Any:
    """PostgreSQL: WITH parent AS (INSERT ... RETURNING id) INSERT INTO child ... SELECT parent.id, ...
    RETURNING the child's id and the parent's, built once per pair of tables."""
    inserted = pg_insert(parent).values({column.name: bindparam(f"p_{column.name}", type_=column.type)
                                        for column in parent.columns if column.name != "id"})
    if unique:
        inserted = inserted.on_conflict_do_nothing(index_elements=list(unique))
    new_parent = inserted.returning(parent.c.id).cte("parent")
    columns = [column for column in child.columns if column.name not in ("id", link)]
    source = select(new_parent.c.id, *[bindparam(f"c_{column.name}", type_=column.type) for column in columns])
    return (insert(child).from_select([link, *(column.name for column in columns)], source)
            .returning(child.c.id, child.c[link]))


@cache
def _insert_returning_id(table: Any, dialect: str, unique: tuple[str, ...]) -> Any:
    """Built once per table: the values go as parameters, so the compiled statement is reused too. Every column
    but `id` is named, so the statement compiles the same without its parameters (storage/fast/driver.py)."""
    values = {column.name: bindparam(column.name, type_=column.type) for column in table.columns
              if column.name != "id"}
    statement = (pg_insert if dialect == "postgresql" else sqlite_insert)(table).values(values)
    if unique:
        statement = statement.on_conflict_do_nothing(index_elements=list(unique))
    return statement.returning(table.c.id)


class DatabaseUnavailable(Exception):
    """The database could not be reached (or kept failing) for a while: nothing was applied; try again later."""


def is_transient(exc: BaseException) -> bool:
    """A lost or refused connection, a serialization failure or deadlock, a locked SQLite file: worth a retry."""
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        if isinstance(exc, OperationalError | InterfaceError):  # SQLite's are mostly bugs ("no such table")
            return "sqlite" not in type(exc.orig).__module__ or any(
                word in str(exc.orig).lower() for word in ("locked", "busy", "disk i/o"))
        code = str(getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None) or "")
        return code in ("40001", "40P01", "57P01", "57P02", "57P03") or code.startswith("08")
    return isinstance(exc, ConnectionError | TimeoutError) or (
        isinstance(exc, OSError) and exc.errno is not None and exc.errno in _NETWORK_ERRNOS)


_NETWORK_ERRNOS = {errno.ECONNREFUSED, errno.ECONNRESET, errno.EHOSTUNREACH, errno.ENETUNREACH, errno.ETIMEDOUT,
                   errno.EPIPE}
