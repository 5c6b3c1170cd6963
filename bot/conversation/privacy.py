"""An owner's rights over their data (UU 27/2022): see what is stored, withdraw consent and have it erased.

Erasing keeps only what is not personal (the business's region and scale, for the Dinas's counts) and what
an approved listing, which the Dinas may already have taken to the catalogue, needs (the business's name,
NIB, KBLI, NPWP and the approved products). Chat addresses, names, phone numbers, e-mail, drafts and their
photos go.
"""

from __future__ import annotations

from sqlmodel import select

from bot.conversation import forms, listing
from bot.conversation.turn import Turn
from bot.flows.business import BUSINESS
from bot.media import photos as media
from bot.words import present
from storage.models import (
    Contact,
    Conversation,
    OutboxMessage,
    OutboxStatus,
    Owner,
    Product,
    ProductHistory,
    ProductPhoto,
    ProductStatus,
)

#: Business fields an approved listing needs; every other answer is erased.
LISTING_FIELDS = ("nama_usaha", "nib", "kbli", "npwp", "skala", "region_code")
#: Kept in every case: not personal, and what the Dinas's progress counts are made of.
ANONYMOUS_FIELDS = ("skala", "region_code")


async def show_my_data(turn: Turn) -> None:
    """Everything stored about this owner: the profile, their chats, their products."""
    business = await listing.business_of(turn)
    answers = await forms.answers_of(turn, BUSINESS, business)
    rows = present.rows(turn.labels(), turn.locale, BUSINESS, answers, business.skipped)
    contacts = await turn.contacts_of_owner(turn.contact.owner_id)  # type: ignore[arg-type]
    products = await listing.products_of(turn)
    turn.set_state("my_data")
    turn.say("my_data", rows=rows, business=business, chats=[f"{c.channel}:{c.address}" for c in contacts],
             products=products, choices=[turn.button("erase:ask", "erase_data"), turn.button("menu:main", "to_menu")])


def ask_erase(turn: Turn) -> None:
    turn.set_state("erase")
    turn.say("erase_confirm", choices=[turn.button("erase:yes", "erase_yes"), turn.button("menu:main", "erase_no")])


async def erase(turn: Turn) -> None:
    """Withdraws consent and erases the owner's personal data, drafts and chats (this one included)."""
    business = await listing.business_of(turn)
    owner = await turn.session.get(Owner, business.owner_id)
    assert owner is not None
    products = (await turn.session.exec(select(Product).where(Product.business_id == business.id))).all()
    approved = [p for p in products if p.status == ProductStatus.approved]
    for product in products:
        if product.status != ProductStatus.approved:
            await _erase_product(turn, product)
    keep = LISTING_FIELDS if approved else ANONYMOUS_FIELDS
    for step in BUSINESS.steps:
        if step.field not in keep:
            setattr(business, step.field, None)
    business.skipped = []
    business.consent_at = business.consent_version = None
    owner.phone = None
    owner.erased_at = turn.now
    turn.say("erased", kept=bool(approved))  # written to the outbox before this chat's address goes
    for contact in await turn.contacts_of_owner(owner.id):  # type: ignore[arg-type]
        await _forget_contact(turn, contact)


async def _erase_product(turn: Turn, product: Product) -> None:
    """A draft or an unapproved product: its answers and photos go; the row stays as a deleted count."""
    if product.status != ProductStatus.deleted:
        turn.session.add(ProductHistory(product_id=product.id, status=ProductStatus.deleted, created_at=turn.now))
    for step_field in ("nama_produk", "merek", "deskripsi", "pirt", "bpom", "halal", "sni"):
        setattr(product, step_field, None)
    product.status = ProductStatus.deleted
    product.updated_at = turn.now
    photos = (await turn.session.exec(select(ProductPhoto).where(ProductPhoto.product_id == product.id))).all()
    for photo in photos:
        await _delete_photo_file(turn, photo)
        photo.removed_at = photo.removed_at or turn.now
        photo.path, photo.source_id = "", ""


async def _delete_photo_file(turn: Turn, photo: ProductPhoto) -> None:
    """Deletes the file unless another product's photo (same content) still uses it."""
    if not photo.path:
        return
    others = (await turn.session.exec(select(ProductPhoto).where(
        ProductPhoto.path == photo.path, ProductPhoto.id != photo.id, ProductPhoto.path != ""))).all()
    if not others:
        await media.delete(photo.path, turn.settings)


async def _forget_contact(turn: Turn, contact: Contact) -> None:
    """The chat row and the copies of messages already sent to it (what is still to be sent goes out)."""
    old = (await turn.session.exec(select(OutboxMessage).where(
        OutboxMessage.channel == contact.channel, OutboxMessage.address == contact.address,
        OutboxMessage.status.in_((OutboxStatus.sent, OutboxStatus.failed, OutboxStatus.held))))).all()  # type: ignore[attr-defined]
    for message in old:
        await turn.session.delete(message)
    conversations = (await turn.session.exec(select(Conversation).where(Conversation.contact_id == contact.id))).all()
    for conversation in conversations:
        await turn.session.delete(conversation)
    await turn.session.flush()
    await turn.session.delete(contact)


async def forget_declined(turn: Turn) -> None:
    """Someone who did not consent: their chat row (its address, a WhatsApp number) and name are not kept."""
    turn.contact.display_name = ""
    await _forget_contact(turn, turn.contact)
