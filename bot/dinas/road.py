"""The road after approval, as the Pemda is judged by it: products tayang on INAPROC, those approved but not yet
live, the median working days from approval to live, and the list "disetujui, belum tayang" for the
pendamping (with the owner's contact and how long each has waited), read from SQL in pages.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Select

from bot.dinas.stats import as_date, local_date, percentile
from bot.domain.regions import get_region
from bot.domain.workdays import JAKARTA, working_days_between
from bot.review.scope import in_region
from storage.db import Database
from storage.models import Business, Decision, Product, ProductStatus, Review

PAGE = 500
SHOWN = 20  # rows of the list on the page; the downloads hold all
NOT_LIVE = (ProductStatus.approved, ProductStatus.uploaded)
APPROVED_EVER = (*NOT_LIVE, ProductStatus.listed)
STARTED = (ProductStatus.draft, ProductStatus.submitted, ProductStatus.revision_requested,
           ProductStatus.rejected, *APPROVED_EVER)


def approved_at() -> Any:
    """When the product was approved: its `approved_at`, else (approved before that column) its approval review."""
    review = (select(func.max(Review.created_at))
              .where(Review.product_id == Product.id, Review.decision == Decision.approved)
              .correlate(Product).scalar_subquery())
    return func.coalesce(Product.approved_at, review)


def _utc(value: Any) -> datetime | None:
    """A timestamp as a plain connection reads it (naive UTC on SQLite, or text)."""
    if value is None:
        return None
    found = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return found if found.tzinfo else found.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Road:
    """Products of a region on the road: started, submitted, approved (ever), live; and how long to go live."""

    started: int
    submitted: int
    approved: int
    live: int
    median_days: int | None  # working days from approval to live, of the products live
    live_count: int  # how many the median is of

    @property
    def not_live(self) -> int:
        return self.approved - self.live


def road(totals: dict[str, int], waits: dict[int, int]) -> Road:
    """The funnel from the region's status counts, and the approved -> live waits ({working days: products})."""
    return Road(started=sum(totals.get(s, 0) for s in STARTED),
                submitted=sum(totals.get(s, 0) for s in STARTED if s != ProductStatus.draft),
                approved=sum(totals.get(s, 0) for s in APPROVED_EVER), live=totals.get(ProductStatus.listed, 0),
                median_days=percentile(waits.items(), 0.5), live_count=sum(waits.values()))


async def days_to_live(conn: AsyncConnection, region_code: str) -> dict[int, int]:
    """{working days from approval to live: products} of the region's live products.

    SQL groups them by (approval date, live date) in Jakarta; working days are counted per date pair here.
    """
    dialect = conn.dialect.name
    pairs = (select(local_date(approved_at(), dialect).label("a"), local_date(Product.listed_at, dialect).label("l"))
             .select_from(Product).join(Business, Product.business_id == Business.id)
             .where(Product.status == ProductStatus.listed, in_region(region_code)).subquery())
    waits: dict[int, int] = {}
    noon = time(12, tzinfo=JAKARTA)
    for start, end, n in (await conn.execute(select(pairs.c.a, pairs.c.l, func.count())
                                             .group_by(pairs.c.a, pairs.c.l))).all():
        if start is None or end is None:
            continue
        days = working_days_between(datetime.combine(as_date(start), noon), datetime.combine(as_date(end), noon))
        waits[days] = waits.get(days, 0) + n
    return waits


# --- the list "disetujui, belum tayang" -----------------------------------------------------------------

