"""The product's INAPROC link from the console (`POST /dinas/products/{id}/link`): record, correct or remove it.

Presents, never decides: every change goes through `bot.review.catalogue` (record_link, remove_link), as the
owner's chat does. A refused link (not katalog.inaproc.id, not https, held by another product...) shows the
product page again with a GOV.UK error summary linking to the field; nothing is stored (a savepoint is rolled
back, and the outbox writer is flushed only on success).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.delivery.outbox import OutboxWriter
from bot.dinas.auth import Visit, officer_page
from bot.dinas.console import console_of, redirect
from bot.dinas.product import find, render_product
from bot.review import catalogue
from storage.models import Product, ProductStatus, ReviewSource

if TYPE_CHECKING:
    from bot.dinas.console import Console

MAX_FORM_LINK = 2000  # longer than any link `parse_link` accepts: it says "too long" itself


async def _change(visit: Visit, outbox: OutboxWriter, product_id: int, action: str, link: str) -> None:
    """The change asked for, in a savepoint: a refusal half way (a correction whose new link is taken) undoes
    the whole change. Raises catalogue.Refused."""
    actor = catalogue.Actor(ReviewSource.web, officer=visit.officer)
    renderer, hosts = visit.console.renderer, catalogue.hosts_of(visit.console.settings.catalogue_hosts)
    async with visit.session.begin_nested():
        if action == "remove":
            await catalogue.remove_link(visit.session, outbox, renderer, actor, product_id)
            return
        catalogue.parse_link(link, hosts)  # a bad link is refused before anything changes
        product = await visit.session.get(Product, product_id)
        if product is not None and product.status == ProductStatus.listed:  # a correction: the old link goes
            await catalogue.remove_link(visit.session, outbox, renderer, actor, product_id)
        await catalogue.record_link(visit.session, outbox, renderer, actor, product_id, link, hosts=hosts)


@officer_page
async def change_link(visit: Visit) -> Response:
    """Records (or corrects) the product's live link, or removes it; then shows the product page."""
    found = await find(visit)
    if found is None:
        return visit.console.pages.message(visit.request, "not_found", visit.locale, status=404)
    product, _ = found
    assert visit.form is not None and product.id is not None
    action = "remove" if visit.form.get("action") == "remove" else "record"
    link = str(visit.form.get("link", "")).strip()[:MAX_FORM_LINK]
    outbox = OutboxWriter(visit.session, visit.console.clock())
    try:
        await _change(visit, outbox, product.id, action, link)
    except catalogue.Refused as refused:
        product, business = found
        await visit.session.refresh(product)
        return await render_product(visit, product, business, status=400,
                                    errors={"link": refused.key}, form={"link": link})
    outbound = await outbox.flush()
    response = redirect(f"/dinas/products/{product.id}?link={action}#inaproc")
    if visit.console.deliver is not None:  # after the commit and the response, as a webhook's replies
        response.background = BackgroundTask(visit.console.deliver, outbound)
    return response


async def copy_script(request: Request) -> Response:
    """The few lines behind the kit's "Salin" buttons (a same-origin file: the console's CSP allows no inline
    script and no other site)."""
    script = console_of(request).settings.templates_dir / "dinas" / "static" / "copy.js"
    return Response(script.read_bytes(), media_type="text/javascript; charset=utf-8",
                    headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"})


def routes(console: Console) -> list[BaseRoute]:
    return [Route("/products/{product_id}/link", change_link, methods=["POST"], name="change_link"),
            Route("/copy.js", copy_script, methods=["GET"], name="copy_script")]
