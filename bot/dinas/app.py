"""The console's routes, mounted under /dinas/ by `bot.service.web.create_app`.

Every page is an `officer_page` (bot/dinas/auth.py): signed-in officer or the sign-in page, CSRF on POST.
Pages render `templates/dinas/*.html` through `Console.pages` (bot/dinas/pages.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from starlette.middleware.sessions import SessionMiddleware
from starlette.responses import RedirectResponse
from starlette.routing import BaseRoute, Mount, Route, Router
from starlette.types import ASGIApp, Receive, Scope, Send

from bot.dinas import admin, auth, export, invite, listing, login, product, progress, queue, search, siaran
from bot.dinas.console import Console, Deliver, console_of, redirect
from bot.review import signin
from bot.settings import Settings
from bot.words.i18n import Renderer
from storage.db import Database
from storage.models import utcnow

__all__ = ["Console", "console_of", "redirect", "routes"]  # Console, console_of, redirect: bot/dinas/console.py


class _WithConsole:
    """Puts the console in the request scope for `console_of`."""

    def __init__(self, app: ASGIApp, console: Console) -> None:
        self.app, self.console = app, console

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["dinas.console"] = self.console
        await self.app(scope, receive, send)


def page_routes(console: Console) -> list[BaseRoute]:
    """Every console route, relative to /dinas.

    Each feature module exposes `routes(console) -> list[BaseRoute]` and is added to this list ONCE here:
      - bot/dinas/login.py    /login/{token}, /logout          (dinas-review)
      - bot/dinas/queue.py    /                                  (dinas-review)
      - bot/dinas/product.py  /products/{id}, /products/{id}/decision, /photos/{id}  (dinas-review)
      - bot/dinas/search.py   /products                        (dinas-data: add `*search.routes(console)`)
      - bot/dinas/progress.py /progress                        (dinas-data: add `*progress.routes(console)`)
      - bot/dinas/export.py   /export.xlsx, /export.csv        (dinas-data: add `*export.routes(console)`)
    Note: `/products` must come before `/products/{id}` only if a pattern could match both (it cannot here).
    """
    return [
        *login.routes(console),
        *queue.routes(console),
        *product.routes(console),
        *listing.routes(console),
        *search.routes(console),
        *progress.routes(console),
        *export.routes(console),
        *admin.routes(console),
        *invite.routes(console),  # /invite, /invite/{id}, /invite/{id}/poster, /invite/sources(.csv)
        *siaran.routes(console),  # /siaran, /siaran/preview, /siaran/send, /siaran/{id}(/cancel), /siaran.csv
    ]


def routes(settings: Settings, db: Database, renderer: Renderer | None = None,
           clock: Callable[[], datetime] = utcnow, deliver: Deliver | None = None) -> list[BaseRoute]:
    """The console, mounted at /dinas with its own session cookie (path /dinas, 8 hours idle)."""
    console = Console(settings, db, renderer, clock, deliver)
    router = Router(page_routes(console))
    app = SessionMiddleware(router, secret_key=signin.secret_key(settings), session_cookie=auth.COOKIE,
                            max_age=auth.SESSION_IDLE, path="/dinas", same_site="lax",
                            https_only=(settings.public_url or "").startswith("https://"))
    return [Mount("/dinas", app=_WithConsole(app, console), name="dinas"),
            Route("/dinas", lambda request: RedirectResponse("/dinas/", 307))]


