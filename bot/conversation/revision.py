"""The owner's side of a revision: the flagged fields (product or business profile) asked first, none of
them skipped, and a warning when a product goes back to the Dinas with none of them changed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists
from sqlmodel import select

from bot.conversation import forms
from bot.conversation.records import business_of, current_product, lock_product
from bot.conversation.summary import show_summary
from bot.conversation.turn import Turn
from bot.flows.business import BUSINESS
from bot.flows.product import PRODUCT
from storage.models import Business, Contact, Conversation, Decision, Product, ProductHistory, ProductStatus, Review


def form_of(field: str) -> forms.Form | None:
    """The form a flagged field belongs to (officers may flag business-profile fields too)."""
    if PRODUCT.step(field) is not None:
        return PRODUCT
    return BUSINESS if BUSINESS.step(field) is not None else None


def ordered(flagged: list[str]) -> list[str]:
    """Known flagged fields, the business profile's first (it is asked before going back to the product)."""
    known = [f for f in flagged if form_of(f) is not None]
    return [f for f in known if form_of(f) is BUSINESS] + [f for f in known if form_of(f) is PRODUCT]


async def latest_review(turn: Turn, product_id: int) -> Review | None:
    query = select(Review).where(Review.product_id == product_id).order_by(Review.id.desc())  # type: ignore[union-attr]
    return (await turn.session.exec(query)).first()


def _notices_since(owner_id: Any, since: Any) -> list[Any]:
    """Conditions: a revision request on one of the owner's products, made after `since`."""
    return [Product.business_id == Business.id, Business.owner_id == owner_id,
            Product.status == ProductStatus.revision_requested.value, Review.product_id == Product.id,
            Review.decision == Decision.revision.value, Review.created_at > since]


def notice_waiting() -> Any:
    """SQL, correlated to the locked contact and conversation: a revision request reached this owner after
    their last message (read with the lock, so that `pending_notice` only queries when there is one)."""
    return exists().where(*_notices_since(Contact.owner_id, Conversation.updated_at))


async def pending_notice(turn: Turn) -> Product | None:
    """A product whose revision request reached the owner after their last message: what they type now
    answers its first flagged question."""
    if not turn.notice_waiting:
        return None
    query = (select(Product, Review)
             .where(*_notices_since(turn.contact.owner_id, turn.conversation.updated_at))
             .order_by(Review.id.desc()))  # type: ignore[union-attr]
    found = (await turn.session.exec(query)).first()
    if found is None or turn.conversation.data.get("mode") == "revision":
        return None
    return await lock_product(turn, found[0].id)


async def start(turn: Turn, product: Product, announce: bool = True, again: bool = False) -> None:
    """Puts the conversation on the first flagged field (asked when `announce`), or on the summary when
    the owner already worked on them (unless asked `again`)."""
    turn.conversation.product_id = product.id
    review = await latest_review(turn, product.id)  # type: ignore[arg-type]
    fixed_already = not again and review is not None and product.updated_at > review.created_at
    flagged = ordered(list(review.flagged_fields)) if review and not fixed_already else []
    turn.set_state("product", mode="revision", queue=flagged, flagged=flagged)
    if not flagged:
        return await show_summary(turn)
    form = form_of(flagged[0])
    assert form is not None
    record = await business_of(turn) if form is BUSINESS else product
    step = form.step(flagged[0])
    assert step is not None
    turn.conversation.flow, turn.conversation.step = form.name, step.field
    if announce:
        turn.say("revision_start", reason=review.reason if review else "", fields=flagged)
        await forms.ask(turn, form, record, step)


async def after_business(turn: Turn) -> None:
    """The flagged business fields are done: on to the flagged product fields, then the summary."""
    product = await current_product(turn)
    product.updated_at = turn.now
    queue = [f for f in turn.data.get("queue", []) if form_of(f) is PRODUCT]
    turn.update_data(queue=queue)
    answers = await forms.answers_of(turn, PRODUCT, product)
    step = next((s for f in queue if (s := PRODUCT.step(f)) is not None and s.applies(answers)), None)
    await (forms.ask(turn, PRODUCT, product, step) if step else show_summary(turn))


async def snapshot(turn: Turn, product: Product, business: Business) -> dict[str, Any]:
    """What a submission showed the officer: every answer and the photos' hashes."""
    answers = await forms.answers_of(turn, PRODUCT, product)
    answers.pop("photos", None)
    photos = [p.sha256 for p in await forms.active_photos(turn, product.id)]  # type: ignore[arg-type]
    profile = await forms.answers_of(turn, BUSINESS, business)
    return {"product": answers, "photos": photos, "business": profile}


def changed_fields(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """The fields whose answer differs between two snapshots ("photos" for the photos)."""
    changed = [f for part in ("product", "business") for f, value in after[part].items()
               if before.get(part, {}).get(f) != value]
    return changed + (["photos"] if before.get("photos") != after["photos"] else [])


async def last_snapshot(turn: Turn, product_id: int) -> dict[str, Any] | None:
    query = (select(ProductHistory)
             .where(ProductHistory.product_id == product_id, ProductHistory.status == ProductStatus.submitted)
             .order_by(ProductHistory.id.desc()))  # type: ignore[union-attr]
    row = (await turn.session.exec(query)).first()
    return row.snapshot if row is not None else None


async def unchanged_flagged(turn: Turn, product: Product, now: dict[str, Any]) -> list[str]:
    """For a revision: the flagged fields still as the officer saw them (all of them: warn the owner)."""
    if product.status != ProductStatus.revision_requested:
        return []
    review = await latest_review(turn, product.id)  # type: ignore[arg-type]
    before = await last_snapshot(turn, product.id)  # type: ignore[arg-type]
    if review is None or before is None or not review.flagged_fields:
        return []
    changed = set(changed_fields(before, now))
    if changed & set(review.flagged_fields):
        return []
    return list(review.flagged_fields)
