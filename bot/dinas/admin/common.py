"""What every admin page shares: `admin_page` (a signed-in officer with the admin role, else 403), the admin
words (`templates/dinas/admin/<locale>.j2`), and the warning shown while submissions wait with no officer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import cache
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from bot.dinas.auth import Handler, Visit, officer_page
from bot.dinas.console import Console
from bot.review import admin
from bot.review.officers import unrouted_in

WARN_LIMIT = 100  # the warning counts up to this many ("100+")


@cache
def _words(console: Console, locale: str) -> dict[str, Any]:
    module = console.pages.env.get_template(f"admin/{locale}.j2").module
    return {k: v for k, v in vars(module).items() if not k.startswith("_")}


def words(visit: Visit) -> dict[str, Any]:
    return _words(visit.console, visit.locale)


async def context(visit: Visit) -> dict[str, Any]:
    """What every admin page shows: the admin words (`a`), and how many submissions of the area have no officer."""
    waiting = await unrouted_in(visit.session, within=visit.officer.region_code, reviewers_only=True,
                                limit=WARN_LIMIT + 1)
    return {"a": words(visit), "unrouted_count": len(waiting), "unrouted_more": len(waiting) > WARN_LIMIT,
            "error": ""}


async def render(visit: Visit, name: str, status: int = 200, **ctx: Any) -> Response:
    return visit.page(f"admin/{name}", status=status, **{**await context(visit), **ctx})


def admin_page(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """An `officer_page` (signed in, CSRF on POST) for admins only: any other officer gets 403, nothing done."""

    async def only_admins(visit: Visit) -> Response:
        if not admin.is_admin(visit.officer):
            return visit.page("admin/refused", status=403, a=words(visit))
        return await handler(visit)

    only_admins.__name__ = handler.__name__
    only_admins.__doc__ = handler.__doc__
    return officer_page(only_admins)


def form_text(visit: Visit, name: str, limit: int = 200) -> str:
    value = visit.form.get(name) if visit.form is not None else None
    return value.strip()[:limit] if isinstance(value, str) else ""


def form_id(visit: Visit, name: str) -> int | None:
    value = form_text(visit, name, 12)
    return int(value) if value.isascii() and value.isdigit() else None
