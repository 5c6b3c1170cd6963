"""Targets of approved products per kabupaten/kota (`umkm-bot region target`); 1,000 when none was set."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import select

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


async def targets(db: Database, codes: Iterable[str]) -> dict[str, int]:
    """The target of each kab/kota code (the default where none was set)."""
    wanted = list(codes)
    async with db.sessions() as session:
        rows = (await session.exec(select(RegionTarget).where(RegionTarget.region_code.in_(wanted)))).all()  # type: ignore[attr-defined]
    found = {r.region_code: r.target for r in rows}
    return {code: found.get(code, DEFAULT_TARGET) for code in wanted}
