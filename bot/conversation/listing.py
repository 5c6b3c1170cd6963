"""The owner's products and profile: drafts, the summary, edits, submission, and the screens listing them."""

from __future__ import annotations

from sqlmodel import func, select

from bot.conversation import forms, kit, officer, repeat, revision
from bot.conversation.common import OWNER_MENU
from bot.conversation.records import EDITABLE as EDITABLE
from bot.conversation.records import business_of as business_of
from bot.conversation.records import current_product as current_product
from bot.conversation.records import lock_product as lock_product
from bot.conversation.records import products_of as products_of
from bot.conversation.summary import show_summary as show_summary
from bot.conversation.turn import Turn
from bot.domain.messages import Choice
from bot.flows import kbli
from bot.flows.business import BUSINESS
from bot.flows.product import DEFAULT_MIN_BELI, PRODUCT, permit_missing
from bot.review import submission
from bot.words import present
from storage.models import Business, Product, ProductHistory, ProductStatus

MENU = OWNER_MENU


# --- records (read in records.py; named here too for the modules that build on this one) -----------------

async def own_product(turn: Turn, product_id: int, editable: bool = False) -> Product | None:
    """The product if it belongs to this owner (and can be edited, when asked); else tells them so."""
    business = await business_of(turn)
    product = await lock_product(turn, product_id)
    if product is None or product.business_id != business.id:
        turn.say("errors/stale_button")
        show_menu(turn)
        return None
    if editable and product.status not in EDITABLE:
        turn.say("product_locked", status=product.status, name=product.nama_produk or "")
        show_menu(turn)
        return None
    return product


async def current_form(turn: Turn) -> tuple[forms.Form, forms.Record]:
    if turn.conversation.flow == "business" or turn.data.get("form") == "business":
        return BUSINESS, await business_of(turn)
    return PRODUCT, await current_product(turn)


async def editable_form(turn: Turn) -> tuple[forms.Form, forms.Record] | None:
    """The form being filled, unless its product was submitted meanwhile (say, from the owner's other chat)."""
    form, record = await current_form(turn)
    if isinstance(record, Product) and record.status not in EDITABLE:
        turn.say("product_locked", status=record.status, name=record.nama_produk or "")
        show_menu(turn)
        return None
    return form, record


async def finish_form(turn: Turn, form: forms.Form, record: forms.Record) -> None:
    """A form has no open step left: a new profile goes on to the first product, a product to its summary."""
    if isinstance(record, Business) and turn.data.get("mode") == "revision":
        await revision.after_business(turn)
    elif isinstance(record, Business) and turn.data.get("then_summary"):
        await show_summary(turn)
    elif isinstance(record, Business):
        first_time = record.completed_at is None
        record.completed_at = record.completed_at or turn.now
        if first_time:
            turn.say("business_done", name=record.nama_usaha)
            await new_product(turn)
        else:
            await show_profile(turn)
    else:
        await show_summary(turn)


# --- screens -----------------------------------------------------------------------------------------

def show_menu(turn: Turn) -> None:
    turn.set_state("menu")
    turn.say("menu", choices=[turn.button(f"menu:{item}", f"menu_{item}") for item in MENU])


async def show_profile(turn: Turn) -> None:
    business = await business_of(turn)
    answers = await forms.answers_of(turn, BUSINESS, business)
    lines = present.rows(turn.labels(), turn.locale, BUSINESS, answers, business.skipped)
    turn.set_state("profile")
    turn.say("profile", rows=lines,
             choices=[turn.button("profile:edit", "edit_profile"), turn.button("menu:main", "to_menu")])


async def show_field_picker(turn: Turn, form_name: str) -> None:
    form, record = (BUSINESS, await business_of(turn)) if form_name == "business" else \
        (PRODUCT, await current_product(turn))
    answers = await forms.answers_of(turn, form, record)
    fields = turn.labels()["fields"]
    choices = [Choice(f"field:{s.field}", fields[s.field]) for s in form.fields(answers)]
    if isinstance(record, Product) and record.status == ProductStatus.draft:
        choices.append(turn.button(f"delete:{record.id}", "delete_draft"))
    turn.set_state("pick_field", form=form_name)
    turn.say("pick_field", choices=[*choices, turn.button("pick:back", "back")])


def ask_kbli_or_category(turn: Turn, product: Product, business: Business) -> None:
    """The NIB's KBLI does not fit the category: the owner corrects one of them."""
    code = business.kbli or ""
    turn.set_state("summary")
    turn.say("kbli_mismatch", kbli=code, division=code[:2], kategori=product.kategori,
             fitting=kbli.categories_for(code),
             choices=[turn.button(f"fit:kategori:{product.id}", "change_category"),
                      turn.button(f"fit:kbli:{product.id}", "change_kbli")])


