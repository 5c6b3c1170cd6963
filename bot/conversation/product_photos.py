"""A product's photos in its form: the ones kept, new ones stored (an album answered once), their buttons."""

from __future__ import annotations

from sqlmodel import func, select

from bot.conversation import album
from bot.conversation.turn import Turn
from bot.domain.messages import Choice, Inbound
from bot.flows.product import MAX_PHOTOS
from bot.media.photos import store_photo
from storage.models import Product, ProductPhoto


async def active_photos(turn: Turn, product_id: int) -> list[ProductPhoto]:
    query = (select(ProductPhoto)
             .where(ProductPhoto.product_id == product_id, ProductPhoto.removed_at.is_(None))  # type: ignore[union-attr]
             .order_by(ProductPhoto.id))  # type: ignore[arg-type]
    return list((await turn.session.exec(query)).all())


async def photo_count(turn: Turn, product_id: int) -> int:
    query = select(func.count()).select_from(ProductPhoto).where(
        ProductPhoto.product_id == product_id, ProductPhoto.removed_at.is_(None))  # type: ignore[union-attr]
    return int((await turn.session.exec(query)).one())


async def store_photos(turn: Turn, product: Product, inbound: Inbound) -> bool:
    """Stores the photos; True when some are stored and the form goes on (the count said before it)."""
    existing = await active_photos(turn, product.id)  # type: ignore[arg-type]
    hashes = {p.sha256 for p in existing}
    problems: list[str] = []
    for photo in inbound.photos:
        if len(hashes) >= MAX_PHOTOS:
            problems.append("photo_limit")
            continue
        try:
            stored = await store_photo(photo.data, turn.settings, photo.size)
        except ValueError as exc:
            problems.append(str(exc.args[0]))
            continue
        if stored.sha256 in hashes:
            problems.append("photo_duplicate")
            continue
        hashes.add(stored.sha256)
        turn.session.add(ProductPhoto(product_id=product.id, path=stored.path, sha256=stored.sha256,
                                      width=stored.width, height=stored.height, source_id=photo.source_id,
                                      created_at=turn.now))
    product.updated_at = turn.now
    await turn.session.flush()
    if inbound.album:  # one reply for the whole album: this one replaces the one still waiting
        problems = await album.hold_reply(turn, inbound.album, problems)
    errors = [turn.text(f"errors/{key}") for key in dict.fromkeys(problems)]
    count = len(hashes)
    if count and len(hashes) > len(existing):
        turn.say("photos_saved", count=count, max=MAX_PHOTOS, errors=errors)
        return True
    choices = photo_buttons(turn, count) if count else []
    turn.say("photos_received", choices=choices, count=count, max=MAX_PHOTOS, errors=errors)
    return False


def photo_buttons(turn: Turn, count: int) -> list[Choice]:
    """Done; with photos, clear them all; with several, remove one."""
    choices = [turn.button("photos:done", "photos_done")]
    if count:
        choices.append(turn.button("photos:clear", "photos_clear"))
    if count > 1:
        choices.append(turn.button("photos:remove", "photos_remove_one"))
    return choices


async def replace_flagged_photos(turn: Turn, product: Product) -> None:
    """In a revision that flagged the photos, the first new photos replace the old ones (not added to them)."""
    data = turn.data
    if data.get("mode") != "revision" or "photos" not in data.get("flagged", []) or data.get("photos_replaced"):
        return
    for photo in await active_photos(turn, product.id):  # type: ignore[arg-type]
        photo.removed_at = turn.now
    await turn.session.flush()
    turn.update_data(photos_replaced=True)


async def ask_which_photo(turn: Turn, product: Product) -> None:
    """Shows the photos, numbered, with one button each to remove it."""
    photos = await active_photos(turn, product.id)  # type: ignore[arg-type]
    choices = [Choice(f"photos:del:{p.id}", turn.text("photo_label", number=i))
               for i, p in enumerate(photos, start=1)]
    turn.say("which_photo", choices=choices, photos=[p.path for p in photos], count=len(photos))
