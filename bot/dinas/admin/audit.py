"""`/dinas/admin/audit`: every admin action on the area (who, when, what, to what), newest first."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.dinas.admin.common import admin_page, render
from bot.dinas.auth import Visit
from bot.dinas.console import Console
from bot.review import admin


@admin_page
async def audit(visit: Visit) -> Response:
    """Lists the admin actions of the area."""
    return await render(visit, "audit", actions=await admin.audit(visit.session, visit.officer))


def routes(console: Console) -> list[BaseRoute]:
    return [Route("/admin/audit", audit, methods=["GET"], name="admin_audit")]
