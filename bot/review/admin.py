"""What an admin does to their Dinas's area: officers, deactivation, targets, routing, and the audit of it all.

An admin is an active officer with the admin role; their area is their region (a province admin's is every
district of the province, a kab/kota admin's is the district). Every rule of who may touch what is here, in
`in_area` (Python, over `scope.covers`) and `officers_in_area` (SQL, over `scope.districts`), so the pages
only present and call. Every change writes an `AdminAction` row in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import ColumnElement, func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.delivery.outbox import OutboxWriter
from bot.domain import regions
from bot.review.officers import send_backlog
from bot.review.scope import covers, districts, in_region
from bot.words.i18n import Renderer
from storage.models import (
    AdminAction,
    Business,
    Contact,
    Conversation,
    DinasLogin,
    Officer,
    OfficerRole,
    Product,
    ProductStatus,
    RegionTarget,
    Review,
)

DEFAULT_TARGET = 1000  # as bot/dinas/targets.py (a test keeps them equal)
MAX_TARGET = 1_000_000
AUDIT_PAGE = 100


class NotAllowed(Exception):
    """The admin may not do this (not an admin, outside their area, or a mistake); `reason` is a word key."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def is_admin(officer: Officer | None) -> bool:
    return officer is not None and officer.active and officer.role == OfficerRole.admin


def in_area(admin_code: str, region_code: str | None) -> bool:
    """A region (kab/kota or province) lies wholly within the admin's area."""
    covered = districts(region_code or "")
    return bool(covered) and all(covers(admin_code, code) for code in covered)


def area_codes(admin: Officer) -> list[str]:
    """The officer region codes within the admin's area: its province (for a province admin) and districts."""
    codes = [admin.region_code] if in_area(admin.region_code, admin.region_code) else []
    return sorted({*codes, *districts(admin.region_code)})


def officers_in_area(admin: Officer) -> ColumnElement[bool]:
    """SQL twin of `in_area` for officers: their region code is one of the area's."""
    return col(Officer.region_code).in_(area_codes(admin))


def region_label(code: str) -> str:
    found = regions.get_region(code)
    return found.label if found else code


def require_admin(officer: Officer) -> Officer:
    if not is_admin(officer):
        raise NotAllowed("not_admin")
    return officer


def record(session: AsyncSession, admin: Officer, action: str, target: str, region_code: str, now: datetime,
           **detail: Any) -> None:
    """The audit row of one admin action, in the caller's transaction."""
    session.add(AdminAction(admin_id=admin.id, action=action, target=target,  # type: ignore[arg-type]
                            region_code=region_code, detail=detail, created_at=now))


# --- officers ---------------------------------------------------------------------------------------

@dataclass
class OfficerSummary:
    officer: Officer
    region: str
    channels: list[str]
    last_activity: datetime | None
    open_queue: int


async def officers_overview(session: AsyncSession, admin: Officer) -> list[OfficerSummary]:
    """The area's officers with their chats, last activity (last message or decision) and open queue."""
    officers = list((await session.exec(select(Officer).where(officers_in_area(admin))
                                        .order_by(col(Officer.active).desc(), col(Officer.name)))).all())
    ids = [o.id for o in officers]
    chats = await session.exec(select(Contact.officer_id, Contact.channel, func.max(Contact.last_inbound_at))
                               .where(col(Contact.officer_id).in_(ids))
                               .group_by(Contact.officer_id, Contact.channel))
    channels: dict[int, list[str]] = {}
    last: dict[int, datetime] = {}
    for officer_id, channel, seen in chats.all():
        channels.setdefault(officer_id, []).append(channel)  # type: ignore[arg-type]
        _latest(last, officer_id, seen)  # type: ignore[arg-type]
    decided = await session.exec(select(Review.officer_id, func.max(Review.created_at))
                                 .where(col(Review.officer_id).in_(ids)).group_by(Review.officer_id))
    for officer_id, moment in decided.all():
        _latest(last, officer_id, moment)
    waiting = dict((await session.exec(
        select(Business.region_code, func.count()).select_from(Product)
        .join(Business, col(Business.id) == col(Product.business_id))
        .where(Product.status == ProductStatus.submitted, in_region(admin.region_code))
        .group_by(Business.region_code))).all())
    return [OfficerSummary(o, region_label(o.region_code), sorted(channels.get(o.id, [])),  # type: ignore[arg-type]
                           last.get(o.id),  # type: ignore[arg-type]
                           sum(waiting.get(code, 0) for code in districts(o.region_code)))
            for o in officers]


def _latest(found: dict[int, datetime], key: int, moment: datetime | str | None) -> None:
    if moment is None:
        return
    if isinstance(moment, str):  # SQLite's max() of a datetime column
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:  # SQLite gives aggregates back naive; they are UTC
        moment = moment.replace(tzinfo=UTC)
    if key not in found or moment > found[key]:
        found[key] = moment


async def area_officer(session: AsyncSession, admin: Officer, officer_id: int | None,
                       lock: bool = False) -> Officer:
    """An officer of the admin's area, or NotAllowed("not_found") (another area's looks the same as none)."""
    officer = await session.get(Officer, officer_id, with_for_update=lock) if officer_id else None
    if officer is None or not in_area(admin.region_code, officer.region_code):
        raise NotAllowed("not_found")
    return officer


