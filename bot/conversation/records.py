"""The owner's records as a turn reads them: the business, and its products locked one event at a time."""

from __future__ import annotations

from sqlmodel import select

from bot.conversation.turn import Turn
from storage.models import Business, Product, ProductStatus

EDITABLE = (ProductStatus.draft, ProductStatus.revision_requested)


async def business_of(turn: Turn) -> Business:
    """The owner's business (read with the contact's lock when the owner was known then)."""
    if turn.business is None or turn.business.owner_id != turn.contact.owner_id:
        query = select(Business).where(Business.owner_id == turn.contact.owner_id)
        turn.business = (await turn.session.exec(query)).one()
    return turn.business


async def lock_product(turn: Turn, product_id: int | None) -> Product | None:
    """The product row, locked for this transaction and read fresh, so its status is checked and changed
    by one event at a time (an owner's two chats, or an owner and an officer)."""
    if product_id is None:
        return None
    return await turn.session.get(Product, product_id, with_for_update=True, populate_existing=True)


async def current_product(turn: Turn) -> Product:
    product = await lock_product(turn, turn.conversation.product_id)
    assert product is not None
    return product


async def products_of(turn: Turn, statuses: tuple[str, ...] | None = None) -> list[Product]:
    business = await business_of(turn)
    query = (select(Product).where(Product.business_id == business.id, Product.status != ProductStatus.deleted)
             .order_by(Product.id))  # type: ignore[arg-type]
    if statuses:
        query = query.where(Product.status.in_(statuses))  # type: ignore[attr-defined]
    return list((await turn.session.exec(query)).all())
