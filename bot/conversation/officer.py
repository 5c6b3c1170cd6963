"""The Dinas officer's chat: submissions routed by region, and buttons translated into review decisions.

Every decision, and whether one may still be made, is the review service's (`bot.review.service`, shared with the web
console); this module parses buttons and text, asks it, and says what came of it. Review buttons carry the
round of the submission the officer received (`rv:<a|r|x>:<product>:<round>`), so one sent again since is
not decided on unseen. Buttons are dispatched by table (ANY_OFFICER_BUTTONS, BUTTONS, REVIEW_BUTTONS).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.conversation import forms
from bot.conversation.common import set_locale, show_language, typed_number_as_choice
from bot.conversation.turn import Turn
from bot.domain import regions
from bot.domain.messages import Choice, Inbound
from bot.flows.business import BUSINESS
from bot.flows.product import PRODUCT
from bot.flows.words import global_action
from bot.review import service as review
from bot.review import submission
from bot.review.signin import issue_link
from storage.models import Business, Contact, Decision, Officer, Product, ReviewSource


async def notify_officers(turn: Turn, product: Product, business: Business) -> int:
    """Sends the submission, with its photos and review buttons, to every officer chat of the region."""
    notified = 0
    for officer in await review.officers_covering(turn.session, business.region_code or ""):
        for contact in await turn.contacts_of_officer(officer.id):  # type: ignore[arg-type]
            await send_submission(turn, contact, product, business)
            notified += 1
    return notified


async def send_submission(turn: Turn, contact: Contact, product: Product, business: Business) -> None:
    """Queues the submission, with its photos and review buttons, to one officer chat."""
    await submission.send_submission(turn.session, turn.outbox, turn.renderer, contact, product, business)


async def handle(turn: Turn, inbound: Inbound) -> None:
    """Routes one officer event: buttons and global words by table, then text."""
    officer = await turn.session.get(Officer, turn.contact.officer_id)
    assert officer is not None
    inbound = typed_number_as_choice(turn, inbound)
    action = global_action(inbound.text) if inbound.kind in ("text", "command") else None
    choice = inbound.text if inbound.kind == "choice" else ""
    found = find_button(ANY_OFFICER_BUTTONS, choice) or (ANY_OFFICER_WORDS.get(action or ""), "")
    if found[0] is not None:
        return await found[0](turn, officer, found[1])
    if not officer.active:
        return turn.say("officer/inactive")
    if action is not None:
        return await WORDS.get(action, menu_button)(turn, officer, "")
    if choice:
        return await run_button(turn, officer, choice)
    await receive_text(turn, officer, inbound)


async def receive_text(turn: Turn, officer: Officer, inbound: Inbound) -> None:
    """Typed text is a reason when one was asked; anything else gets the buttons again."""
    if inbound.kind == "unsupported":
        turn.say("errors/unsupported")
        return await resume(turn, officer)
    if turn.conversation.flow == "review_reason" and inbound.kind == "text":
        return await receive_reason(turn, officer, inbound.text)
    turn.say("officer/use_buttons")
    await resume(turn, officer)


async def say_who_i_am(turn: Turn, officer: Officer, _: str) -> None:
    region = regions.get_region(officer.region_code)
    turn.say("your_id", channel=turn.contact.channel, address=turn.contact.address, officer=officer,
             region=region.label if region else officer.region_code)
    show_menu(turn, officer)


async def say_help(turn: Turn, officer: Officer, _: str) -> None:
    turn.say("officer/help")
    show_menu(turn, officer)


async def send_dashboard_link(turn: Turn, officer: Officer, _: str) -> None:
    url = await issue_link(turn.session, turn.settings, officer.id, turn.now)  # type: ignore[arg-type]
    turn.say("officer/dashboard_link", url=url)
    show_menu(turn, officer)


async def cancel(turn: Turn, officer: Officer, _: str) -> None:
    if turn.conversation.flow.startswith("review_"):
        turn.say("officer/review_cancelled")
    show_menu(turn, officer)


Button = Callable[[Turn, Officer, str], Awaitable[None]]


def find_button(table: dict[str, Button], choice: str) -> tuple[Button, str] | None:
    """The handler of a button id and the rest of the id: the whole id first, else its prefix before ":"."""
    if choice in table:
        return table[choice], ""
    prefix, colon, rest = choice.partition(":")
    return (table[prefix], rest) if colon and prefix in table else None


async def run_button(turn: Turn, officer: Officer, choice: str) -> None:
    """Runs the button an active officer pressed; an unknown or outdated one is answered as stale."""
    found = find_button(BUTTONS, choice)
    if found is None:
        return await stale_button(turn, officer)
    await found[0](turn, officer, found[1])


async def stale_button(turn: Turn, officer: Officer) -> None:
    turn.say("errors/stale_button")
    await resume(turn, officer)


async def choose_language(turn: Turn, officer: Officer, locale: str) -> None:
    set_locale(turn, f"lang:{locale}")
    show_menu(turn, officer)


async def ask_language(turn: Turn, officer: Officer, _: str) -> None:
    show_language(turn)


async def review_button(turn: Turn, officer: Officer, rest: str) -> None:
    """`rv:<a|r|x>:<product id>:<round seen>`, from a submission message: approve, or start a revision/rejection."""
    code, _, ids = rest.partition(":")
    product_text, _, seen_text = ids.partition(":")
    product_id = review.parse_id(product_text)
    if code not in REVIEW_BUTTONS or product_id is None:
        return await stale_button(turn, officer)
    await REVIEW_BUTTONS[code](turn, officer, product_id, review.parse_round(seen_text))


async def approve(turn: Turn, officer: Officer, product_id: int, seen: int | None) -> None:
    await decide(turn, officer, review.Chosen(product_id, Decision.approved, seen))


async def start_revision(turn: Turn, officer: Officer, product_id: int, seen: int | None) -> None:
    if (waiting := await may_decide(turn, officer, product_id, seen)) is not None:
        turn.set_state("review_fields", product_id=product_id, seen=seen, flagged=[])
        await show_flag_picker(turn, waiting.product)


async def start_rejection(turn: Turn, officer: Officer, product_id: int, seen: int | None) -> None:
    if await may_decide(turn, officer, product_id, seen) is not None:
        turn.set_state("review_reason", product_id=product_id, seen=seen, decision=Decision.rejected, flagged=[])
        turn.say("officer/ask_reason", decision=Decision.rejected)


async def show_button(turn: Turn, officer: Officer, rest: str) -> None:
    """`show:<product id>`, from the pending list: the submission as it is now, with its buttons."""
    if (product_id := review.parse_id(rest)) is None:
        return await stale_button(turn, officer)
    seen = await review.current_round(turn.session, product_id)  # opened now: the officer sees this round
    if (waiting := await may_decide(turn, officer, product_id, seen)) is not None:
        await send_submission(turn, turn.contact, waiting.product, waiting.business)


async def pending_button(turn: Turn, officer: Officer, _: str) -> None:
    await show_pending(turn, officer)


async def menu_button(turn: Turn, officer: Officer, _: str) -> None:
    show_menu(turn, officer)


async def may_decide(turn: Turn, officer: Officer, product_id: int, seen: int | None) -> review.Outcome | None:
    """Asks the review service whether the officer may still decide on the round they saw; else says why not."""
    try:
        outcome = await review.standing(turn.session, officer, product_id, seen)
    except review.NotInRegion:
        turn.say("officer/not_your_region")
        return None
    if outcome.result == review.Result.waiting:
        return outcome
    await say_why_not(turn, officer, outcome)
    return None


async def say_why_not(turn: Turn, officer: Officer, outcome: review.Outcome) -> None:
    """Another officer decided first (who, when), or the owner sent it again: then the latest version."""
    if outcome.result == review.Result.changed:
        turn.set_state("officer_menu")
        turn.say("officer/changed", product=outcome.product)
        return await send_submission(turn, turn.contact, outcome.product, outcome.business)
    turn.say("officer/already_decided", product=outcome.product, review=outcome.review,
             decider=outcome.decider.name if outcome.decider else "-")
    show_menu(turn, officer)


async def show_flag_picker(turn: Turn, product: Product, error: str | None = None) -> None:
    """Product fields that apply, then the business profile's fields: an officer may flag either."""
    business = await turn.session.get(Business, product.business_id)
    product_steps = review.flaggable(PRODUCT, await forms.answers_of(turn, PRODUCT, product))
    business_steps = review.flaggable(BUSINESS, await forms.answers_of(turn, BUSINESS, business)) if business \
        else [s for s in BUSINESS.steps if s.reviewable]
    flagged = turn.data.get("flagged", [])
    fields = turn.labels()["fields"]
    steps = [*product_steps, *business_steps]
    choices = [Choice(f"flag:{s.field}", ("✓ " if s.field in flagged else "") + fields[s.field]) for s in steps]
    choices.append(turn.button("flag:done", "flags_done"))
    turn.say("officer/pick_fields", choices=choices, flagged=flagged, product=product,
             prefix=turn.text(f"errors/{error}") if error else "")


