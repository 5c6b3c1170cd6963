"""Every word a person reads comes from `templates/<locale>/`: jinja2 with StrictUndefined."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from babel.dates import format_datetime
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from lokal import format_rupiah

from bot.words.markup import Marked, escape

LOCALES = ("id", "en")
DEFAULT_LOCALE = "id"
JAKARTA = "Asia/Jakarta"


def locale_of_language(code: str | None) -> str | None:
    """The locale for an app language tag ("en-US" -> "en"), or None when we do not speak it."""
    primary = (code or "").replace("_", "-").split("-")[0].lower()
    return primary if primary in LOCALES else None


def rupiah(amount: int | None) -> str:
    return format_rupiah(amount) if amount is not None else "-"


def make_date_filter(locale: str):  # type: ignore[no-untyped-def]
    def date(value: datetime | None) -> str:
        if value is None:
            return "-"
        return format_datetime(value, "d MMMM y, HH.mm", tzinfo=JAKARTA, locale=locale) + " WIB"

    return date


class _Environment(Environment):
    """jinja2's Environment with each template's globals in a plain dict: the ChainMap jinja2 keeps is copied into
    every render's context key by key: about half of a short message's render (12 -> 6 us). Nothing here adds
    globals once templates are loaded, so the copy taken at loading stays right."""

    def make_globals(self, d: Any) -> Any:
        return dict(super().make_globals(d))


class Renderer:
    """Renders `templates/<locale>/<name>.j2` and looks up button/field labels in `labels.j2`."""

    def __init__(self, templates_dir: Path) -> None:
        self.env = _Environment(
            loader=FileSystemLoader(str(templates_dir)),
            undefined=StrictUndefined,
            autoescape=False,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
            finalize=escape,  # every shown value literal in the neutral markup (bot/words/markup.py)
            auto_reload=False,  # templates do not change while the process runs: no stat() per message
        )
        self.env.filters["rupiah"] = rupiah

    def render(self, locale: str, template_name: str, **ctx: Any) -> Marked:
        """The text in the neutral markup: the template's `*bold*`, every value escaped."""
        locale = locale if locale in LOCALES else DEFAULT_LOCALE
        template = self.env.get_template(f"{locale}/{template_name}.j2")
        ctx.setdefault("labels", self.labels(locale))
        ctx.setdefault("date", make_date_filter(locale))
        return Marked(template.render(**ctx).strip())

    @cache  # noqa: B019  (one Renderer per process; labels never change while it runs)
    def labels(self, locale: str) -> dict[str, Any]:
        """The dicts set at the top level of `labels.j2` (field names, options, buttons)."""
        module = self.env.get_template(f"{locale}/labels.j2").module
        return {k: v for k, v in vars(module).items() if not k.startswith("_")}

    def label(self, locale: str, group: str, key: str) -> str:
        return str(self.labels(locale if locale in LOCALES else DEFAULT_LOCALE)[group][key])
