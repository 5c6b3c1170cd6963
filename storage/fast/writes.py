"""The writes at the end of a turn in as few statements as possible: the rows it changed and its new outbox rows.

The ORM's unit of work costs more than a turn's few changed columns need. When the session holds only changed
rows (no new or deleted objects), each one is written with a cached Core UPDATE of its changed columns; on
PostgreSQL the UPDATEs ride in the same statement as the outbox INSERT (data-modifying CTEs), so an answer is
one round trip instead of three. Anything else (a new product, a deleted photo) goes through `session.flush()`.
Unlike the unit of work, an UPDATE that finds no row (deleted meanwhile) is not an error; the rows a turn changes
are its chat's (locked by the turn) and its owner's business and products, which change in that owner's turns
(and an officer's decision, which updates a product's status through the unit of work, never deletes it).
The rows written are then marked committed through SQLAlchemy's internal `InstanceState._commit_all` (a row of
INTERNALS in tests/test_library_internals.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from sqlalchemy import bindparam, insert, inspect, select, union_all, update
from sqlalchemy.orm.base import NO_VALUE
from sqlalchemy.orm.state import InstanceState
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.fast import driver

Changed = tuple[InstanceState[Any], dict[str, Any]]  # a row's state and its changed columns


async def write_with_rows(session: AsyncSession, table: Any, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Writes the session's pending changes and inserts `rows` into `table`; returns their ids, in order."""
    changed = _changed_rows(session)
    if changed is None:
        await session.flush()
        changed = []
    if session.bind.dialect.name == "postgresql" and any(columns for _, columns in changed) and rows:
        ids = await _all_in_one(session, table, rows, changed)
    else:
        for state, columns in changed:
            if columns:
                statement = _update(state.mapper.local_table, tuple(columns))
                await driver.fetch(session, statement, {"_pk": state.identity[0], **columns})
        ids = await _insert(session, table, rows) if rows else []
    identity_map = session.sync_session.identity_map
    for state, _ in changed:
        state._commit_all(state.dict, identity_map)  # written: the unit of work has nothing left to do for it
    return ids


def _changed_rows(session: AsyncSession) -> list[Changed] | None:
    """Each changed row with its changed columns; None when the unit of work must run (new or deleted rows)."""
    if session.new or session.deleted:
        return None
    changed = []
    for instance in session.dirty:
        state = inspect(instance)
        if [column.name for column in state.mapper.primary_key] != ["id"]:
            return None  # written by `WHERE id = ...` only
        columns = {}
        for key, old in state.committed_state.items():
            new = state.dict.get(key, NO_VALUE)
            if new is NO_VALUE or key not in state.mapper.columns:
                return None  # an expired or unusual attribute: leave it to the ORM
            if old is NO_VALUE or new != old:
                columns[key] = new
        changed.append((state, columns))  # no columns: assigned its own values again, only to be marked clean
    return changed


async def _all_in_one(session: AsyncSession, table: Any, rows: Sequence[dict[str, Any]],
                      changed: list[Changed]) -> list[int]:
    """PostgreSQL: `WITH changed_0 AS (UPDATE ...), ... INSERT INTO outbox ... RETURNING id`, one round trip,
    sent by asyncpg (storage/fast/driver.py)."""
    updates = [(state.mapper.local_table, tuple(columns)) for state, columns in changed if columns]
    statement = _combined(table, tuple(rows[0]), len(rows), tuple(updates))
    params: dict[str, Any] = {}
    for i, (state, columns) in enumerate(c for c in changed if c[1]):
        params[f"u{i}_pk"] = state.identity[0]
        params.update({f"u{i}_{key}": value for key, value in columns.items()})
    for j, row in enumerate(rows):
        params.update({f"r{j}_{key}": value for key, value in row.items()})
    # The ids come from one sequence, drawn in VALUES order: sorted, they are the rows' ids in order.
    return sorted(row_id for (row_id,) in await driver.fetch(session, statement, params))


async def _insert(session: AsyncSession, table: Any, rows: Sequence[dict[str, Any]]) -> list[int]:
    """One row through the driver; several in one executemany, their ids in the rows' order."""
    if len(rows) == 1:
        ((row_id,),) = await driver.fetch(session, _insert_one(table, tuple(rows[0])), rows[0])
        return [row_id]
    result = await (await session.connection()).execute(_insert_many(table), list(rows))
    return [row_id for (row_id,) in result.all()]


@cache
def _insert_many(table: Any) -> Any:
    return insert(table).returning(table.c.id, sort_by_parameter_order=True)


@cache
def _insert_one(table: Any, columns: tuple[str, ...]) -> Any:
    """INSERT of one row with these columns, RETURNING its id, built once per shape."""
    return insert(table).values({key: bindparam(key, type_=table.c[key].type) for key in columns}).returning(
        table.c.id)


@cache
def _update(table: Any, columns: tuple[str, ...]) -> Any:
    """UPDATE table SET the columns WHERE id = :_pk, built once per shape (the compiled form is cached too)."""
    return (update(table).where(table.c.id == bindparam("_pk"))
            .values({key: bindparam(key, type_=table.c[key].type) for key in columns}))


@cache
def _combined(table: Any, columns: tuple[str, ...], count: int,
              updates: tuple[tuple[Any, tuple[str, ...]], ...]) -> Any:
    """The INSERT of `count` rows with one data-modifying CTE per changed row, built once per shape."""
    # INSERT ... SELECT (UNION ALL for several rows), not a multi-row VALUES: SQLAlchemy caches only the former.
    rows = [select(*[bindparam(f"r{j}_{key}", type_=table.c[key].type).label(key) for key in columns])
            for j in range(count)]
    source = rows[0] if count == 1 else union_all(*rows)
    statement = insert(table).from_select(list(columns), source, include_defaults=False).returning(table.c.id)
    for i, (mapped, changed) in enumerate(updates):
        cte = (update(mapped).where(mapped.c.id == bindparam(f"u{i}_pk"))
               .values({key: bindparam(f"u{i}_{key}", type_=mapped.c[key].type) for key in changed})
               .returning(mapped.c.id).cte(f"changed_{i}"))
        statement = statement.add_cte(cte)
    return statement
