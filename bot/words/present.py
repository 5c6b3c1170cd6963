"""How stored answers are shown to people: one display string per field, in the reader's locale."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from babel.numbers import format_decimal
from lokal import format_npwp15

from bot.domain.regions import get_region
from bot.flows.base import Answers, Form, Step, is_blank
from bot.words.i18n import rupiah


def _npwp(value: Any, locale: str) -> str | None:
    return format_npwp15(str(value)) if len(str(value)) == 15 else None


FIELD_FORMATS: dict[str, Callable[[Any, str], str | None]] = {  # field -> its display (None: the usual one)
    "npwp": _npwp,
    "harga": lambda value, locale: rupiah(value),
    "berat_gram": lambda value, locale: f"{format_decimal(value, locale=locale)} g",
    "tkdn": lambda value, locale: f"{format_decimal(value, locale=locale)}%",
}


def shown(labels: dict[str, Any], locale: str, step: Step, value: Any, skipped: bool = False) -> str:
    """The answer as a person reads it: "Rp25.000", "Makanan", "250 g", "(dilewati)"."""
    words = labels["words"]
    if is_blank(value):
        return words["skipped"] if skipped else words["empty"]
    if step.kind == "choice" and step.options is not None:
        key = next((k for k, v in step.options.items() if v == value and type(v) is type(value)), None)
        return labels["options"][step.field][key] if key is not None else str(value)
    if step.kind == "region":
        region = get_region(str(value))
        return region.label if region else str(value)
    if step.kind == "photos":
        return f"{value} {words['photos']}"
    if (show := FIELD_FORMATS.get(step.field)) is not None and (text := show(value, locale)) is not None:
        return text
    if isinstance(value, int) and not isinstance(value, bool):
        return format_decimal(value, locale=locale)
    return str(value)


def rows(labels: dict[str, Any], locale: str, form: Form, answers: Answers,
         skipped: list[str]) -> list[tuple[str, str]]:
    """(field label, shown answer) for every step that applies, in form order."""
    return [
        (labels["fields"][s.field], shown(labels, locale, s, answers.get(s.field), s.field in skipped))
        for s in form.fields(answers)
    ]
