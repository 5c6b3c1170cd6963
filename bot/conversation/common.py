"""Small pieces both owners' and officers' conversations use."""

from __future__ import annotations

from bot.conversation.turn import Turn
from bot.domain.messages import Choice, Inbound
from bot.domain.numbers import ascii_number
from bot.words.i18n import LOCALES


def typed_number_as_choice(turn: Turn, inbound: Inbound) -> Inbound:
    """"2" typed after a message with buttons means its second button."""
    choices = turn.data.get("choices") or []
    number = ascii_number(inbound.text) if inbound.kind == "text" else None
    if number is not None and 1 <= number <= len(choices):
        return Inbound(inbound.channel, inbound.address, inbound.event_id, "choice", choices[number - 1])
    return inbound


def show_language(turn: Turn) -> None:
    turn.say("language", choices=[Choice("lang:id", "Bahasa Indonesia"), Choice("lang:en", "English")])


def set_locale(turn: Turn, choice: str) -> None:
    """Applies a `lang:<code>` button and confirms in the new language."""
    locale = choice.removeprefix("lang:")
    turn.contact.locale = locale if locale in LOCALES else turn.contact.locale
    turn.say("language_set")
