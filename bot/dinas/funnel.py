"""The owner funnel: how far owners got in the business-profile and product forms, and where drafts stopped.

A record's *stop* is the first question of its form that applies and is neither answered nor skipped (what
`forms.first_open_step` asks next), written as one SQL CASE in the order of the flow's steps; the form's
length means "all answered". Profiles are one per owner; products are first folded per owner in SQL (an owner
reached a question when one of their products did, where it applied), so the page reads one row of sums and
a few rows of stops, whatever the number of products.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, and_, case, cast, exists, false, func, literal, not_, or_, select, true
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.flows.base import Form, Step
from bot.flows.business import BADAN_USAHA, BUSINESS, PKP
from bot.flows.product import FOOD, PACKAGED_FOOD, PRODUCT
from bot.review.scope import in_region
from storage.models import Business, Contact, Conversation, Product, ProductPhoto, ProductStatus

STALE_AFTER = timedelta(days=7)
WORST = 3

#: The facts (as 0/1 columns) that decide which conditional product questions apply (the query joins Business).
FACTS: dict[str, Any] = {
    "pdn": Product.pdn.is_(True),  # type: ignore[attr-defined]
    "packaged": Product.kategori.in_(PACKAGED_FOOD),  # type: ignore[union-attr]
    "food": Product.kategori.in_(FOOD),  # type: ignore[union-attr]
    "pkp": Business.pkp == PKP["pkp"],
    "never": false(),  # a derived value, never asked
}
#: The SQL twin of each conditional step's `when`: the fact it needs (checked against the flow by a test).
PRODUCT_WHEN: dict[str, str] = {"tkdn": "pdn", "pirt": "packaged", "bpom": "packaged", "halal": "food",
                                "ppn_termasuk": "pkp", "usaha_pkp": "never"}
#: The same for the business profile: the akta is asked of a badan usaha (CV, PT, koperasi) only.
BUSINESS_FACTS: dict[str, Any] = {"badan_usaha": Business.bentuk_usaha.in_(BADAN_USAHA)}  # type: ignore[union-attr]
BUSINESS_WHEN: dict[str, str] = {"akta": "badan_usaha"}


def _answered(model: Any, name: str) -> Any:
    """The field holds an answer, or the owner skipped it on purpose."""
    if name == "photos":
        return exists().where(ProductPhoto.product_id == Product.id, ProductPhoto.removed_at.is_(None))  # type: ignore[union-attr]
    skipped = cast(model.skipped, String).like(f'%"{name}"%')
    return or_(getattr(model, name).is_not(None), skipped)


def stop_index(form: Form, model: Any, when: dict[str, str], finished: Any = None) -> Any:
    """SQL: the position in `form.steps` of the record's first open question (len(steps) when none is open).

    Like `Form.unanswered`, a step not asked on the way through (`in_sequence=False`) is never where a record
    stops. `finished` is a cheap condition known to mean "all answered" (a submitted product), checked first.
    """
    whens = [] if finished is None else [(finished, literal(len(form.steps)))]
    for i, step in enumerate(form.steps):
        if not step.in_sequence:
            continue
        whens.append((and_(_applies(step, when), not_(_answered(model, step.field))), literal(i)))
    return case(*whens, else_=literal(len(form.steps)))


def _applies(step: Step, when: dict[str, str]) -> Any:
    return {**FACTS, **BUSINESS_FACTS}[when[step.field]] if step.when is not None else true()


def _reached(step: Step, i: int, stop: Any, applies: Any, answered: Any) -> Any:
    """SQL: the record was asked step `i`: it applies and the record got that far, or, for a step not asked
    on the way through (an email, the INAPROC account, a TKDN), it was actually answered or skipped."""
    got_there = stop >= i if step.in_sequence else and_(stop >= i, answered)
    return and_(applies, got_there)


@dataclass(frozen=True)
class Question:
    form: str
    field: str
    position: int  # 1-based, in the form's order
    reached: int  # records that were asked it (it applied and they got that far)
    stopped: int  # records untouched for 7 days whose next question is this one


def _flag(condition: Any) -> Any:
    return case((condition, 1), else_=0)


async def product_funnel(conn: AsyncConnection, region_code: str, now: datetime) -> list[Question]:
    """Per question of the product form: owners who reached it with at least one product (it applied to that
    product and the product got that far), and stale drafts stopped there."""
    stale = and_(Product.status == ProductStatus.draft, Product.updated_at < now - STALE_AFTER)
    submitted_once = Product.status != ProductStatus.draft  # every question was answered to submit it
    stop = stop_index(PRODUCT, Product, PRODUCT_WHEN, finished=submitted_once).label("stop")
    facts = [_flag(condition).label(name) for name, condition in FACTS.items()]
    facts += [_flag(_answered(Product, s.field)).label(f"a_{s.field}") for s in PRODUCT.steps if not s.in_sequence]
    per_product = (select(Product.business_id, stop, *facts).select_from(Product)
                   .join(Business, Product.business_id == Business.id).where(in_region(region_code))
                   .cte("per_product").prefix_with("MATERIALIZED", dialect="postgresql"))  # one CASE per row
    c = per_product.c
    reached_by_owner = []
    for i, step in enumerate(PRODUCT.steps):
        applies = c[PRODUCT_WHEN[step.field]] == 1 if step.when is not None else true()
        answered = c[f"a_{step.field}"] == 1 if not step.in_sequence else true()
        reached_by_owner.append(func.max(case((_reached(step, i, c.stop, applies, answered), 1), else_=0))
                                .label(f"q{i}"))
    per_owner = select(*reached_by_owner).group_by(c.business_id).subquery()
    reached = (await conn.execute(select(*[func.coalesce(func.sum(col), 0) for col in per_owner.c]))).one()
    stale_stop = stop_index(PRODUCT, Product, PRODUCT_WHEN).label("stop")
    stopped = dict((await conn.execute(
        select(stale_stop, func.count()).select_from(Product).join(Business, Product.business_id == Business.id)
        .where(in_region(region_code), stale).group_by(stale_stop))).all())
    return [Question(PRODUCT.name, step.field, i + 1, int(reached[i]), int(stopped.get(i, 0)))
            for i, step in enumerate(PRODUCT.steps)]


async def business_funnel(conn: AsyncConnection, region_code: str, now: datetime) -> tuple[list[Question], int]:
    """The profile funnel of the region's businesses, and how many profiles (anywhere) have no region yet.

    A profile is stale when it is unfinished and its owner's chats have been quiet for 7 days.
    """
    cutoff = now - STALE_AFTER
    active = exists().where(Contact.owner_id == Business.owner_id, Conversation.contact_id == Contact.id,
                            Conversation.updated_at >= cutoff)
    stale = and_(Business.completed_at.is_(None), Business.created_at < cutoff, not_(active))  # type: ignore[union-attr]
    stop = stop_index(BUSINESS, Business, BUSINESS_WHEN).label("stop")
    facts = [_flag(condition).label(name) for name, condition in BUSINESS_FACTS.items()]
    facts += [_flag(_answered(Business, s.field)).label(f"a_{s.field}") for s in BUSINESS.steps if not s.in_sequence]
    inner = (select(stop, _flag(stale).label("stale"), *facts).select_from(Business)
             .where(in_region(region_code)).subquery())
    c = inner.c
    reached = []
    for i, step in enumerate(BUSINESS.steps):
        applies = c[BUSINESS_WHEN[step.field]] == 1 if step.when is not None else true()
        answered = c[f"a_{step.field}"] == 1 if not step.in_sequence else true()
        reached.append(func.coalesce(func.sum(_flag(_reached(step, i, c.stop, applies, answered))), 0))
    counts = (await conn.execute(select(*reached))).one()
    stopped = dict((await conn.execute(select(c.stop, func.count()).where(c.stale == 1).group_by(c.stop))).all())
    questions = [Question(BUSINESS.name, step.field, i + 1, int(counts[i]), int(stopped.get(i, 0)))
                 for i, step in enumerate(BUSINESS.steps)]
    no_region = select(func.count()).select_from(Business).where(Business.region_code.is_(None))  # type: ignore[union-attr]
    return questions, int((await conn.execute(no_region)).scalar_one())


def worst(questions: list[Question], count: int = WORST) -> list[Question]:
    """The questions where most stale drafts stopped (none when nothing stopped anywhere)."""
    stopped = [q for q in questions if q.stopped]
    return sorted(stopped, key=lambda q: (-q.stopped, q.form != "business", q.position))[:count]

