"""The owner's side of the conversation: consent, global words and buttons, then the current step."""

from __future__ import annotations

from sqlmodel import select

from bot import forms, listing, privacy, repeat, revision
from bot.common import ascii_number, set_locale, show_language, typed_number_as_choice
from bot.flows.business import BUSINESS
from bot.flows.product import PRODUCT
from bot.flows.words import consent_word, global_action
from bot.messages import Inbound
from bot.turn import Turn
from bot.validators import yes_no
from storage.db import insert_loaded_pair
from storage.models import Business, Owner

CONSENT_VERSION = "2026-11"


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
    if action == "whoami":
        turn.say("your_id", channel=turn.contact.channel, address=turn.contact.address, officer=None, region="")
        return await resume(turn)
    if turn.contact.owner_id is None and await link_known_owner(turn, inbound.verified_phone):
        turn.say("welcome_linked")
        return listing.show_menu(turn)
    if turn.contact.owner_id is None:
        return await handle_consent(turn, inbound)
    if inbound.kind == "command" and action is None:
        turn.say("unknown_command")
        return await resume(turn)
    if action is not None:
        return await run_action(turn, action)
    if inbound.kind == "choice" and await run_button(turn, inbound.text):
        return
    if inbound.kind in ("text", "photos") and (product := await revision.pending_notice(turn)) is not None:
        await revision.start(turn, product, announce=False)  # the notice asked the first flagged field
    await run_step(turn, inbound)


# --- consent ----------------------------------------------------------------------------------------

async def link_known_owner(turn: Turn, verified_phone: str) -> bool:
    """A new chat from a number an owner has proven (shared on Telegram, or WhatsApp's own) is that owner."""
    if not verified_phone:
        return False
    owner = (await turn.session.exec(select(Owner).where(Owner.phone == verified_phone))).first()
    if owner is None:
        return False
    turn.contact.owner_id = owner.id
    return True


async def remember_verified_phone(turn: Turn, phone: str) -> None:
    """Keeps a number the channel vouches for, so the owner is recognised on another channel with it."""
    taken = (await turn.session.exec(select(Owner).where(Owner.phone == phone))).first()
    owner = await turn.session.get(Owner, turn.contact.owner_id)
    if owner is not None and taken is None:
        owner.phone = phone


def ask_consent(turn: Turn) -> None:
    turn.set_state("consent")
    turn.say("consent", choices=[turn.button("consent:yes", "agree"), turn.button("consent:no", "decline")])


async def handle_consent(turn: Turn, inbound: Inbound) -> None:
    answer: bool | None = None
    if inbound.kind == "choice" and inbound.text in ("consent:yes", "consent:no"):
        answer = inbound.text == "consent:yes"
    elif inbound.kind == "text" and turn.conversation.flow == "consent":
        answer = consent_word(inbound.text)
        if answer is None:
            try:
                answer = yes_no(inbound.text)
            except ValueError:
                answer = None
    if answer is None:
        return ask_consent(turn)
    if not answer:
        turn.say("consent_declined")
        return await privacy.forget_declined(turn)
    owner = Owner(phone=inbound.verified_phone or None, created_at=turn.now)
    business = Business(consent_at=turn.now, consent_version=CONSENT_VERSION, created_at=turn.now)
    await insert_loaded_pair(turn.session, owner, business, "owner_id")
    turn.contact.owner_id = owner.id
    turn.business = business
    turn.say("consent_given")
    await forms.ask(turn, BUSINESS, business, BUSINESS.steps[0])


# --- global words and buttons -------------------------------------------------------------------------

async def run_action(turn: Turn, action: str) -> None:
    flow = turn.conversation.flow
    if action == "stop_reminders":
        return await stop_reminders(turn)
    if action == "start":
        owner = await turn.session.get(Owner, turn.contact.owner_id)
        if owner is not None and owner.reminders_off_at is not None:  # "mulai" after "berhenti": on again
            owner.reminders_off_at = None
            turn.say("reminders_resumed")
        turn.say("welcome_back")
        await resume(turn)
    elif action == "menu":
        await listing.discard_empty_draft(turn)
        listing.show_menu(turn)
    elif action == "help":
        turn.say("help", flow=flow)
        await resume(turn)
    elif action == "products":
        await listing.show_products(turn)
    elif action == "cancel":
        discarded = await listing.discard_empty_draft(turn)
        if flow in ("business", "product", "summary", "pick_field") and not discarded:
            turn.say("cancelled")
        listing.show_menu(turn)
    elif action in ("back", "skip") and flow in ("business", "product"):
        if (current := await listing.editable_form(turn)) is None:
            return
        form, record = current
        step = form.step(turn.conversation.step) or form.steps[0]
        run = forms.back if action == "back" else forms.skip
        if await run(turn, form, record, step) == "done":
            await listing.finish_form(turn, form, record)
    elif action == "back" and flow == "summary":
        product = await listing.current_product(turn)
        await forms.back(turn, PRODUCT, product, PRODUCT.steps[-1])
    elif action == "my_data":
        await privacy.show_my_data(turn)
    elif action == "erase_data":
        privacy.ask_erase(turn)
    elif action == "delete_draft" and turn.conversation.product_id is not None:
        await listing.ask_delete_draft(turn, turn.conversation.product_id)
    elif action == "delete_draft":
        await listing.show_drafts(turn)
    elif action == "skip":
        turn.say("nothing_to_skip")
        await resume(turn)
    else:
        listing.show_menu(turn)


