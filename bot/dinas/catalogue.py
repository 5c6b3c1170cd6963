"""The worksheet for pendampingan INAPROC: a region's approved, uploaded and live products, read from SQL in pages.

Its columns: the product's id, then the fields of INAPROC's v6 upload form in the form's order, taken from
`bot/words/upload_kit.kit_rows` (the one definition of those fields and their order, docs/inaproc.md section b:
a header per kit row, the value as the kit shows it), then what the pendamping needs besides: the photo files
(named as in the photo ZIP), the business and its owner's contact, the status, the approval date, the
katalog.inaproc.id link and the date it went live. Headers are words of the locale: the kit's labels
(`templates/<locale>/kit/labels.j2`) and `export.columns` of `templates/dinas/<locale>/data.j2`.

`pages(...)` yields lists of `CatalogueRow` ordered by product id (keyset pagination, one short read per
page), so memory stays flat. `mark_exported` records what an export held, so `only_new` leaves those out next
time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Select

from bot.dinas.road import approved_at
from bot.domain.regions import get_region
from bot.review.scope import in_region
from bot.settings import ROOT
from bot.words.i18n import DEFAULT_LOCALE, LOCALES, Renderer
from bot.words.upload_kit import PERMITS, kit_rows
from storage.db import Database
from storage.models import Business, Product, ProductPhoto, ProductStatus

PAGE = 500
JAKARTA = ZoneInfo("Asia/Jakarta")
#: The products the worksheet holds: approved by the Dinas, uploaded by the owner, live on INAPROC.
ON_THE_ROAD = (ProductStatus.approved, ProductStatus.uploaded, ProductStatus.listed)
PHOTO_KEY = "photos"  # the kit's photo row says "N photos, sent below" (the chat's words): here, the number
#: The worksheet's own columns around the kit's (their headers: `export.columns` in templates/dinas/<locale>/data.j2).
LEAD = ("id_produk",)
TRAIL = ("file_foto", "nama_usaha", "nama_pemilik", "telepon", "email", "akun_inaproc", "nib", "kode_kabkota",
         "nama_kabkota", "alamat", "status", "disetujui", "tautan", "tayang")


class ExportError(ValueError):
    """A bad export request (region, format, date), with a message for the person who asked."""


@dataclass(frozen=True)
class Scope:
    """Which products an export holds: a region's approved (uploaded, live) ones, optionally approved since a
    date, or only those no export held yet."""

    region_code: str
    since: date | None = None
    only_new: bool = False
    last_batch_too: bool = False  # with only_new: also the products of the region's latest export (photo ZIP)
    statuses: tuple[str, ...] = ON_THE_ROAD
    extra: tuple[ColumnElement[bool], ...] = ()  # more conditions (the product list's filters)


@dataclass(frozen=True)
class Photo:
    path: str  # where the media store keeps it
    name: str  # its name in the sheet and in the ZIP: "<product id>-<n>.<ext>"


@dataclass(frozen=True)
class CatalogueRow:
    values: tuple[Any, ...]  # one per header: numbers as int, dates as date, else str or None
    photos: tuple[Photo, ...]


def _local_date(value: Any) -> date | None:
    """A stored timestamp (aware, naive UTC, or text as SQLite may give it) as a Jakarta date."""
    if value is None:
        return None
    found = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return (found if found.tzinfo else found.replace(tzinfo=UTC)).astimezone(JAKARTA).date()


def _phone(value: str | None) -> str | None:
    """+6281234567890 -> 081234567890, the way Indonesian forms write it (and no leading '+' in a sheet)."""
    return "0" + value[3:] if value and value.startswith("+62") else value


@dataclass(frozen=True)
class Worksheet:
    """The worksheet's columns in one locale, and the row of a product."""

    renderer: Renderer
    locale: str
    kit_keys: tuple[str, ...]
    headers: tuple[str, ...]
    statuses: dict[str, str] = field(repr=False)

    @classmethod
    def of(cls, renderer: Renderer, locale: str) -> Worksheet:
        """The columns as kit_rows gives them for a product holding every permit (so no row is left out)."""
        locale = locale if locale in LOCALES else DEFAULT_LOCALE
        full = kit_rows(Product(**{key: "-" for key in PERMITS}), Business(), locale, renderer)
        own = renderer.env.get_template(f"dinas/{locale}/data.j2").module.export["columns"]  # type: ignore[attr-defined]
        headers = (*(own[k] for k in LEAD), *(row.label for row in full), *(own[k] for k in TRAIL))
        return cls(renderer, locale, tuple(row.key for row in full), headers,
                   renderer.labels(locale)["statuses"])

    def row(self, product: Product, business: Business, approved: Any, photos: Sequence[Photo]) -> CatalogueRow:
        kit = {r.key: r.value or None for r in kit_rows(product, business, self.locale, self.renderer)}
        kit[PHOTO_KEY] = len(photos)
        region = get_region(business.region_code or "")
        values = (
            product.id, *(kit.get(key) for key in self.kit_keys),
            "; ".join(p.name for p in photos) or None, business.nama_usaha, business.nama_pemilik,
            _phone(business.phone), business.email, business.inaproc_akun, business.nib, business.region_code,
            region.name if region else None, business.alamat, self.statuses.get(product.status, product.status),
            _local_date(approved), product.listing_url, _local_date(product.listed_at),
        )
        return CatalogueRow(values, tuple(photos))


