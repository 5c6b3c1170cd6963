"""The owner's side of the conversation: consent, global words and buttons, then the current step."""

from __future__ import annotations

from sqlmodel import select

from bot.conversation import forms, kit, listing, poster, privacy, revision
from bot.conversation.common import set_locale, show_language, typed_as_choice
from bot.conversation.owner_commands import ask_consent, resume, run_action, run_button
from bot.conversation.turn import Turn
from bot.domain.messages import Inbound
from bot.domain.validators import yes_no
from bot.flows.business import BUSINESS
from bot.flows.words import consent_word, global_action
from storage.db import insert_loaded_pair
from storage.models import Business, Owner

CONSENT_VERSION = "2026-11"


async def handle(turn: Turn, inbound: Inbound) -> None:
    """Routes one owner event: global words and buttons first, then the current step."""
    inbound = typed_as_choice(turn, inbound)
    action = global_action(inbound.text) if inbound.kind in ("text", "command") else None
    if await run_anywhere(turn, inbound, action):
        return
    if turn.contact.owner_id is None:
        return await handle_newcomer(turn, inbound)
    if inbound.kind == "text" and action is None and await link_sent(turn, inbound.text):
        return
    if action is not None or inbound.kind == "command":
        return await run_action(turn, action)
    if inbound.kind == "choice" and await run_button(turn, inbound.text):
        return
    if turn.conversation.flow == "kit":
        return await kit.receive(turn, inbound)  # an upload-only profile answer the kit asked for
    if inbound.kind in ("text", "photos") and (product := await revision.pending_notice(turn)) is not None:
        await revision.start(turn, product, announce=False)  # the notice asked the first flagged field
    await run_step(turn, inbound)


async def run_anywhere(turn: Turn, inbound: Inbound, action: str | None) -> bool:
    """What works before consent as after it: language, "whoami", (for an owner) the unsupported-kind reply."""
    if inbound.kind == "unsupported" and turn.contact.owner_id is not None:
        turn.say("errors/unsupported")
        await resume(turn)
    elif inbound.kind == "choice" and inbound.text.startswith("lang:"):
        await set_language(turn, inbound.text)
    elif action == "language":
        show_language(turn)
    elif action == "whoami":
        turn.say("your_id", channel=turn.contact.channel, address=turn.contact.address, officer=None, region="")
        await resume(turn)
    else:
        return False
    return True


async def link_sent(turn: Turn, text: str) -> bool:
    """A catalogue link, at any step: recorded or refused with its reason (then the step again), or asked which
    product; False when the message holds none."""
    outcome = await kit.take_link(turn, text)
    if outcome in ("recorded", "refused"):
        await resume(turn)
    return outcome is not None


async def handle_newcomer(turn: Turn, inbound: Inbound) -> None:
    """A chat with no owner yet: a number an owner proved links to them, anything else is about consent."""
    if await link_known_owner(turn, inbound.verified_phone):
        turn.say("welcome_linked")
        return listing.show_menu(turn)
    invite_id = await poster.arrival(turn, inbound)  # a poster's code: region preselected, source recorded
    await handle_consent(turn, inbound)
    poster.keep(turn, invite_id)


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
        if await forms.receive(turn, form, record, step, inbound, listing.after_saved) == "done":
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


async def set_language(turn: Turn, choice: str) -> None:
    set_locale(turn, choice)
    await resume(turn)
