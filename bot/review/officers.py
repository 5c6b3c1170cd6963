"""Officer administration used by `umkm-bot officer ...` and the admin pages: add, list, remove, unrouted
submissions (one SQL query for both) and the backlog sent to whoever takes them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from bot.delivery.outbox import OutboxWriter
from bot.domain import regions
from bot.review.scope import in_any_region, in_region
from bot.review.submission import send_submission
from bot.settings import Settings
from bot.words.i18n import Renderer
from storage.db import Database
from storage.models import Business, Contact, Officer, OfficerRole, Product, ProductStatus, utcnow


class AdminError(ValueError):
    """A mistake in an admin command, with a message for the person who typed it."""


@dataclass
class OfficerRow:
    officer: Officer
    region: str
    chats: list[str]
    backlog: int = 0  # submissions that waited for an officer of this region, sent to them on adding


def resolve_region(code_or_name: str) -> regions.Region:
    """A kab/kota or province by code or name; refuses an unknown or ambiguous one."""
    found = regions.find_any(code_or_name)
    exact = [r for r in found if r.code == code_or_name.strip()]
    if exact:
        return exact[0]
    if len(found) == 1:
        return found[0]
    if not found:
        raise AdminError(f"No province or kabupaten/kota matches {code_or_name!r}.")
    names = "; ".join(f"{r.code} {r.label}" for r in found)
    raise AdminError(f"{code_or_name!r} matches several regions, give the code: {names}")


async def add_officer(db: Database, name: str, region: str, channel: str, address: str,
                      settings: Settings | None = None, *, role: str = OfficerRole.officer) -> OfficerRow:
    """Registers an officer reachable at `channel:address` for a region (kab/kota or province), and sends
    them the submissions that waited because their region had no officer yet. `role` admin: the Dinas's
    admin for the region (the admin pages, /dinas/admin/)."""
    found = resolve_region(region)
    waiting = [p.id for p, _ in await unrouted_submissions(db, within=found.code)]
    async with db.transaction() as session:
        contact = (await session.exec(select(Contact).where(
            Contact.channel == channel, Contact.address == address))).first()
        if contact is not None and contact.owner_id is not None:
            raise AdminError(f"{channel}:{address} already chats as a business owner; use another chat.")
        if contact is not None and contact.officer_id is not None:
            raise AdminError(f"{channel}:{address} is already officer #{contact.officer_id}.")
        officer = Officer(name=name.strip(), region_code=found.code, role=role)
        session.add(officer)
        await session.flush()
        contact = contact or Contact(channel=channel, address=address)
        contact.officer_id = officer.id
        session.add(contact)
        await session.flush()
        sent = await _send_backlog(session, contact, waiting, settings or Settings())
    return OfficerRow(officer, found.label, [f"{channel}:{address}"], sent)


async def _send_backlog(session: AsyncSession, contact: Contact, product_ids: list[int | None],
                        settings: Settings) -> int:
    """Writes each waiting submission to the new officer's outbox, as `officer.notify_officers` would have."""
    outbox = OutboxWriter(session, utcnow())
    sent = await send_backlog(session, outbox, Renderer(settings.templates_dir), contact, product_ids)
    await outbox.flush()
    return sent


async def send_backlog(session: AsyncSession, outbox: OutboxWriter, renderer: Renderer, contact: Contact,
                       product_ids: Sequence[int | None]) -> int:
    """Puts each of these submissions (those still submitted) before the officer chat `contact`, through the
    caller's outbox writer: the CLI's new officer, an invited officer's first chat, an admin's routing."""
    sent = 0
    for product_id in product_ids:
        product = await session.get(Product, product_id, with_for_update=True)
        business = await session.get(Business, product.business_id) if product else None
        if product is not None and business is not None and product.status == ProductStatus.submitted:
            await send_submission(session, outbox, renderer, contact, product, business)
            sent += 1
    return sent


async def list_officers(db: Database) -> list[OfficerRow]:
    async with db.transaction() as session:
        officers = (await session.exec(select(Officer).order_by(Officer.id))).all()  # type: ignore[arg-type]
        contacts = (await session.exec(select(Contact).where(Contact.officer_id.is_not(None)))).all()  # type: ignore[union-attr]
    rows = []
    for officer in officers:
        region = regions.get_region(officer.region_code)
        chats = [f"{c.channel}:{c.address}" for c in contacts if c.officer_id == officer.id]
        rows.append(OfficerRow(officer, region.label if region else officer.region_code, chats))
    return rows


async def remove_officer(db: Database, officer_id: int) -> Officer:
    """Deactivates an officer (kept for the record of their past reviews)."""
    async with db.transaction() as session:
        officer = await session.get(Officer, officer_id)
        if officer is None:
            raise AdminError(f"No officer #{officer_id}.")
        officer.active = False
    return officer


async def unrouted_submissions(db: Database, within: str | None = None) -> list[tuple[Product, Business]]:
    """Submitted products whose district has no active officer (only those `within` a region, if given)."""
    async with db.transaction() as session:
        return await unrouted_in(session, within)


async def unrouted_in(session: AsyncSession, within: str | None = None, reviewers_only: bool = False,
                      limit: int | None = None) -> list[tuple[Product, Business]]:
    """`unrouted_submissions` in the caller's session; `reviewers_only`: a district covered by admins alone
    counts as unrouted too (the admin pages: an admin oversees a whole area, a district needs its officer)."""
    query = unrouted_query(await covered_regions(session, reviewers_only), within)
    if limit is not None:
        query = query.limit(limit)
    return [(p, b) for p, b in (await session.exec(query)).all()]


async def covered_regions(session: AsyncSession, reviewers_only: bool = False) -> list[str]:
    """The region codes of the active officers (only those with the officer role, if `reviewers_only`)."""
    query = select(Officer.region_code).where(Officer.active == True)  # noqa: E712
    if reviewers_only:
        query = query.where(Officer.role == OfficerRole.officer)
    return list((await session.exec(query)).all())


def unrouted_query(covered: Sequence[str], within: str | None = None) -> SelectOfScalar:  # type: ignore[type-arg]
    """SQL: submitted products of no region in `covered`, oldest first (only those `within` a region)."""
    query = (select(Product, Business).where(Product.business_id == Business.id,
                                             Product.status == ProductStatus.submitted, ~in_any_region(covered))
             .order_by(col(Product.id)))
    if within is not None:
        query = query.where(in_region(within))
    return query  # type: ignore[return-value]
