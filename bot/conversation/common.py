"""Small pieces both owners' and officers' conversations use."""

from __future__ import annotations

from bot.conversation.turn import Turn
from bot.domain.messages import Choice, Inbound
from bot.domain.numbers import ascii_number
from bot.flows.words import normalized
from bot.words.i18n import LOCALES

#: The owner's main menu (listing.show_menu): buttons `menu:<item>`, their labels `buttons.menu_<item>`.
OWNER_MENU = ("new", "drafts", "products", "profile", "help", "lang")
#: Flows where typed text answers a question (a name, an address), so it is never read as a menu label.
ANSWERING = ("business", "product", "kit", "consent")


def typed_number_as_choice(turn: Turn, inbound: Inbound) -> Inbound:
    """"2" typed after a message with buttons means its second button."""
    choices = turn.data.get("choices") or []
    number = ascii_number(inbound.text) if inbound.kind == "text" else None
    if number is not None and 1 <= number <= len(choices):
        return Inbound(inbound.channel, inbound.address, inbound.event_id, "choice", choices[number - 1])
    return inbound


def typed_as_choice(turn: Turn, inbound: Inbound) -> Inbound:
    """A typed number ("2") or, outside a question, a menu button's label in either language ("profil usaha",
    "Business profile"): that button, as if pressed."""
    inbound = typed_number_as_choice(turn, inbound)
    if inbound.kind != "text" or turn.conversation.flow in ANSWERING:
        return inbound
    typed = normalized(inbound.text)
    for item in OWNER_MENU:
        if any(normalized(turn.label("buttons", f"menu_{item}", locale)) == typed for locale in LOCALES):
            return Inbound(inbound.channel, inbound.address, inbound.event_id, "choice", f"menu:{item}")
    return inbound


def show_language(turn: Turn) -> None:
    turn.say("language", choices=[Choice("lang:id", "Bahasa Indonesia"), Choice("lang:en", "English")])


def set_locale(turn: Turn, choice: str) -> None:
    """Applies a `lang:<code>` button and confirms in the new language."""
    locale = choice.removeprefix("lang:")
    turn.contact.locale = locale if locale in LOCALES else turn.contact.locale
    turn.say("language_set")
