"""The owner's global words, buttons and menu as dispatch tables (a new button is one line), and `resume`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.conversation import forms, kit, listing, privacy, repeat
from bot.conversation.common import show_language
from bot.conversation.turn import Turn
from bot.domain.numbers import ascii_number
from bot.flows.product import PRODUCT
from storage.models import Owner

Action = Callable[[Turn], Awaitable[None]]
Button = Callable[[Turn, str], Awaitable[bool]]  # (turn, what follows "name:") -> whether it was one


def ask_consent(turn: Turn) -> None:
    turn.set_state("consent")
    turn.say("consent", choices=[turn.button("consent:yes", "agree"), turn.button("consent:no", "decline")])


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
    elif flow in ("kit", "kit_link"):
        await kit.resume(turn)
    else:
        listing.show_menu(turn)


async def stop_reminders(turn: Turn) -> None:
    """"Berhenti": no more nudges about drafts (bot/jobs/scheduled.py) until the owner says "mulai", and no
    more siaran of the Dinas (bot/review/siaran.py) until they say "mulai siaran": the one word stops both."""
    owner = await turn.session.get(Owner, turn.contact.owner_id)
    if owner is not None and owner.reminders_off_at is None:
        owner.reminders_off_at = turn.now
    if owner is not None and owner.siaran_off_at is None:
        owner.siaran_off_at = turn.now
    turn.say("reminders_stopped")
    turn.say("siaran_stopped_too")
    await resume(turn)


async def stop_siaran(turn: Turn) -> None:
    """"Berhenti siaran": no more siaran of the Dinas until "mulai siaran"; reminders unchanged."""
    owner = await turn.session.get(Owner, turn.contact.owner_id)
    if owner is not None and owner.siaran_off_at is None:
        owner.siaran_off_at = turn.now
    turn.say("siaran_stopped")
    await resume(turn)


async def start_siaran(turn: Turn) -> None:
    """"Mulai siaran": the Dinas's siaran reach the owner again."""
    owner = await turn.session.get(Owner, turn.contact.owner_id)
    if owner is not None:
        owner.siaran_off_at = None
    turn.say("siaran_resumed")
    await resume(turn)


# --- global words (bot/flows/words.py) ----------------------------------------------------------------

async def _start(turn: Turn) -> None:
    """"Mulai": welcome back; after "berhenti" the reminders are on again."""
    owner = await turn.session.get(Owner, turn.contact.owner_id)
    if owner is not None and owner.reminders_off_at is not None:
        owner.reminders_off_at = None
        turn.say("reminders_resumed")
    turn.say("welcome_back")
    await resume(turn)


async def _menu(turn: Turn) -> None:
    await listing.discard_empty_draft(turn)
    listing.show_menu(turn)


async def _only_menu(turn: Turn) -> None:
    listing.show_menu(turn)


async def _help(turn: Turn) -> None:
    turn.say("help", flow=turn.conversation.flow)
    await resume(turn)


async def _cancel(turn: Turn) -> None:
    discarded = await listing.discard_empty_draft(turn)
    if turn.conversation.flow in ("business", "product", "summary", "pick_field") and not discarded:
        turn.say("cancelled")
    listing.show_menu(turn)


async def _back_or_skip(turn: Turn, back: bool) -> None:
    """One step back, or the current step skipped, in a form; "done" when that finishes it."""
    if (current := await listing.editable_form(turn)) is None:
        return
    form, record = current
    step = form.step(turn.conversation.step) or form.steps[0]
    if await (forms.back if back else forms.skip)(turn, form, record, step) == "done":
        await listing.finish_form(turn, form, record)


async def _back(turn: Turn) -> None:
    flow = turn.conversation.flow
    if flow in ("business", "product"):
        await _back_or_skip(turn, back=True)
    elif flow == "summary":
        await forms.back(turn, PRODUCT, await listing.current_product(turn), PRODUCT.steps[-1])
    else:
        listing.show_menu(turn)


async def _skip(turn: Turn) -> None:
    if turn.conversation.flow in ("business", "product"):
        return await _back_or_skip(turn, back=False)
    turn.say("nothing_to_skip")
    await resume(turn)


async def _erase_data(turn: Turn) -> None:
    privacy.ask_erase(turn)


async def _delete_draft(turn: Turn) -> None:
    if turn.conversation.product_id is not None:
        await listing.ask_delete_draft(turn, turn.conversation.product_id)
    else:
        await listing.show_drafts(turn)


ACTIONS: dict[str, Action] = {
    "stop_reminders": stop_reminders,
    "stop_siaran": stop_siaran,
    "start_siaran": start_siaran,
    "start": _start,
    "menu": _menu,
    "help": _help,
    "products": listing.show_products,
    "cancel": _cancel,
    "back": _back,
    "skip": _skip,
    "my_data": privacy.show_my_data,
    "erase_data": _erase_data,
    "delete_draft": _delete_draft,
}


