"""The queue (/dinas/): submissions of the officer's region waiting for a decision, oldest first."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlmodel import col, select
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.dinas.auth import Visit, officer_page
from bot.domain.workdays import working_days_between
from bot.review import service as review
from storage.models import Business, Product, ProductPhoto, Review

if TYPE_CHECKING:
    from bot.dinas.console import Console

PAGE_SIZE = 50
THUMBNAILS = 3


@dataclass
class QueueItem:
    product: Product
    business: Business
    waited: int  # working days
    photo_ids: list[int]
    resubmission: review.Resubmission | None


async def photo_ids(visit: Visit, product_ids: list[int], per_product: int) -> dict[int, list[int]]:
    """The first photos of each product, in one query."""
    found: dict[int, list[int]] = defaultdict(list)
    if not product_ids:
        return found
    query = (select(ProductPhoto.id, ProductPhoto.product_id)
             .where(col(ProductPhoto.product_id).in_(product_ids), col(ProductPhoto.removed_at).is_(None))
             .order_by(col(ProductPhoto.product_id), col(ProductPhoto.id)))
    for photo_id, product_id in (await visit.session.exec(query)).all():
        if len(found[product_id]) < per_product:
            found[product_id].append(photo_id)  # type: ignore[arg-type]
    return found


@officer_page
async def queue(visit: Visit) -> Response:
    """Lists the waiting submissions with how long each waited in working days and what a resubmission changed."""
    page = review.parse_id(visit.request.query_params.get("page", "1")) or 1
    now = visit.console.clock()
    rows = await review.pending_for(visit.session, visit.officer, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    total = await review.pending_count(visit.session, visit.officer)
    photos = await photo_ids(visit, [p.id for p, _ in rows], THUMBNAILS)  # type: ignore[misc]
    reviewed = set((await visit.session.exec(select(Review.product_id).where(
        col(Review.product_id).in_([p.id for p, _ in rows])))).all())
    items = [QueueItem(p, b, working_days_between(p.submitted_at or now, now), photos.get(p.id, []),  # type: ignore[arg-type]
                       await review.resubmission(visit.session, p, b) if p.id in reviewed else None)
             for p, b in rows]
    return visit.page("queue", items=items, total=total, page=page,
                      has_next=page * PAGE_SIZE < total)


def routes(console: Console) -> list[BaseRoute]:
    return [Route("/", queue, methods=["GET"], name="queue")]
