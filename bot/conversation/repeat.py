"""A second product costs less: what usually stays the same is offered as one tap, a product can be
copied, and questions skipped last time offer skipping first."""

from __future__ import annotations

from sqlmodel import select

from bot.conversation import forms
from bot.conversation.records import current_product
from bot.conversation.summary import show_summary
from bot.conversation.turn import Turn
from bot.domain.numbers import ascii_number
from bot.flows.product import PRODUCT
from bot.words import present
from storage.models import Product, ProductStatus

#: What usually stays the same between two products of one kind (weight and price do not).
SAME_KIND_FIELDS = ("merek", "satuan", "pdn", "tkdn", "pirt", "bpom", "halal", "sni")
#: Kept too when the two products are similar (same category and same unit): weight and package size.
SIMILAR_FIELDS = ("kemasan", "ukuran")
#: What a copy asks again: a copy is another product, with its own name, description, price and photos.
ASKED_AGAIN = ("nama_produk", "deskripsi", "harga")


async def previous_product(turn: Turn, product: Product, kategori: str | None = None) -> Product | None:
    """The owner's latest other product (of `kategori`, when given) that has answers."""
    query = (select(Product)
             .where(Product.business_id == product.business_id, Product.id != product.id,
                    Product.status != ProductStatus.deleted, Product.kategori.is_not(None))  # type: ignore[union-attr]
             .order_by(Product.id.desc()))  # type: ignore[union-attr]
    if kategori is not None:
        query = query.where(Product.kategori == kategori)
    return (await turn.session.exec(query)).first()


def similar(a: Product, b: Product) -> bool:
    """Two products of the same category sold by the same unit: their weight is likely the same too."""
    return a.kategori is not None and a.satuan is not None and (a.kategori, a.satuan) == (b.kategori, b.satuan)


async def remember_skipped(turn: Turn, product: Product) -> None:
    """Notes which optional questions the owner skipped on their last product (offered with skip first)."""
    previous = await previous_product(turn, product)
    turn.update_data(skipped_before=list(previous.skipped) if previous else [])


async def offer_same(turn: Turn, product: Product) -> bool:
    """Right after the category of a new product: "same as <previous> for brand, unit, permits?"."""
    if turn.data.get("mode") or turn.data.get("same_offered"):
        return False
    previous = await previous_product(turn, product, product.kategori)
    if previous is None:
        return False
    offered = SAME_KIND_FIELDS + (SIMILAR_FIELDS if previous.satuan is not None else ())  # the unit is copied too
    fields = [s.field for s in PRODUCT.steps  # in the form's order
              if s.field in offered and (s.field in previous.skipped or getattr(previous, s.field) is not None)]
    if not fields:
        return False
    answers = await forms.answers_of(turn, PRODUCT, previous)
    labels = turn.labels()
    rows = [(labels["fields"][f], present.shown(labels, turn.locale, PRODUCT.step(f), answers.get(f),  # type: ignore[arg-type]
                                                f in previous.skipped)) for f in fields]
    turn.update_data(same_offered=True, same_from=previous.id)
    turn.say("same_as_before", previous=previous, rows=rows,
             choices=[turn.button(f"same:{previous.id}", "same_yes"), turn.button("same:no", "same_no")])
    return True


async def apply_same(turn: Turn, choice: str) -> None:
    """Copies the unchanging answers (or not), then asks the next open question."""
    product = await current_product(turn)
    source_id = choice.removeprefix("same:")
    if (same_id := ascii_number(source_id)) is not None and same_id == turn.data.get("same_from"):
        previous = await turn.session.get(Product, same_id)
        if previous is not None and previous.business_id == product.business_id:
            copy_fields(previous, product, SAME_KIND_FIELDS, turn)
            if similar(previous, product):
                copy_fields(previous, product, SIMILAR_FIELDS, turn)
    answers = await forms.answers_of(turn, PRODUCT, product)
    step = forms.first_open_step(PRODUCT, answers, product.skipped, after="kategori")
    await (forms.ask(turn, PRODUCT, product, step) if step else show_summary(turn))


def copy_fields(source: Product, target: Product, fields: tuple[str, ...], turn: Turn) -> None:
    """The answers (and skips) of `fields` from one product to another."""
    for field in fields:
        setattr(target, field, getattr(source, field))
    skipped = [f for f in target.skipped if f not in fields]
    target.skipped = skipped + [f for f in source.skipped if f in fields]
    target.updated_at = turn.now
