"""What people are told of a recorded decision: the owner its result, the region's other officers who decided.

Written through the caller's `OutboxWriter`, in the decision's transaction (bot/review/service.py).
"""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.delivery.outbox import OutboxWriter
from bot.domain.messages import Choice
from bot.words.i18n import Renderer
from storage.models import Business, Contact, Decision, Officer, Product, Review


async def tell_owner(session: AsyncSession, outbox: OutboxWriter, renderer: Renderer, product: Product,
                      business: Business, review: Review) -> None:
    """The owner's most recently used chat gets the result, with the button to fix or to the menu."""
    contacts = (await session.exec(select(Contact).where(Contact.owner_id == business.owner_id))).all()
    if not contacts:
        return
    contact = max(contacts, key=lambda c: (c.last_inbound_at is not None, c.last_inbound_at, c.id))
    locale = contact.locale
    key, choice = {Decision.revision: ("fix_now", f"fix:{product.id}"),
                   Decision.approved: ("open_kit", f"kit:{product.id}")}.get(review.decision, ("to_menu", "menu:main"))
    text = renderer.render(locale, f"owner/{review.decision}", product=product, reason=review.reason,
                           fields=list(review.flagged_fields), business=business)
    decision_label = renderer.labels(locale)["decisions"][review.decision]
    outbox.send(contact, text, choices=[Choice(choice, renderer.label(locale, "buttons", key))],
                notice={"kind": "review_result", "params": [product.nama_produk or "", decision_label]})


async def tell_other_officers(session: AsyncSession, outbox: OutboxWriter, renderer: Renderer, *,
                              others: list[Officer], decider: Officer, product: Product, review: Review) -> None:
    """The region's other officers learn who decided, so nobody opens a finished submission."""
    if not others:
        return
    contacts = (await session.exec(select(Contact).where(
        col(Contact.officer_id).in_([o.id for o in others])).order_by(col(Contact.id)))).all()
    for contact in contacts:
        text = renderer.render(contact.locale, "officer/decided_elsewhere", product=product,
                               decision=review.decision, decider=decider.name, source=review.source)
        outbox.send(contact, text)
