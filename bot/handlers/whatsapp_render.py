"""How choices fit WhatsApp: up to 3 reply buttons (titles <= 20), else a list (<= 10 rows, titles <= 24)."""

from __future__ import annotations

from pywa.types import Button, Section, SectionList, SectionRow

from bot.domain.messages import Choice

MAX_BUTTONS = 3
BUTTON_TITLE = 20
MAX_ROWS = 10
ROW_TITLE = 24
LIST_BUTTON = 20
MORE_PREFIX = "more:"


def cut(label: str, limit: int) -> str:
    """Shortens a label to `limit` characters at a word boundary, ending with an ellipsis."""
    label = " ".join(label.split())
    if len(label) <= limit:
        return label
    head = label[: limit - 1]
    if " " in head and head.rfind(" ") >= limit // 2:
        head = head[: head.rfind(" ")]
    return head.rstrip(" ,.;:-&/(") + "…"


def unique_titles(choices: list[Choice], limit: int) -> list[str]:
    """Cut titles, numbered where cutting made two the same (WhatsApp refuses repeated titles)."""
    titles = [cut(c.label, limit) for c in choices]
    seen: dict[str, int] = {}
    for i, title in enumerate(titles):
        if titles.count(title) > 1:
            seen[title] = seen.get(title, 0) + 1
            suffix = f" ({seen[title]})"
            titles[i] = cut(choices[i].label, limit - len(suffix)) + suffix
    return titles


def page_of(choices: list[Choice], page: int) -> tuple[list[Choice], bool]:
    """The choices of one list page (1-based), and whether more pages follow."""
    if len(choices) <= MAX_ROWS:
        return choices, False
    per_page = MAX_ROWS - 1
    start = (page - 1) * per_page
    rest = choices[start:]
    if len(rest) <= MAX_ROWS:
        return rest, False
    return rest[:per_page], True


def buttons_for(choices: list[Choice], list_title: str, more_label: str, outbox_id: int | None,
                page: int = 1) -> list[Button] | SectionList:
    """Reply buttons for a few choices, a list for more, pages with a "more" row beyond ten."""
    if len(choices) <= MAX_BUTTONS:
        return [Button(title, c.id) for c, title in zip(choices, unique_titles(choices, BUTTON_TITLE), strict=True)]
    shown, more = page_of(choices, page)
    rows = [SectionRow(title, c.id) for c, title in zip(shown, unique_titles(shown, ROW_TITLE), strict=True)]
    if more:
        rows.append(SectionRow(cut(more_label, ROW_TITLE), f"{MORE_PREFIX}{outbox_id or 0}:{page + 1}"))
    title = cut(list_title, LIST_BUTTON)
    return SectionList(button_title=title, sections=[Section(title=title, rows=rows)])
