"""The owner's upload kit and catalogue link, in chat: from an approved product to tayang on INAPROC.

Opened from the approval notice or "Produk saya" (`kit:ID`): first the upload-only profile answers still
missing (the INAPROC account, and an email when there is none yet), then every form entry on its own line to
copy, the photos in upload order, and buttons "Sudah saya unggah" (`kit:ID:up`) and how to send the link. A
catalogue link sent at any point (`take_link`, checked before the step) records the product as listed; the
decisions are bot/review/catalogue.py's.
"""

from __future__ import annotations

from typing import Any, Literal

from sqlmodel import col, select

from bot.conversation import reading
from bot.conversation.product_photos import active_photos
from bot.conversation.turn import Turn
from bot.domain.messages import Choice, Inbound
from bot.domain.numbers import ascii_number
from bot.flows.base import Step, is_blank
from bot.flows.business import BUSINESS
from bot.review import catalogue
from bot.words.upload_kit import kit_rows
from storage.models import Business, Product, ProductStatus

ROAD = (ProductStatus.approved, ProductStatus.uploaded, ProductStatus.listed)  # products the kit opens for
LinkOutcome = Literal["recorded", "asked", "refused"]


# --- records -------------------------------------------------------------------------------------------------

async def _business(turn: Turn) -> Business:
    if turn.business is None or turn.business.owner_id != turn.contact.owner_id:
        query = select(Business).where(Business.owner_id == turn.contact.owner_id)
        turn.business = (await turn.session.exec(query)).one()
    return turn.business


async def _on_road(turn: Turn, statuses: tuple[str, ...] = ROAD) -> list[Product]:
    """The owner's products in `statuses`, oldest first."""
    business = await _business(turn)
    query = (select(Product).where(Product.business_id == business.id, col(Product.status).in_(statuses))
             .order_by(col(Product.id)))
    return list((await turn.session.exec(query)).all())


async def _own(turn: Turn, product_id: int) -> Product | None:
    """The owner's product on the road to INAPROC, or None (told the button is stale)."""
    product = next((p for p in await _on_road(turn) if p.id == product_id), None)
    if product is None:
        turn.say("errors/stale_button")
    return product


def kit_button(turn: Turn, product: Product) -> Choice:
    """The button that opens a product's kit (for "Produk saya")."""
    return Choice(f"kit:{product.id}", f"{turn.label('buttons', 'open_kit')} #{product.number or product.id}")


# --- the kit -------------------------------------------------------------------------------------------------

def _missing(business: Business) -> list[Step]:
    """Upload-only profile answers still open: the email only while there is no INAPROC account."""
    answers = {s.field: getattr(business, s.field) for s in BUSINESS.steps}
    return [s for s in BUSINESS.for_upload(answers)
            if not (s.field == "email" and business.inaproc_akun == "sudah")]


def _ask(turn: Turn, product_id: int, step: Step, error: str | None = None) -> None:
    """Asks one upload-only profile question (the profile's own words), waiting in flow "kit"."""
    choices = [Choice(f"opt:{k}", turn.labels()["options"][step.field][k]) for k in step.options or {}]
    turn.set_state("kit", step.field, kit=product_id)
    turn.say("kit/ask", choices=choices, question=turn.text(f"ask/business/{step.field}"),
             prefix=turn.text(f"errors/{error}") if error else "")


async def open_kit(turn: Turn, product_id: int) -> None:
    """The kit of one product: the missing upload answers first, then the rows, the photos and the buttons."""
    product = await _own(turn, product_id)
    if product is None:
        return
    business = await _business(turn)
    if missing := _missing(business):
        return _ask(turn, product_id, missing[0])
    photos = [p.path for p in await active_photos(turn, product.id)]  # type: ignore[arg-type]
    rows = kit_rows(product, business, turn.locale, turn.renderer, photos=len(photos))
    turn.set_state("menu")
    turn.say("kit/rows", product=product, kit=rows)
    if photos:
        turn.send(turn.contact, turn.text("kit/photos", count=len(photos)), photos=photos)
    _buttons(turn, product, "kit/next")


def _buttons(turn: Turn, product: Product, template: str, **ctx: Any) -> None:
    upload = [turn.button(f"kit:{product.id}:up", "kit_uploaded")] if product.status == ProductStatus.approved \
        else []
    turn.say(template, product=product, host=catalogue.hosts_of(turn.settings.catalogue_hosts)[0], **ctx,
             choices=[*upload, turn.button(f"kit:{product.id}:link", "kit_link"), turn.button("menu:main", "to_menu")])