async def note_unfit_category(turn: Turn, product: Product) -> None:
    """Right after choosing a category that does not fit the business's KBLI: one sentence, the draft goes on."""
    business = await business_of(turn)
    if not kbli.fits(business.kbli, product.kategori):
        turn.say("kbli_unfit_note", kbli=business.kbli, kategori=product.kategori,
                 fitting=kbli.categories_for(business.kbli or ""))


async def after_saved(turn: Turn, record: forms.Record, step: forms.Step) -> bool:
    """The owner's hook into the form runner: after a product's category, a note when it does not fit the
    business, then an offer to copy the last product's answers (True when that was offered); after a NIB
    another business gave too, a gentle word that the Dinas will see it (their submissions say so)."""
    if step.field == "nib" and isinstance(record, Business) and await submission.same_nib(turn.session, record):
        turn.note("nib_shared")
    if step.field != "kategori" or not isinstance(record, Product):
        return False
    await note_unfit_category(turn, record)
    return await repeat.offer_same(turn, record)


async def fix_fit(turn: Turn, which: str, product_id: int) -> None:
    """Edits the category of the product, or the KBLI of the profile, then comes back to the summary."""
    product = await own_product(turn, product_id, editable=True)
    if product is None:
        return
    turn.conversation.product_id = product.id
    if which == "kategori":
        return await edit_field(turn, "kategori")
    business = await business_of(turn)
    turn.set_state("business", "kbli", mode="edit", form="business", then_summary=True)
    await forms.ask(turn, BUSINESS, business, BUSINESS.step("kbli"))  # type: ignore[arg-type]


async def edit_field(turn: Turn, field: str) -> None:
    form, record = await current_form(turn)
    step = form.step(field)
    if step is None or not step.applies(await forms.answers_of(turn, form, record)):
        turn.say("errors/stale_button")
        return await show_field_picker(turn, form.name)
    turn.set_state(form.name, field, mode="edit", form=form.name)
    await forms.ask(turn, form, record, step)


async def new_product(turn: Turn, ask: bool = True) -> Product | None:
    """Starts a new draft (and asks its first question, when `ask`); None when the profile is unfinished."""
    business = await business_of(turn)
    if business.completed_at is None:
        turn.say("finish_profile_first")
        turn.set_state("business")
        step = forms.first_open_step(BUSINESS, await forms.answers_of(turn, BUSINESS, business),
                                     business.skipped)
        await forms.ask(turn, BUSINESS, business, step or BUSINESS.steps[0])
        return None
    last = (await turn.session.exec(select(func.max(Product.number)).where(
        Product.business_id == business.id))).one()
    product = Product(business_id=business.id, number=(last or 0) + 1, min_beli=DEFAULT_MIN_BELI,
                      created_at=turn.now, updated_at=turn.now)
    turn.session.add(product)
    await turn.session.flush()
    turn.conversation.product_id = product.id
    turn.set_state("product")
    await repeat.remember_skipped(turn, product)
    if ask:
        await forms.ask(turn, PRODUCT, product, PRODUCT.steps[0])
    return product


def product_button(turn: Turn, product: Product) -> Choice:
    name = product.nama_produk or turn.label("words", "unnamed")
    return Choice(f"open:{product.id}", f"{name} #{product.number or product.id}")


async def show_drafts(turn: Turn) -> None:
    drafts = await products_of(turn, EDITABLE)
    if len(drafts) == 1:
        return await open_product(turn, drafts[0].id)  # type: ignore[arg-type]
    turn.set_state("drafts")
    turn.say("drafts", products=drafts,
             choices=[*[product_button(turn, p) for p in drafts[-9:]], turn.button("menu:main", "to_menu")])


async def show_products(turn: Turn) -> None:
    products = await products_of(turn)
    editable = [p for p in products if p.status in EDITABLE]
    on_road = [kit.kit_button(turn, p) for p in products if p.status in kit.ROAD][-3:]  # their upload kits
    turn.set_state("products")
    copy = [turn.button("copy:pick", "copy_product")] if any(p.kategori for p in products) else []
    turn.say("products", products=products, choices=[*[product_button(turn, p) for p in editable[-8:]], *on_road,
                                                     *copy, turn.button("menu:main", "to_menu")])


async def open_product(turn: Turn, product_id: int, again: bool = False) -> None:
    """Continues a draft where it stopped, or a revision at the fields the officer flagged (`again`: even
    when the owner already worked on them)."""
    product = await own_product(turn, product_id, editable=True)
    if product is None:
        return
    turn.conversation.product_id = product.id
    if product.status == ProductStatus.revision_requested:
        return await revision.start(turn, product, again=again)
    answers = await forms.answers_of(turn, PRODUCT, product)
    step = forms.first_open_step(PRODUCT, answers, product.skipped)
    turn.set_state("product")
    await (forms.ask(turn, PRODUCT, product, step) if step else show_summary(turn))


