"""The Dinas officer's chat: submissions routed by region, and buttons translated into review decisions.

Every decision itself is made by `bot.review` (shared with the web console); this module only asks.
"""

from __future__ import annotations

from bot import forms, present, regions, review
from bot.common import set_locale, show_language, typed_number_as_choice
from bot.dinas.auth import issue_link
from bot.flows.business import BUSINESS
from bot.flows.product import PRODUCT
from bot.flows.words import global_action
from bot.messages import Choice, Inbound
from bot.turn import Turn
from storage.models import (
    Business,
    Contact,
    Decision,
    Officer,
    Product,
    ProductStatus,
    Review,
    ReviewSource,
)

parse_reason = review.parse_reason


async def latest_review(turn: Turn, product_id: int) -> Review | None:
    return await review.latest_review(turn.session, product_id)


async def notify_officers(turn: Turn, product: Product, business: Business) -> int:
    """Sends the submission, with its photos and review buttons, to every officer chat of the region."""
    notified = 0
    for officer in await review.officers_covering(turn.session, business.region_code or ""):
        for contact in await turn.contacts_of_officer(officer.id):  # type: ignore[arg-type]
            await send_submission(turn, contact, product, business)
            notified += 1
    return notified


async def send_submission(turn: Turn, contact: Contact, product: Product, business: Business) -> None:
    labels = turn.labels(contact.locale)
    product_rows = present.rows(labels, contact.locale, PRODUCT,
                                await forms.answers_of(turn, PRODUCT, product), product.skipped)
    business_rows = present.rows(labels, contact.locale, BUSINESS,
                                 await forms.answers_of(turn, BUSINESS, business), business.skipped)
    photos = [p.path for p in await forms.active_photos(turn, product.id)]  # type: ignore[arg-type]
    choices = [turn.button(f"rv:{code}:{product.id}", key, contact.locale)
               for code, key in (("a", "approve"), ("r", "ask_revision"), ("x", "reject"))]
    text = turn.text("officer/submission", contact.locale, product=product, business=business,
                     product_rows=product_rows, business_rows=business_rows,
                     resubmission=await review.resubmission(turn.session, product, business))
    notice = {"kind": "new_submission", "params": [product.nama_produk or "", business.nama_usaha or ""]}
    turn.send(contact, text, choices=choices, photos=photos, notice=notice)


async def handle(turn: Turn, inbound: Inbound) -> None:
    """Routes one officer event."""
    officer = await turn.session.get(Officer, turn.contact.officer_id)
    assert officer is not None
    inbound = typed_number_as_choice(turn, inbound)
    action = global_action(inbound.text) if inbound.kind in ("text", "command") else None
    choice = inbound.text if inbound.kind == "choice" else ""
    if choice.startswith("lang:"):
        set_locale(turn, choice)
        return show_menu(turn, officer)
    if action == "whoami":
        region = regions.get_region(officer.region_code)
        turn.say("your_id", channel=turn.contact.channel, address=turn.contact.address, officer=officer,
                 region=region.label if region else officer.region_code)
        return show_menu(turn, officer)
    if action == "language" or choice == "off:lang":
        return show_language(turn)
    if not officer.active:
        turn.say("officer/inactive")
        return
    if action == "help":
        turn.say("officer/help")
        return show_menu(turn, officer)
    if action == "dashboard":
        url = await issue_link(turn.session, turn.settings, officer.id, turn.now)  # type: ignore[arg-type]
        turn.say("officer/dashboard_link", url=url)
        return show_menu(turn, officer)
    if action == "cancel" and turn.conversation.flow.startswith("review_"):
        turn.say("officer/review_cancelled")
        return show_menu(turn, officer)
    if action is not None:
        return show_menu(turn, officer)
    if choice:
        return await run_button(turn, officer, choice)
    if inbound.kind == "unsupported":
        turn.say("errors/unsupported")
        return await resume(turn, officer)
    if turn.conversation.flow == "review_reason" and inbound.kind == "text":
        return await receive_reason(turn, officer, inbound.text)
    turn.say("officer/use_buttons")
    await resume(turn, officer)


async def run_button(turn: Turn, officer: Officer, choice: str) -> None:
    name, _, arg = choice.partition(":")
    code, _, product_id = arg.partition(":")
    if name == "rv" and (number := review.parse_id(product_id)) is not None:
        product = await reviewable(turn, officer, number)
        if product is None:
            return
        if code == "a":
            return await decide(turn, officer, product, Decision.approved)
        if code == "r":
            turn.set_state("review_fields", product_id=product.id, flagged=[])
            return await show_flag_picker(turn, product)
        if code == "x":
            turn.set_state("review_reason", product_id=product.id, decision=Decision.rejected, flagged=[])
            return turn.say("officer/ask_reason", decision=Decision.rejected)
    if name == "flag" and turn.conversation.flow == "review_fields":
        return await toggle_flag(turn, officer, arg)
    if name == "off" and arg == "pending":
        return await show_pending(turn, officer)
    if name == "show" and (number := review.parse_id(arg)) is not None:
        product = await reviewable(turn, officer, number)
        if product is not None:
            business = await turn.session.get(Business, product.business_id)
            await send_submission(turn, turn.contact, product, business)  # type: ignore[arg-type]
        return
    if name == "menu":
        return show_menu(turn, officer)
    turn.say("errors/stale_button")
    await resume(turn, officer)


