"""Small pieces both owners' and officers' conversations use."""

from __future__ import annotations

from bot.i18n import LOCALES
from bot.messages import Choice, Inbound
from bot.turn import Turn


def typed_number_as_choice(turn: Turn, inbound: Inbound) -> Inbound:
    """"2" typed after a message with buttons means its second button."""
    choices = turn.data.get("choices") or []
    text = inbound.text.strip()
    if inbound.kind == "text" and text.isdigit() and choices and 1 <= int(text) <= len(choices):
        return Inbound(inbound.channel, inbound.address, inbound.event_id, "choice", choices[int(text) - 1])
    return inbound


def show_language(turn: Turn) -> None:
    turn.say("language", choices=[Choice("lang:id", "Bahasa Indonesia"), Choice("lang:en", "English")])


def set_locale(turn: Turn, choice: str) -> None:
    """Applies a `lang:<code>` button and confirms in the new language."""
    locale = choice.removeprefix("lang:")
    turn.contact.locale = locale if locale in LOCALES else turn.contact.locale
    turn.say("language_set")
