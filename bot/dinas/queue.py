"""The queue (/dinas/): submissions of the officer's region waiting for a decision, oldest first."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.dinas.auth import Visit, officer_page

if TYPE_CHECKING:
    from bot.dinas.app import Console


@officer_page
async def queue(visit: Visit) -> Response:
    """Lists the waiting submissions."""
    return visit.page("queue", items=[])


def routes(console: Console) -> list[BaseRoute]:
    return [Route("/", queue, methods=["GET"], name="queue")]