async def receive(turn: Turn, inbound: Inbound) -> None:
    """An answer to an upload-only profile question: saved, then the kit goes on (or the question again)."""
    step = BUSINESS.step(turn.conversation.step)
    product_id = int(turn.data.get("kit") or 0)
    if step is None or not product_id:
        return await open_kit(turn, product_id)
    try:
        value = reading.parse(step, inbound)
    except ValueError as exc:
        return _ask(turn, product_id, step, error=str(exc.args[0]) if exc.args else "invalid")
    business = await _business(turn)
    setattr(business, step.field, value)
    business.skipped = [f for f in business.skipped or [] if f != step.field] + ([step.field] if is_blank(value)
                                                                                 else [])
    await open_kit(turn, product_id)


async def uploaded(turn: Turn, product_id: int) -> None:
    """"Sudah saya unggah": approved -> uploaded (the reminders stop), and how to send the link once tayang."""
    if await _own(turn, product_id) is None:
        return
    try:
        product = await catalogue.mark_uploaded(turn.session, turn.outbox, _actor(turn), product_id)
    except catalogue.Refused as refused:
        turn.say("kit/refused", key=refused.key)
        return
    _buttons(turn, product, "kit/uploaded")


async def how_to_link(turn: Turn, product_id: int) -> None:
    if (product := await _own(turn, product_id)) is not None:
        _buttons(turn, product, "kit/how_link")


async def button(turn: Turn, arg: str) -> bool:
    """`kit:ID` opens the kit, `kit:ID:up` marks it uploaded, `kit:ID:link` says how to send the link."""
    number, _, action = arg.partition(":")
    product_id = ascii_number(number)
    run = {"": open_kit, "up": uploaded, "link": how_to_link}.get(action)
    if not product_id or run is None:
        return False
    await run(turn, product_id)
    return True


# --- the link ------------------------------------------------------------------------------------------------

def _actor(turn: Turn) -> catalogue.Actor:
    return catalogue.Actor(turn.contact.channel, contact=turn.contact)


async def _record(turn: Turn, product_id: int, link: str) -> LinkOutcome:
    try:
        await catalogue.record_link(turn.session, turn.outbox, turn.renderer, _actor(turn), product_id, link,
                                    hosts=catalogue.hosts_of(turn.settings.catalogue_hosts))
    except catalogue.Refused as refused:
        turn.say("kit/refused", key=refused.key)
        return "refused"
    if turn.conversation.flow == "kit_link":
        turn.set_state("menu")  # the question was which product: answered
    return "recorded"


async def take_link(turn: Turn, text: str) -> LinkOutcome | None:
    """A catalogue link in an owner's message: recorded for their one approved/uploaded product, or asked
    which; refused with its reason (nothing stored); None when the message holds no catalogue link."""
    hosts = catalogue.hosts_of(turn.settings.catalogue_hosts)
    found = catalogue.find_link(text, hosts)
    if found is None:
        return None
    try:
        link = catalogue.parse_link(found, hosts)
    except catalogue.Refused as refused:
        turn.say("kit/refused", key=refused.key)
        return "refused"
    waiting = await _on_road(turn, catalogue.ON_THE_ROAD)
    if len(waiting) == 1:
        return await _record(turn, waiting[0].id, link)  # type: ignore[arg-type]
    if not waiting:
        listed = [p for p in await _on_road(turn, (ProductStatus.listed,)) if p.listing_url == link]
        turn.say("kit/refused", key="already_listed" if listed else "no_product")
        return "refused"
    turn.set_state("kit_link", link=link)
    turn.say("kit/which", link=link, choices=[
        Choice(f"listed:{p.id}", f"{p.nama_produk or turn.label('words', 'unnamed')} #{p.number or p.id}")
        for p in waiting[-9:]])
    return "asked"


async def pick_product(turn: Turn, arg: str) -> bool:
    """`listed:ID`: the product a link sent earlier belongs to (flow "kit_link")."""
    product_id, link = ascii_number(arg), turn.data.get("link")
    if turn.conversation.flow != "kit_link" or not product_id or not link:
        return False
    if await _own(turn, product_id) is not None:
        await _record(turn, product_id, str(link))
    return True


async def resume(turn: Turn) -> None:
    """Asks again what the kit waits for: its question, or which product a link is for."""
    if turn.conversation.flow == "kit_link" and (link := turn.data.get("link")):
        await take_link(turn, str(link))
    else:
        await open_kit(turn, int(turn.data.get("kit") or 0))
