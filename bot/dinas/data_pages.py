"""Rendering for the data pages (products list, progress, export errors): their words live in
`templates/dinas/<locale>/data.j2` and reach templates as `d`, beside the console's own `t`."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from bot.dinas.auth import Visit

_WORDS: dict[tuple[int, str], dict[str, Any]] = {}


def words(visit: Visit) -> dict[str, Any]:
    """The dicts set in `<locale>/data.j2`, loaded once per console and locale."""
    key = (id(visit.console), visit.locale)
    if key not in _WORDS:
        module = visit.console.pages.env.get_template(f"{visit.locale}/data.j2").module
        _WORDS[key] = {k: v for k, v in vars(module).items() if not k.startswith("_")}
    return _WORDS[key]


def page(visit: Visit, name: str, status: int = 200, **ctx: Any) -> Response:
    return visit.page(name, status=status, d=words(visit), **ctx)


def error_page(visit: Visit, kind: str, status: int = 400, **ctx: Any) -> Response:
    """A clear page for a bad request (a filter or date that cannot be read); nothing was changed."""
    ctx.setdefault("detail", "")
    return page(visit, "data_error", status=status, kind=kind, **ctx)
