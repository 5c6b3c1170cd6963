"""The owner's side of the conversation: consent, profile, products, summary, submit, menu."""

from __future__ import annotations

from sqlmodel import select

from bot import forms, officer, present
from bot.common import set_locale, show_language, typed_number_as_choice
from bot.flows.business import BUSINESS
from bot.flows.product import PRODUCT
from bot.flows.words import global_action
from bot.messages import Choice, Inbound
from bot.turn import Turn
from bot.validators import yes_no
from storage.models import Business, Owner, Product, ProductHistory, ProductStatus

CONSENT_VERSION = "2026-11"
EDITABLE = (ProductStatus.draft, ProductStatus.revision_requested)
MENU = ("new", "drafts", "products", "profile", "help", "lang")


async def handle(turn: Turn, inbound: Inbound) -> None:
    """Routes one owner event: global words and buttons first, then the current step."""
    inbound = typed_number_as_choice(turn, inbound)
    if inbound.kind == "unsupported" and turn.contact.owner_id is not None:
        turn.say("errors/unsupported")
        return await resume(turn)
    action = global_action(inbound.text) if inbound.kind in ("text", "command") else None
    if inbound.kind == "choice" and inbound.text.startswith("lang:"):
        return await set_language(turn, inbound.text)
    if action == "language":
        return show_language(turn)
    if turn.contact.owner_id is None:
        return await handle_consent(turn, inbound)
    if inbound.kind == "command" and action is None:
        turn.say("unknown_command")
        return await resume(turn)
    if action is not None:
        return await run_action(turn, action)
    if inbound.kind == "choice" and await run_button(turn, inbound.text):
        return
    await run_step(turn, inbound)


# --- consent ----------------------------------------------------------------------------------------

def ask_consent(turn: Turn) -> None:
    turn.set_state("consent")
    turn.say("consent", choices=[turn.button("consent:yes", "agree"), turn.button("consent:no", "decline")])


async def handle_consent(turn: Turn, inbound: Inbound) -> None:
    answer: bool | None = None
    if inbound.kind == "choice" and inbound.text in ("consent:yes", "consent:no"):
        answer = inbound.text == "consent:yes"
    elif inbound.kind == "text" and turn.conversation.flow == "consent":
        try:
            answer = yes_no(inbound.text.replace("setuju", "ya").replace("agree", "yes"))
        except ValueError:
            answer = None
    if answer is None:
        return ask_consent(turn)
    if not answer:
        turn.set_state("start")
        turn.say("consent_declined")
        return
    owner = Owner(created_at=turn.now)
    turn.session.add(owner)
    await turn.session.flush()
    turn.contact.owner_id = owner.id
    business = Business(owner_id=owner.id, consent_at=turn.now, consent_version=CONSENT_VERSION,
                        created_at=turn.now)
    turn.session.add(business)
    await turn.session.flush()
    turn.say("consent_given")
    await forms.ask(turn, BUSINESS, business, BUSINESS.steps[0])


# --- global words and buttons -------------------------------------------------------------------------

async def run_action(turn: Turn, action: str) -> None:
    flow = turn.conversation.flow
    if action == "start":
        turn.say("welcome_back")
        await resume(turn)
    elif action == "menu":
        show_menu(turn)
    elif action == "help":
        turn.say("help", flow=flow)
        await resume(turn)
    elif action == "products":
        await show_products(turn)
    elif action == "cancel":
        if flow in ("business", "product", "summary", "pick_field"):
            turn.say("cancelled")
        show_menu(turn)
    elif action in ("back", "skip") and flow in ("business", "product"):
        form, record = await current_form(turn)
        step = form.step(turn.conversation.step) or form.steps[0]
        run = forms.back if action == "back" else forms.skip
        if await run(turn, form, record, step) == "done":
            await finish_form(turn, form, record)
    elif action == "back" and flow == "summary":
        product = await current_product(turn)
        await forms.back(turn, PRODUCT, product, PRODUCT.steps[-1])
    elif action == "skip":
        turn.say("nothing_to_skip")
        await resume(turn)
    else:
        show_menu(turn)