@cache
def default_sheet() -> Worksheet:
    """The worksheet in Indonesian with the shipped templates (for callers that name no locale)."""
    return Worksheet.of(Renderer(ROOT / "templates"), DEFAULT_LOCALE)


def _since_start(day: date) -> datetime:
    return datetime.combine(day, time.min, JAKARTA)


def conditions(scope: Scope) -> list[ColumnElement[bool]]:
    where = [Product.business_id == Business.id, in_region(scope.region_code),
             Product.status.in_(scope.statuses), *scope.extra]  # type: ignore[attr-defined]
    if scope.only_new and scope.last_batch_too:
        latest = (select(func.max(Product.exported_at)).select_from(Product).join(Business)
                  .where(in_region(scope.region_code)).correlate(None).scalar_subquery())
        where.append(or_(Product.exported_at.is_(None), Product.exported_at == latest))  # type: ignore[union-attr]
    elif scope.only_new:
        where.append(Product.exported_at.is_(None))  # type: ignore[union-attr]
    if scope.since is not None:
        where.append(approved_at() >= _since_start(scope.since))
    return where


def _query(scope: Scope, after_id: int, limit: int) -> Select[Any]:
    return (select(Product, Business, approved_at().label("approved_at"))
            .where(*conditions(scope), Product.id > after_id)
            .order_by(Product.id).limit(limit))  # type: ignore[arg-type]


async def _photos(conn: AsyncConnection, product_ids: list[int]) -> dict[int, list[Photo]]:
    query = (select(ProductPhoto.product_id, ProductPhoto.path)
             .where(ProductPhoto.product_id.in_(product_ids), ProductPhoto.removed_at.is_(None))  # type: ignore[attr-defined,union-attr]
             .order_by(ProductPhoto.product_id, ProductPhoto.id))  # type: ignore[arg-type]
    found: dict[int, list[Photo]] = {}
    for product_id, path in (await conn.execute(query)).all():
        named = found.setdefault(product_id, [])
        ext = path.rsplit(".", 1)[-1] if "." in path else "jpg"
        named.append(Photo(path, f"{product_id}-{len(named) + 1}.{ext}"))
    return found


async def pages(db: Database, scope: Scope, sheet: Worksheet | None = None,
                page_size: int = PAGE) -> AsyncIterator[list[CatalogueRow]]:
    """The scope's products as `sheet`'s rows (default: Indonesian), `page_size` at a time, each page read in
    its own short session."""
    sheet = sheet or default_sheet()
    after = 0
    while True:
        async with db.sessions() as session:
            rows = (await session.exec(_query(scope, after, page_size))).all()  # type: ignore[call-overload]
            photos = await _photos(await session.connection(), [r[0].id for r in rows]) if rows else {}
        if not rows:
            return
        yield [sheet.row(product, business, approved, photos.get(product.id, []))  # type: ignore[arg-type]
               for product, business, approved in rows]
        after = rows[-1][0].id
        if len(rows) < page_size:
            return


async def photo_pages(db: Database, scope: Scope, page_size: int = PAGE) -> AsyncIterator[list[list[Photo]]]:
    """The photos of the scope's products (a list per product, named as in the sheet), by product id."""
    after = 0
    while True:
        async with db.engine.connect() as conn:
            ids = list((await conn.execute(select(Product.id).select_from(Product).join(Business)
                                           .where(*conditions(scope), Product.id > after)
                                           .order_by(Product.id).limit(page_size))).scalars())  # type: ignore[arg-type]
            photos = await _photos(conn, ids) if ids else {}
        if not ids:
            return
        yield [photos.get(i, []) for i in ids]
        after = ids[-1]
        if len(ids) < page_size:
            return


async def count(conn: AsyncConnection, scope: Scope) -> int:
    """How many products the scope holds (the export card's "not downloaded yet")."""
    query = select(func.count()).select_from(Product).join(Business).where(*conditions(scope))
    return int((await conn.execute(query)).scalar_one())


async def mark_exported(db: Database, scope: Scope, up_to_id: int, started: datetime) -> int:
    """Marks the scope's products up to `up_to_id` as exported at `started`; how many were marked.

    Only products approved before the export started are marked, so one approved meanwhile stays new.
    """
    ids = (select(Product.id).where(*conditions(scope), Product.id <= up_to_id, approved_at() <= started)
           .correlate(None))
    async with db.engine.begin() as conn:
        result = await conn.execute(
            update(Product).where(Product.id.in_(ids)).values(exported_at=started)  # type: ignore[union-attr]
            .execution_options(synchronize_session=False))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def parse_since(value: str | None) -> date | None:
    """`YYYY-MM-DD` (empty: no limit); ExportError with an example otherwise."""
    if value is None or not value.strip():
        return None
    try:
        day = date.fromisoformat(value.strip())
    except ValueError as exc:
        raise ExportError(f"the date must look like 2026-11-01 (YYYY-MM-DD), not {value!r}.") from exc
    if day > date.today() + timedelta(days=1):
        raise ExportError(f"the date {day.isoformat()} is in the future.")
    return day
