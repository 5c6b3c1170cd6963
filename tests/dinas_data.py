"""Known data sets for the Dinas data tests: businesses, products, reviews and photos written directly."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import JSON, exists, insert, literal, select
from sqlmodel.sql.sqltypes import UTCDateTime

from storage.db import Database
from storage.models import Business, Officer, Owner, Product, ProductHistory, ProductPhoto, Review

_LINKS = itertools.count(1000)
T0 = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)  # Monday 10.00 WIB

APPROVED_PRODUCT: dict[str, Any] = {
    "nama_produk": "Keripik Singkong Balado", "kategori": "makanan", "merek": "Bu Sari",
    "deskripsi": "Keripik singkong renyah bumbu balado, 250 gram.", "harga": 25000, "satuan": "pcs",
    "stok": 500, "min_beli": 10, "berat_gram": 250, "panjang_cm": 20, "lebar_cm": 15, "tinggi_cm": 5,
    "pdn": True, "tkdn": 40.5, "pirt": "2063509010789",
    "bpom": None, "halal": "ID31110000123450321", "sni": None,
}
BUSINESS: dict[str, Any] = {
    "nama_usaha": "UD Sari Rasa", "nama_pemilik": "Sari", "bentuk_usaha": "perorangan", "nib": "1234567890123",
    "kbli": "10794", "npwp": "012345678901234", "pkp": "non_pkp", "skala": "mikro",
    "alamat": "Jl. Merdeka No. 1, Kotabumi", "phone": "+6281234567890",
    "skipped": [],  # the email is asked by the upload kit, after approval
}


async def add_officer(db: Database, region_code: str = "18.03", name: str = "Budi") -> int:
    async with db.transaction() as session:
        officer = Officer(name=name, region_code=region_code)
        session.add(officer)
        await session.flush()
        assert officer.id is not None
        return officer.id


async def add_business(db: Database, region_code: str = "18.03", **fields: Any) -> int:
    async with db.transaction() as session:
        owner = Owner()
        session.add(owner)
        await session.flush()
        values = {**BUSINESS, "completed_at": T0, **fields}
        business = Business(owner_id=owner.id, region_code=region_code, **values)  # type: ignore[arg-type]
        session.add(business)
        await session.flush()
        assert business.id is not None
        return business.id


async def add_product(db: Database, business_id: int, status: str = "approved", officer_id: int | None = None,
                      submitted_at: datetime = T0, decided_at: datetime | None = None,
                      photos: tuple[str, ...] = (), listed_at: datetime | None = None, **fields: Any) -> int:
    """A product with its submission history and, for a decided status, the officer's review.

    An uploaded or listed product was approved first (at `decided_at`), uploaded and, when listed, live at
    `listed_at` (default: 3 days after the approval) with a katalog.inaproc.id link.
    """
    values = {**APPROVED_PRODUCT, **fields}
    if status in ("approved", "uploaded", "listed"):
        approved_at = decided_at or submitted_at + timedelta(days=1)
        values.setdefault("approved_at", approved_at)
        if status != "approved":
            live = listed_at or approved_at + timedelta(days=3)
            values.setdefault("uploaded_at", live - timedelta(days=1))
            if status == "listed":
                values.setdefault("listed_at", live)
                values.setdefault("listing_url", f"https://katalog.inaproc.id/produk/{next(_LINKS)}")
    async with db.transaction() as session:
        product = Product(business_id=business_id, status=status, created_at=submitted_at - timedelta(hours=1),
                          updated_at=decided_at or submitted_at,
                          submitted_at=None if status == "draft" else submitted_at, **values)
        session.add(product)
        await session.flush()
        if status != "draft":
            session.add(ProductHistory(product_id=product.id, status="submitted", created_at=submitted_at))
        decision = {"approved": "approved", "uploaded": "approved", "listed": "approved", "rejected": "rejected",
                    "revision_requested": "revision"}.get(status)
        if decision:
            assert officer_id is not None, "a decided product needs the officer who decided"
            session.add(Review(product_id=product.id, officer_id=officer_id, decision=decision,
                               created_at=decided_at or submitted_at + timedelta(days=1)))
        for n, path in enumerate(photos):
            session.add(ProductPhoto(product_id=product.id, path=path, sha256=f"{n}", width=640, height=480))
        await session.flush()
        assert product.id is not None
        return product.id


async def add_many_approved(db: Database, business_id: int, officer_id: int, count: int,
                            decided_at: datetime = T0) -> None:
    """`count` approved products with their reviews, inserted in bulk."""
    async with db.transaction() as session:
        conn = await session.connection()
        await conn.execute(insert(Product), [
            {**APPROVED_PRODUCT, "business_id": business_id, "status": "approved", "nama_produk": f"Produk {i}",
             "skipped": [], "created_at": decided_at, "updated_at": decided_at, "submitted_at": decided_at}
            for i in range(count)])
        reviews = select(Product.id, literal(officer_id), literal("approved"), literal(""),
                         literal([], JSON), literal(decided_at, UTCDateTime())).where(
            Product.business_id == business_id, Product.status == "approved",
            ~exists().where(Review.product_id == Product.id))
        await conn.execute(insert(Review).from_select(
            ["product_id", "officer_id", "decision", "reason", "flagged_fields", "created_at"], reviews))
