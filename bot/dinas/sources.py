"""Owners and products per invitation source (bot/review/reach.py): which poster or event brought how many
owners, and how far their products got (started / submitted / approved / live), in one aggregate query.

An invitation counts for the region it was made for (the event's district), whatever region its owners gave
later (people scan a neighbour's poster). Owners who came by no invitation are one row without a source.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col

from bot.dinas.road import APPROVED_EVER, STARTED
from bot.review.scope import districts, in_region
from storage.models import Business, OwnerInvite, Product, ProductStatus


@dataclass(frozen=True)
class SourceRow:
    invite_id: int | None
    source: str | None  # None: owners who came by no invitation
    region_code: str | None
    code: str | None
    owners: int
    started: int
    submitted: int
    approved: int
    live: int

    @property
    def values(self) -> tuple[Any, ...]:
        return (self.source or "", self.region_code or "", self.owners, self.started, self.submitted,
                self.approved, self.live)


def _count(condition: Any) -> Any:
    return func.count(case((condition, Product.id)))


async def per_source(conn: AsyncConnection, region_code: str) -> list[SourceRow]:
    """One row per invitation of the officer's region (with no owners too), most owners first; then the
    region's owners who came by none."""
    covered = list(districts(region_code))
    status = col(Product.status)
    sent = [s for s in STARTED if s != ProductStatus.draft]
    query = (
        select(OwnerInvite.id, OwnerInvite.source, OwnerInvite.region_code, OwnerInvite.code,
               func.count(func.distinct(Business.id)).label("owners"),
               _count(status.in_(STARTED)), _count(status.in_(sent)),
               _count(status.in_(APPROVED_EVER)), _count(status == ProductStatus.listed))
        .select_from(OwnerInvite)
        .outerjoin(Business, Business.invite_id == OwnerInvite.id)  # type: ignore[arg-type]
        .outerjoin(Product, Product.business_id == Business.id)  # type: ignore[arg-type]
        .where(col(OwnerInvite.region_code).in_(covered))
        .group_by(OwnerInvite.id, OwnerInvite.source, OwnerInvite.region_code, OwnerInvite.code)
    )
    rows = [SourceRow(*r) for r in (await conn.execute(query)).all()]
    rows.sort(key=lambda r: (-r.owners, -r.live, r.source or "", r.region_code or ""))
    none = (
        select(func.count(func.distinct(Business.id)), _count(status.in_(STARTED)),
               _count(status.in_(sent)),
               _count(status.in_(APPROVED_EVER)), _count(status == ProductStatus.listed))
        .select_from(Business)
        .outerjoin(Product, Product.business_id == Business.id)  # type: ignore[arg-type]
        .where(and_(col(Business.invite_id).is_(None), in_region(region_code)))
    )
    owners, *counts = (await conn.execute(none)).one()
    if owners:
        rows.append(SourceRow(None, None, None, None, owners, *counts))
    return rows