async def run_button(turn: Turn, choice: str) -> bool:
    """Buttons that work from any step (menu, products, review results); False when not one of them."""
    name, _, arg = choice.partition(":")
    if name == "menu":
        await run_menu(turn, arg)
    elif name in ("open", "fix") and arg.isdigit():
        await open_product(turn, int(arg))
    elif name == "submit" and arg.isdigit():
        await submit(turn, int(arg))
    elif name == "edit" and arg.isdigit():
        product = await own_product(turn, int(arg), editable=True)
        if product is not None:
            turn.conversation.product_id = product.id
            await show_field_picker(turn, "product")
    elif name == "profile" and arg == "edit":
        await show_field_picker(turn, "business")
    elif name == "rv":
        turn.say("not_officer")
    elif name == "consent":
        turn.say("consent_already")
        await resume(turn)
    else:
        return False
    return True


async def run_menu(turn: Turn, item: str) -> None:
    if item == "new":
        await new_product(turn)
    elif item == "drafts":
        await show_drafts(turn)
    elif item == "products":
        await show_products(turn)
    elif item == "profile":
        await show_profile(turn)
    elif item == "help":
        turn.say("help", flow="menu")
        show_menu(turn)
    elif item == "lang":
        show_language(turn)
    else:
        show_menu(turn)


async def run_step(turn: Turn, inbound: Inbound) -> None:
    """The current step's answer: a form field, a field to edit, or anything else (shown the menu)."""
    flow = turn.conversation.flow
    if flow in ("business", "product"):
        form, record = await current_form(turn)
        step = form.step(turn.conversation.step) or form.steps[0]
        if await forms.receive(turn, form, record, step, inbound) == "done":
            await finish_form(turn, form, record)
    elif flow == "pick_field" and inbound.kind == "choice" and inbound.text.startswith("field:"):
        await edit_field(turn, inbound.text.removeprefix("field:"))
    elif flow == "pick_field" and inbound.text == "pick:back":
        await (show_profile(turn) if turn.data.get("form") == "business" else show_summary(turn))
    elif inbound.kind == "choice":
        turn.say("errors/stale_button")
        await resume(turn)
    elif flow == "summary":
        await show_summary(turn, error="use_buttons")
    else:
        turn.say("not_understood")
        show_menu(turn)


async def resume(turn: Turn) -> None:
    """Asks again whatever the conversation is waiting for."""
    flow = turn.conversation.flow
    if turn.contact.owner_id is None:
        ask_consent(turn)
    elif flow in ("business", "product"):
        form, record = await current_form(turn)
        await forms.ask(turn, form, record, form.step(turn.conversation.step) or form.steps[0])
    elif flow == "summary":
        await show_summary(turn)
    elif flow == "pick_field":
        await show_field_picker(turn, turn.data.get("form", "product"))
    else:
        show_menu(turn)


# --- records -----------------------------------------------------------------------------------------

async def business_of(turn: Turn) -> Business:
    query = select(Business).where(Business.owner_id == turn.contact.owner_id)
    return (await turn.session.exec(query)).one()


async def own_product(turn: Turn, product_id: int, editable: bool = False) -> Product | None:
    """The product if it belongs to this owner (and can be edited, when asked); else tells them so."""
    business = await business_of(turn)
    product = await turn.session.get(Product, product_id)
    if product is None or product.business_id != business.id:
        turn.say("errors/stale_button")
        show_menu(turn)
        return None
    if editable and product.status not in EDITABLE:
        turn.say("product_locked", status=product.status, name=product.nama_produk or "")
        show_menu(turn)
        return None
    return product


async def current_product(turn: Turn) -> Product:
    product = await turn.session.get(Product, turn.conversation.product_id)
    assert product is not None
    return product


async def current_form(turn: Turn) -> tuple[forms.Form, forms.Record]:
    if turn.conversation.flow == "business" or turn.data.get("form") == "business":
        return BUSINESS, await business_of(turn)
    return PRODUCT, await current_product(turn)


async def finish_form(turn: Turn, form: forms.Form, record: forms.Record) -> None:
    """A form has no open step left: a new profile goes on to the first product, a product to its summary."""
    if isinstance(record, Business):
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


async def set_language(turn: Turn, choice: str) -> None:
    set_locale(turn, choice)
    await resume(turn)


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
    turn.set_state("pick_field", form=form_name)
    turn.say("pick_field", choices=[*choices, turn.button("pick:back", "back")])


