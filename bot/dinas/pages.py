"""Console pages: jinja2 with autoescape over `templates/dinas/`, words per locale in `<locale>/words.j2`.

Markup lives once in `templates/dinas/*.html`; every word a person reads comes from `t` (the dicts set in
`templates/dinas/<locale>/words.j2`) or from the bot's `labels` (field names, options, statuses). Every value
is escaped (autoescape), so whatever an owner typed is shown as text.
"""

from __future__ import annotations

import secrets
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from babel.dates import format_date
from babel.numbers import format_decimal, format_percent
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.requests import Request
from starlette.responses import HTMLResponse

from bot import version
from bot.words.i18n import DEFAULT_LOCALE, LOCALES, Renderer, locale_of_language, make_date_filter, rupiah
from storage.models import Contact, Officer


def csrf_token(request: Request) -> str:
    """The session's CSRF token, for the hidden `csrf` field of every form."""
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


async def officer_locale(session: AsyncSession, officer: Officer) -> str:
    query = select(Contact.locale).where(Contact.officer_id == officer.id).order_by(Contact.id)  # type: ignore[arg-type]
    return (await session.exec(query)).first() or "id"


# Numbers and dates the locale's way (Babel): 1.000 and 0,1% in Indonesian, 1,000 and 0.1% in English; a day
# is written one way everywhere ("28 Desember 2026"; the `date` filter adds the time to the same form).
@pass_context
def number(ctx: Context, value: float | None) -> str:
    return "-" if value is None else format_decimal(value, locale=ctx["locale"])


@pass_context
def percent(ctx: Context, share: float) -> str:
    """A share (0.25) as a percentage with one decimal ("25,0%")."""
    return format_percent(share, "#,##0.0%", locale=ctx["locale"])


@pass_context
def day(ctx: Context, value: date | None) -> str:
    return "-" if value is None else format_date(value, "d MMMM y", locale=ctx["locale"])


@pass_context
def day_short(ctx: Context, value: date) -> str:
    """The same day without the year, for a chart's axis ("28 Des")."""
    return format_date(value, "d MMM", locale=ctx["locale"]).rstrip(".")


def browser_locale(header: str) -> str | None:
    """The first language of an Accept-Language header we speak ("en-GB,en;q=0.9" -> "en"), by its q order."""
    ranked = []
    for n, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                continue
        ranked.append((-q, n, tag.strip()))
    for _, _, tag in sorted(ranked):
        found = locale_of_language(tag)
        if found is not None:
            return found
    return None


class Pages:
    """Renders console pages in the officer's locale (`?lang=id|en` switches it for the session)."""

    def __init__(self, templates_dir: Path, renderer: Renderer) -> None:
        self.renderer = renderer
        self.env = Environment(loader=FileSystemLoader(str(templates_dir / "dinas")), undefined=StrictUndefined,
                               autoescape=select_autoescape(["html"], default=True), trim_blocks=True,
                               lstrip_blocks=True)
        self.env.globals["app_version"] = version()  # the footer's (bot/__init__.py)
        self.env.filters.update(rupiah=rupiah, number=number, percent=percent, day=day, day_short=day_short)

    @cache  # noqa: B019  (one Pages per app; the words never change while it runs)
    def words(self, locale: str) -> dict[str, Any]:
        module = self.env.get_template(f"{locale}/words.j2").module
        return {k: v for k, v in vars(module).items() if not k.startswith("_")}

    async def locale(self, request: Request, session: AsyncSession, officer: Officer) -> str:
        """The language the officer chose: `?lang=` (remembered in the session), the session's, or a chat
        language other than the default (Indonesian is every chat's default, so it says no choice); else the
        browser's (Accept-Language); else Indonesian."""
        asked = request.query_params.get("lang")
        if asked in LOCALES:
            request.session["lang"] = asked
            return asked
        remembered = request.session.get("lang")
        if remembered in LOCALES:
            return remembered
        chosen = await officer_locale(session, officer)
        if chosen in LOCALES and chosen != DEFAULT_LOCALE:
            return chosen
        return browser_locale(request.headers.get("accept-language", "")) or DEFAULT_LOCALE

    def guess_locale(self, request: Request) -> str:
        """For pages before sign-in: `?lang=`, the session's, the browser's, else Indonesian."""
        for value in (request.query_params.get("lang"), request.session.get("lang")):
            if value in LOCALES:
                return value
        return browser_locale(request.headers.get("accept-language", "")) or DEFAULT_LOCALE

    def render(self, request: Request, name: str, locale: str, status: int = 200, **ctx: Any) -> HTMLResponse:
        ctx.setdefault("officer", None)
        html = self.env.get_template(f"{name}.html").render(
            t=self.words(locale), labels=self.renderer.labels(locale), locale=locale, date=make_date_filter(locale),
            csrf=csrf_token(request), path=request.url.path, **ctx)
        return HTMLResponse(html, status_code=status, headers={
            "Cache-Control": "no-store", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer",
            "Content-Security-Policy": "default-src 'self'; img-src 'self'; style-src 'self' 'unsafe-inline'; "
                                       "form-action 'self'; frame-ancestors 'none'"})

    def message(self, request: Request, kind: str, locale: str | None = None, status: int = 200,
                **ctx: Any) -> HTMLResponse:
        """A page that only says something (signed out, link refused, not found, CSRF refused)."""
        return self.render(request, "message", locale or self.guess_locale(request), status=status, kind=kind,
                           **ctx)
