"""`/dinas/progress`: products tayang (live on INAPROC) against the target, next to those approved and not yet
live, the road started -> submitted -> approved -> live, statuses, weekly approvals, turnaround, flags, funnel;
and the list "disetujui, belum tayang" as CSV/XLSX (`/dinas/belum-tayang.csv|.xlsx`).

Every figure comes from an aggregate query (bot/dinas/stats.py, bot/dinas/funnel.py); the charts are SVG
drawn by the template from these few numbers, each with a table of the same numbers beside it.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.dinas import funnel, road, sheets, stats, targets
from bot.dinas.auth import Visit, officer_page
from bot.dinas.data_pages import page
from bot.domain.regions import get_region
from bot.domain.workdays import JAKARTA
from bot.review.scope import districts, is_province

if TYPE_CHECKING:
    from bot.dinas.console import Console

CACHE_SECONDS = 60
_CACHE: weakref.WeakKeyDictionary[Console, dict[str, tuple[datetime, list[Any]]]] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    share: float  # 0..1 of the chart's longest bar


def bars(items: list[tuple[str, int]], longest: int | None = None) -> list[Bar]:
    top = longest if longest is not None else max((v for _, v in items), default=0)
    return [Bar(label, value, min(1.0, value / top) if top else 0.0) for label, value in items]


def region_name(code: str) -> str:
    found = get_region(code)
    return found.name if found else code


async def _queries(visit: Visit, code: str, now: datetime) -> list[Any]:
    """The page's aggregate queries: at once on separate connections on PostgreSQL (JIT off: these short
    queries would spend longer compiling than running), one after the other on SQLite's single writer."""
    today = now.astimezone(JAKARTA).date()
    jobs: list[Callable[[AsyncConnection], Awaitable[Any]]] = [
        lambda c: stats.status_counts(c, code), lambda c: targets.targets(c, districts(code)),
        lambda c: stats.weekly_approvals(c, code, today), lambda c: funnel.product_funnel(c, code, now),
        lambda c: funnel.business_funnel(c, code, now), lambda c: stats.turnaround(c, code, today),
        lambda c: stats.flagged_fields(c, code), lambda c: road.days_to_live(c, code),
        lambda c: road.longest_waiting(c, code, now)]
    db = visit.console.db
    if db.is_sqlite:
        conn = await visit.session.connection()
        return [await job(conn) for job in jobs]

    async def run(job: Callable[[AsyncConnection], Awaitable[Any]]) -> Any:
        async with db.engine.connect() as conn:
            await conn.execute(text("SET LOCAL jit = off"))
            return await job(conn)

    return list(await asyncio.gather(*(run(job) for job in jobs)))


async def _cached_queries(visit: Visit, code: str) -> tuple[datetime, list[Any]]:
    """The query results of the region, reused for CACHE_SECONDS (the figures move by the day, not the second)."""
    cache = _CACHE.setdefault(visit.console, {})
    now, hit = visit.console.clock(), cache.get(code)
    if hit is not None and timedelta(0) <= now - hit[0] < timedelta(seconds=CACHE_SECONDS):
        return hit
    cache[code] = (now, await _queries(visit, code, now))
    return cache[code]


async def figures(visit: Visit) -> dict[str, Any]:
    """Everything the progress page shows for the officer's region."""
    code = visit.officer.region_code
    as_of, results = await _cached_queries(visit, code)
    counts, goal, weekly, products, (profiles, no_region), turnaround, flags, waits, waiting = results
    ranked = sorted((stats.District(c, goal[c], counts.get(c, {})) for c in districts(code)),
                    key=lambda d: (-d.share, -d.live, d.code))
    totals = {s: sum(d.counts.get(s, 0) for d in ranked) for s in stats.STATUSES}
    target = sum(d.target for d in ranked)
    on_road = road.road(totals, waits)
    labels = visit.console.renderer.labels(visit.locale)
    return {
        "region": region_name(code), "province": is_province(code), "road": on_road, "target": target,
        "share": on_road.live / target if target else 0.0,
        "road_bars": bars([("started", on_road.started), ("submitted", on_road.submitted),
                           ("approved", on_road.approved), ("live", on_road.live)]),
        "waiting": waiting, "waiting_shown": road.SHOWN,
        "districts": [(d, region_name(d.code)) for d in ranked],
        "district_bars": bars([(region_name(d.code), d.live) for d in ranked],
                              max([d.target for d in ranked] + [d.live for d in ranked], default=0)),
        "status_bars": bars([(s, totals[s]) for s in stats.STATUSES]),
        "weekly": bars([(w, n) for w, n in weekly]),
        "turnaround": turnaround, "turnaround_days": stats.TURNAROUND_DAYS,
        "flags": bars([(labels["fields"].get(f, f), n) for f, n in flags]),
        "funnels": [("business", profiles), ("product", products)],
        "funnel_bars": {name: bars([(labels["fields"].get(q.field, q.field), q.reached) for q in qs])
                        for name, qs in (("business", profiles), ("product", products))},
        "worst": funnel.worst(profiles + products), "no_region": no_region,
        "stale_days": funnel.STALE_AFTER.days, "as_of": as_of,
    }


@officer_page
async def progress(visit: Visit) -> Response:
    """The region's progress toward its target of products tayang on INAPROC."""
    return page(visit, "progress", **await figures(visit))


def _waiting_route(fmt: str) -> Callable[[Visit], object]:
    @officer_page
    async def not_live(visit: Visit) -> Response:
        """The list "disetujui, belum tayang" of the officer's region, streamed (for the pendamping)."""
        code, now = visit.officer.region_code, visit.console.clock()
        pages = road.waiting_pages(visit.console.db, code, now)
        chunks = (sheets.xlsx_stream(pages, road.HEADERS, "Belum tayang") if fmt == "xlsx"
                  else sheets.csv_stream(pages, headers=road.HEADERS))
        return sheets.download(chunks, fmt, sheets.file_name("belum-tayang", code, now, fmt))

    not_live.__name__ = f"not_live_{fmt}"
    return not_live


def routes(console: Console) -> list[BaseRoute]:
    return [Route("/progress", progress, methods=["GET"], name="progress"),
            Route("/belum-tayang.xlsx", _waiting_route("xlsx"), methods=["GET"], name="not_live_xlsx"),  # type: ignore[arg-type]
            Route("/belum-tayang.csv", _waiting_route("csv"), methods=["GET"], name="not_live_csv")]  # type: ignore[arg-type]