async def run_button(turn: Turn, choice: str) -> bool:
    """Buttons that work from any step (menu, products, review results); False when not one of them."""
    name, _, arg = choice.partition(":")
    product_id = ascii_number(arg)
    if name == "menu":
        await run_menu(turn, arg)
    elif name in ("open", "fix") and product_id is not None:
        await listing.open_product(turn, product_id, again=name == "fix")
    elif name == "submit" and product_id is not None:
        await listing.submit(turn, product_id)
    elif name == "submit" and arg.endswith(":anyway") and (anyway_id := ascii_number(arg.removesuffix(":anyway"))):
        await listing.submit(turn, anyway_id, anyway=True)
    elif name == "edit" and product_id is not None:
        product = await listing.own_product(turn, product_id, editable=True)
        if product is not None:
            turn.conversation.product_id = product.id
            await listing.show_field_picker(turn, "product")
    elif name == "delete" and product_id is not None:
        await listing.ask_delete_draft(turn, product_id)
    elif name == "delete" and arg.endswith(":yes") and (delete_id := ascii_number(arg.removesuffix(":yes"))):
        await listing.delete_draft(turn, delete_id)
    elif name == "fit" and (fit := arg.partition(":"))[0] in ("kategori", "kbli") and ascii_number(fit[2]):
        await listing.fix_fit(turn, fit[0], ascii_number(fit[2]) or 0)
    elif name == "erase" and arg == "ask":
        privacy.ask_erase(turn)
    elif name == "erase" and arg == "yes" and turn.conversation.flow == "erase":
        await privacy.erase(turn)
    elif name == "same" and turn.conversation.flow == "product":
        await repeat.apply_same(turn, choice)
    elif name == "copy" and arg == "pick":
        await repeat.show_copy_picker(turn)
    elif name == "copy" and product_id is not None:
        await repeat.copy_product(turn, product_id)
    elif name == "profile" and arg == "edit":
        await listing.show_field_picker(turn, "business")
    elif name == "remind" and arg == "stop":
        await stop_reminders(turn)
    elif name == "rv":
        turn.say("not_officer")
    elif name == "consent":
        turn.say("consent_already")
        await resume(turn)
    else:
        return False
    return True


async def stop_reminders(turn: Turn) -> None:
    """"Berhenti": no more nudges about drafts (bot/jobs.py) until the owner says "mulai"."""
    owner = await turn.session.get(Owner, turn.contact.owner_id)
    if owner is not None and owner.reminders_off_at is None:
        owner.reminders_off_at = turn.now
    turn.say("reminders_stopped")
    await resume(turn)


async def run_menu(turn: Turn, item: str) -> None:
    if item == "new":
        await listing.new_product(turn)
    elif item == "drafts":
        await listing.show_drafts(turn)
    elif item == "products":
        await listing.show_products(turn)
    elif item == "profile":
        await listing.show_profile(turn)
    elif item == "help":
        turn.say("help", flow="menu")
        listing.show_menu(turn)
    elif item == "lang":
        show_language(turn)
    else:
        listing.show_menu(turn)


async def run_step(turn: Turn, inbound: Inbound) -> None:
    """The current step's answer: a form field, a field to edit, or anything else (shown the menu)."""
    flow = turn.conversation.flow
    if flow in ("business", "product"):
        if (current := await listing.editable_form(turn)) is None:
            return
        form, record = current
        step = form.step(turn.conversation.step) or form.steps[0]
        if step.kind == "phone" and inbound.kind == "contact" and inbound.verified_phone:
            await remember_verified_phone(turn, inbound.verified_phone)
        if await forms.receive(turn, form, record, step, inbound) == "done":
            await listing.finish_form(turn, form, record)
    elif flow == "summary" and inbound.kind == "photos":
        await add_photos_from_summary(turn, inbound)
    elif flow == "pick_field" and inbound.kind == "choice" and inbound.text.startswith("field:"):
        await listing.edit_field(turn, inbound.text.removeprefix("field:"))
    elif flow == "pick_field" and inbound.text == "pick:back":
        await (listing.show_profile(turn) if turn.data.get("form") == "business" else listing.show_summary(turn))
    elif inbound.kind == "choice":
        turn.say("errors/stale_button")
        await resume(turn)
    elif flow == "summary":
        await listing.show_summary(turn, error="use_buttons")
    else:
        turn.say("not_understood")
        listing.show_menu(turn)


async def add_photos_from_summary(turn: Turn, inbound: Inbound) -> None:
    """Photos sent at the summary are added to the product (then the summary again)."""
    turn.conversation.flow, turn.conversation.step = "product", "photos"
    if (current := await listing.editable_form(turn)) is None:
        return
    form, record = current
    step = form.step("photos")
    assert step is not None
    if await forms.receive(turn, form, record, step, inbound) == "done":
        await listing.finish_form(turn, form, record)


async def resume(turn: Turn) -> None:
    """Asks again whatever the conversation is waiting for."""
    flow = turn.conversation.flow
    if turn.contact.owner_id is None:
        ask_consent(turn)
    elif flow in ("business", "product"):
        if (current := await listing.editable_form(turn)) is not None:
            form, record = current
            await forms.ask(turn, form, record, form.step(turn.conversation.step) or form.steps[0])
    elif flow == "summary":
        await listing.show_summary(turn)
    elif flow == "pick_field":
        await listing.show_field_picker(turn, turn.data.get("form", "product"))
    else:
        listing.show_menu(turn)


async def set_language(turn: Turn, choice: str) -> None:
    set_locale(turn, choice)
    await resume(turn)
