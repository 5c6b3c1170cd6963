"""The decisions on a submission, for every front door (chat officer flow, web console).

Approve / ask revision (flagged fields + note) / reject (reason). The first decision wins: the product row is
locked (`FOR UPDATE` on PostgreSQL; SQLite takes its write lock at BEGIN) and its status checked again. The
owner is told on their own channel and the region's other officers are told who decided, through the caller's
`OutboxWriter`, in the caller's transaction. Every decision is a `Review` row: who, when, from where (`source`),
why (reason, flagged fields), and a snapshot of the answers, so a resubmission can show what changed.
Region queries run in SQL: an officer's region is a kab/kota code ("18.03") or a province code ("18").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.common import ascii_number
from bot.flows.business import BUSINESS
from bot.flows.product import PRODUCT
from bot.i18n import Renderer
from bot.messages import Choice
from bot.outbox import OutboxWriter
from bot.validators import text as text_validator
from storage.models import (
    Business,
    Contact,
    Decision,
    Officer,
    Product,
    ProductPhoto,
    ProductStatus,
    Review,
    ReviewSource,
)

STATUS_AFTER = {
    Decision.approved: ProductStatus.approved,
    Decision.revision: ProductStatus.revision_requested,
    Decision.rejected: ProductStatus.rejected,
}
FLAGGABLE = tuple(s.field for s in (*PRODUCT.steps, *BUSINESS.steps))
ASKED_ORDER = tuple(s.field for s in (*BUSINESS.steps, *PRODUCT.steps))  # a revision asks the profile first
parse_reason = text_validator(3, 1000)


def parse_id(value: object) -> int | None:
    """An id from a button or a URL: ASCII digits only, 1 to 2**31 - 1; anything else is None."""
    number = ascii_number(value) if isinstance(value, str) and value == value.strip() else None
    return number if number else None


@dataclass(frozen=True)
class Actor:
    """Who decides, and through which door."""

    officer: Officer
    source: ReviewSource


@dataclass
class Outcome:
    """`decided`: this decision was recorded; else `review`/`decider` say who decided first (if anyone)."""

    decided: bool
    product: Product
    review: Review | None
    decider: Officer | None


class NotInRegion(LookupError):
    """The product does not exist or is outside the officer's region: the caller answers 404 / refuses."""


@dataclass
class Resubmission:
    """A product sent again after a revision: "Revisi ke-N", what changed, the earlier note and flags."""

    number: int
    changed: list[str]
    note: str
    flagged: list[str] = field(default_factory=list)


# --- regions, in SQL -----------------------------------------------------------------------------------

def _kabkota_and_province(kabkota_code: str) -> list[str]:
    code = (kabkota_code or "").strip()
    return [code, code.split(".")[0]] if "." in code else [code]


async def officers_covering(session: AsyncSession, kabkota_code: str) -> list[Officer]:
    """Active officers whose region is this kab/kota or its province."""
    if not kabkota_code:
        return []
    query = (select(Officer)
             .where(Officer.active == True, col(Officer.region_code).in_(_kabkota_and_province(kabkota_code)))  # noqa: E712
             .order_by(col(Officer.id)))
    return list((await session.exec(query)).all())


def region_filter(officer: Officer) -> Any:
    """SQL condition: the business is in the officer's kab/kota, or in a district of their province."""
    code = officer.region_code.strip()
    if "." in code:
        return Business.region_code == code
    return col(Business.region_code).like(f"{code}.%")


async def pending_for(session: AsyncSession, officer: Officer, limit: int = 50,
                      offset: int = 0) -> list[tuple[Product, Business]]:
    """Submitted products of the officer's region(s), the longest waiting first."""
    query = (select(Product, Business)
             .join(Business, col(Business.id) == Product.business_id)
             .where(Product.status == ProductStatus.submitted, region_filter(officer))
             .order_by(col(Product.submitted_at), col(Product.id))
             .limit(limit).offset(offset))
    return [(p, b) for p, b in (await session.exec(query)).all()]


async def pending_count(session: AsyncSession, officer: Officer) -> int:
    query = (select(func.count()).select_from(Product).join(Business, col(Business.id) == Product.business_id)
             .where(Product.status == ProductStatus.submitted, region_filter(officer)))
    return int((await session.exec(query)).one())


async def in_region(session: AsyncSession, officer: Officer, product_id: int) -> tuple[Product, Business]:
    """The product and its business if the officer may see them; raises NotInRegion."""
    query = (select(Product, Business).join(Business, col(Business.id) == Product.business_id)
             .where(Product.id == product_id, region_filter(officer)))
    row = (await session.exec(query)).first()
    if row is None:
        raise NotInRegion(product_id)
    return row[0], row[1]


# --- reviews -------------------------------------------------------------------------------------------

async def latest_review(session: AsyncSession, product_id: int) -> Review | None:
    query = select(Review).where(Review.product_id == product_id).order_by(col(Review.id).desc())
    return (await session.exec(query)).first()


async def history(session: AsyncSession, product_id: int) -> list[tuple[Review, Officer]]:
    query = (select(Review, Officer).join(Officer, col(Officer.id) == Review.officer_id)
             .where(Review.product_id == product_id).order_by(col(Review.id)))
    return [(r, o) for r, o in (await session.exec(query)).all()]


