"""What every console page shares (`Console`), how a page finds it (`console_of`), and the redirect after a POST.

Below the pages and above the renderer: `bot/dinas/app.py` builds one `Console` and mounts the routes; every
page module reaches it through `console_of(request)` or `Visit.console`, so no page imports the app.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bot.dinas.pages import Pages
from bot.domain.messages import Outbound
from bot.settings import Settings
from bot.words.i18n import Renderer
from storage.db import Database
from storage.models import utcnow

Deliver = Callable[[Iterable[Outbound]], Awaitable[int]]


class Console:
    """What every console page shares: settings, database, pages, bot renderer, clock, and `deliver`.

    `deliver` (the deliverer's, when the app runs with channels) sends committed outbox messages at once;
    without it the delivery loop sends them.
    """

    def __init__(self, settings: Settings, db: Database, renderer: Renderer | None = None,
                 clock: Callable[[], datetime] = utcnow, deliver: Deliver | None = None) -> None:
        self.settings = settings
        self.db = db
        self.renderer = renderer or Renderer(settings.templates_dir)
        self.pages = Pages(settings.templates_dir, self.renderer)
        self.clock = clock
        self.deliver = deliver


def console_of(request: Request) -> Console:
    return request.scope["dinas.console"]  # type: ignore[no-any-return]


def redirect(url: str) -> Response:
    """After a POST: see the result with a GET (303)."""
    return RedirectResponse(url, status_code=303)
