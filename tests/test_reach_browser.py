"""/dinas/invite in a real headless chromium at phone size, and its A4 poster printed to PDF.

An officer of Lampung Utara signs in, makes an invitation for a bazar, reads both links and QR codes without
scrolling sideways, opens the poster (screenshot at A4 width) and prints it to PDF. Screenshots go to
SCREENSHOT_DIR (docs/screenshots/invite-phone.png and poster.png when refreshed).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.review.officers import add_officer
from storage.db import Database
from tests.fake_telegram import FakeBotAPI
from tests.support.browser import (
    CHROMIUM,
    PHONE,
    SCREENSHOTS,
    Site,
    no_sideways_scroll,
    phone_signed_in,
    served_site,
    sign_in_link,
)

pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True)


@pytest.fixture
async def site(api: FakeBotAPI, database: Database, tmp_path: Path) -> AsyncIterator[Site]:
    """The served app with the bot's Telegram username and WhatsApp number set (invitation links)."""
    async with served_site(api, database, tmp_path, start_telegram=False, telegram_bot_username="umkm_lampura_bot",
                           whatsapp_display_number="0811-7200-300") as served:
        yield served


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed")
async def test_an_officer_makes_a_poster_on_a_phone_and_it_prints_on_a4(site: Site, tmp_path: Path) -> None:
    budi = (await add_officer(site.db, "Budi Santoso", "18.03", "telegram", "4200101")).officer.id
    assert budi is not None
    link = await sign_in_link(site, budi, tmp_path)
    async with phone_signed_in(site, link) as page:
        await page.get_by_role("link", name="Undang UMKM").click()
        await page.wait_for_url(f"{site.url}/dinas/invite")
        await no_sideways_scroll(page, "the invitation form")
        await page.get_by_label("Nama sumber").fill("Bazar UMKM Kotabumi")
        await page.get_by_role("button", name="Buat tautan dan QR").click()
        await page.wait_for_url(re.compile(r".*/dinas/invite/\d+$"))
        telegram = await page.locator("a.link-telegram").get_attribute("href")
        whatsapp = await page.locator("a.link-whatsapp").get_attribute("href")
        assert re.fullmatch(r"https://t\.me/umkm_lampura_bot\?start=daftar_[A-Za-z0-9_-]{12}", telegram or "")
        assert (whatsapp or "").startswith("https://wa.me/628117200300?text=Halo")
        box = await page.locator(".qr-box svg").first.bounding_box()
        assert box is not None and 150 <= box["width"] <= PHONE["width"]
        await no_sideways_scroll(page, "the invitation")
        await page.screenshot(path=str(SCREENSHOTS / "invite-phone.png"), full_page=True)

        await page.get_by_role("link", name="Buka poster A4 untuk dicetak").click()
        await page.wait_for_url(re.compile(r".*/poster$"))
        assert "Kabupaten Lampung Utara" in await page.inner_text("body")
        assert await page.locator("figure svg").count() == 2
        await page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
        await page.screenshot(path=str(SCREENSHOTS / "poster.png"), full_page=True)
        await page.emulate_media(media="print")
        pdf = await page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
    assert pdf.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1  # the poster fits one A4 page
    (tmp_path / "poster.pdf").write_bytes(pdf)