async def flag_button(turn: Turn, officer: Officer, field: str) -> None:
    """`flag:<field>` toggles a field to revise; `flag:done` goes on to the note."""
    if turn.conversation.flow != "review_fields":
        return await stale_button(turn, officer)
    waiting = await may_decide(turn, officer, int(turn.data["product_id"]), turn.data.get("seen"))
    if waiting is None:
        return
    product = waiting.product
    flagged = list(turn.data.get("flagged", []))
    if field == "done":
        if (problem := review.flags_problem(Decision.revision, flagged)) is not None:
            return await show_flag_picker(turn, product, error=problem)
        turn.set_state("review_reason", product_id=product.id, seen=turn.data.get("seen"),
                       decision=Decision.revision, flagged=flagged)
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
    """The note of a revision or the reason of a rejection: the decision goes to the review service."""
    data = turn.data
    await decide(turn, officer, review.Chosen(int(data["product_id"]), data["decision"], data.get("seen"), text,
                                              tuple(data.get("flagged", []))))


async def decide(turn: Turn, officer: Officer, chosen: review.Chosen) -> None:
    """Hands the officer's decision to the review service, and says what came of it."""
    actor = review.Actor(officer, ReviewSource.chat)
    try:
        outcome = await review.decide(turn.session, turn.outbox, turn.renderer, actor, chosen)
    except review.NotInRegion:
        turn.say("officer/not_your_region")
        return show_menu(turn, officer)
    except review.InvalidDecision as invalid:
        if "reason" in invalid.problems:  # the conversation stays on the question
            return turn.say("officer/ask_reason", decision=chosen.decision,
                            prefix=turn.text(f"errors/{invalid.problems['reason']}"))
        return await stale_button(turn, officer)
    if not outcome.decided:
        return await say_why_not(turn, officer, outcome)
    turn.say("officer/decided", decision=outcome.review.decision, product=outcome.product)  # type: ignore[union-attr]
    show_menu(turn, officer)


#: Buttons any officer may press, active or not: a whole id, or the prefix before ":" -> handler(rest of id).
ANY_OFFICER_BUTTONS: dict[str, Button] = {"lang": choose_language, "off:lang": ask_language}
#: Global words any officer may use, active or not (bot/flows/words.py) -> handler.
ANY_OFFICER_WORDS: dict[str, Button] = {"whoami": say_who_i_am, "language": ask_language}
#: Global words of an active officer; any other shows the menu.
WORDS: dict[str, Button] = {"help": say_help, "dashboard": send_dashboard_link, "cancel": cancel}
#: Buttons of an active officer.
BUTTONS: dict[str, Button] = {
    "rv": review_button, "flag": flag_button, "show": show_button, "off:pending": pending_button, "menu": menu_button,
}
#: The three buttons of a submission message (`rv:<code>:...`).
REVIEW_BUTTONS = {"a": approve, "r": start_revision, "x": start_rejection}


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
