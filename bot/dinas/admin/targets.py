"""`/dinas/admin/targets`: each district's target of products and the period it counts, editable by its admin."""

from __future__ import annotations

from datetime import date

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.dinas.admin.common import admin_page, form_text, render
from bot.dinas.auth import Visit
from bot.dinas.console import Console, redirect
from bot.review import admin


def _day(text: str) -> date | None:
    """A YYYY-MM-DD date (an <input type=date>), None when empty; ValueError when it is not one."""
    return date.fromisoformat(text) if text else None


async def show(visit: Visit, status: int = 200, error: str = "", entered: dict[str, str] | None = None) -> Response:
    return await render(visit, "targets", status=status, rows=await admin.area_targets(visit.session, visit.officer),
                        error=error, entered=entered or {}, done=visit.request.query_params.get("done", ""))


@admin_page
async def targets(visit: Visit) -> Response:
    """Lists the area's districts with their target and period."""
    return await show(visit)


@admin_page
async def save(visit: Visit) -> Response:
    """Sets one district's target and period; a mistake re-shows the form saying how to fix it."""
    entered = {k: form_text(visit, k, 20) for k in ("region", "target", "period_start", "period_end")}
    try:
        target = int(entered["target"].replace(".", "").replace(",", ""))
        period = (_day(entered["period_start"]), _day(entered["period_end"]))
    except ValueError:
        return await show(visit, 400, "target_format", entered)
    try:
        await admin.set_target(visit.session, visit.officer, entered["region"], target, period, visit.console.clock())
    except admin.NotAllowed as refused:
        return await show(visit, 404 if refused.reason == "not_found" else 400, refused.reason, entered)
    return redirect("/dinas/admin/targets?done=saved")


def routes(console: Console) -> list[BaseRoute]:
    return [Route("/admin/targets", targets, methods=["GET"], name="admin_targets"),
            Route("/admin/targets", save, methods=["POST"], name="admin_targets_save")]
