"""Targets of approved products per kabupaten/kota (`umkm-bot region target`); 1,000 when none was set."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.db import Database
from storage.models import RegionTarget, utcnow

DEFAULT_TARGET = 1000
MAX_TARGET = 1_000_000


async def set_target(db: Database, kabkota_code: str, target: int) -> None:
    if not 0 < target <= MAX_TARGET:
        raise ValueError(f"the target must be between 1 and {MAX_TARGET:,}, not {target}.")
    async with db.transaction() as session:
        row = await session.get(RegionTarget, kabkota_code, with_for_update=True)
        row = row or RegionTarget(region_code=kabkota_code, target=target)
        row.target, row.updated_at = target, utcnow()
        session.add(row)


async def targets(conn: AsyncConnection, codes: Iterable[str]) -> dict[str, int]:
    """The target of each kab/kota code (the default where none was set)."""
    wanted = list(codes)
    query = select(RegionTarget.region_code, RegionTarget.target).where(RegionTarget.region_code.in_(wanted))  # type: ignore[attr-defined]
    found = dict((await conn.execute(query)).all())
    return {code: found.get(code, DEFAULT_TARGET) for code in wanted}


async def targets_of(db: Database, codes: Iterable[str]) -> dict[str, int]:
    async with db.engine.connect() as conn:
        return await targets(conn, codes)