async def reviewable(turn: Turn, officer: Officer, product_id: int) -> Product | None:
    """The product if this officer may decide on it now; otherwise says why not and returns None."""
    try:
        product, _ = await review.in_region(turn.session, officer, product_id)
    except review.NotInRegion:
        turn.say("officer/not_your_region")
        return None
    if product.status != ProductStatus.submitted:
        await say_already_decided(turn, product)
        show_menu(turn, officer)
        return None
    return product


async def say_already_decided(turn: Turn, product: Product) -> None:
    last = await latest_review(turn, product.id)  # type: ignore[arg-type]
    decider = await turn.session.get(Officer, last.officer_id) if last else None
    turn.say("officer/already_decided", product=product, review=last,
             decider=decider.name if decider else "-")


async def show_flag_picker(turn: Turn, product: Product, error: str | None = None) -> None:
    """Product fields that apply, then the business profile's fields: an officer may flag either."""
    answers = await forms.answers_of(turn, PRODUCT, product)
    flagged = turn.data.get("flagged", [])
    fields = turn.labels()["fields"]
    steps = [*PRODUCT.fields(answers), *BUSINESS.steps]
    choices = [Choice(f"flag:{s.field}", ("✓ " if s.field in flagged else "") + fields[s.field]) for s in steps]
    choices.append(turn.button("flag:done", "flags_done"))
    turn.say("officer/pick_fields", choices=choices, flagged=flagged, product=product,
             prefix=turn.text(f"errors/{error}") if error else "")


async def toggle_flag(turn: Turn, officer: Officer, field: str) -> None:
    product = await reviewable(turn, officer, int(turn.data["product_id"]))
    if product is None:
        return
    flagged = list(turn.data.get("flagged", []))
    if field == "done":
        if not flagged:
            return await show_flag_picker(turn, product, error="flag_one")
        turn.set_state("review_reason", product_id=product.id, decision=Decision.revision, flagged=flagged)
        return turn.say("officer/ask_reason", decision=Decision.revision)
    if field not in review.FLAGGABLE:
        turn.say("errors/stale_button")
    elif field in flagged:
        flagged.remove(field)
    else:
        flagged.append(field)
    turn.update_data(flagged=flagged)
    await show_flag_picker(turn, product)


async def receive_reason(turn: Turn, officer: Officer, text: str) -> None:
    data = turn.data
    try:
        reason = parse_reason(text)
    except ValueError as exc:
        turn.say("officer/ask_reason", decision=data["decision"], prefix=turn.text(f"errors/{exc.args[0]}"))
        return
    product = await reviewable(turn, officer, int(data["product_id"]))
    if product is not None:
        await decide(turn, officer, product, Decision(data["decision"]), reason, data.get("flagged", []))


async def decide(turn: Turn, officer: Officer, product: Product, decision: Decision, reason: str = "",
                 flagged: list[str] | None = None) -> None:
    """Asks the review service to record the decision; says whether it counted or who decided first."""
    actor = review.Actor(officer, ReviewSource.chat)
    try:
        outcome = await review.decide(turn.session, turn.outbox, turn.engine.renderer, actor, product.id,  # type: ignore[arg-type]
                                      decision, reason, flagged)
    except review.NotInRegion:
        turn.say("officer/not_your_region")
        return show_menu(turn, officer)
    if not outcome.decided:
        await say_already_decided(turn, outcome.product)
        return show_menu(turn, officer)
    turn.say("officer/decided", decision=decision, product=outcome.product)
    show_menu(turn, officer)


async def show_pending(turn: Turn, officer: Officer) -> None:
    pending = await review.pending_for(turn.session, officer, limit=50)
    turn.set_state("officer_menu")
    choices = [Choice(f"show:{p.id}", f"{p.nama_produk} #{p.id}") for p, _ in pending[:9]]
    turn.say("officer/pending", pending=pending, choices=[*choices, turn.button("menu:main", "to_menu")])


def show_menu(turn: Turn, officer: Officer) -> None:
    region = regions.get_region(officer.region_code)
    turn.set_state("officer_menu")
    turn.say("officer/menu", officer=officer, region=region.label if region else officer.region_code,
             choices=[turn.button("off:pending", "pending"), turn.button("off:lang", "language")])


async def resume(turn: Turn, officer: Officer) -> None:
    flow = turn.conversation.flow
    product = await turn.session.get(Product, turn.data.get("product_id") or 0)
    if flow == "review_fields" and product is not None:
        await show_flag_picker(turn, product)
    elif flow == "review_reason":
        turn.say("officer/ask_reason", decision=turn.data.get("decision", Decision.rejected))
    else:
        show_menu(turn, officer)
