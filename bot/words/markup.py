"""The neutral markup every rendered text is in, and its conversion per channel.

Templates write emphasis as `*bold*` (on one line). Every value a template shows (what an owner typed, a
label) is escaped by the renderer: `\\`, `*`, `_`, `~` and a backquote get a backslash, so they are shown
exactly as typed. Each channel adapter turns the markup into its own format: Telegram HTML, WhatsApp's own
`*bold*`, plain text in the terminal.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

SPECIAL = "\\*_~`"
_ESCAPE = re.compile(r"([\\*_~`])")
# An escaped character, or a bold span (stars around text on one line that neither starts nor ends with a
# space), or a run of other characters (up to the next backslash or star), or a star that opens no span.
_TOKEN = re.compile(r"\\(.)|\*([^\s*\\](?:[^*\n\\]|\\.)*?(?<!\s))\*|([^\\*]+|.)", re.DOTALL)
_UNESCAPE = re.compile(r"\\(.)", re.DOTALL)
ZERO_WIDTH_SPACE = "\u200b"


class Marked(str):
    """Text already in the neutral markup (a rendered template): not escaped again when shown in another."""


def escape(value: object) -> str:
    """`value` as text that shows literally in the markup."""
    if isinstance(value, Marked):
        return value
    return _ESCAPE.sub(r"\\\1", str(value))


def segments(text: str) -> Iterator[tuple[str, bool]]:
    """The text as (literal piece, is bold) pairs; neighbouring pieces of the same kind are joined."""
    plain: list[str] = []
    for match in _TOKEN.finditer(text):
        escaped, bold, other = match.groups()
        if bold is not None:
            if plain:
                yield "".join(plain), False
                plain = []
            yield _UNESCAPE.sub(r"\1", bold), True
        else:
            plain.append(escaped if escaped is not None else other)
    if plain:
        yield "".join(plain), False


def to_plain(text: str) -> str:
    """For the terminal: no emphasis, every character as it reads."""
    return "".join(piece for piece, _ in segments(text))


def to_whatsapp(text: str) -> str:
    """For WhatsApp: its own `*bold*`; literal formatting characters cannot pair into emphasis.

    WhatsApp has no escape character: a literal `*`, `_`, `~` or backquote gets a zero-width space after
    it, but only when the message holds another of the same character it could pair with (so a lone
    underscore in an e-mail address is left exactly as typed).
    """
    parts = list(segments(text))
    plain = "".join(piece for piece, _ in parts)
    risky = {c for c in "*_~`" if plain.count(c) + 2 * sum(bold for _, bold in parts) * (c == "*") >= 2}

    def literal(piece: str) -> str:
        return "".join(c + ZERO_WIDTH_SPACE if c in risky else c for c in piece)

    out = []
    for piece, bold in parts:
        core = piece.strip()
        if bold and core:
            start = piece.index(core[0])
            out.append(f"{piece[:start]}*{literal(core)}*{piece[start + len(core):]}")
        else:
            out.append(literal(piece))
    return "".join(out)


def _html(piece: str, bold: bool) -> str:
    escaped = html.escape(piece, quote=False)
    return f"<b>{escaped}</b>" if bold and piece else escaped


def to_html(text: str) -> str:
    """For Telegram's HTML parse mode: bold as <b>, everything else escaped."""
    return "".join(_html(piece, bold) for piece, bold in segments(text))


def split_html(text: str, limit: int) -> list[str]:
    """Telegram HTML pieces of at most `limit` visible characters, cut at line breaks where it can.

    The cuts are made in the visible text; a bold span cut in two is closed at the end of one piece and
    opened again in the next, so no piece ends inside a tag.
    """
    spans, plain, pos = [], [], 0
    for piece, bold in segments(text):
        spans.append((pos, pos + len(piece), bold))
        plain.append(piece)
        pos += len(piece)
    visible = "".join(plain)
    ranges, start = [], 0
    while len(visible) - start > limit:
        cut = visible.rfind("\n", start, start + limit)
        cut = cut if cut - start > limit // 2 else start + limit
        ranges.append((start, cut))
        start = cut
        while start < len(visible) and visible[start] == "\n":
            start += 1
    if start < len(visible) or not ranges:
        ranges.append((start, len(visible)))
    return ["".join(_html(visible[max(a, lo):min(b, hi)], bold)
                    for a, b, bold in spans if max(a, lo) < min(b, hi)) for lo, hi in ranges]