async def submit(turn: Turn, product_id: int, anyway: bool = False) -> None:
    """Sends a complete product to the Dinas officers of the owner's district (a revision with none of
    the flagged fields changed is questioned first, unless sent `anyway`)."""
    product = await own_product(turn, product_id, editable=True)
    if product is None:
        return
    turn.conversation.product_id = product.id
    answers = await forms.answers_of(turn, PRODUCT, product)
    missing = PRODUCT.missing(answers)
    if missing:
        turn.say("submit_missing", fields=[s.field for s in missing])
        turn.set_state("product", mode="edit")
        return await forms.ask(turn, PRODUCT, product, missing[0])
    business = await business_of(turn)
    if permit_missing(answers):
        turn.say("permit_needed", product=product)
        return show_menu(turn)
    if not kbli.fits(business.kbli, product.kategori):
        return ask_kbli_or_category(turn, product, business)
    snapshot = await revision.snapshot(turn, product, business)
    if not anyway and (unchanged := await revision.unchanged_flagged(turn, product, snapshot)):
        turn.set_state("summary")
        return turn.say("revision_unchanged", fields=unchanged,
                        choices=[turn.button(f"fix:{product.id}", "fix_now"),
                                 turn.button(f"submit:{product.id}:anyway", "send_anyway")])
    product.status = ProductStatus.submitted
    product.submitted_at = product.updated_at = turn.now
    turn.session.add(ProductHistory(product_id=product.id, status=product.status, source=turn.contact.channel,
                                    snapshot=snapshot, created_at=turn.now))
    notified = await officer.notify_officers(turn, product, business)
    turn.say("submitted", product=product, notified=notified)
    show_menu(turn)


# --- copying a product -----------------------------------------------------------------------------

async def show_copy_picker(turn: Turn) -> None:
    products = [p for p in await products_of(turn) if p.kategori]
    turn.set_state("copy")
    turn.say("copy_which", products=products,
             choices=[*[Choice(f"copy:{p.id}", f"{p.nama_produk} #{p.number or p.id}") for p in products[-9:]],
                      turn.button("menu:main", "to_menu")])


async def copy_product(turn: Turn, product_id: int) -> None:
    """A new draft with every answer of the product but its name, description, price and photos."""
    source = await own_product(turn, product_id)
    if source is None:
        return
    fields = tuple(s.field for s in PRODUCT.steps if s.kind != "photos" and s.field not in repeat.ASKED_AGAIN)
    product = await new_product(turn, ask=False)
    if product is None:
        return
    repeat.copy_fields(source, product, fields, turn)
    turn.update_data(same_offered=True)
    turn.say("copied", original=source)
    await forms.ask(turn, PRODUCT, product, PRODUCT.steps[0])


# --- throwing drafts away ------------------------------------------------------------------------------

async def is_empty(turn: Turn, product: Product) -> bool:
    answers = await forms.answers_of(turn, PRODUCT, product)
    for step in PRODUCT.steps:
        if step.derived:
            answers.pop(step.field, None)  # read from the business, not the owner's answer
    if answers.get("min_beli") == DEFAULT_MIN_BELI:
        answers.pop("min_beli")  # given to every new product, not an answer
    return all(value is None or value == "" for value in answers.values())


async def discard_empty_draft(turn: Turn) -> bool:
    """A new product left before its first answer leaves nothing behind (no "Tanpa nama" draft)."""
    if turn.conversation.flow != "product" or turn.conversation.product_id is None:
        return False
    product = await lock_product(turn, turn.conversation.product_id)
    if product is None or product.status != ProductStatus.draft or not await is_empty(turn, product):
        return False
    turn.conversation.product_id = None
    await turn.session.flush()
    await turn.session.delete(product)
    return True


async def ask_delete_draft(turn: Turn, product_id: int) -> None:
    product = await own_product(turn, product_id, editable=True)
    if product is None:
        return
    turn.set_state("delete_draft", product_id=product.id)
    turn.say("delete_draft", product=product,
             choices=[turn.button(f"delete:{product.id}:yes", "delete_yes"), turn.button(f"open:{product.id}", "keep")])


async def delete_draft(turn: Turn, product_id: int) -> None:
    """Throws a draft away: it is kept as `deleted` (nothing is erased) and no longer shown."""
    product = await own_product(turn, product_id, editable=True)
    if product is None:
        return
    if product.status != ProductStatus.draft:
        turn.say("product_locked", status=product.status, name=product.nama_produk or "")
        return show_menu(turn)
    product.status = ProductStatus.deleted
    product.updated_at = turn.now
    turn.session.add(ProductHistory(product_id=product.id, status=product.status, created_at=turn.now))
    if turn.conversation.product_id == product.id:
        turn.conversation.product_id = None
    turn.say("draft_deleted", product=product)
    show_menu(turn)
