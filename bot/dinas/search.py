"""`/dinas/products`: the region's products, searched and filtered, a page at a time; `/dinas/products.csv`.

Filters come from the query string; one that cannot be read answers a page saying so (400), never a 500.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from sqlalchemy import ColumnElement, func, or_, select
from starlette.datastructures import QueryParams
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from bot.dinas import catalogue, sheets
from bot.dinas.auth import Visit, officer_page
from bot.dinas.data_pages import error_page, page
from bot.domain.numbers import ascii_number
from bot.domain.regions import get_region
from bot.domain.workdays import JAKARTA
from bot.flows.product import KATEGORI
from bot.review.scope import districts, in_region, is_province
from storage.models import Business, Product, ProductStatus

PAGE_SIZE = 25
MAX_QUERY = 100
SUBMITTED_EVER = (ProductStatus.submitted, ProductStatus.revision_requested, ProductStatus.approved,
                  ProductStatus.uploaded, ProductStatus.listed, ProductStatus.rejected)
STATUSES = (*SUBMITTED_EVER, ProductStatus.draft)

if TYPE_CHECKING:
    from bot.dinas.console import Console


class BadFilter(ValueError):
    """A filter value that cannot be read; `kind` names the message shown."""

    def __init__(self, kind: str = "bad_filter") -> None:
        super().__init__(kind)
        self.kind = kind


@dataclass(frozen=True)
class Filters:
    q: str = ""
    status: str = ""
    kategori: str = ""
    district: str = ""
    date_from: date | None = None
    date_to: date | None = None
    page: int = 1

    def query(self, **changes: Any) -> str:
        """This filter as a query string (empty values left out), with `changes` applied."""
        f = replace(self, **changes)
        values = {"q": f.q, "status": f.status, "kategori": f.kategori, "district": f.district,
                  "from": f.date_from.isoformat() if f.date_from else "",
                  "to": f.date_to.isoformat() if f.date_to else "", "page": "" if f.page == 1 else str(f.page)}
        return urlencode({k: v for k, v in values.items() if v})


def _date(value: str | None) -> date | None:
    if not value or not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError as exc:
        raise BadFilter("bad_date") from exc


def parse_filters(params: QueryParams, region_code: str) -> Filters:
    """Filters from the query string; BadFilter for a value the page does not offer."""
    q = " ".join((params.get("q") or "").split())[:MAX_QUERY]
    status, kategori, district = (params.get(k, "").strip() for k in ("status", "kategori", "district"))
    if status and status not in STATUSES:
        raise BadFilter
    if kategori and kategori not in KATEGORI:
        raise BadFilter
    if district and district not in districts(region_code):
        raise BadFilter
    date_from, date_to = _date(params.get("from")), _date(params.get("to"))
    if date_from and date_to and date_from > date_to:
        raise BadFilter("bad_date")
    raw_page = (params.get("page") or "1").strip()
    page = ascii_number(raw_page, maximum=100_000)
    if not page:
        raise BadFilter
    return Filters(q, status, kategori, district, date_from, date_to, page)


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def conditions(f: Filters) -> list[ColumnElement[bool]]:
    """SQL conditions of the filters (the region is added by the caller)."""
    where: list[ColumnElement[bool]] = []
    if f.q:
        pattern = _like(f.q)
        where.append(or_(Product.nama_produk.ilike(pattern, escape="\\"),  # type: ignore[union-attr]
                         Business.nama_usaha.ilike(pattern, escape="\\"),  # type: ignore[union-attr]
                         Business.alamat.ilike(pattern, escape="\\")))  # type: ignore[union-attr]
    if f.kategori:
        where.append(Product.kategori == f.kategori)
    if f.district:
        where.append(Business.region_code == f.district)
    if f.date_from:
        where.append(Product.submitted_at >= datetime.combine(f.date_from, time.min, JAKARTA))  # type: ignore[operator]
    if f.date_to:
        next_day = datetime.combine(f.date_to + timedelta(days=1), time.min, JAKARTA)
        where.append(Product.submitted_at < next_day)  # type: ignore[operator]
    return where


def statuses(f: Filters) -> tuple[str, ...]:
    return (f.status,) if f.status else SUBMITTED_EVER


async def find(visit: Visit, f: Filters) -> tuple[int, list[Any]]:
    """(how many match, this page's rows)."""
    where = [Product.business_id == Business.id, in_region(visit.officer.region_code),
             Product.status.in_(statuses(f)), *conditions(f)]  # type: ignore[attr-defined]
    conn = await visit.session.connection()
    total = (await conn.execute(select(func.count()).select_from(Product).join(Business).where(*where))).scalar_one()
    rows = (await conn.execute(
        select(Product.id, Product.nama_produk, Product.kategori, Product.status, Product.harga,
               Product.submitted_at, Business.nama_usaha, Business.region_code)
        .where(*where).order_by(Product.id.desc())  # type: ignore[union-attr]
        .limit(PAGE_SIZE).offset((f.page - 1) * PAGE_SIZE))).all()
    return int(total), list(rows)


@officer_page
async def products(visit: Visit) -> Response:
    """The region's products matching the filters, newest first."""
    code = visit.officer.region_code
    try:
        f = parse_filters(visit.request.query_params, code)
    except BadFilter as bad:
        return error_page(visit, bad.kind)
    total, rows = await find(visit, f)
    never_exported = await catalogue.count(await visit.session.connection(),
                                           catalogue.Scope(code, only_new=True))
    pages = max(1, -(-total // PAGE_SIZE))
    names = {c: (get_region(c).name if get_region(c) else c) for c in districts(code)}  # type: ignore[union-attr]
    return page(visit, "products", f=f, rows=rows, total=total, pages=pages, statuses=STATUSES,
                categories=list(KATEGORI), district_names=names, province=is_province(code),
                never_exported=never_exported)


@officer_page
async def products_csv(visit: Visit) -> Response:
    """This list (all its pages) in the catalogue's columns, streamed; it marks nothing as exported."""
    try:
        f = parse_filters(visit.request.query_params, visit.officer.region_code)
    except BadFilter as bad:
        return error_page(visit, bad.kind)
    scope = catalogue.Scope(visit.officer.region_code, statuses=statuses(f), extra=tuple(conditions(f)))
    return StreamingResponse(sheets.csv_stream(catalogue.pages(visit.console.db, scope)), media_type="text/csv",
                             headers={"Content-Disposition": 'attachment; filename="produk.csv"',
                                      "Cache-Control": "no-store"})


def routes(console: Console) -> list[BaseRoute]:
    return [Route("/products", products, methods=["GET"], name="products"),
            Route("/products.csv", products_csv, methods=["GET"], name="products_csv")]
