"""Small pieces both owners' and officers' conversations use."""

from __future__ import annotations

import re

from bot.i18n import LOCALES
from bot.messages import Choice, Inbound
from bot.turn import Turn

#: The largest id a database integer column holds (PostgreSQL int4); every id read from people's input is bounded.
MAX_ID = 2**31 - 1
_ASCII_DIGITS = re.compile(r"[0-9]+", re.ASCII)


def ascii_number(text: str, maximum: int = MAX_ID) -> int | None:
    """The whole number in `text` written with ASCII digits only, at most `maximum`; None for anything else.

    `str.isdigit()` is true for "²", "③" and "٣", which `int()` then refuses or reads; people's input and
    button ids are parsed here instead, so neither a crash nor an id beyond the database's range can follow.
    """
    text = text.strip()
    if len(text) > len(str(maximum)) or not _ASCII_DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if value <= maximum else None


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