async def deactivate(session: AsyncSession, admin: Officer, officer_id: int | None, now: datetime) -> Officer:
    """Deactivates an officer of the area: their console sessions end now, a decision they were in the middle
    of in their chat is dropped (the submission stays in the region's queue, which is by region, not by person),
    and their past decisions stay theirs (reviews keep the officer id)."""
    require_admin(admin)
    officer = await area_officer(session, admin, officer_id, lock=True)
    if officer.id == admin.id:
        raise NotAllowed("self")
    if not officer.active:
        return officer
    officer.active = False
    await (await session.connection()).execute(update(DinasLogin).where(
        col(DinasLogin.officer_id) == officer.id, col(DinasLogin.ended_at).is_(None)).values(ended_at=now))
    contact_ids = select(Contact.id).where(Contact.officer_id == officer.id)
    await (await session.connection()).execute(update(Conversation).where(
        col(Conversation.contact_id).in_(contact_ids)).values(flow="start", step="", data={}, updated_at=now))
    record(session, admin, "deactivate", f"officer:{officer.id}", officer.region_code, now, name=officer.name)
    return officer


# --- targets ----------------------------------------------------------------------------------------

@dataclass
class TargetRow:
    code: str
    name: str
    target: int
    period_start: date | None
    period_end: date | None
    set: bool  # False: the default, never set


async def area_targets(session: AsyncSession, admin: Officer) -> list[TargetRow]:
    codes = list(districts(admin.region_code))
    rows = {r.region_code: r for r in (await session.exec(
        select(RegionTarget).where(col(RegionTarget.region_code).in_(codes)))).all()}
    return [TargetRow(code, region_label(code), rows[code].target if code in rows else DEFAULT_TARGET,
                      rows[code].period_start if code in rows else None,
                      rows[code].period_end if code in rows else None, code in rows) for code in codes]


async def set_target(session: AsyncSession, admin: Officer, code: str, target: int,
                     period: tuple[date | None, date | None], now: datetime) -> RegionTarget:
    """Sets a district's target and the period it counts; the district must be in the admin's area."""
    require_admin(admin)
    if not covers(admin.region_code, code) or "." not in code:
        raise NotAllowed("not_found")
    if not 0 < target <= MAX_TARGET:
        raise NotAllowed("target_range")
    start, end = period
    if start is not None and end is not None and end < start:
        raise NotAllowed("period_order")
    row = await session.get(RegionTarget, code, with_for_update=True)
    before = (row.target, _iso(row.period_start), _iso(row.period_end)) if row else None
    row = row or RegionTarget(region_code=code, target=target)
    row.target, row.period_start, row.period_end, row.updated_at = target, start, end, now
    session.add(row)
    record(session, admin, "target", f"region:{code}", code, now, products=target, period_start=_iso(start),
           period_end=_iso(end), before=list(before) if before else None)
    return row


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


# --- routing ----------------------------------------------------------------------------------------

async def route_choices(session: AsyncSession, admin: Officer, business: Business) -> list[Officer]:
    """Active officers of the area who may decide on this business's products (their region covers it)."""
    query = select(Officer).where(Officer.active == True, officers_in_area(admin)).order_by(col(Officer.name))  # noqa: E712
    return [o for o in (await session.exec(query)).all() if covers(o.region_code, business.region_code)]


async def route(session: AsyncSession, outbox: OutboxWriter, renderer: Renderer, admin: Officer, *,
                product_id: int | None, officer_id: int | None, now: datetime) -> tuple[Officer, int]:
    """Sends a waiting submission of the area to a chosen officer's chats (as the backlog is sent)."""
    require_admin(admin)
    found = (await session.exec(select(Product, Business).where(
        Product.id == product_id, Product.business_id == Business.id, Product.status == ProductStatus.submitted,
        in_region(admin.region_code)))).first()
    if found is None:
        raise NotAllowed("not_found")
    product, business = found
    officer = await area_officer(session, admin, officer_id)
    if not officer.active or not covers(officer.region_code, business.region_code):
        raise NotAllowed("not_found")
    contacts = (await session.exec(select(Contact).where(Contact.officer_id == officer.id)
                                   .order_by(col(Contact.id)))).all()
    sent = 0
    for contact in contacts:
        sent += await send_backlog(session, outbox, renderer, contact, [product.id])
    record(session, admin, "route", f"product:{product.id}", business.region_code or "", now,
           officer_id=officer.id, officer=officer.name, chats=sent)
    return officer, sent


# --- audit ------------------------------------------------------------------------------------------

async def audit(session: AsyncSession, admin: Officer, limit: int = AUDIT_PAGE,
                offset: int = 0) -> Sequence[tuple[AdminAction, Officer]]:
    """The admin actions on the area's regions, newest first, with who did each."""
    query = (select(AdminAction, Officer).where(col(AdminAction.admin_id) == col(Officer.id),
                                                col(AdminAction.region_code).in_(area_codes(admin)))
             .order_by(col(AdminAction.id).desc()).limit(limit).offset(offset))
    return (await session.exec(query)).all()  # type: ignore[return-value]
