"""The turn's hot statements straight through the driver (asyncpg, or aiosqlite), on the session's own
connection, in its transaction.

Every update pays for two statements: the event + lock (bot/conversation/locking.py) and the combined write
(storage/fast/writes.py); a new chat or a consent adds a Core insert (`storage.db.insert_loaded`,
`insert_loaded_pair`). Through SQLAlchemy's execution path (cache lookup, parameter and result processing, ORM
loading, the greenlet hop of its async adapter) each costs about three times the driver's own work
(`python benchmarks/turn_cost.py`, last line). Here they are compiled once by SQLAlchemy and sent by the driver,
their parameters and results converted by the same SQLAlchemy types, so a value reads and writes the same either
way; rows become ORM objects attached to the session as if loaded, so the turn changes them as usual; errors are
raised as SQLAlchemy's (a dropped connection invalidated, a serialization failure with its SQLSTATE, a unique
key's conflict as `IntegrityError`), so the engine retries them as before. On SQLite the statements go to
aiosqlite's connection (run on the event loop's thread for a turn, storage/fast/sqlite_inline.py), whose transaction
SQLAlchemy began (`BEGIN IMMEDIATE`) when the session took its connection.

This reaches into SQLAlchemy's async adapters (asyncpg's lazily begun transaction, the execute lock) and its
identity map (`attach_loaded`), so the version is bounded in pyproject.toml and tests/test_driver.py checks both
paths give the same objects. Each internal used is a row of INTERNALS in tests/test_library_internals.py, which
names the one an upgrade removed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, InvalidRequestError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm.base import instance_state
from sqlmodel.ext.asyncio.session import AsyncSession

Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class Prepared:
    """A statement compiled for the driver: its SQL, its positional parameters and how values convert."""

    sql: str
    names: tuple[str, ...]  # the positional parameters ($1, $2...), by name
    defaults: Mapping[str, Any]  # values the statement binds itself (constants such as a status)
    binds: Mapping[str, Processor]  # parameter name -> SQLAlchemy's bind processor (None: as it is)
    results: tuple[Processor, ...]  # per result column: SQLAlchemy's result processor

    def arguments(self, params: Mapping[str, Any]) -> list[Any]:
        values = []
        for name in self.names:
            if name in params:
                value = params[name]
            elif name in self.defaults:
                value = self.defaults[name]
            else:
                raise KeyError(f"a value is required for the parameter {name!r}")
            process = self.binds[name]
            values.append(value if process is None or value is None else process(value))
        return values

    def row(self, record: Sequence[Any]) -> list[Any]:
        return [value if process is None or value is None else process(value)
                for value, process in zip(record, self.results, strict=True)]


@cache
def prepare(statement: Any, dialect: Dialect) -> Prepared:
    """Compiles a Core statement (SELECT, or DML with RETURNING) once per dialect."""
    compiled = statement.compile(dialect=dialect)
    names = tuple(compiled.positiontup or ())
    binds = {name: _bind_processor(compiled.binds[name].type, dialect) for name in set(names)}
    results = tuple(column.type.dialect_impl(dialect).result_processor(dialect, None)
                    for column in statement.exported_columns)
    defaults = {name: bind.value for name, bind in compiled.binds.items() if not bind.required}
    return Prepared(str(compiled), names, defaults, binds, results)


def _bind_processor(type_: Any, dialect: Dialect) -> Processor:
    return type_.dialect_impl(dialect).bind_processor(dialect)


BOUND = "storage.fast.driver.bound"  # session.info: (connection, adapter) of a session made by `bind`


async def bind(connection: AsyncConnection) -> AsyncSession:
    """A session on `connection`, in a transaction begun on it; `fetch` then finds the connection without asking
    the session for it, and `commit` ends the transaction. For a turn (`storage.db.Database.transaction(quick=True)`):
    SQLAlchemy's session-level begin, connection and commit cost about 0.3 ms a turn more
    (`python benchmarks/turn_cost.py`).

    PostgreSQL: SQLAlchemy's transaction is begun without I/O (asyncpg's BEGIN goes with the first statement).
    SQLite: `BEGIN IMMEDIATE` at once (storage/db.py), so the write lock is held from the start."""
    if connection.dialect.name == "sqlite":
        await connection.begin()
    else:
        connection.sync_connection.begin()
    session = AsyncSession(bind=connection, expire_on_commit=False)  # joins the connection's transaction
    session.info[BOUND] = (connection, connection.sync_connection.connection.dbapi_connection)  # checked out: no I/O
    return session


async def commit(session: AsyncSession, *, begin_next: bool = False) -> None:
    """Flushes what the unit of work still holds, then commits. On PostgreSQL the COMMIT goes through asyncpg and
    SQLAlchemy's transaction is then marked committed (the adapter has nothing left to send); a failed COMMIT
    raises as SQLAlchemy would.

    `begin_next` (PostgreSQL; for a connection kept for the next turn, storage/fast/parked.py): `COMMIT; BEGIN` in one
    round trip (the simple protocol runs both; after a failed COMMIT the BEGIN does not run), so the next turn
    finds its transaction begun and sends no BEGIN of its own: three round trips a turn instead of four. The
    connection waits "idle in transaction" with nothing read, locked or written; given back to the pool, it is
    rolled back there."""
    if session.new or session.dirty or session.deleted:
        await session.flush()
    connection, adapter = session.info[BOUND]
    if connection.dialect.name == "sqlite":
        await connection.commit()
        return
    begin_next = begin_next and _plain_begin(adapter)
    if adapter._transaction is not None:
        try:
            if begin_next:
                await adapter._connection.execute("COMMIT; BEGIN")  # asyncpg's transaction object goes on
            else:
                await adapter._call_and_discard(adapter._transaction.commit)
        except Exception as exc:
            raise await _as_sqlalchemy_error(connection, adapter, "COMMIT", exc) from exc
    running, adapter._transaction = adapter._transaction, None
    try:
        connection.sync_connection.commit()  # SQLAlchemy's transaction ended; the adapter has nothing to send
    finally:
        adapter._transaction = running if begin_next else None


def _plain_begin(adapter: Any) -> bool:
    """Whether the adapter begins with a plain `BEGIN` (no isolation level, read-only or deferrable of its own)."""
    return adapter.isolation_level is None and not adapter.readonly and not adapter.deferrable


async def fetch(session: AsyncSession, statement: Any, params: Mapping[str, Any]) -> list[list[Any]]:
    """Runs `statement` in the session's transaction (begun if it was not) and returns its converted rows.

    SQLAlchemy's `before_cursor_execute` listeners hear of it as of any statement (with no cursor or context).
    """
    if BOUND in session.info:
        connection, adapter = session.info[BOUND]
    else:
        connection = await session.connection()
        adapter = (await connection.get_raw_connection()).dbapi_connection
    prepared = prepare(statement, connection.dialect)
    arguments = prepared.arguments(params)
    # SQLAlchemy's cursor events, for whoever counts or logs statements (tests, benchmarks): no cursor, no context
    connection.sync_connection.dispatch.before_cursor_execute(connection.sync_connection, None, prepared.sql,
                                                             arguments, None, False)
    try:
        async with adapter._execute_mutex:  # the adapter's own lock: one statement at a time on a connection
            if connection.dialect.name == "sqlite":
                records = await _sqlite_rows(adapter._connection, prepared.sql, arguments)
            else:
                if adapter._transaction is None:
                    await adapter._start_transaction()  # BEGIN, as SQLAlchemy's adapter does before a statement
                records = await adapter._connection.fetch(prepared.sql, *arguments)
    except Exception as exc:
        raise await _as_sqlalchemy_error(connection, adapter, prepared.sql, exc) from exc
    return [prepared.row(record) for record in records]


async def _sqlite_rows(connection: Any, sql: str, arguments: list[Any]) -> list[Any]:
    """The statement's rows through aiosqlite's connection (an `InlineConnection` for a turn)."""
    cursor = await connection.execute(sql, arguments)
    try:
        return list(await cursor.fetchall())
    finally:
        await cursor.close()


async def _as_sqlalchemy_error(connection: Any, adapter: Any, sql: str, exc: Exception) -> Exception:
    """The error SQLAlchemy would have raised (e.g. `OperationalError` with the driver's error and SQLSTATE); a
    connection that died is invalidated, so the pool does not hand it out again."""
    try:
        adapter._handle_exception(exc)  # raises the driver error translated to the adapter's DBAPI classes
    except Exception as translated:
        exc = translated
    dialect = connection.dialect
    lost = dialect.is_disconnect(exc, adapter, None)
    if lost:
        await connection.invalidate()
    if not isinstance(exc, dialect.loaded_dbapi.Error):
        return exc  # not a database error (a bug, a cancellation): as it was
    return DBAPIError.instance(sql, None, exc, dialect.loaded_dbapi.Error, hide_parameters=True,
                               connection_invalidated=lost, dialect=dialect)


def attach_loaded(session: AsyncSession, model: type[Any], values: Mapping[str, Any]) -> Any:
    """An ORM object of `model` with `values` (every column), in the session as if a query had loaded it.

    What SQLAlchemy's loading does for a new row (orm/loading.py): the identity key set, the state put in the
    session's identity map. `make_transient_to_detached` + `session.add` reach the same state through the
    cascade and attach machinery at about twice the cost (a contact and a conversation in a new session: 84 -> 51
    us)."""
    sync = session.sync_session
    mapper = model.__mapper__
    key = mapper.identity_key_from_primary_key([values[column.key] for column in mapper.primary_key])
    if key in sync.identity_map:
        raise InvalidRequestError(f"{model.__name__} {key[1]} is already in this session")
    instance = mapper.class_manager.new_instance()
    state = instance_state(instance)
    state.dict.update(values)
    state.key, state.identity_token = key, key[2]
    state.session_id = sync.hash_key
    sync.identity_map._add_unpresent(state, key)
    return instance
