"""The data pages in a real headless browser: download the INAPROC worksheet (XLSX), read progress on a phone.

Same served app and chromium launch as tests/test_dinas_browser.py; the screenshot goes to docs/screenshots/.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.dinas import catalogue
from bot.flows.product import PRODUCT
from bot.review import signin
from storage.db import Database
from storage.models import Review, utcnow
from tests.conftest import telegram_settings
from tests.dinas_data import add_business, add_officer, add_product
from tests.support.browser import (  # noqa: F401
    CHROMIUM,
    PHONE,
    SCREENSHOTS,
    Site,
    no_sideways_scroll,
    phone_signed_in,
    sign_in_link,
    site,
)

pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True)

HOSTILE_NAME = '=HYPERLINK("http://evil.example","klik")'


async def district_with_history(db: Database) -> tuple[int, list[int]]:
    """Lampung Utara with a few weeks of decisions, revisions with flagged fields, and stale drafts."""
    officer = await add_officer(db, "18.03", "Budi Santoso")
    now = utcnow()
    approved = []
    names = ["Keripik Singkong Balado", "Kopi Robusta Lampung", "Tas Anyaman Pandan", HOSTILE_NAME,
             "Sambal Lingkung", "Kain Tapis", "Madu Hutan", "Gula Aren Cetak"]
    for n, name in enumerate(names):
        business = await add_business(db, nama_usaha=f"Usaha {n + 1}")
        approved.append(await add_product(db, business, officer_id=officer, nama_produk=name,
                                          submitted_at=now - timedelta(days=4 + 6 * n, hours=3),
                                          decided_at=now - timedelta(days=1 + 6 * n)))
    business = await add_business(db, nama_usaha="Dapur Ibu Rina")
    for flags in (["harga", "deskripsi"], ["harga"], ["photos"]):
        product = await add_product(db, business, status="revision_requested", officer_id=officer,
                                    submitted_at=now - timedelta(days=3))
        async with db.transaction() as session:
            session.add(Review(product_id=product, officer_id=officer, decision="revision", flagged_fields=flags,
                               created_at=now - timedelta(days=2)))
    empty = dict.fromkeys(s.field for s in PRODUCT.steps if s.field not in ("nama_produk", "photos"))
    for stop in (["kategori"], ["kategori", "harga"], ["kategori", "harga"]):
        fields = {**empty, "kategori": "kerajinan", "deskripsi": "Tas anyaman pandan, kuat dan ringan dibawa."}
        if "harga" in stop:
            fields["harga"] = 50000
        await add_product(db, business, status="draft", submitted_at=now - timedelta(days=12),
                          **({**empty} if stop == ["kategori"] else fields))
    for _ in range(2):
        await add_product(db, business, status="submitted", submitted_at=now - timedelta(days=1))
    return officer, approved


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed")
async def test_download_the_catalogue_and_read_progress_on_a_phone(site: Site, tmp_path: Path) -> None:  # noqa: F811
    officer, approved = await district_with_history(site.db)
    settings = telegram_settings(site.api, tmp_path)  # the served app's settings: the same signing key
    async with site.db.transaction() as session:
        link = site.url + (await signin.issue_link(session, settings, officer, utcnow())).split("8080", 1)[1]
    async with phone_signed_in(site, link, accept_downloads=True) as page:

        await page.goto(f"{site.url}/dinas/products?status=approved")
        assert "8 produk ditemukan" in await page.locator("main").inner_text()
        assert HOSTILE_NAME in await page.locator("ul.results").inner_text()  # shown as text
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], "the product list scrolls sideways on a phone"
        await page.screenshot(path=str(SCREENSHOTS / "products-phone.png"), full_page=True)
        async with page.expect_download() as waiting:
            await page.get_by_role("button", name="Unduh Excel (XLSX)").click()
        download = await waiting.value
        assert re.fullmatch(r"inaproc-18\.03-\d{8}-\d{4}\.xlsx", download.suggested_filename)
        saved = tmp_path / download.suggested_filename
        await download.save_as(saved)
        sheet = load_workbook(io.BytesIO(saved.read_bytes())).active
        rows = list(sheet.iter_rows(values_only=True))
        headers = catalogue.Worksheet.of(catalogue.default_sheet().renderer, "id").headers
        assert rows[0] == headers
        assert sorted(r[0] for r in rows[1:]) == sorted(approved)
        price, name = headers.index("Harga (Rp)"), headers.index("Nama produk")
        assert all(r[price] == "25000" for r in rows[1:])  # as the upload kit shows it
        hostile = next(c for c in sheet.iter_rows(min_row=2) if c[name].value == HOSTILE_NAME)[name]
        assert hostile.data_type == "s"  # text, never a formula

        await page.goto(f"{site.url}/dinas/progress")
        main = await page.locator("main").inner_text()
        assert "0 produk tayang di Katalog Elektronik INAPROC dari target 1.000" in main
        assert "8 produk sudah disetujui Dinas tetapi belum tayang" in main
        assert "Kategori" in await page.locator("#worst").inner_text()
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], "the progress page scrolls sideways on a phone"
        await page.screenshot(path=str(SCREENSHOTS / "progress-phone.png"), full_page=True)
