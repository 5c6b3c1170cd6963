"""The data pages over HTTP: product list filters and pages, progress, downloads; only the officer's region."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta

import httpx
import pytest
from openpyxl import load_workbook

from bot.dinas import catalogue, targets
from bot.review import signin
from bot.service.web import create_app
from bot.settings import Settings
from storage.db import Database
from storage.models import Product, utcnow
from tests.conftest import count_rows
from tests.dinas_data import T0, add_business, add_officer, add_product

BASE = "http://127.0.0.1:8080"
SCRIPT = "<script>alert(1)</script>"
SignIn = Callable[[str], Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def sign_in(database: Database, settings: Settings) -> AsyncIterator[SignIn]:
    """Signs a new officer of a region in; returns their browser (an httpx client with the session cookie)."""
    app = create_app(settings, database)
    clients: list[httpx.AsyncClient] = []

    async def as_officer(region: str) -> httpx.AsyncClient:
        officer = await add_officer(database, region, name=f"Petugas {region}")
        async with database.transaction() as session:
            link = await signin.issue_link(session, settings, officer, utcnow())
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE)
        clients.append(client)
        path = link.removeprefix(BASE)
        page = await client.get(path)
        token = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert token, page.text
        done = await client.post(path, data={"csrf": token.group(1)})
        assert done.status_code == 303, done.text
        return client

    yield as_officer
    for client in clients:
        await client.aclose()


def listed_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'href="/dinas/products/(\d+)"', html)]


async def test_list_filters_search_and_pages(database: Database, sign_in: SignIn) -> None:
    officer = await add_officer(database)
    now = utcnow()
    crafts = await add_business(database, nama_usaha="Anyaman Pandan Jaya", alamat="Desa Sukamaju, Kec. Abung Barat")
    food = await add_business(database, nama_usaha="Dapur Bu Ani", alamat="Jl. Pasar, Kec. Kotabumi")
    bag = await add_product(database, crafts, status="submitted", nama_produk="Tas Pandan", kategori="kerajinan",
                            submitted_at=now - timedelta(days=20))
    chips = await add_product(database, food, officer_id=officer, nama_produk="Keripik Balado",
                              submitted_at=now - timedelta(days=2))
    draft = await add_product(database, food, status="draft", nama_produk="Rendang draf")
    other = await add_product(database, await add_business(database, "32.01", nama_usaha="Dapur Bandung"),
                              status="submitted", nama_produk="Keripik Bandung")
    web = await sign_in("18.03")
    page = await web.get("/dinas/products")
    assert page.status_code == 200 and sorted(listed_ids(page.text)) == sorted([bag, chips])  # no draft, no 32.01
    assert other not in listed_ids(page.text) and "Keripik Bandung" not in page.text
    assert listed_ids((await web.get("/dinas/products?status=draft")).text) == [draft]
    assert listed_ids((await web.get("/dinas/products?status=approved")).text) == [chips]
    assert listed_ids((await web.get("/dinas/products?kategori=kerajinan")).text) == [bag]
    assert listed_ids((await web.get("/dinas/products?q=abung+barat")).text) == [bag]  # kecamatan in the address
    assert listed_ids((await web.get("/dinas/products?q=BU+ANI")).text) == [chips]  # business name, any case
    assert listed_ids((await web.get("/dinas/products?q=keripik")).text) == [chips]  # never the other region's
    assert listed_ids((await web.get("/dinas/products?q=100%25")).text) == []  # % is a letter, not a wildcard
    since = (now - timedelta(days=5)).date().isoformat()
    assert listed_ids((await web.get(f"/dinas/products?from={since}")).text) == [chips]
    assert listed_ids((await web.get(f"/dinas/products?to={since}")).text) == [bag]
    listing = await web.get("/dinas/products.csv?kategori=kerajinan")
    rows = list(csv.reader(io.StringIO(listing.content.decode("utf-8-sig"))))
    assert listing.status_code == 200 and [r[0] for r in rows[1:]] == [str(bag)]
    assert await count_rows(database, Product, Product.exported_at.is_not(None)) == 0  # type: ignore[union-attr]


async def test_pages_of_25(database: Database, sign_in: SignIn) -> None:
    business = await add_business(database)
    ids = [await add_product(database, business, status="submitted", nama_produk=f"Produk {i}") for i in range(30)]
    web = await sign_in("18.03")
    first = await web.get("/dinas/products")
    assert listed_ids(first.text) == ids[::-1][:25] and 'href="/dinas/products?page=2"' in first.text
    second = await web.get("/dinas/products?page=2")
    assert listed_ids(second.text) == ids[::-1][25:] and "page=3" not in second.text
    assert listed_ids((await web.get("/dinas/products?page=9")).text) == []


@pytest.mark.parametrize("query", ["status=deleted", "kategori=senjata", "district=32.01", "page=0", "page=abc",
                                   "from=2026-02-30", "from=2026-12-10&to=2026-12-01", "to=kemarin"])
async def test_bad_filters_get_a_clear_page(database: Database, sign_in: SignIn, query: str) -> None:
    web = await sign_in("18.03")
    page = await web.get(f"/dinas/products?{query}")
    assert page.status_code == 400
    assert "Permintaan tidak bisa dibaca" in page.text and "Tidak ada yang diubah" in page.text


async def test_owner_text_is_escaped(database: Database, sign_in: SignIn) -> None:
    officer = await add_officer(database)
    await add_product(database, await add_business(database, nama_usaha=SCRIPT), officer_id=officer,
                      nama_produk=SCRIPT)
    web = await sign_in("18.03")
    for path in ("/dinas/products", f"/dinas/products?q={SCRIPT}"):
        page = await web.get(path)
        assert SCRIPT not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


async def test_province_officer_sees_every_district_ranked(database: Database, sign_in: SignIn) -> None:
    officer = await add_officer(database, "18")
    north, metro = await add_business(database, "18.03"), await add_business(database, "18.72")
    for _ in range(3):
        await add_product(database, north, status="listed", officer_id=officer)
    await add_product(database, north, officer_id=officer)  # approved, not live: not counted
    await add_product(database, metro, status="listed", officer_id=officer)
    await targets.set_target(database, "18.72", 2)  # Kota Metro: 1 of 2 live (50%) ranks above 3 of 1,000
    await add_product(database, await add_business(database, "32.01"), officer_id=officer)
    web = await sign_in("18")
    page = await web.get("/dinas/progress")
    assert page.status_code == 200
    table = page.text.split('<table aria-labelledby="districts-h">')[1].split("</table>")[0]
    ranking = re.findall(r"<tr><td class=\"num\">(\d+)</td><td>([^<]+)</td><td class=\"num\">([\d.]+)</td>"
                         r"<td class=\"num\">([\d.]+)</td>", table)
    assert ranking[:2] == [("1", "Kota Metro", "1", "0"), ("2", "Kabupaten Lampung Utara", "3", "1")]
    assert re.search(r'id="live">4</span> produk tayang di Katalog Elektronik INAPROC dari target 14\.002 \(0,0%\)',
                     page.text)
    assert len(ranking) == 15  # every kab/kota of Lampung, with or without products
    assert "Kota Bandung" not in page.text and "Kabupaten Bogor" not in page.text
    assert 'role="img"' in page.text and "<svg" in page.text and "<table" in page.text
    listed = await web.get("/dinas/products?district=18.72")
    assert len(listed_ids(listed.text)) == 1


async def test_district_progress_counts_live_products_and_lists_those_not_live(database: Database,
                                                                              sign_in: SignIn) -> None:
    """A district with products started, approved, uploaded and live: judged by the live ones."""
    officer = await add_officer(database)
    sari = await add_business(database, email="sari@example.com")
    other = await add_business(database, nama_usaha="CV Tenun Kotabumi", phone="+6281311112222")
    await add_product(database, sari, status="draft")
    await add_product(database, sari, status="submitted")
    await add_product(database, sari, status="rejected", officer_id=officer)
    # Approved Monday 2 Nov (T0), live Friday 6 Nov: 4 working days; approved Mon 9 Nov, live Mon 16 Nov: 5.
    await add_product(database, sari, status="listed", officer_id=officer, decided_at=T0,
                      listed_at=T0 + timedelta(days=4))
    await add_product(database, other, status="listed", officer_id=officer, decided_at=T0 + timedelta(days=7),
                      listed_at=T0 + timedelta(days=14))
    await add_product(database, sari, status="listed", officer_id=officer, decided_at=T0 + timedelta(days=7),
                      listed_at=T0 + timedelta(days=16))  # Wed 18 Nov: 7
    waiting_long = await add_product(database, other, status="approved", officer_id=officer, decided_at=T0,
                                     nama_produk="Tapis Lampung", number=2)
    await add_product(database, sari, status="uploaded", officer_id=officer, decided_at=T0 + timedelta(days=10))
    await add_product(database, await add_business(database, "32.01"), status="approved",
                      officer_id=officer)  # another region
    await targets.set_target(database, "18.03", 1500)
    web = await sign_in("18.03")
    page = await web.get("/dinas/progress")
    assert page.status_code == 200 and "Kabupaten Lampung Utara" in page.text
    assert re.search(r'id="live">3</span> produk tayang di Katalog Elektronik INAPROC dari target 1\.500 \(0,2%\)',
                     page.text)
    assert re.search(r'id="not-live"><strong>2</strong> produk sudah disetujui Dinas tetapi belum tayang', page.text)
    road = page.text.split('<table aria-labelledby="road-h">')[1].split("</table>")[0]
    assert re.findall(r'<td>([^<]+)</td><td class="num">(\d+)</td>', road) == [
        ("Mulai diisi", "8"), ("Dikirim ke Dinas", "7"), ("Disetujui Dinas", "5"), ("Tayang di INAPROC", "3")]
    assert re.search(r'id="to-live"><strong>5</strong> hari kerja: median dari disetujui sampai tayang \(3 produk',
                     page.text)
    listed = page.text.split('<table id="waiting"')[1].split("</table>")[0]
    assert re.findall(r'href="/dinas/products/(\d+)"', listed)[0] == str(waiting_long)  # the longest first
    assert "Tapis Lampung</a> <span class=\"muted\">#2</span>" in listed and "+6281311112222" in listed
    assert "chart-districts" not in page.text  # one district: no ranking
    assert "umkm-bot region" not in page.text and "region target" not in page.text  # no command for officers

    sheet = await web.get("/dinas/belum-tayang.csv")
    assert sheet.status_code == 200 and "attachment" in sheet.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(sheet.content.decode("utf-8-sig"))))
    assert [(r["No. produk"], r["Status"], r["Telepon"]) for r in rows] == [
        ("2", "Disetujui, belum diunggah", "081311112222"), ("", "Diunggah, menunggu peninjauan INAPROC",
                                                              "081234567890")]
    assert rows[0]["Tanggal disetujui"] == "2026-11-02" and int(rows[0]["Menunggu (hari kerja)"]) > 20
    assert rows[1]["Email"] == "sari@example.com" and rows[1]["Nama kab/kota"] == "Kabupaten Lampung Utara"
    book = await web.get("/dinas/belum-tayang.xlsx")
    cells = list(load_workbook(io.BytesIO(book.content)).active.iter_rows(values_only=True))
    assert cells[0][:3] == ("No. produk", "Nama produk", "Status") and len(cells) == 3
    assert cells[1][0] == 2 and isinstance(cells[1][5], int)  # numbers stay numbers

    english = await web.get("/dinas/progress?lang=en")
    assert re.search(r'id="live">3</span> products live on the INAPROC e-Catalogue of a target of 1,500 \(0\.2%\)',
                     english.text)


async def test_export_downloads_for_the_officer_region(database: Database, sign_in: SignIn) -> None:
    officer = await add_officer(database)
    business = await add_business(database)
    mine = await add_product(database, business, officer_id=officer, nama_produk="=1+1")
    live = await add_product(database, business, "listed", officer_id=officer)
    await add_product(database, business, "draft")
    await add_product(database, await add_business(database, "32.01"), officer_id=officer)
    web = await sign_in("18.03")
    assert re.search(r'id="never-exported"><strong>2</strong>', (await web.get("/dinas/products")).text)
    sheet = await web.get("/dinas/export.xlsx")
    assert sheet.status_code == 200 and "attachment" in sheet.headers["content-disposition"]
    assert re.search(r'filename="inaproc-18\.03-\d{8}-\d{4}\.xlsx"', sheet.headers["content-disposition"])
    rows = list(load_workbook(io.BytesIO(sheet.content)).active.iter_rows(values_only=True))
    worksheet = catalogue.Worksheet.of(catalogue.default_sheet().renderer, "id")
    assert rows[0] == worksheet.headers and [r[0] for r in rows[1:]] == [mine, live]
    assert rows[1][rows[0].index("Nama produk")] == "=1+1"
    assert [r[rows[0].index("Status")] for r in rows[1:]] == ["Disetujui", "Tayang di INAPROC"]
    assert re.search(r'id="never-exported"><strong>0</strong>', (await web.get("/dinas/products")).text)
    again = await web.get("/dinas/export.csv?only_new=1&lang=en")
    lines = list(csv.reader(io.StringIO(again.content.decode("utf-8-sig"))))
    assert lines[1:] == [] and lines[0][:3] == ["Product ID", "Category (3 levels)", "Product name"]
    assert lines[0][-1] == "Date live"
    photos = await web.get("/dinas/export-photos.zip?only_new=1")
    assert photos.status_code == 200 and photos.headers["content-type"] == "application/zip"
    bad = await web.get("/dinas/export.xlsx?since=31-12-2026")
    assert bad.status_code == 400 and "2026-11-01" in bad.text


async def test_data_pages_need_a_session(database: Database, settings: Settings) -> None:
    app = create_app(settings, database)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
        for path in ("/dinas/products", "/dinas/progress", "/dinas/export.xlsx", "/dinas/export.csv",
                     "/dinas/export-photos.zip", "/dinas/products.csv"):
            assert (await client.get(path)).status_code == 401, path


def _key_tree(value: object) -> object:
    return {k: _key_tree(v) for k, v in value.items()} if isinstance(value, dict) else None


def test_data_words_have_the_same_keys_in_both_languages(settings: Settings) -> None:
    from jinja2 import Environment, FileSystemLoader

    env = Environment(loader=FileSystemLoader(str(settings.templates_dir / "dinas")))
    trees = {}
    for locale in ("id", "en"):
        module = env.get_template(f"{locale}/data.j2").module
        words = {k: v for k, v in vars(module).items() if not k.startswith("_")}
        assert set(words) == {"errors", "export", "products", "progress"}
        assert all(text for group in words.values() for text in group.values()), locale
        trees[locale] = _key_tree(words)
    assert trees["id"] == trees["en"]


async def test_progress_figures_are_kept_a_minute(database: Database, settings: Settings) -> None:
    from starlette.applications import Starlette

    from bot.dinas import app as dinas

    clock = [utcnow()]
    app = Starlette(routes=dinas.routes(settings, database, clock=lambda: clock[0]))
    officer = await add_officer(database)
    business = await add_business(database)
    await add_product(database, business, status="listed", officer_id=officer)
    async with database.transaction() as session:
        link = await signin.issue_link(session, settings, officer, utcnow())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as web:
        path = link.removeprefix(BASE)
        token = re.search(r'name="csrf" value="([^"]+)"', (await web.get(path)).text)
        assert token and (await web.post(path, data={"csrf": token.group(1)})).status_code == 303

        def approved(html: str) -> str:
            found = re.search(r'id="live">(\d+)</span>', html)
            assert found, html
            return found.group(1)

        assert approved((await web.get("/dinas/progress")).text) == "1"
        await add_product(database, business, status="listed", officer_id=officer)
        clock[0] += timedelta(seconds=59)
        assert approved((await web.get("/dinas/progress")).text) == "1"  # kept
        clock[0] += timedelta(seconds=2)
        assert approved((await web.get("/dinas/progress")).text) == "2"  # a minute later: counted again