async def edit_field(turn: Turn, field: str) -> None:
    form, record = await current_form(turn)
    step = form.step(field)
    if step is None or not step.applies(await forms.answers_of(turn, form, record)):
        turn.say("errors/stale_button")
        return await show_field_picker(turn, form.name)
    turn.set_state(form.name, field, mode="edit", form=form.name)
    await forms.ask(turn, form, record, step)


async def show_summary(turn: Turn, error: str | None = None) -> None:
    product = await current_product(turn)
    answers = await forms.answers_of(turn, PRODUCT, product)
    lines = present.rows(turn.labels(), turn.locale, PRODUCT, answers, product.skipped)
    turn.set_state("summary")
    turn.say("summary", prefix=turn.text(f"errors/{error}") if error else "", rows=lines, product=product,
             choices=[turn.button(f"submit:{product.id}", "submit"), turn.button(f"edit:{product.id}", "edit"),
                      turn.button("menu:main", "save_draft")])


async def new_product(turn: Turn) -> None:
    business = await business_of(turn)
    if business.completed_at is None:
        turn.say("finish_profile_first")
        turn.set_state("business")
        step = forms.first_open_step(BUSINESS, await forms.answers_of(turn, BUSINESS, business),
                                     business.skipped)
        return await forms.ask(turn, BUSINESS, business, step or BUSINESS.steps[0])
    product = Product(business_id=business.id, created_at=turn.now, updated_at=turn.now)
    turn.session.add(product)
    await turn.session.flush()
    turn.conversation.product_id = product.id
    turn.set_state("product")
    await forms.ask(turn, PRODUCT, product, PRODUCT.steps[0])


async def products_of(turn: Turn, statuses: tuple[str, ...] | None = None) -> list[Product]:
    business = await business_of(turn)
    query = select(Product).where(Product.business_id == business.id).order_by(Product.id)  # type: ignore[arg-type]
    if statuses:
        query = query.where(Product.status.in_(statuses))  # type: ignore[attr-defined]
    return list((await turn.session.exec(query)).all())


def product_button(turn: Turn, product: Product) -> Choice:
    name = product.nama_produk or turn.label("words", "unnamed")
    return Choice(f"open:{product.id}", f"{name} #{product.id}")


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
    turn.set_state("products")
    turn.say("products", products=products,
             choices=[*[product_button(turn, p) for p in editable[-9:]], turn.button("menu:main", "to_menu")])


async def open_product(turn: Turn, product_id: int) -> None:
    """Continues a draft where it stopped, or a revision at the fields the officer flagged."""
    product = await own_product(turn, product_id, editable=True)
    if product is None:
        return
    turn.conversation.product_id = product.id
    if product.status == ProductStatus.revision_requested:
        review = await officer.latest_review(turn, product.id)  # type: ignore[arg-type]
        queue = list(review.flagged_fields) if review else []
        turn.set_state("product", mode="revision", queue=queue)
        if review is not None:
            turn.say("revision_start", reason=review.reason, fields=queue)
        step = next((PRODUCT.step(f) for f in queue if PRODUCT.step(f)), None)
        return await (forms.ask(turn, PRODUCT, product, step) if step else show_summary(turn))
    answers = await forms.answers_of(turn, PRODUCT, product)
    step = forms.first_open_step(PRODUCT, answers, product.skipped)
    turn.set_state("product")
    await (forms.ask(turn, PRODUCT, product, step) if step else show_summary(turn))


async def submit(turn: Turn, product_id: int) -> None:
    """Sends a complete product to the Dinas officers of the owner's district."""
    product = await own_product(turn, product_id, editable=True)
    if product is None:
        return
    await turn.session.refresh(product, with_for_update=True)
    turn.conversation.product_id = product.id
    answers = await forms.answers_of(turn, PRODUCT, product)
    missing = PRODUCT.missing(answers)
    if missing:
        turn.say("submit_missing", fields=[s.field for s in missing])
        turn.set_state("product", mode="edit")
        return await forms.ask(turn, PRODUCT, product, missing[0])
    product.status = ProductStatus.submitted
    product.submitted_at = product.updated_at = turn.now
    turn.session.add(ProductHistory(product_id=product.id, status=product.status, created_at=turn.now))
    business = await business_of(turn)
    notified = await officer.notify_officers(turn, product, business)
    turn.say("submitted", product=product, notified=notified)
    show_menu(turn)

