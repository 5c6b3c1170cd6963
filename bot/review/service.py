"""The decisions on a submission, for every front door (chat officer flow, web console).

Approve / ask revision (flagged fields + note) / reject (reason). The first decision wins: the product row is
locked (`FOR UPDATE` on PostgreSQL; SQLite takes its write lock at BEGIN) and its status checked again, with
the round the officer saw (`seen`: a decision on an older round of a product sent again is refused). The only
place that decides: the doors pass the officer's choice as made and present the `Outcome`. The
owner is told on their own channel and the region's other officers are told who decided, through the caller's
`OutboxWriter`, in the caller's transaction. Every decision is a `Review` row: who, when, from where (`source`),
why (reason, flagged fields), and a snapshot of the answers, so a resubmission can show what changed.
Region queries run in SQL, with the one region rule of `bot.review.scope`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.delivery.outbox import OutboxWriter
from bot.domain.numbers import ascii_number
from bot.domain.validators import text as text_validator
from bot.flows.base import Answers, Form, Step
from bot.flows.business import BUSINESS
from bot.flows.product import PRODUCT
from bot.review import catalogue
from bot.review.notices import tell_other_officers, tell_owner
from bot.review.scope import covering_codes, in_region
from bot.words.i18n import Renderer
from storage.models import (
    Business,
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
FLAGGABLE = tuple(s.field for s in (*PRODUCT.steps, *BUSINESS.steps) if s.reviewable)
ASKED_ORDER = tuple(s.field for s in (*BUSINESS.steps, *PRODUCT.steps))  # a revision asks the profile first
parse_reason = text_validator(3, 1000)
DECISIONS = {d.value: d for d in Decision}


def flaggable(form: Form, answers: Answers) -> list[Step]:
    """The steps of a record an officer may flag for revision: reviewable questions that apply to it (no
    derived value like `usaha_pkp`, no akta for a perorangan), which the owner can answer."""
    return [s for s in form.fields(answers) if s.reviewable]


def parse_id(value: object) -> int | None:
    """An id from a button or a URL: ASCII digits only, 1 to 2**31 - 1; anything else is None."""
    number = ascii_number(value) if isinstance(value, str) and value == value.strip() else None
    return number if number else None


def parse_round(value: object) -> int | None:
    """A round from a button or a form: ASCII digits, 0 to 2**31 - 1; anything else (or nothing) is None."""
    return ascii_number(value) if isinstance(value, str) and value == value.strip() else None


@dataclass(frozen=True)
class Actor:
    """Who decides, and through which door."""

    officer: Officer
    source: ReviewSource


@dataclass(frozen=True)
class Chosen:
    """An officer's decision exactly as they chose it (nothing defaulted), on the round they saw (`seen`)."""

    product_id: int
    decision: Decision | str | None
    seen: int | None
    reason: str = ""
    flagged: tuple[str, ...] = ()


class Result(StrEnum):
    """Where a submission stands for an officer who saw one round of it."""

    waiting = "waiting"              # still waiting, as the officer saw it: they may decide
    recorded = "recorded"            # their decision was recorded
    decided_first = "decided_first"  # another decision came first
    changed = "changed"              # the owner sent it again since the officer saw it: nothing recorded


@dataclass
class Outcome:
    """The result, the product as it is now, and the decision recorded or the one that came first."""

    result: Result
    product: Product
    business: Business
    review: Review | None
    decider: Officer | None

    @property
    def decided(self) -> bool:
        return self.result == Result.recorded


class InvalidDecision(ValueError):
    """Every problem with a decision as chosen: field ("decision", "flagged", "reason") -> message key."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__(next(iter(problems.values())), problems)
        self.problems = problems


class NotInRegion(LookupError):
    """The product does not exist or is outside the officer's region: the caller answers 404 / refuses."""


@dataclass
class Resubmission:
    """A product sent again after a revision: "Revisi ke-N", what changed, the earlier note and flags."""

    number: int
    changed: list[str]
    note: str
    flagged: list[str] = field(default_factory=list)


# --- regions, in SQL (the rule itself: bot/review/scope.py) --------------------------------------------

async def officers_covering(session: AsyncSession, kabkota_code: str) -> list[Officer]:
    """Active officers whose region is this kab/kota or its province."""
    codes = covering_codes(kabkota_code)
    if not codes:
        return []
    query = (select(Officer).where(Officer.active == True, col(Officer.region_code).in_(codes))  # noqa: E712
             .order_by(col(Officer.id)))
    return list((await session.exec(query)).all())


async def pending_for(session: AsyncSession, officer: Officer, limit: int = 50,
                      offset: int = 0) -> list[tuple[Product, Business]]:
    """Submitted products of the officer's region(s), the longest waiting first."""
    query = (select(Product, Business)
             .join(Business, col(Business.id) == Product.business_id)
             .where(Product.status == ProductStatus.submitted, in_region(officer.region_code))
             .order_by(col(Product.submitted_at), col(Product.id))
             .limit(limit).offset(offset))
    return [(p, b) for p, b in (await session.exec(query)).all()]


