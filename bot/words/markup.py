"""The neutral markup every rendered text is in, and its conversion per channel.

Templates write emphasis as `*bold*` (on one line) and text to copy as a backquoted code span (one tap copies
it on Telegram; WhatsApp shows it in monospace). Every value a template shows (what an owner typed, a
label) is escaped by the renderer: `\\`, `*`, `_`, `~` and a backquote get a backslash, so they are shown
exactly as typed. Each channel adapter turns the markup into its own format: Telegram HTML (`<b>`, `<code>`),
WhatsApp's own `*bold*` and triple-backquoted monospace, plain text in the terminal.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

SPECIAL = "\\*_~`"
_ESCAPE = re.compile(r"([\\*_~`])")
# An escaped character, or a bold span (stars around text on one line that neither starts nor ends with a
# space), or a code span (backquotes around text, lines allowed), or a run of other characters (up to the
# next backslash, star or backquote), or a star or backquote that opens no span.
_TOKEN = re.compile(r"\\(.)|\*([^\s*\\](?:[^*\n\\]|\\.)*?(?<!\s))\*|`((?:[^`\\]|\\.)+)`|([^\\*`]+|.)", re.DOTALL)
BOLD, CODE = "bold", "code"
_UNESCAPE = re.compile(r"\\(.)", re.DOTALL)
ZERO_WIDTH_SPACE = "\u200b"


class Marked(str):
    """Text already in the neutral markup (a rendered template): not escaped again when shown in another."""


def escape(value: object) -> str:
    """`value` as text that shows literally in the markup."""
    if isinstance(value, Marked):
        return value
    return _ESCAPE.sub(r"\\\1", str(value))


def segments(text: str) -> Iterator[tuple[str, str]]:
    """The text as (literal piece, style) pairs, style "" (plain), BOLD or CODE; neighbouring plain pieces are
    joined."""
    plain: list[str] = []
    for match in _TOKEN.finditer(text):
        escaped, bold, code, other = match.groups()
        styled = (bold, BOLD) if bold is not None else (code, CODE) if code is not None else None
        if styled is not None:
            if plain:
                yield "".join(plain), ""
                plain = []
            yield _UNESCAPE.sub(r"\1", styled[0]), styled[1]
        else:
            plain.append(escaped if escaped is not None else other)
    if plain:
        yield "".join(plain), ""


def to_plain(text: str) -> str:
    """For the terminal: no emphasis, every character as it reads."""
    return "".join(piece for piece, _ in segments(text))


def to_whatsapp(text: str) -> str:
    """For WhatsApp: its own `*bold*` and ```monospace```; literal formatting characters cannot pair into
    emphasis.

    WhatsApp has no escape character: a literal `*`, `_`, `~` or backquote gets a zero-width space after
    it, but only when the message holds another of the same character it could pair with (so a lone
    underscore in an e-mail address is left exactly as typed).
    """
    parts = list(segments(text))
    plain = "".join(piece for piece, style in parts if style != CODE)
    marks = {"*": 2 * sum(style == BOLD for _, style in parts), "`": 6 * sum(style == CODE for _, style in parts)}
    risky = {c for c in "*_~`" if plain.count(c) + marks.get(c, 0) >= 2}

    def literal(piece: str) -> str:
        return "".join(c + ZERO_WIDTH_SPACE if c in risky else c for c in piece)

    out = []
    for piece, style in parts:
        core = piece.strip()
        if style == CODE and core:
            out.append(f"```{piece}```")
        elif style == BOLD and core:
            start = piece.index(core[0])
            out.append(f"{piece[:start]}*{literal(core)}*{piece[start + len(core):]}")
        else:
            out.append(literal(piece))
    return "".join(out)


def _html(piece: str, style: str) -> str:
    escaped = html.escape(piece, quote=False)
    if not piece or not style:
        return escaped
    return f"<b>{escaped}</b>" if style == BOLD else f"<code>{escaped}</code>"


def to_html(text: str) -> str:
    """For Telegram's HTML parse mode: bold as <b>, code as <code> (one tap copies it), the rest escaped."""
    return "".join(_html(piece, style) for piece, style in segments(text))


def split_html(text: str, limit: int) -> list[str]:
    """Telegram HTML pieces of at most `limit` visible characters, cut at line breaks where it can.

    The cuts are made in the visible text; a bold span cut in two is closed at the end of one piece and
    opened again in the next, so no piece ends inside a tag.
    """
    spans, plain, pos = [], [], 0
    for piece, style in segments(text):
        spans.append((pos, pos + len(piece), style))
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
    return ["".join(_html(visible[max(a, lo):min(b, hi)], style)
                    for a, b, style in spans if max(a, lo) < min(b, hi)) for lo, hi in ranges]
