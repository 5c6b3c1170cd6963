"""The message that puts a submission before an officer: its answers, photos and the three review buttons.

Channel-free and conversation-free: it takes a database session, the caller's `OutboxWriter` and the
renderer, so the officer chat (a `Turn`'s session and writer) and the admin CLI (`umkm-bot officer add`,
sending the backlog of a region that had no officer) write it the same way.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.delivery.outbox import OutboxWriter
from bot.domain.messages import Choice
from bot.flows.base import Form
from bot.flows.business import BUSINESS
from bot.flows.product import PRODUCT
from bot.review import service as review
from bot.words import present
from bot.words.i18n import Renderer
from storage.models import Business, Contact, Product, ProductPhoto

BUTTONS = (("a", "approve"), ("r", "ask_revision"), ("x", "reject"))


def review_button_id(code: str, product_id: int, seen: int) -> str:
    """`rv:<a|r|x>:<product id>:<round>`: the round of the submission shown, so a stale tap is refused."""
    return f"rv:{code}:{product_id}:{seen}"


async def send_submission(session: AsyncSession, outbox: OutboxWriter, renderer: Renderer, contact: Contact,
                          product: Product, business: Business) -> None:
    """Queues the submission of `product` to the officer chat `contact`, in its language."""
    locale = contact.locale
    labels = renderer.labels(locale)
    photos = await _photos(session, product.id)  # type: ignore[arg-type]
    product_rows = present.rows(labels, locale, PRODUCT, _answers(PRODUCT, product, len(photos) or None),
                                product.skipped)
    business_rows = present.rows(labels, locale, BUSINESS, _answers(BUSINESS, business), business.skipped)
    seen = await review.current_round(session, product.id)  # type: ignore[arg-type]
    choices = [Choice(review_button_id(code, product.id, seen), renderer.label(locale, "buttons", key))  # type: ignore[arg-type]
               for code, key in BUTTONS]
    text = renderer.render(locale, "officer/submission", product=product, business=business,
                           product_rows=product_rows, business_rows=business_rows,
                           resubmission=await review.resubmission(session, product, business),
                           same_nib=await same_nib(session, business))
    notice = {"kind": "new_submission", "params": [product.nama_produk or "", business.nama_usaha or ""]}
    outbox.send(contact, text, choices=choices, photos=photos, notice=notice)


async def same_nib(session: AsyncSession, business: Business) -> list[str]:
    """The names of the other businesses given the same NIB: one business registered twice, or a typo."""
    if not business.nib:
        return []
    query = (select(Business.nama_usaha)
             .where(Business.nib == business.nib, Business.id != business.id)
             .order_by(col(Business.id)))
    return [name or "-" for name in (await session.exec(query)).all()]


def _answers(form: Form, record: Business | Product, photos: int | None = None) -> dict[str, Any]:
    """The record's answers keyed by field, as `forms.answers_of` gives them (`photos`: the count or None)."""
    answers = {s.field: getattr(record, s.field) for s in form.steps if s.kind != "photos"}
    if isinstance(record, Product):
        answers["photos"] = photos
    return answers


async def _photos(session: AsyncSession, product_id: int) -> list[str]:
    """The product's photos not removed, oldest first (as `forms.active_photos`)."""
    query = (select(ProductPhoto.path)
             .where(ProductPhoto.product_id == product_id, col(ProductPhoto.removed_at).is_(None))
             .order_by(col(ProductPhoto.id)))
    return list((await session.exec(query)).all())


