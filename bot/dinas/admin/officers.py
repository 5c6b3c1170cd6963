"""`/dinas/admin/officers`: the area's officers (region, chats, last activity, open queue), inviting a new one
(a one-time link to open in Telegram or WhatsApp), and deactivating one. Decisions in bot/review/admin.py and
bot/review/invites.py; this page presents them."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.dinas.admin.common import admin_page, form_id, form_text, render
from bot.dinas.auth import Visit
from bot.dinas.console import Console, redirect
from bot.domain import regions
from bot.review import admin, invites
from bot.review.scope import districts


def area_regions(officer_code: str) -> list[tuple[str, str]]:
    """(code, label) of the regions an invited officer may have: the area itself and each of its districts."""
    codes = [officer_code, *districts(officer_code)] if "." not in officer_code else [officer_code]
    return [(code, admin.region_label(code)) for code in dict.fromkeys(codes) if regions.get_region(code)]


async def show(visit: Visit, status: int = 200, **ctx: object) -> Response:
    now = visit.console.clock()
    ctx = {"error": "", "entered": {}, "invitation": None, **ctx}
    return await render(visit, "officers", status=status,
                        officers=await admin.officers_overview(visit.session, visit.officer),
                        pending=await invites.pending(visit.session, visit.officer, now),
                        area=area_regions(visit.officer.region_code), channels=invites.CHANNELS,
                        done=visit.request.query_params.get("done", ""), **ctx)


@admin_page
async def officers(visit: Visit) -> Response:
    """Lists the area's officers and the invitations not used yet, with the invitation form."""
    return await show(visit)


@admin_page
async def invite(visit: Visit) -> Response:
    """Makes a one-time invitation and shows its link (once: only its hash is kept)."""
    fields = {"name": form_text(visit, "name", 150), "region_code": form_text(visit, "region", 20),
              "channel": form_text(visit, "channel", 20)}
    try:
        made = await invites.create(visit.session, visit.console.settings, visit.officer, now=visit.console.clock(),
                                    **fields)
    except admin.NotAllowed as refused:
        return await show(visit, status=400, error=refused.reason, entered=fields)
    return await show(visit, invitation=made)


@admin_page
async def deactivate(visit: Visit) -> Response:
    """Deactivates an officer of the area (their sessions end now; their past decisions stay theirs)."""
    try:
        await admin.deactivate(visit.session, visit.officer, form_id(visit, "officer_id"), visit.console.clock())
    except admin.NotAllowed as refused:
        status = 404 if refused.reason == "not_found" else 400
        return await show(visit, status=status, error=refused.reason, entered={})
    return redirect("/dinas/admin/officers?done=deactivated")


def routes(console: Console) -> list[BaseRoute]:
    return [Route("/admin/officers", officers, methods=["GET"], name="admin_officers"),
            Route("/admin/officers/invite", invite, methods=["POST"], name="admin_invite"),
            Route("/admin/officers/deactivate", deactivate, methods=["POST"], name="admin_deactivate")]
