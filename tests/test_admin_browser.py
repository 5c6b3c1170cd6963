"""The admin console (/dinas/admin/) end to end in a real headless chromium at phone size.

Same served app and chromium launch as tests/test_dinas_browser.py, with the bot's Telegram username set so an
invitation has a link. An admin signs in, invites an officer; the officer opens the link (the bot's /start with
its payload, posted to the Telegram webhook and read by python-telegram-bot); the admin sees the chat bound,
sets a target, sees the channel's health go red in words when the fake Bot API refuses the token, and routes a
submission that has no officer. Screenshots go to SCREENSHOT_DIR (docs/screenshots/admin-*-phone.png when
refreshed).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlmodel import select

from bot.review.officers import add_officer
from storage.db import Database
from storage.models import Contact, Officer, RegionTarget
from tests.dinas_data import add_business, add_product
from tests.fake_telegram import FakeBotAPI
from tests.support.browser import (
    CHROMIUM,
    SCREENSHOTS,
    Site,
    no_sideways_scroll,
    phone_signed_in,
    served_site,
    sign_in_link,
)
from tests.test_dinas_browser import eventually

pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True)

ADMIN_CHAT, NEW_OFFICER_CHAT = 4200001, 5550001
BOT_USERNAME = "umkm_test_bot"


@pytest.fixture
async def site(api: FakeBotAPI, database: Database, tmp_path: Path) -> AsyncIterator[Site]:
    """The served app with TELEGRAM_BOT_USERNAME set (invitation links)."""
    async with served_site(api, database, tmp_path, telegram_bot_username=BOT_USERNAME) as served:
        yield served


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed")
async def test_an_admin_invites_an_officer_sets_a_target_reads_health_and_routes_on_a_phone(
        site: Site, tmp_path: Path) -> None:
    boss = (await add_officer(site.db, "Bu Admin", "18", "telegram", str(ADMIN_CHAT), role="admin")).officer.id
    assert boss is not None
    # A submission from Lampung Barat (18.04), where no officer works: the admin routes it.
    waiting = await add_product(site.db, await add_business(site.db, region_code="18.04", nama_usaha="Kopi Liwa"),
                                status="submitted", nama_produk="Kopi Robusta Liwa")
    link = await sign_in_link(site, boss, tmp_path)
    async with phone_signed_in(site, link) as page:

        # Officers: invite Rina for Lampung Utara on Telegram, and read the link once.
        await page.get_by_role("link", name="Admin").click()
        await page.wait_for_url(f"{site.url}/dinas/admin/officers")
        assert "⚠ 1" in await page.locator("[role=alert]").first.inner_text()  # the unrouted submission
        await page.get_by_label("Nama", exact=True).fill("Rina Putri")
        await page.get_by_label("Wilayah").select_option("18.03")
        await page.get_by_label("Telegram").check()
        await page.get_by_role("button", name="Buat tautan undangan").click()
        invitation = page.locator("#invitation")
        assert "Tautan undangan untuk Rina Putri" in await invitation.inner_text()
        href = await invitation.locator("a.invite-link").get_attribute("href")
        found = re.fullmatch(rf"https://t\.me/{BOT_USERNAME}\?start=(inv_[A-Za-z0-9_-]{{32}})", href or "")
        assert found, href
        await no_sideways_scroll(page, "the invitation")

        # The officer opens it: Telegram sends "/start <payload>" to the bot's webhook.
        rina = site.user(NEW_OFFICER_CHAT)
        answer = await rina.send(f"/start {found.group(1)}")
        assert answer.status_code == 200
        await eventually(lambda: any("Rina Putri" in t for t in rina.texts))
        async with site.db.transaction() as session:
            contact = (await session.exec(select(Contact).where(Contact.address == str(NEW_OFFICER_CHAT)))).one()
            bound = await session.get(Officer, contact.officer_id)
            assert bound is not None and bound.name == "Rina Putri" and bound.region_code == "18.03"

        await page.goto(f"{site.url}/dinas/admin/officers")
        card = page.locator("ul.queue li", has_text="Rina Putri")
        text = await card.inner_text()
        assert "Chat: Telegram" in text and "Aktif" in text and "Lampung Utara" in text, text
        await no_sideways_scroll(page, "the officers page")
        await page.screenshot(path=str(SCREENSHOTS / "admin-officers-phone.png"), full_page=True)

        # Targets: 1.500 for Lampung Utara in 2027.
        await page.locator("nav.card").get_by_role("link", name="Target").click()
        district = page.locator("details", has=page.locator("input[name=region][value='18.03']"))
        await district.locator("summary").click()  # each district folded: 15 forms are long on a phone
        form = district.locator("form")
        await form.get_by_label("Target").fill("1.500")
        await form.get_by_label("Mulai").fill("2027-01-01")
        await form.get_by_label("Sampai").fill("2027-12-31")
        await form.get_by_role("button", name="Simpan").click()
        await page.wait_for_url(re.compile(r".*/dinas/admin/targets\?done=saved"))
        assert "Target sudah disimpan" in await page.locator("main").inner_text()
        assert "Target: 1.500 · Periode: 2027-01-01 – 2027-12-31" in await district.locator("summary").inner_text()
        async with site.db.transaction() as session:
            saved = await session.get(RegionTarget, "18.03")
            assert saved is not None and saved.target == 1500
        await no_sideways_scroll(page, "the targets page")

        # Health: Telegram refuses the token (401 to getMe): said in words, not only in red.
        site.api.fail("getMe", (401, None))
        await page.locator("nav.card").get_by_role("link", name="Kesehatan sistem").click()
        telegram = page.locator(".card", has_text="Telegram")
        text = await telegram.inner_text()
        assert "✗ Bermasalah" in text and "ditolak" in text.lower(), text
        await no_sideways_scroll(page, "the health page")
        await page.screenshot(path=str(SCREENSHOTS / "admin-health-phone.png"), full_page=True)
        await page.reload()  # the token accepted again: back to good
        assert "✓ Baik" in await page.locator(".card", has_text="Telegram").inner_text()

        # Unrouted: the Lampung Barat submission goes to the admin's own chat.
        before = len(site.api.sent(chat_id=ADMIN_CHAT))
        await page.locator("nav.card").get_by_role("link", name="Tanpa petugas").click()
        item = page.locator("ul.queue li", has_text="Kopi Robusta Liwa")
        assert "Lampung Barat" in await item.inner_text()
        await item.get_by_label("Teruskan ke").select_option(str(boss))
        await no_sideways_scroll(page, "the unrouted page")
        await item.get_by_role("button", name="Teruskan").click()
        await page.wait_for_url(re.compile(r".*/dinas/admin/unrouted\?done=routed"))
        assert "sudah diteruskan" in await page.locator("main").inner_text()
        await eventually(lambda: len(site.api.sent(chat_id=ADMIN_CHAT)) > before)
        assert any("Kopi Robusta Liwa" in str(c.params) for c in site.api.sent(chat_id=ADMIN_CHAT)[before:])

        await page.locator("nav.card").get_by_role("link", name="Catatan admin").click()
        audit = await page.locator("ul.history").inner_text()
        for did in ("mengundang petugas", "mengubah target", "meneruskan pengajuan"):
            assert did in audit, audit
        assert f"product:{waiting}" in audit
        await no_sideways_scroll(page, "the audit page")
