"""Officers' sign-in without passwords: one-time links, the session cookie, CSRF, and `current_officer`.

- A link is `{PUBLIC_URL}/dinas/login/{token}`: an itsdangerous signed, timestamped token naming a
  `DinasLogin` row. It expires after 15 minutes and works once (its row's `used_at` is set atomically).
- The session is Starlette's signed cookie (HttpOnly, SameSite=Lax, Secure on https), re-signed on every
  response, so it expires after 8 hours of idleness. It holds the login row id; logout ends that row, and every
  request checks the row and the officer (a deactivated officer's session stops at once).
- Every form POST carries the session's CSRF token (`csrf_token`, checked by `officer_page` / `check_csrf`).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from bot.dinas.console import Console, console_of
from bot.dinas.pages import csrf_token
from storage.models import DinasLogin, Officer

__all__ = ["COOKIE", "SESSION_IDLE", "NotSignedIn", "Visit", "check_csrf", "csrf_token", "current_officer",
           "end_session", "officer_page", "start_session"]

log = logging.getLogger(__name__)

SESSION_IDLE = 8 * 60 * 60
COOKIE = "dinas_session"


class NotSignedIn(Exception):
    """No valid session: no cookie, a tampered or idle one, logged out, or the officer was removed."""


def start_session(request: Request, token_id: str) -> None:
    request.session.clear()
    request.session.update({"sid": token_id, "csrf": secrets.token_urlsafe(32)})


async def end_session(request: Request, session: AsyncSession, now: datetime) -> None:
    """Logout: the login row is ended (the cookie stops working even if kept) and the cookie cleared."""
    login = await session.get(DinasLogin, request.session.get("sid") or "")
    if login is not None and login.ended_at is None:
        login.ended_at = now
    request.session.clear()


async def current_officer(request: Request, session: AsyncSession) -> Officer:
    """The signed-in, active officer of this request; raises NotSignedIn. Every console page calls it."""
    sid = request.session.get("sid")
    login = await session.get(DinasLogin, sid) if isinstance(sid, str) else None
    if login is None or login.used_at is None or login.ended_at is not None:
        raise NotSignedIn
    officer = await session.get(Officer, login.officer_id)
    if officer is None or not officer.active:
        raise NotSignedIn
    return officer


async def check_csrf(request: Request) -> FormData | None:
    """The posted form when its `csrf` field matches the session's token, else None."""
    form = await request.form(max_files=0, max_fields=200)
    sent, expected = form.get("csrf"), request.session.get("csrf")
    if isinstance(sent, str) and isinstance(expected, str) and secrets.compare_digest(sent, expected):
        return form
    return None


@dataclass
class Visit:
    """One signed-in request: the console, a database session (one transaction), the officer, the locale."""

    console: Console
    request: Request
    session: AsyncSession
    officer: Officer
    locale: str
    form: FormData | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def page(self, name: str, status: int = 200, **ctx: Any) -> Response:
        return self.console.pages.render(self.request, name, self.locale, status=status, officer=self.officer,
                                         **ctx)


Handler = Callable[[Visit], Awaitable[Response]]


def officer_page(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Wraps a console page: signed-in officer or the sign-in page (401); POSTs need the CSRF token (403).

    The handler runs inside one transaction (committed when it returns, rolled back if it raises).
    """

    async def endpoint(request: Request) -> Response:
        console = console_of(request)
        async with console.db.transaction() as session:
            try:
                officer = await current_officer(request, session)
            except NotSignedIn:
                request.session.clear()
                return console.pages.message(request, "signed_out", status=401)
            locale = await console.pages.locale(request, session, officer)
            form = None
            if request.method == "POST":
                form = await check_csrf(request)
                if form is None:
                    return console.pages.message(request, "csrf", locale, status=403)
            return await handler(Visit(console, request, session, officer, locale, form))

    endpoint.__name__ = handler.__name__
    endpoint.__doc__ = handler.__doc__
    return endpoint
