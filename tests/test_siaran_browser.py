"""/dinas/siaran in a real headless chromium at phone size (390x844), without JavaScript: an officer of Lampung
Utara writes a siaran, reads the preview (how many on which channel, who is skipped and why), sends it, and
follows its progress as the messages reach the fake Bot API. Screenshots go to SCREENSHOT_DIR
(docs/screenshots/siaran-phone.png and siaran-preview-phone.png when refreshed)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from bot.review.officers import add_officer
from storage.models import OutboxMessage, utcnow
from tests.support.browser import (  # noqa: F401
    CHROMIUM,
    SCREENSHOTS,
    Site,
    no_sideways_scroll,
    phone_signed_in,
    sign_in_link,
    site,
)
from tests.test_siaran import owner

pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True)
TEXT = ("Pelatihan foto produk gratis untuk pelaku UMKM, Sabtu 14 November pukul 09.00 di aula Dinas Koperasi "
        "Kotabumi. Bawa 2 produk Anda. *Tempat terbatas*: daftar dengan membalas pesan ini.")


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed")
async def test_an_officer_sends_a_siaran_on_a_phone_and_follows_it(site: Site, tmp_path: Path) -> None:  # noqa: F811
    now = utcnow()
    for chat in ("5100001", "5100002", "5100003"):
        await owner(site.db, chat, channel="telegram", seen=now)
    await owner(site.db, "6281200000001", channel="whatsapp", seen=now - timedelta(hours=3))
    await owner(site.db, "6281200000002", channel="whatsapp", seen=now - timedelta(days=5))
    await owner(site.db, "5100009", channel="telegram", siaran_off_at=now)
    budi = (await add_officer(site.db, "Budi Santoso", "18.03", "telegram", "4200101")).officer.id
    assert budi is not None
    link = await sign_in_link(site, budi, tmp_path)
    async with phone_signed_in(site, link) as page:
        await page.get_by_role("link", name="Siaran", exact=True).click()
        await page.wait_for_url(f"{site.url}/dinas/siaran")
        await page.get_by_label("Isi pesan").fill(TEXT)
        await no_sideways_scroll(page, "the siaran form")
        await page.get_by_role("button", name="Lihat penerima").click()
        await page.wait_for_url(f"{site.url}/dinas/siaran/preview")
        body = await page.inner_text("body")
        assert "4 orang akan menerima siaran ini" in body
        assert "WhatsApp di luar 24 jam dan belum ada template siaran" in body
        assert "memilih berhenti menerima siaran" in body
        await no_sideways_scroll(page, "the siaran preview")
        await page.screenshot(path=str(SCREENSHOTS / "siaran-preview-phone.png"), full_page=True)
        assert site.api.sent("sendMessage") == []  # the preview sent nothing
        await page.get_by_role("button", name="Kirim siaran").click()
        await page.wait_for_url(re.compile(r".*/dinas/siaran/\d+\?done=sent$"))
        assert "0 terkirim dari 4" in await page.inner_text("body")
        async with site.db.transaction() as session:  # at night (21:00-07:00 WIB) they wait: morning has come
            await (await session.connection()).execute(update(OutboxMessage).values(next_attempt_at=utcnow()))
        await site.deliverer.deliver_due(channel="telegram", address="5100001")
        await site.deliverer.deliver_due(channel="telegram", address="5100002")
        await page.reload()
        body = await page.inner_text("body")
        assert "2 terkirim dari 4" in body and "2 menunggu" in body and "1 tidak dikirimi" in body
        await no_sideways_scroll(page, "the siaran's progress")
        await page.screenshot(path=str(SCREENSHOTS / "siaran-phone.png"), full_page=True)
        await page.get_by_role("button", name="Batalkan yang belum terkirim").click()
        await page.wait_for_url(re.compile(r".*done=cancelled$"))
        assert "2 dibatalkan" in await page.inner_text("body")
    [text] = site.api.texts(5100001)
    assert "Siaran Dinas Koperasi & UMKM" in text and "Tempat terbatas" in text and "berhenti siaran" in text
    assert site.api.texts(5100003) == [] and site.api.texts(5100009) == []
