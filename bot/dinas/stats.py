"""Progress figures of a region, each one aggregate query (GROUP BY / CASE in SQL), never a row per product.

Dates are Jakarta dates (WIB, UTC+7, no daylight saving): SQLite and PostgreSQL spell that differently, so
the two date expressions below are the only dialect-specific SQL besides the JSON expansion of flagged fields.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import String, cast, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.workdays import JAKARTA, working_days_between
from bot.review.scope import in_region
from storage.models import Business, Decision, Product, ProductHistory, ProductStatus, Review

WEEKS = 12
TURNAROUND_DAYS = 90
STATUSES = (ProductStatus.draft, ProductStatus.submitted, ProductStatus.revision_requested,
            ProductStatus.approved, ProductStatus.uploaded, ProductStatus.listed, ProductStatus.rejected)


def local_date(column: Any, dialect: str) -> Any:
    """The Jakarta calendar date of a UTC timestamp column."""
    if dialect == "sqlite":
        return func.date(column, "+7 hours")
    return func.date(func.timezone("Asia/Jakarta", column))


def week_start(column: Any, dialect: str) -> Any:
    """The Monday (Jakarta date) of the week a UTC timestamp falls in."""
    if dialect == "sqlite":
        return func.date(column, "+7 hours", "-6 days", "weekday 1")
    return func.date(func.date_trunc("week", func.timezone("Asia/Jakarta", column)))


def as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


@dataclass
class District:
    code: str
    target: int
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def live(self) -> int:
        """Tayang on INAPROC: what the district is judged by."""
        return self.counts.get(ProductStatus.listed, 0)

    @property
    def not_live(self) -> int:
        """Approved by the Dinas, not live yet (waiting to be uploaded, or for INAPROC's review)."""
        return self.counts.get(ProductStatus.approved, 0) + self.counts.get(ProductStatus.uploaded, 0)

    @property
    def share(self) -> float:
        """Live products as a share of the target (0.5 is half way)."""
        return self.live / self.target if self.target else 0.0


async def status_counts(conn: AsyncConnection, region_code: str) -> dict[str, dict[str, int]]:
    """{kab/kota code: {status: products}} for every district of the region that has products."""
    query = (select(Business.region_code, Product.status, func.count())
             .select_from(Product).join(Business, Product.business_id == Business.id)
             .where(in_region(region_code)).group_by(Business.region_code, Product.status))
    out: dict[str, dict[str, int]] = {}
    for code, status, count in (await conn.execute(query)).all():
        out.setdefault(code, {})[status] = count
    return out


async def weekly_approvals(conn: AsyncConnection, region_code: str, today: date,
                           weeks: int = WEEKS) -> list[tuple[date, int]]:
    """Approvals per week (Monday dates) for the last `weeks` weeks, this one included, zeros filled in."""
    this_monday = today - timedelta(days=today.weekday())
    first = this_monday - timedelta(weeks=weeks - 1)
    since = datetime.combine(first, time.min, JAKARTA)
    week = week_start(Review.created_at, conn.dialect.name).label("week")
    query = (select(week, func.count()).select_from(Review)
             .join(Product, Review.product_id == Product.id).join(Business, Product.business_id == Business.id)
             .where(Review.decision == Decision.approved, Review.created_at >= since, in_region(region_code))
             .group_by(week))
    found = {as_date(w): n for w, n in (await conn.execute(query)).all()}
    return [(first + timedelta(weeks=i), found.get(first + timedelta(weeks=i), 0)) for i in range(weeks)]


@dataclass(frozen=True)
class Turnaround:
    decisions: int
    median: int | None  # working days, nearest rank
    p90: int | None


def percentile(counts: Iterable[tuple[int, int]], share: float) -> int | None:
    """Nearest-rank percentile of values given as (value, how many times)."""
    ordered = sorted(counts)
    total = sum(n for _, n in ordered)
    if not total:
        return None
    rank, seen = max(1, math.ceil(share * total - 1e-9)), 0
    for value, n in ordered:
        seen += n
        if seen >= rank:
            return value
    return ordered[-1][0]


async def turnaround(conn: AsyncConnection, region_code: str, today: date,
                     days: int = TURNAROUND_DAYS) -> Turnaround:
    """Working days from (re)submission to decision, for decisions of the last `days` days.

    SQL groups the decisions by (submission date, decision date); working days (weekends and Indonesian
    public holidays out) are counted per date pair here, on at most a few thousand pairs.
    """
    dialect = conn.dialect.name
    submitted = (select(func.max(ProductHistory.created_at))
                 .where(ProductHistory.product_id == Review.product_id,
                        ProductHistory.status == ProductStatus.submitted,
                        ProductHistory.created_at <= Review.created_at)
                 .correlate(Review).scalar_subquery())
    since = datetime.combine(today - timedelta(days=days), time.min, JAKARTA)
    pairs = (select(local_date(func.coalesce(submitted, Product.submitted_at), dialect).label("s"),
                    local_date(Review.created_at, dialect).label("d"))
             .select_from(Review).join(Product, Review.product_id == Product.id)
             .join(Business, Product.business_id == Business.id)
             .where(Review.created_at >= since, in_region(region_code)).subquery())
    query = select(pairs.c.s, pairs.c.d, func.count()).group_by(pairs.c.s, pairs.c.d)
    waits: dict[int, int] = {}
    for start, end, n in (await conn.execute(query)).all():
        if start is None:  # a decision with no recorded submission (not possible through the bot)
            continue
        noon = time(12, tzinfo=JAKARTA)
        days_waited = working_days_between(datetime.combine(as_date(start), noon),
                                           datetime.combine(as_date(end), noon))
        waits[days_waited] = waits.get(days_waited, 0) + n
    total = sum(waits.values())
    return Turnaround(total, percentile(waits.items(), 0.5), percentile(waits.items(), 0.9))


async def flagged_fields(conn: AsyncConnection, region_code: str, limit: int = 10) -> list[tuple[str, int]]:
    """The fields officers flag most in revision requests: (field, times), most first."""
    if conn.dialect.name == "sqlite":
        items = func.json_each(Review.flagged_fields).table_valued("value").alias("flag")
    else:
        items = func.json_array_elements_text(Review.flagged_fields).table_valued("value").alias("flag")
    name = cast(items.c.value, String).label("field")
    query = (select(name, func.count().label("n")).select_from(Review)
             .join(Product, Review.product_id == Product.id).join(Business, Product.business_id == Business.id)
             .join(items, literal_column("1") == 1)
             .where(Review.decision == Decision.revision, in_region(region_code))
             .group_by(name).order_by(func.count().desc(), name).limit(limit))
    return [(str(f), int(n)) for f, n in (await conn.execute(query)).all()]
