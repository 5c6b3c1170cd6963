"""`/dinas/invite`: invitations for UMKM owners of the officer's districts (a poster or an event): the Telegram
deep link and the WhatsApp click-to-chat link with their QR codes, a printable A4 poster, and
`/dinas/invite/sources` (owners and products per source, as CSV too). Decisions in bot/review/reach.py; an
officer may invite only for a kab/kota their region covers (an admin: their area), else 403 and nothing made.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from bot.dinas import sheets, sources
from bot.dinas.auth import Visit, officer_page
from bot.dinas.console import Console, redirect
from bot.dinas.pages import Pages
from bot.domain import regions
from bot.review import reach
from bot.review.scope import covers, districts
from bot.settings import Settings
from storage.models import OwnerInvite


@cache
def _words(pages: Pages, locale: str) -> dict[str, Any]:
    module = pages.env.get_template(f"invite/{locale}.j2").module
    return {k: v for k, v in vars(module).items() if not k.startswith("_")}


def region_label(code: str) -> str:
    found = regions.get_region(code)
    return found.label if found else code


def area(officer_code: str) -> list[tuple[str, str]]:
    """(code, label) of the kab/kota the officer may invite for."""
    return [(code, region_label(code)) for code in districts(officer_code)]


def _render(visit: Visit, name: str, status: int = 200, **ctx: Any) -> Response:
    return visit.page(f"invite/{name}", status=status, inv=_words(visit.console.pages, visit.locale), **ctx)


async def _show(visit: Visit, status: int = 200, error: str = "", entered: dict[str, str] | None = None) -> Response:
    conn = await visit.session.connection()
    rows = [r for r in await sources.per_source(conn, visit.officer.region_code) if r.invite_id is not None]
    return _render(visit, "page", status=status, area=area(visit.officer.region_code), rows=rows, error=error,
                   entered=entered or {}, region_label=region_label)


@officer_page
async def invite_page(visit: Visit) -> Response:
    """The invitation form and the invitations of the officer's districts."""
    return await _show(visit)


def _form(visit: Visit, name: str, limit: int) -> str:
    value = visit.form.get(name) if visit.form is not None else None
    return value.strip()[:limit] if isinstance(value, str) else ""


@officer_page
async def make(visit: Visit) -> Response:
    """Makes (or finds) the invitation of (region, source) and shows it; refused outside the officer's region."""
    entered = {"region": _form(visit, "region", 20), "source": _form(visit, "source", 200)}
    try:
        invite = await reach.make(visit.session, entered["region"], entered["source"], visit.console.clock(),
                                  officer=visit.officer)
    except reach.Refused as refused:
        return await _show(visit, status=403 if refused.reason == "region" else 400, error=refused.reason,
                           entered=entered)
    return redirect(f"/dinas/invite/{invite.id}")


async def _own_invite(visit: Visit) -> OwnerInvite | None:
    try:
        invite_id = int(visit.request.path_params["invite_id"])
    except ValueError:
        return None
    invite = await visit.session.get(OwnerInvite, invite_id)
    return invite if invite is not None and covers(visit.officer.region_code, invite.region_code) else None


def poster_context(settings: Settings, pages: Pages, invite: OwnerInvite) -> dict[str, Any]:
    links = reach.links(settings, pages.renderer, invite)
    return {"invite": invite, "links": links, "region": region_label(invite.region_code),
            "qr_telegram": reach.qr_svg(links.telegram) if links.telegram else "",
            "qr_whatsapp": reach.qr_svg(links.whatsapp) if links.whatsapp else ""}


def poster_html(settings: Settings, pages: Pages, invite: OwnerInvite) -> str:
    """The A4 poster, in Indonesian (for the owners who read it), every asset inline."""
    return pages.env.get_template("invite/poster.html").render(
        inv=_words(pages, "id"), locale="id", **poster_context(settings, pages, invite))


@officer_page
async def detail(visit: Visit) -> Response:
    """One invitation: both links with their QR codes, the code, and the poster to print."""
    invite = await _own_invite(visit)
    if invite is None:
        return visit.console.pages.message(visit.request, "not_found", visit.locale, status=404)
    return _render(visit, "detail", **poster_context(visit.console.settings, visit.console.pages, invite))


@officer_page
async def poster(visit: Visit) -> Response:
    """The printable A4 poster of one invitation."""
    invite = await _own_invite(visit)
    if invite is None:
        return visit.console.pages.message(visit.request, "not_found", visit.locale, status=404)
    return HTMLResponse(poster_html(visit.console.settings, visit.console.pages, invite), headers={
        "Cache-Control": "no-store", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer",
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:"})


@officer_page
async def by_source(visit: Visit) -> Response:
    """Owners and products per source of the officer's region."""
    conn = await visit.session.connection()
    return _render(visit, "sources", rows=await sources.per_source(conn, visit.officer.region_code),
                   region_label=region_label)


@officer_page
async def by_source_csv(visit: Visit) -> Response:
    conn = await visit.session.connection()
    rows = await sources.per_source(conn, visit.officer.region_code)
    headers = _words(visit.console.pages, visit.locale)["csv_headers"]
    name = sheets.file_name("sumber", visit.officer.region_code, visit.console.clock(), "csv")
    return sheets.csv_download(rows, headers, name)


def routes(console: Console) -> list[BaseRoute]:
    return [Route("/invite", invite_page, methods=["GET"], name="invite"),
            Route("/invite", make, methods=["POST"], name="invite_make"),
            Route("/invite/sources", by_source, methods=["GET"], name="invite_sources"),
            Route("/invite/sources.csv", by_source_csv, methods=["GET"], name="invite_sources_csv"),
            Route("/invite/{invite_id}", detail, methods=["GET"], name="invite_detail"),
            Route("/invite/{invite_id}/poster", poster, methods=["GET"], name="invite_poster")]
