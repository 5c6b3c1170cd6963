"""One product (/dinas/products/{id}): every field, full photos, history, and the decision forms; its photos.

A product outside the officer's region, or an unknown id, answers 404 and changes nothing. Deciding goes
through `bot.review.decide`, exactly as the chat does.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from sqlmodel import col, select
from starlette.background import BackgroundTask
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot import present, review
from bot.dinas.auth import Visit, officer_page
from bot.flows.business import BUSINESS
from bot.flows.product import PRODUCT
from bot.media import read_photo
from bot.outbox import OutboxWriter
from storage.models import Business, Decision, Product, ProductHistory, ProductPhoto, ProductStatus, ReviewSource

if TYPE_CHECKING:
    from bot.dinas.app import Console

DECISIONS = {d.value: d for d in Decision}


@dataclass
class Event:
    """One line of the history: who, when, from where, what, why."""

    at: datetime
    who: str
    source: str
    status: str
    reason: str = ""
    flagged: tuple[str, ...] = ()


def answers(product: Product, business: Business, photo_count: int) -> tuple[dict[str, Any], dict[str, Any]]:
    product_answers = {s.field: getattr(product, s.field) for s in PRODUCT.steps if s.kind != "photos"}
    product_answers["photos"] = photo_count or None
    return product_answers, {s.field: getattr(business, s.field) for s in BUSINESS.steps}


async def events(visit: Visit, product: Product) -> list[Event]:
    """Owner submissions (ProductHistory) and officer decisions (Review), in time order."""
    owner_rows = (await visit.session.exec(select(ProductHistory).where(ProductHistory.product_id == product.id)
                                           .order_by(col(ProductHistory.id)))).all()
    found = [Event(h.created_at, "", h.source or "", h.status) for h in owner_rows]
    for r, officer in await review.history(visit.session, product.id):  # type: ignore[arg-type]
        found.append(Event(r.created_at, officer.name, r.source, review.STATUS_AFTER[Decision(r.decision)],
                           r.reason, tuple(r.flagged_fields)))
    return sorted(found, key=lambda e: e.at)


async def render_product(visit: Visit, product: Product, business: Business, status: int = 200,
                         errors: dict[str, str] | None = None, **ctx: Any) -> Response:
    photos = (await visit.session.exec(select(ProductPhoto).where(
        ProductPhoto.product_id == product.id, col(ProductPhoto.removed_at).is_(None))
        .order_by(col(ProductPhoto.id)))).all()
    product_answers, business_answers = answers(product, business, len(photos))
    labels = visit.console.renderer.labels(visit.locale)
    last = await review.latest_review(visit.session, product.id)  # type: ignore[arg-type]
    decider = None
    if last is not None:
        decider = next((o for r, o in await review.history(visit.session, product.id) if r.id == last.id), None)  # type: ignore[arg-type]
    return visit.page(
        "product", status=status, product=product, business=business, photos=photos,
        product_rows=present.rows(labels, visit.locale, PRODUCT, product_answers, product.skipped),
        business_rows=present.rows(labels, visit.locale, BUSINESS, business_answers, business.skipped),
        flag_product=[s.field for s in PRODUCT.fields(product_answers)],
        flag_business=[s.field for s in BUSINESS.steps],
        history=await events(visit, product), waiting=product.status == ProductStatus.submitted,
        last=last, decider=decider, resubmission=await review.resubmission(visit.session, product, business),
        errors=errors or {}, form=ctx.pop("form", {}), **ctx)


async def find(visit: Visit) -> tuple[Product, Business] | None:
    product_id = review.parse_id(visit.request.path_params["product_id"])
    if product_id is None:
        return None
    try:
        return await review.in_region(visit.session, visit.officer, product_id)
    except review.NotInRegion:
        return None


@officer_page
async def product_page(visit: Visit) -> Response:
    """Every field, photos, history and (while it waits) the decision forms."""
    found = await find(visit)
    if found is None:
        return visit.console.pages.message(visit.request, "not_found", visit.locale, status=404)
    return await render_product(visit, *found, decided=visit.request.query_params.get("done") == "1")


def form_errors(decision: Decision | None, flagged: list[str], reason: str) -> dict[str, str]:
    """GOV.UK style, every problem at once: field id -> message key; empty when the decision can be recorded."""
    if decision is None:
        return {"decision": "error_decision"}
    errors = {}
    if review.flags_problem(decision, flagged) is not None:
        errors["flagged"] = "error_fields"
    if decision != Decision.approved:
        try:
            review.parse_reason(reason)
        except ValueError:
            errors["note" if decision == Decision.revision else "reason"] = \
                "error_note" if decision == Decision.revision else "error_reason"
    return errors


@officer_page
async def decide(visit: Visit) -> Response:
    """Records the decision through the review service; a second decision is told who decided first."""
    found = await find(visit)
    if found is None:
        return visit.console.pages.message(visit.request, "not_found", visit.locale, status=404)
    product, business = found
    assert visit.form is not None
    decision = DECISIONS.get(str(visit.form.get("decision", "")))
    flagged = [str(v) for v in visit.form.getlist("flagged")]
    text_field = "note" if decision == Decision.revision else "reason"
    reason = str(visit.form.get(text_field, ""))
    errors = form_errors(decision, flagged, reason)
    if product.status == ProductStatus.submitted and errors:
        return await render_product(visit, product, business, status=400, errors=errors,
                                    form={"decision": decision or "", "flagged": flagged, text_field: reason})
    outbox = OutboxWriter(visit.session, visit.console.clock())
    outcome = await review.decide(visit.session, outbox, visit.console.renderer,
                                  review.Actor(visit.officer, ReviewSource.web), product.id,  # type: ignore[arg-type]
                                  decision or Decision.approved, reason, flagged)
    if not outcome.decided:
        return await render_product(visit, outcome.product, business, status=409, decided_first=True)
    outbound = await outbox.flush()
    from bot.dinas.app import redirect

    response = redirect(f"/dinas/products/{product.id}?done=1")
    if visit.console.deliver is not None:  # after the commit and the response, as a webhook's replies
        response.background = BackgroundTask(visit.console.deliver, outbound)
    return response


@officer_page
async def photo(visit: Visit) -> Response:
    """A product photo, for an officer who may see the product."""
    photo_id = review.parse_id(visit.request.path_params["photo_id"])
    row = None
    if photo_id is not None:
        query = (select(ProductPhoto).join(Product, col(Product.id) == ProductPhoto.product_id)
                 .join(Business, col(Business.id) == Product.business_id)
                 .where(ProductPhoto.id == photo_id, review.region_filter(visit.officer)))
        row = (await visit.session.exec(query)).first()
    data = await read_photo(row.path, visit.console.settings) if row else None
    if row is None or data is None:
        return Response(status_code=404)
    media_type = mimetypes.guess_type(PurePosixPath(row.path).name)[0] or "application/octet-stream"
    return Response(data, media_type=media_type, headers={"Cache-Control": "private, max-age=86400",
                                                          "X-Content-Type-Options": "nosniff"})


def routes(console: Console) -> list[BaseRoute]:
    return [
        Route("/products/{product_id}", product_page, methods=["GET"], name="product"),
        Route("/products/{product_id}/decision", decide, methods=["POST"], name="decide"),
        Route("/photos/{photo_id}", photo, methods=["GET"], name="photo"),
    ]
