"""Numbers read from people's input and button ids: ASCII digits only, bounded by what the database holds."""

from __future__ import annotations

import re

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