async def snapshot(session: AsyncSession, product: Product, business: Business) -> dict[str, Any]:
    """Every product and business answer, and the photos' hashes, as they are now."""
    photos = (await session.exec(select(ProductPhoto.sha256).where(
        ProductPhoto.product_id == product.id, col(ProductPhoto.removed_at).is_(None))
        .order_by(col(ProductPhoto.id)))).all()
    values = {s.field: getattr(product, s.field) for s in PRODUCT.steps if s.kind != "photos"}
    values |= {s.field: getattr(business, s.field) for s in BUSINESS.steps}
    values["photos"] = list(photos)
    return values


async def resubmission(session: AsyncSession, product: Product, business: Business) -> Resubmission | None:
    """For a product sent again after revision(s): which revision this is and what changed since."""
    reviews = list((await session.exec(select(Review).where(Review.product_id == product.id)
                                       .order_by(col(Review.id)))).all())
    revisions = [r for r in reviews if r.decision == Decision.revision]
    if not reviews or reviews[-1].decision != Decision.revision:
        return None
    last = reviews[-1]
    now = await snapshot(session, product, business)
    before = last.snapshot or {}
    changed = [name for name in FLAGGABLE if name in before and before.get(name) != now.get(name)]
    return Resubmission(number=len(revisions), changed=changed, note=last.reason, flagged=list(last.flagged_fields))


def flags_problem(decision: Decision, flagged: list[str]) -> str | None:
    """The message key of what is wrong with a revision's flagged fields (none, or unknown ones), else None."""
    if decision != Decision.revision:
        return None
    if not flagged:
        return "flag_one"
    if any(name not in FLAGGABLE for name in flagged):
        return "stale_button"
    return None


def check_decision(decision: Decision, reason: str, flagged: list[str]) -> str:
    """The cleaned reason; raises ValueError(key) for a revision without fields or a missing reason."""
    if (problem := flags_problem(decision, flagged)) is not None:
        raise ValueError(problem)
    if decision == Decision.approved:
        return reason.strip()[:1000]
    return parse_reason(reason)


async def decide(session: AsyncSession, outbox: OutboxWriter, renderer: Renderer, actor: Actor,
                 product_id: int, decision: Decision, reason: str = "", flagged: list[str] | None = None,
                 ) -> Outcome:
    """Records the first decision on a submission and tells the owner and the other officers.

    Raises NotInRegion for a product the actor may not see, ValueError(key) for a bad reason or flags
    (nothing changed in either case). A product no longer waiting returns `decided=False` with who decided.
    """
    now = outbox.now
    product, business = await in_region(session, actor.officer, product_id)
    locked = await session.exec(select(Product).where(Product.id == product.id).with_for_update()
                                .execution_options(populate_existing=True))
    product = locked.one()
    if product.status != ProductStatus.submitted:
        review = await latest_review(session, product_id)
        decider = await session.get(Officer, review.officer_id) if review else None
        return Outcome(False, product, review, decider)
    reason = check_decision(decision, reason, list(flagged or []))
    flagged = [name for name in ASKED_ORDER if name in (flagged or [])]  # as the owner is asked, no duplicates
    review = Review(product_id=product.id, officer_id=actor.officer.id, decision=decision, reason=reason,
                    flagged_fields=flagged if decision == Decision.revision else [], source=actor.source,
                    snapshot=await snapshot(session, product, business), created_at=now)
    session.add(review)
    product.status = STATUS_AFTER[decision]
    product.updated_at = now
    await _tell_owner(session, outbox, renderer, product, business, review)
    await _tell_other_officers(session, outbox, renderer, actor.officer, product, business, review)
    await session.flush()
    return Outcome(True, product, review, actor.officer)


async def _tell_owner(session: AsyncSession, outbox: OutboxWriter, renderer: Renderer, product: Product,
                      business: Business, review: Review) -> None:
    """The owner's most recently used chat gets the result, with the button to fix or to the menu."""
    contacts = (await session.exec(select(Contact).where(Contact.owner_id == business.owner_id))).all()
    if not contacts:
        return
    contact = max(contacts, key=lambda c: (c.last_inbound_at is not None, c.last_inbound_at, c.id))
    locale = contact.locale
    key, choice = ("fix_now", f"fix:{product.id}") if review.decision == Decision.revision else \
        ("to_menu", "menu:main")
    text = renderer.render(locale, f"owner/{review.decision}", product=product, reason=review.reason,
                           fields=list(review.flagged_fields))
    decision_label = renderer.labels(locale)["decisions"][review.decision]
    outbox.send(contact, text, choices=[Choice(choice, renderer.label(locale, "buttons", key))],
                notice={"kind": "review_result", "params": [product.nama_produk or "", decision_label]})


async def _tell_other_officers(session: AsyncSession, outbox: OutboxWriter, renderer: Renderer,
                               decider: Officer, product: Product, business: Business, review: Review) -> None:
    """The region's other officers learn who decided, so nobody opens a finished submission."""
    others = [o for o in await officers_covering(session, business.region_code or "") if o.id != decider.id]
    if not others:
        return
    contacts = (await session.exec(select(Contact).where(
        col(Contact.officer_id).in_([o.id for o in others])).order_by(col(Contact.id)))).all()
    for contact in contacts:
        text = renderer.render(contact.locale, "officer/decided_elsewhere", product=product,
                               decision=review.decision, decider=decider.name, source=review.source)
        outbox.send(contact, text)
