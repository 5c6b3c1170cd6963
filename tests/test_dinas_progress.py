"""Progress figures on known data: statuses, weekly approvals, turnaround in working days, flags, funnel."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.dinas import funnel, stats, targets
from bot.flows.base import Form
from bot.flows.business import BENTUK_USAHA, BUSINESS
from bot.flows.product import FOOD, PACKAGED_FOOD, PRODUCT
from storage.db import Database
from storage.models import ProductHistory, Review
from tests.dinas_data import add_business, add_officer, add_product


def wib(day: str, hour: int = 10) -> datetime:
    """A Jakarta wall-clock time as UTC (WIB is UTC+7)."""
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC) - timedelta(hours=7)


NOW = wib("2026-12-30", 10)
TODAY = date(2026, 12, 30)


async def test_turnaround_counts_working_days_without_holidays(database: Database) -> None:
    officer = await add_officer(database)
    business = await add_business(database)
    # (submitted, decided): working days waited. 25 December 2026 (Friday) is a public holiday and 24 December
    # a cuti bersama (the government's joint holiday): neither is a working day.
    for submitted, decided in (("2026-12-21", "2026-12-21"),   # same day: 0
                               ("2026-12-21", "2026-12-22"),   # 1
                               ("2026-12-23", "2026-12-28"),   # (Thu 24 cuti, Fri 25 holiday), Mon 28: 1
                               ("2026-12-18", "2026-12-29"),   # 21 22 23 28 29: 5
                               ("2026-12-14", "2026-12-24")):  # 15 16 17 18 21 22 23: 7
        await add_product(database, business, officer_id=officer, submitted_at=wib(submitted, 9),
                          decided_at=wib(decided, 15))
    await add_product(database, await add_business(database, "32.01"), officer_id=officer,
                      submitted_at=wib("2026-11-02"), decided_at=wib("2026-12-29"))  # another region
    async with database.engine.connect() as conn:
        result = await stats.turnaround(conn, "18.03", TODAY)
    assert result == stats.Turnaround(decisions=5, median=1, p90=7)


async def test_turnaround_starts_at_the_resubmission(database: Database) -> None:
    officer = await add_officer(database)
    product = await add_product(database, await add_business(database), status="revision_requested",
                                officer_id=officer, submitted_at=wib("2026-12-01"), decided_at=wib("2026-12-03"))
    async with database.transaction() as session:
        session.add(ProductHistory(product_id=product, status="submitted", created_at=wib("2026-12-21")))
        session.add(Review(product_id=product, officer_id=officer, decision="approved", created_at=wib("2026-12-22")))
    async with database.engine.connect() as conn:
        result = await stats.turnaround(conn, "18.03", TODAY)
    assert result == stats.Turnaround(decisions=2, median=1, p90=2)  # 2 days, then 1 day after resubmitting


def test_percentile_is_nearest_rank() -> None:
    assert stats.percentile([(5, 1)], 0.9) == 5
    assert stats.percentile([(1, 9), (30, 1)], 0.9) == 1
    assert stats.percentile([(1, 8), (30, 2)], 0.9) == 30
    assert stats.percentile([], 0.5) is None


async def test_status_counts_weekly_approvals_and_flags(database: Database) -> None:
    officer = await add_officer(database)
    business = await add_business(database)
    await add_product(database, business, officer_id=officer, decided_at=wib("2026-12-29"))  # this week
    await add_product(database, business, officer_id=officer, decided_at=wib("2026-12-28"))  # this week
    await add_product(database, business, officer_id=officer, decided_at=wib("2026-12-20"))  # Sunday, week of 14th
    await add_product(database, business, status="submitted")
    await add_product(database, business, status="draft")
    for flags in (["harga", "deskripsi"], ["harga"], ["npwp", "harga"]):
        product = await add_product(database, business, status="revision_requested", officer_id=officer)
        async with database.transaction() as session:
            session.add(Review(product_id=product, officer_id=officer, decision="revision", flagged_fields=flags,
                               created_at=wib("2026-12-29")))
    async with database.engine.connect() as conn:
        counts = await stats.status_counts(conn, "18")
        weekly = await stats.weekly_approvals(conn, "18.03", TODAY)
        flags = await stats.flagged_fields(conn, "18.03")
    assert counts == {"18.03": {"approved": 3, "submitted": 1, "draft": 1, "revision_requested": 3}}
    assert len(weekly) == 12 and weekly[-1] == (date(2026, 12, 28), 2) and weekly[-3] == (date(2026, 12, 14), 1)
    assert sum(n for _, n in weekly) == 3
    assert flags == [("harga", 3), ("deskripsi", 1), ("npwp", 1)]


async def test_funnel_reached_stopped_and_worst_questions(database: Database) -> None:
    old, fresh = NOW - timedelta(days=10), NOW - timedelta(days=1)
    empty = dict.fromkeys(("kategori", "merek", "deskripsi", "harga", "satuan", "stok", "min_beli", "berat_gram",
                           "panjang_cm", "lebar_cm", "tinggi_cm", "pdn", "tkdn", "pirt", "bpom", "halal", "sni"))
    to_harga = {**empty, "kategori": "kerajinan", "deskripsi": "Tas anyaman pandan, tahan lama dan ringan.",
                "harga": 150000, "skipped": ["merek"]}
    first = await add_business(database)
    await add_product(database, first, status="draft", submitted_at=old, **empty)  # stops at kategori
    await add_product(database, first, status="draft", submitted_at=old, **to_harga)  # same owner, at satuan
    await add_product(database, await add_business(database), status="draft", submitted_at=old,
                      **to_harga)  # stops at satuan
    await add_product(database, await add_business(database), status="draft", submitted_at=fresh,
                      **to_harga)  # satuan, not stale
    food = await add_business(database)
    await add_product(database, food, status="draft", submitted_at=old,  # packaged food, no P-IRT yet
                      **{**empty, "kategori": "makanan", "deskripsi": "Keripik pisang manis, 200 gram.",
                         "harga": 15000, "satuan": "pcs", "stok": 100, "min_beli": 5, "berat_gram": 200,
                         "panjang_cm": 15, "lebar_cm": 10, "tinggi_cm": 4, "pdn": False, "skipped": ["merek"]})
    officer = await add_officer(database)
    done = await add_business(database, bentuk_usaha="cv", akta="Akta No. 12/2020", pkp="pkp",
                              email="sari@example.com")  # a PKP badan usaha: asked the akta and the PPN
    await add_product(database, done, officer_id=officer, photos=("ab/x.jpg",), skipped=["bpom", "sni"])
    await add_business(database, completed_at=None, created_at=old, alamat=None, phone=None)  # stale at alamat
    await add_business(database, completed_at=None, created_at=old, alamat=None, phone=None,
                       region_code="32.01")  # another region
    await add_business(database, region_code=None, completed_at=None, created_at=old)
    async with database.engine.connect() as conn:
        products = await funnel.product_funnel(conn, "18.03", NOW)
        profiles, no_region = await funnel.business_funnel(conn, "18.03", NOW)
    reached = {q.field: q.reached for q in products}  # owners: `first` counts once
    assert reached == {"nama_produk": 5, "kategori": 5, "merek": 5, "deskripsi": 5, "harga": 5,
                       "ppn_termasuk": 1, "satuan": 5, "stok": 2, "min_beli": 2, "kemasan": 2, "ukuran": 2,
                       "pdn": 2, "tkdn": 1, "pirt": 2, "bpom": 1, "halal": 1, "sni": 1, "photos": 1,
                       "usaha_pkp": 0}
    assert {q.field: q.stopped for q in products if q.stopped} == {"kategori": 1, "satuan": 2, "pirt": 1}
    profile_reached = {q.field: q.reached for q in profiles}
    assert profile_reached["nib"] == 6 and profile_reached["alamat"] == 6 and profile_reached["phone"] == 5
    assert profile_reached["akta"] == 1  # asked of the CV only
    assert profile_reached["email"] == 1 and profile_reached["inaproc_akun"] == 0  # only when actually asked
    assert {q.field: q.stopped for q in profiles if q.stopped} == {"alamat": 1}
    assert no_region == 1
    assert [(q.form, q.field) for q in funnel.worst(profiles + products)] == [
        ("product", "satuan"), ("business", "alamat"), ("product", "kategori")]


@pytest.mark.parametrize("kategori", ["makanan", "minuman", "catering", "kerajinan", None])
@pytest.mark.parametrize("pdn", [True, False, None])
@pytest.mark.parametrize("pkp", ["pkp", "non_pkp", None])
def test_sql_conditions_match_the_flow(kategori: str | None, pdn: bool | None, pkp: str | None) -> None:
    """Every conditional product step has an SQL twin that agrees with the flow's `when`."""
    form: Form = PRODUCT
    assert {s.field for s in form.steps if s.when is not None} == set(funnel.PRODUCT_WHEN)
    facts = {"pdn": pdn is True, "packaged": kategori in PACKAGED_FOOD, "food": kategori in FOOD,
             "pkp": pkp == "pkp", "never": False}
    assert set(facts) == set(funnel.FACTS)
    for step in form.steps:
        if step.when is not None:
            answers = {"pdn": pdn, "kategori": kategori, "usaha_pkp": pkp}
            assert step.applies(answers) == facts[funnel.PRODUCT_WHEN[step.field]], step.field


@pytest.mark.parametrize("bentuk_usaha", [*BENTUK_USAHA, None])
def test_sql_conditions_match_the_business_flow(bentuk_usaha: str | None) -> None:
    """The same for the business profile (the akta of a badan usaha)."""
    assert {s.field for s in BUSINESS.steps if s.when is not None} == set(funnel.BUSINESS_WHEN)
    facts = {"badan_usaha": bentuk_usaha in {"cv", "pt", "koperasi"}}
    assert set(facts) == set(funnel.BUSINESS_FACTS)
    for step in BUSINESS.steps:
        if step.when is not None:
            assert step.applies({"bentuk_usaha": bentuk_usaha}) == facts[funnel.BUSINESS_WHEN[step.field]]


async def test_targets_default_and_set(database: Database) -> None:
    assert await targets.targets_of(database, ["18.03", "18.71"]) == {"18.03": 1000, "18.71": 1000}
    await targets.set_target(database, "18.03", 250)
    await targets.set_target(database, "18.03", 300)
    assert await targets.targets_of(database, ["18.03", "18.71"]) == {"18.03": 300, "18.71": 1000}
    with pytest.raises(ValueError, match="between 1"):
        await targets.set_target(database, "18.03", 0)
