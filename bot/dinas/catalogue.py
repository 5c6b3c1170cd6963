"""Approved products of a region as Katalog Lokal upload rows, read from SQL in pages (never all at once).

`pages(...)` yields lists of `CatalogueRow` ordered by product id (keyset pagination), each with the photo
file names used in the sheet and in the photo ZIP. `mark_exported` records what an export held, so
`only_new` leaves those out next time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Select

from bot.domain.regions import get_region
from bot.review.scope import in_region
from storage.db import Database
from storage.models import Business, Decision, Product, ProductPhoto, ProductStatus, Review

PAGE = 500
JAKARTA = ZoneInfo("Asia/Jakarta")

#: (key, header) of every column of the sheet, in order. The Katalog Lokal upload is in Indonesian, so the
#: headers are part of the file format (like a CSV schema), not words of the interface.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("id_produk", "ID produk"), ("nama_usaha", "Nama usaha"), ("nib", "NIB"), ("kbli", "KBLI"),
    ("npwp", "NPWP"), ("skala", "Skala usaha"), ("kode_kabkota", "Kode kab/kota"),
    ("nama_kabkota", "Nama kab/kota"), ("alamat", "Alamat"), ("telepon", "Telepon"),
    ("nama_produk", "Nama produk"), ("etalase", "Kategori/etalase"), ("merek", "Merek"),
    ("deskripsi", "Deskripsi"), ("harga_satuan", "Harga satuan (Rp)"), ("satuan", "Satuan"), ("stok", "Stok"),
    ("minimal_pembelian", "Minimal pembelian"), ("berat_gram", "Berat (g)"), ("pdn", "PDN"),
    ("tkdn_persen", "TKDN (%)"), ("pirt", "P-IRT"), ("bpom", "BPOM"), ("halal", "Sertifikat halal"),
    ("sni", "SNI"), ("foto", "Foto"), ("disetujui", "Tanggal disetujui"),
)
HEADERS = tuple(header for _, header in COLUMNS)

#: Etalase names as the catalogue shows them (the bot's option labels in Indonesian).
ETALASE = {
    "makanan": "Makanan", "minuman": "Minuman", "kerajinan": "Kerajinan",
    "pakaian": "Pakaian & Konveksi", "alas_kaki": "Alas Kaki", "atk": "Alat Tulis Kantor", "furnitur": "Furnitur",
    "catering": "Jasa Boga/Catering", "pertanian": "Pertanian & Perkebunan", "lainnya": "Lainnya",
}


class ExportError(ValueError):
    """A bad export request (region, format, date), with a message for the person who asked."""


@dataclass(frozen=True)
class Scope:
    """Which products an export holds: a region's approved ones, optionally approved since a date, or new."""

    region_code: str
    since: date | None = None
    only_new: bool = False
    last_batch_too: bool = False  # with only_new: also the products of the region's latest export (photo ZIP)
    statuses: tuple[str, ...] = (ProductStatus.approved,)
    extra: tuple[ColumnElement[bool], ...] = ()  # more conditions (the product list's filters)


@dataclass(frozen=True)
class Photo:
    path: str  # where the media store keeps it
    name: str  # its name in the sheet and in the ZIP: "<product id>-<n>.<ext>"


@dataclass(frozen=True)
class CatalogueRow:
    values: tuple[Any, ...]  # one per COLUMNS entry: numbers as int/float, dates as date, else str or None
    photos: tuple[Photo, ...]


def _approved_at() -> Any:
    return (select(func.max(Review.created_at))
            .where(Review.product_id == Product.id, Review.decision == Decision.approved)
            .correlate(Product).scalar_subquery())


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
        where.append(exists().where(Review.product_id == Product.id, Review.decision == Decision.approved,
                                    Review.created_at >= _since_start(scope.since)))
    return where


PRODUCT_COLUMNS = ("id", "nama_produk", "kategori", "merek", "deskripsi", "harga", "satuan", "stok", "min_beli",
                   "berat_gram", "pdn", "tkdn", "pirt", "bpom", "halal", "sni")
BUSINESS_COLUMNS = ("nama_usaha", "nib", "kbli", "npwp", "skala", "region_code", "alamat", "phone")


def _query(scope: Scope, after_id: int, limit: int) -> Select[Any]:
    columns = [getattr(Product, c) for c in PRODUCT_COLUMNS] + [getattr(Business, c) for c in BUSINESS_COLUMNS]
    return (select(*columns, _approved_at().label("approved_at"))
            .where(*conditions(scope), Product.id > after_id)
            .order_by(Product.id).limit(limit))  # type: ignore[arg-type]


def _phone(value: str | None) -> str | None:
    """+6281234567890 -> 081234567890, the way Indonesian forms write it (and no leading '+' in a sheet)."""
    return "0" + value[3:] if value and value.startswith("+62") else value


def _local_date(value: datetime | None) -> date | None:
    return value.astimezone(JAKARTA).date() if value is not None else None


def to_row(r: Any, photos: Sequence[Photo]) -> CatalogueRow:
    """One sheet row from a row of `_query` (product and business columns, `approved_at`)."""
    region = get_region(r.region_code or "")
    values = (
        r.id, r.nama_usaha, r.nib, r.kbli, r.npwp, r.skala, r.region_code, region.name if region else None,
        r.alamat, _phone(r.phone), r.nama_produk, ETALASE.get(r.kategori or "", r.kategori), r.merek,
        r.deskripsi, r.harga, r.satuan, r.stok, r.min_beli, r.berat_gram,
        None if r.pdn is None else ("Ya" if r.pdn else "Tidak"), r.tkdn, r.pirt, r.bpom, r.halal, r.sni,
        "; ".join(p.name for p in photos) or None, _local_date(r.approved_at),
    )
    return CatalogueRow(values, tuple(photos))


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


async def pages(db: Database, scope: Scope, page_size: int = PAGE) -> AsyncIterator[list[CatalogueRow]]:
    """The scope's products, `page_size` at a time, each page read in its own short transaction."""
    after = 0
    while True:
        async with db.engine.connect() as conn:
            rows = (await conn.execute(_query(scope, after, page_size))).all()
            photos = await _photos(conn, [r.id for r in rows]) if rows else {}
        if not rows:
            return
        yield [to_row(r, photos.get(r.id, [])) for r in rows]
        after = rows[-1].id
        if len(rows) < page_size:
            return


async def count(conn: AsyncConnection, scope: Scope) -> int:
    """How many products the scope holds (the export card's "not downloaded yet")."""
    query = select(func.count()).select_from(Product).join(Business).where(*conditions(scope))
    return int((await conn.execute(query)).scalar_one())


async def mark_exported(db: Database, scope: Scope, up_to_id: int, started: datetime) -> int:
    """Marks the scope's products up to `up_to_id` as exported at `started`; how many were marked.

    Only products approved before the export started are marked, so one approved meanwhile stays new.
    """
    approved_before = exists().where(Review.product_id == Product.id, Review.decision == Decision.approved,
                                     Review.created_at <= started)
    ids = (select(Product.id).where(*conditions(scope), Product.id <= up_to_id, approved_before)
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