#: (key, header) of the download's columns. Like the catalogue sheet's, the headers are part of the file.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("no_produk", "No. produk"), ("nama_produk", "Nama produk"), ("status", "Status"),
    ("disetujui", "Tanggal disetujui"), ("diunggah", "Tanggal diunggah"),
    ("menunggu_hari_kerja", "Menunggu (hari kerja)"), ("nama_usaha", "Nama usaha"),
    ("nama_pemilik", "Nama pemilik"), ("telepon", "Telepon"), ("email", "Email"),
    ("akun_inaproc", "Akun INAPROC"), ("kode_kabkota", "Kode kab/kota"), ("nama_kabkota", "Nama kab/kota"),
    ("alamat", "Alamat"), ("id_produk", "ID produk"),
)
HEADERS = tuple(header for _, header in COLUMNS)
STATUS_WORDS = {ProductStatus.approved: "Disetujui, belum diunggah",
                ProductStatus.uploaded: "Diunggah, menunggu peninjauan INAPROC"}


@dataclass(frozen=True)
class Waiting:
    """One product approved and not yet live, for the page and the downloads."""

    product_id: int
    number: int | None
    nama_produk: str | None
    status: str
    approved_at: datetime | None
    uploaded_at: datetime | None
    waited: int  # working days since approval
    nama_usaha: str | None
    nama_pemilik: str | None
    phone: str | None
    email: str | None
    inaproc_akun: str | None
    region_code: str | None
    alamat: str | None

    @property
    def values(self) -> tuple[Any, ...]:
        """The download's cells, in COLUMNS' order (numbers as numbers, dates as Jakarta dates)."""
        region = get_region(self.region_code or "")
        return (self.number, self.nama_produk, STATUS_WORDS.get(self.status, self.status),  # type: ignore[call-overload]
                _day(self.approved_at), _day(self.uploaded_at), self.waited, self.nama_usaha, self.nama_pemilik,
                _phone(self.phone), self.email, self.inaproc_akun, self.region_code,
                region.name if region else None, self.alamat, self.product_id)


def _day(value: datetime | None) -> date | None:
    return value.astimezone(JAKARTA).date() if value is not None else None


def _phone(value: str | None) -> str | None:
    """+6281234567890 -> 081234567890, as Indonesian forms write it (and no leading '+' in a sheet)."""
    return "0" + value[3:] if value and value.startswith("+62") else value


def _waiting_query(region_code: str) -> Select[Any]:
    return (select(Product.id, Product.number, Product.nama_produk, Product.status,
                   approved_at().label("approved_at"), Product.uploaded_at, Business.nama_usaha,
                   Business.nama_pemilik, Business.phone, Business.email, Business.inaproc_akun,
                   Business.region_code, Business.alamat)
            .select_from(Product).join(Business, Product.business_id == Business.id)
            .where(Product.status.in_(NOT_LIVE), in_region(region_code)))  # type: ignore[attr-defined]


def _waiting(r: Any, now: datetime) -> Waiting:
    approved = _utc(r.approved_at)
    return Waiting(r.id, r.number, r.nama_produk, r.status, approved, _utc(r.uploaded_at),
                   working_days_between(approved, now) if approved else 0, r.nama_usaha, r.nama_pemilik,
                   r.phone, r.email, r.inaproc_akun, r.region_code, r.alamat)


async def longest_waiting(conn: AsyncConnection, region_code: str, now: datetime,
                          limit: int = SHOWN) -> list[Waiting]:
    """The products approved longest ago that are not live yet, for the progress page."""
    query = _waiting_query(region_code).order_by(approved_at(), Product.id).limit(limit)
    return [_waiting(r, now) for r in (await conn.execute(query)).all()]


async def waiting_pages(db: Database, region_code: str, now: datetime,
                        page_size: int = PAGE) -> AsyncIterator[list[Waiting]]:
    """Every product of the region approved and not live, by id, `page_size` at a time (keyset pages)."""
    after = 0
    while True:
        async with db.engine.connect() as conn:
            query = _waiting_query(region_code).where(Product.id > after).order_by(Product.id).limit(page_size)
            rows = (await conn.execute(query)).all()
        if not rows:
            return
        yield [_waiting(r, now) for r in rows]
        after = rows[-1].id
        if len(rows) < page_size:
            return
