"""One product (/dinas/products/{id}): every field, full photos, history, and the decision forms; its photos.

A product outside the officer's region, or an unknown id, answers 404 and changes nothing. Deciding goes
through `bot.review.service.decide`, exactly as the chat does: each form carries the round the officer saw (`seen`),
and the service answers whether the decision was recorded, came too late (409) or was on an old round (409).
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

from bot.delivery.outbox import OutboxWriter
from bot.dinas.auth import Visit, officer_page
from bot.dinas.console import redirect
from bot.flows.business import BUSINESS
from bot.flows.product import PRODUCT
from bot.media.photos import read_photo
from bot.review import service as review
from bot.review.scope import in_region
from bot.words import present, upload_kit
from storage.models import Business, Decision, Product, ProductHistory, ProductPhoto, ProductStatus, ReviewSource

if TYPE_CHECKING:
    from bot.dinas.console import Console

#: After approval, on the road to INAPROC: the page shows the upload kit and the link form.
ON_THE_ROAD = (ProductStatus.approved, ProductStatus.uploaded, ProductStatus.listed)

#: The form field and message of each problem the review service finds (a missing reason: see form_errors).
FORM_ERRORS = {"decision": "error_decision", "flagged": "error_fields"}


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
        flag_product=[s.field for s in review.flaggable(PRODUCT, product_answers)],
        flag_business=[s.field for s in review.flaggable(BUSINESS, business_answers)],
        history=await events(visit, product), waiting=product.status == ProductStatus.submitted,
        last=last, decider=decider, seen=review.round_after(last),
        resubmission=await review.resubmission(visit.session, product, business),
        on_road=product.status in ON_THE_ROAD,
        kit=upload_kit.kit_rows(product, business, visit.locale, visit.console.renderer, photos=len(photos))
        if product.status in ON_THE_ROAD else [],
        link_done=visit.request.query_params.get("link", ""),
        errors=errors or {}, form=ctx.pop("form", {}), **ctx)


async def find(visit: Visit) -> tuple[Product, Business] | None:
    product_id = review.parse_id(visit.request.path_params["product_id"])
    if product_id is None:
        return None
    try:
        return await review.find_in_region(visit.session, visit.officer, product_id)
    except review.NotInRegion:
        return None


@officer_page
async def product_page(visit: Visit) -> Response:
    """Every field, photos, history and (while it waits) the decision forms."""
    found = await find(visit)
    if found is None:
        return visit.console.pages.message(visit.request, "not_found", visit.locale, status=404)
    return await render_product(visit, *found, decided=visit.request.query_params.get("done") == "1")


def form_errors(problems: dict[str, str], decision: str) -> dict[str, str]:
    """The service's problems as GOV.UK-style form errors: field id -> message key, every problem at once."""
    errors = {}
    for name in problems:
        if name == "reason":
            errors |= {"note": "error_note"} if decision == Decision.revision else {"reason": "error_reason"}
        else:
            errors[name] = FORM_ERRORS[name]
    return errors


@officer_page
async def decide(visit: Visit) -> Response:
    """Hands the officer's choice, on the round they saw, to the review service, and shows what came of it."""
    product_id = review.parse_id(visit.request.path_params["product_id"])
    assert visit.form is not None
    decision = str(visit.form.get("decision", ""))
    flagged = [str(v) for v in visit.form.getlist("flagged")]
    text_field = "note" if decision == Decision.revision else "reason"
    reason = str(visit.form.get(text_field, ""))
    outbox = OutboxWriter(visit.session, visit.console.clock())
    try:
        if product_id is None:
            raise review.NotInRegion(product_id)
        chosen = review.Chosen(product_id, decision, review.parse_round(visit.form.get("seen")), reason,
                               tuple(flagged))
        outcome = await review.decide(visit.session, outbox, visit.console.renderer,
                                      review.Actor(visit.officer, ReviewSource.web), chosen)
    except review.NotInRegion:
        return visit.console.pages.message(visit.request, "not_found", visit.locale, status=404)
    except review.InvalidDecision as invalid:
        product, business = await review.find_in_region(visit.session, visit.officer, product_id)
        return await render_product(visit, product, business, status=400,
                                    errors=form_errors(invalid.problems, decision),
                                    form={"decision": decision, "flagged": flagged, text_field: reason})
    if not outcome.decided:
        return await render_product(visit, outcome.product, outcome.business, status=409,
                                    decided_first=outcome.result == review.Result.decided_first,
                                    changed=outcome.result == review.Result.changed)
    outbound = await outbox.flush()
    response = redirect(f"/dinas/products/{product_id}?done=1")
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
                 .where(ProductPhoto.id == photo_id, in_region(visit.officer.region_code)))
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