async def run_action(turn: Turn, action: str | None) -> None:
    """A global word (None: a command the bot does not know); a word without an entry shows the menu."""
    if action is None:
        turn.say("unknown_command")
        return await resume(turn)
    await ACTIONS.get(action, _only_menu)(turn)


# --- buttons that work from any step ----------------------------------------------------------------

async def _new(turn: Turn) -> None:
    await listing.new_product(turn)


async def _menu_help(turn: Turn) -> None:
    turn.say("help", flow="menu")
    listing.show_menu(turn)


async def _language(turn: Turn) -> None:
    show_language(turn)


MENU: dict[str, Action] = {
    "new": _new,
    "drafts": listing.show_drafts,
    "products": listing.show_products,
    "profile": listing.show_profile,
    "help": _menu_help,
    "lang": _language,
}


def _with_id(run: Callable[[Turn, int], Awaitable[None]], suffix: str = "") -> Button:
    """A button "name:ID" (or "name:ID{suffix}") that runs `run(turn, ID)`."""

    async def button(turn: Turn, arg: str) -> bool:
        if suffix and not arg.endswith(suffix):
            return False
        product_id = ascii_number(arg.removesuffix(suffix) if suffix else arg)
        if product_id is None or (suffix and not product_id):  # "name:0:yes" is no product
            return False
        await run(turn, product_id)
        return True

    return button


def _with_arg(run: Action, expected: str, flow: str | None = None) -> Button:
    """A button "name:{expected}" (in `flow` only, when given) that runs `run(turn)`."""

    async def button(turn: Turn, arg: str) -> bool:
        if arg != expected or (flow is not None and turn.conversation.flow != flow):
            return False
        await run(turn)
        return True

    return button


def _either(*buttons: Button) -> Button:
    """The first of `buttons` that takes the argument."""

    async def button(turn: Turn, arg: str) -> bool:
        for candidate in buttons:
            if await candidate(turn, arg):
                return True
        return False

    return button


async def _menu_button(turn: Turn, arg: str) -> bool:
    await MENU.get(arg, _only_menu)(turn)
    return True


async def _edit(turn: Turn, product_id: int) -> None:
    product = await listing.own_product(turn, product_id, editable=True)
    if product is not None:
        turn.conversation.product_id = product.id
        await listing.show_field_picker(turn, "product")


async def _fit(turn: Turn, arg: str) -> bool:
    which, _, product = arg.partition(":")
    if which not in ("kategori", "kbli") or not (product_id := ascii_number(product)):
        return False
    await listing.fix_fit(turn, which, product_id)
    return True


async def _same(turn: Turn, arg: str) -> bool:
    if turn.conversation.flow != "product":
        return False
    await repeat.apply_same(turn, f"same:{arg}")
    return True


async def _not_officer(turn: Turn, arg: str) -> bool:
    turn.say("not_officer")
    return True


async def _consent_again(turn: Turn, arg: str) -> bool:
    turn.say("consent_already")
    await resume(turn)
    return True


async def _submit_anyway(turn: Turn, product_id: int) -> None:
    await listing.submit(turn, product_id, anyway=True)


async def _erase(turn: Turn) -> None:
    await privacy.erase(turn)


async def _profile_edit(turn: Turn) -> None:
    await listing.show_field_picker(turn, "business")


BUTTONS: dict[str, Button] = {
    "menu": _menu_button,
    "open": _with_id(listing.open_product),
    "fix": _with_id(lambda turn, product_id: listing.open_product(turn, product_id, again=True)),
    "submit": _either(_with_id(listing.submit), _with_id(_submit_anyway, ":anyway")),
    "edit": _with_id(_edit),
    "delete": _either(_with_id(listing.ask_delete_draft), _with_id(listing.delete_draft, ":yes")),
    "fit": _fit,
    "erase": _either(_with_arg(_erase_data, "ask"), _with_arg(_erase, "yes", flow="erase")),
    "same": _same,
    "copy": _either(_with_arg(listing.show_copy_picker, "pick"), _with_id(listing.copy_product)),
    "profile": _with_arg(_profile_edit, "edit"),
    "remind": _with_arg(stop_reminders, "stop"),
    "siaran": _with_arg(stop_siaran, "stop"),
    "rv": _not_officer,
    "consent": _consent_again,
    "kit": kit.button,
    "listed": kit.pick_product,
}


async def run_button(turn: Turn, choice: str) -> bool:
    """Buttons that work from any step (menu, products, review results); False when not one of them."""
    name, _, arg = choice.partition(":")
    button = BUTTONS.get(name)
    return button is not None and await button(turn, arg)
