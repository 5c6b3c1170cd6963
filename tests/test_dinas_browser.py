"""The Dinas console end to end in a real headless browser (Debian's chromium driven by Playwright).

The app is served on a loopback port with the Telegram channel against the fake Bot API: the officer gets the
sign-in link from the chat, asks for a revision in the browser, the owner fixes only those fields in the chat,
and the officer approves the resubmission in the browser. Screenshots at phone size go to docs/screenshots/.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable

import pytest

from bot.review.officers import add_officer
from storage.db import Database
from storage.models import Business, Owner, Product, utcnow
from tests.conftest import product_status
from tests.support.browser import CHROMIUM, PHONE, SCREENSHOTS, Site, phone_signed_in, site  # noqa: F401
from tests.test_telegram import OFFICER, OWNER, fill_product, onboard

pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True)

async def eventually(check: Callable[[], bool], seconds: float = 10) -> None:
    for _ in range(int(seconds / 0.05)):
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the condition never held")


async def other_region_product(db: Database) -> int:
    """A submission from Kota Depok (32.76), outside the officer's region."""
    async with db.transaction() as session:
        owner = Owner()
        session.add(owner)
        await session.flush()
        business = Business(owner_id=owner.id, nama_usaha="Batik Depok", region_code="32.76")
        session.add(business)
        await session.flush()
        product = Product(business_id=business.id, status="submitted", nama_produk="Batik tulis",
                          submitted_at=utcnow())
        session.add(product)
        await session.flush()
        return product.id  # type: ignore[return-value]


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed")
async def test_officer_signs_in_from_the_chat_asks_a_revision_and_approves_the_resubmission(site: Site) -> None:  # noqa: F811
    await add_officer(site.db, "Budi Santoso", "18.03", "telegram", str(OFFICER))
    owner, officer = site.user(OWNER), site.user(OFFICER)
    await onboard(owner)
    await fill_product(owner)
    await owner.tap("Kirim ke Dinas")
    await officer.send("dasbor")
    link = re.search(r"http://127\.0\.0\.1:\d+/dinas/login/\S+", officer.texts[-2] + officer.last)
    assert link and link.group(0).startswith(site.url)
    outsider = await other_region_product(site.db)
    async with phone_signed_in(site, link.group(0)) as page:
        assert await page.locator("h1").inner_text() == "Antrean pemeriksaan"
        assert "Keripik Singkong Balado 250 g" in await page.locator("ol.queue").inner_text()
        await page.screenshot(path=str(SCREENSHOTS / "dinas-queue.png"), full_page=True)

        await page.get_by_role("link", name="Keripik Singkong Balado 250 g").click()
        assert "Sari Wulandari" in await page.content()
        await page.locator("summary", has_text="Minta revisi").click()
        await page.get_by_label("Harga satuan").check()
        await page.get_by_label("Deskripsi").check()
        await page.get_by_label("Catatan untuk pemilik").fill("Harga terlalu tinggi; deskripsi kurang rinci.")
        await page.screenshot(path=str(SCREENSHOTS / "dinas-product.png"), full_page=True)
        await page.get_by_role("button", name="Minta revisi").click()
        assert "pemilik sudah diberi tahu" in await page.locator("main").inner_text()

        # The owner is told in the chat (sent once the decision is committed, as a webhook's replies are).
        await eventually(lambda: "perlu diperbaiki" in owner.last)
        assert "Deskripsi, Harga satuan" in owner.last and "Harga terlalu tinggi" in owner.last
        start = len(owner.texts)
        await owner.tap("Perbaiki sekarang")
        await owner.send("Keripik singkong renyah bumbu balado pedas manis, 250 gram, kemasan standing pouch.")
        await owner.send("22.500")
        # Replies go out in order, one a second to a chat: the console's delivery of the notice may still be
        # sending the earlier ones when the webhook's own delivery looks, so the summary can come a moment later.
        await eventually(lambda: "Ringkasan produk" in owner.last)
        assert "Rp22.500" in owner.last
        asked = [q for t in owner.texts[start:] for q in re.findall(r"\(\d+/\d+\) [^\n]*", t)]
        assert len(asked) == 2, asked  # only the two flagged fields
        await owner.tap("Kirim ke Dinas")

        await page.goto(f"{site.url}/dinas/")
        item = await page.locator("ol.queue li").first.inner_text()
        assert "Revisi ke-1" in item and "Deskripsi, Harga satuan" in item and "Harga terlalu tinggi" in item
        await page.screenshot(path=str(SCREENSHOTS / "dinas-queue-resubmission.png"), full_page=True)
        await page.get_by_role("link", name="Keripik Singkong Balado 250 g").click()
        await page.locator("summary", has_text="Setujui").click()
        await page.get_by_role("button", name="Setujui").click()
        assert "pemilik sudah diberi tahu" in await page.locator("main").inner_text()
        await eventually(lambda: "DISETUJUI" in owner.last)
        assert await product_status(site.db) == "approved"

        # Refused: a replayed link, another region's product, a form without its CSRF token.
        stranger = await page.context.browser.new_context(viewport=PHONE, java_script_enabled=False, locale="id-ID")
        replay = await stranger.new_page()
        await replay.goto(link.group(0))
        assert "Tautan sudah dipakai" in await replay.locator("h1").inner_text()
        await stranger.close()
        elsewhere = await page.goto(f"{site.url}/dinas/products/{outsider}")
        assert elsewhere is not None and elsewhere.status == 404
        forged = await page.context.request.post(f"{site.url}/dinas/products/{outsider}/decision",
                                            form={"decision": "approved"})
        assert forged.status == 403
        assert await product_status(site.db, outsider) == "submitted"
