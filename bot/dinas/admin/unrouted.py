"""`/dinas/admin/unrouted`: submissions of the area whose district has no officer, and routing one to a chosen
officer who may decide on it (the same message the backlog of a new officer is sent with)."""

from __future__ import annotations

from starlette.background import BackgroundTask
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.delivery.outbox import OutboxWriter
from bot.dinas.admin.common import admin_page, form_id, render
from bot.dinas.auth import Visit
from bot.dinas.console import Console, redirect
from bot.review import admin
from bot.review.officers import unrouted_in

PAGE = 200


async def show(visit: Visit, status: int = 200, error: str = "") -> Response:
    waiting = await unrouted_in(visit.session, within=visit.officer.region_code, reviewers_only=True, limit=PAGE)
    rows = [(p, b, admin.region_label(b.region_code or ""), await admin.route_choices(visit.session, visit.officer, b))
            for p, b in waiting]
    return await render(visit, "unrouted", status=status, rows=rows, error=error,
                        done=visit.request.query_params.get("done", ""))


@admin_page
async def unrouted(visit: Visit) -> Response:
    """Lists the waiting submissions no officer of their district receives, oldest first."""
    return await show(visit)


@admin_page
async def route(visit: Visit) -> Response:
    """Sends one waiting submission to the chosen officer's chats; refused (404) outside the admin's area."""
    outbox = OutboxWriter(visit.session, visit.console.clock())
    try:
        await admin.route(visit.session, outbox, visit.console.renderer, visit.officer,
                          product_id=form_id(visit, "product_id"), officer_id=form_id(visit, "officer_id"),
                          now=visit.console.clock())
    except admin.NotAllowed as refused:
        return await show(visit, 404, refused.reason)
    outbound = await outbox.flush()
    response = redirect("/dinas/admin/unrouted?done=routed")
    if visit.console.deliver is not None:  # after the commit and the response, as a decision's messages
        response.background = BackgroundTask(visit.console.deliver, outbound)
    return response


def routes(console: Console) -> list[BaseRoute]:
    return [Route("/admin/unrouted", unrouted, methods=["GET"], name="admin_unrouted"),
            Route("/admin/unrouted", route, methods=["POST"], name="admin_route")]
