"""The product page's "Salin untuk INAPROC" and link form in a real headless chromium at phone size.

Same served app and chromium launch as tests/test_dinas_browser.py. With JavaScript the kit's "Salin" buttons
copy; the link form is recorded, shown, and a bad link is explained. The screenshot goes to SCREENSHOT_DIR
(docs/screenshots/product-inaproc-phone.png when refreshed).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.models import Product
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

LINK = "https://katalog.inaproc.id/produk/keripik-singkong-balado-bu-sari"


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed")
async def test_copy_the_kit_and_record_the_link_on_a_phone(site: Site, tmp_path: Path) -> None:  # noqa: F811
    officer = await add_officer(site.db, "18.03", "Budi Santoso")
    product_id = await add_product(site.db, await add_business(site.db, email="sari@example.com"),
                                   status="uploaded", officer_id=officer, number=1)
    link = await sign_in_link(site, officer, tmp_path)
    clipboard = ("clipboard-read", "clipboard-write")  # the kit's "Salin" buttons run with JavaScript on
    async with phone_signed_in(site, link, java_script_enabled=True, permissions=clipboard) as page:
        await page.goto(f"{site.url}/dinas/products/{product_id}")

        kit = page.locator("#inaproc")
        assert await kit.get_by_label("Harga (Rp)").input_value() == "25000"
        harga = kit.locator(".kit-row", has=page.locator("#kit-harga"))
        await harga.get_by_role("button", name="Salin").click()  # shown by the script, copies the entry
        await page.wait_for_function("document.querySelector('[data-copy=kit-harga]').textContent == 'Tersalin'")
        copied = await page.evaluate("navigator.clipboard.readText()")
        assert copied == "25000"

        await page.get_by_label("Tautan produk yang sudah tayang").fill("https://example.com/produk/1")
        await page.get_by_role("button", name="Catat sebagai tayang").click()
        summary = page.locator(".error-summary")
        assert "bukan dari situs lain" in await summary.inner_text()
        await summary.get_by_role("link").click()  # the summary's link goes to the field
        assert await page.evaluate("location.hash") == "#link"
        async with site.db.transaction() as session:
            assert (await session.get(Product, product_id)).listing_url is None  # type: ignore[union-attr]

        await page.get_by_label("Tautan produk yang sudah tayang").fill(LINK)
        await page.get_by_role("button", name="Catat sebagai tayang").click()
        await page.wait_for_url(f"{site.url}/dinas/products/{product_id}?link=record#inaproc")
        assert "Tautan tersimpan" in await kit.inner_text()
        assert await page.locator("#live-link a").get_attribute("href") == LINK
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], "the product page scrolls sideways on a phone"
        await page.locator("#inaproc-h").scroll_into_view_if_needed()
        await page.screenshot(path=str(SCREENSHOTS / "product-inaproc-phone.png"), full_page=True)