async def pending_count(session: AsyncSession, officer: Officer) -> int:
    query = (select(func.count()).select_from(Product).join(Business, col(Business.id) == Product.business_id)
             .where(Product.status == ProductStatus.submitted, in_region(officer.region_code)))
    return int((await session.exec(query)).one())


async def find_in_region(session: AsyncSession, officer: Officer, product_id: int) -> tuple[Product, Business]:
    """The product and its business if the officer may see them; raises NotInRegion."""
    query = (select(Product, Business).join(Business, col(Business.id) == Product.business_id)
             .where(Product.id == product_id, in_region(officer.region_code)))
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


def round_after(last: Review | None) -> int:
    """The submission on show, named by the decision before it (latest review id, 0 for the first): an owner
    sends a product again only after a decision (a revision), so this changes with every round."""
    return (last.id or 0) if last is not None else 0


async def current_round(session: AsyncSession, product_id: int) -> int:
    """The round of the submission as it is now, for the officer's buttons and forms to carry."""
    return round_after(await latest_review(session, product_id))


def parse_decision(value: object) -> Decision | None:
    """The decision exactly as chosen ("approved", "revision", "rejected"); anything else is None."""
    return DECISIONS.get(value) if isinstance(value, str) else None


def flags_problem(decision: Decision, flagged: list[str]) -> str | None:
    """The message key of what is wrong with a revision's flagged fields (none, or unknown ones), else None."""
    if decision != Decision.revision:
        return None
    if not flagged:
        return "flag_one"
    if any(name not in FLAGGABLE for name in flagged):
        return "stale_button"
    return None


def problems(decision: Decision | None, reason: str, flagged: list[str]) -> dict[str, str]:
    """Every problem with a decision as chosen, field -> message key; empty when it can be recorded."""
    if decision is None:
        return {"decision": "no_decision"}
    found = {}
    if (problem := flags_problem(decision, flagged)) is not None:
        found["flagged"] = problem
    if decision != Decision.approved:
        try:
            parse_reason(reason)
        except ValueError as exc:
            found["reason"] = str(exc.args[0])
    return found


async def standing(session: AsyncSession, officer: Officer, product_id: int, seen: int | None,
                   lock: bool = False) -> Outcome:
    """Where the submission stands for an officer who saw round `seen` of it; raises NotInRegion.

    With `lock`, the product row is locked first (`FOR UPDATE`; SQLite holds its write lock from BEGIN), so
    the answer holds until the caller's transaction ends.
    """
    product, business = await find_in_region(session, officer, product_id)
    if lock:
        product = (await session.exec(select(Product).where(Product.id == product.id).with_for_update()
                                      .execution_options(populate_existing=True))).one()
    last = await latest_review(session, product_id)
    if product.status != ProductStatus.submitted:
        decider = await session.get(Officer, last.officer_id) if last else None
        return Outcome(Result.decided_first, product, business, last, decider)
    if seen is None or seen != round_after(last):
        return Outcome(Result.changed, product, business, last, None)
    return Outcome(Result.waiting, product, business, None, None)


async def decide(session: AsyncSession, outbox: OutboxWriter, renderer: Renderer, actor: Actor,
                 chosen: Chosen) -> Outcome:
    """Records the officer's decision on the round they saw, and tells the owner and the other officers.

    Under the product's lock: `decided_first` (with who) or `changed` (sent again since `chosen.seen`); then
    InvalidDecision for a missing or unknown decision, bad flags or reason; NotInRegion for a product the actor
    may not see. Nothing changes unless the result is `recorded`.
    """
    found = await standing(session, actor.officer, chosen.product_id, chosen.seen, lock=True)
    if found.result != Result.waiting:
        return found
    decision, reason, flagged = parse_decision(chosen.decision), chosen.reason, list(chosen.flagged)
    if wrong := problems(decision, reason, flagged):
        raise InvalidDecision(wrong)
    assert decision is not None
    product, business = found.product, found.business
    review = Review(product_id=product.id, officer_id=actor.officer.id, decision=decision,
                    reason=reason.strip()[:1000] if decision == Decision.approved else parse_reason(reason),
                    flagged_fields=[name for name in ASKED_ORDER if name in flagged]  # as asked, no duplicates
                    if decision == Decision.revision else [],
                    source=actor.source, snapshot=await snapshot(session, product, business), created_at=outbox.now)
    session.add(review)
    product.status = STATUS_AFTER[decision]
    product.updated_at = outbox.now
    if decision == Decision.approved:
        catalogue.on_approved(product, outbox.now)  # approved_at, the catalogue category path and KBKI
    await tell_owner(session, outbox, renderer, product, business, review)
    others = [o for o in await officers_covering(session, business.region_code or "") if o.id != actor.officer.id]
    await tell_other_officers(session, outbox, renderer, others=others, decider=actor.officer, product=product,
                              review=review)
    await session.flush()
    return Outcome(Result.recorded, product, business, review, actor.officer)
