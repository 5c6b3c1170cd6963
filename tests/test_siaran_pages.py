"""/dinas/siaran: compose, preview (nothing sent), send, progress, cancel, CSV; forged posts for another region,
a resent confirm form and a missing CSRF token send nothing."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator

import httpx
import pytest

from bot.dinas.pages import Pages
from bot.review.signin import issue_link
from bot.service.web import create_app
from bot.settings import Settings
from bot.words.i18n import Renderer
from storage.db import Database
from storage.models import OfficerRole, OutboxMessage, OutboxStatus, Siaran, utcnow
from tests.conftest import count_rows
from tests.test_siaran import officer, owner

BASE = "http://127.0.0.1:8080"
TEXT = "Pelatihan foto produk gratis, Sabtu 09.00 di aula Dinas."


@pytest.fixture
async def web(database: Database, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, database)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
        yield client


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


async def sign_in(web: httpx.AsyncClient, db: Database, settings: Settings, officer_id: int) -> str:
    web.cookies.clear()
    async with db.transaction() as session:
        url = await issue_link(session, settings, officer_id, utcnow())
    path = url[url.index("/dinas/"):]
    page = await web.get(path)
    assert (await web.post(path, data={"csrf": csrf_of(page.text)})).status_code == 303
    return csrf_of((await web.get("/dinas/siaran")).text)


def hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, html
    return found.group(1)


async def test_compose_preview_send_progress_cancel_and_csv(database: Database, settings: Settings,
                                                            web: httpx.AsyncClient) -> None:
    await owner(database, "tg", channel="telegram")
    await owner(database, "wa", channel="whatsapp", seen=None)
    await owner(database, "fake")
    who = await officer(database, "18.03")
    csrf = await sign_in(web, database, settings, who.id)  # type: ignore[arg-type]
    page = await web.get("/dinas/siaran")
    assert page.status_code == 200 and "Tulis siaran" in page.text and 'value="18.03"' in page.text
    preview = await web.post("/dinas/siaran/preview", data={"csrf": csrf, "region": "18.03", "status": "all",
                                                            "text": TEXT})
    assert preview.status_code == 200 and "<strong>2</strong> orang akan menerima" in preview.text
    assert "Telegram" in preview.text and "WhatsApp di luar 24 jam dan belum ada template siaran" in preview.text
    assert TEXT in preview.text and "berhenti siaran" in preview.text
    assert await count_rows(database, OutboxMessage) == 0
    form = {"csrf": csrf, "key": hidden(preview.text, "key"), "region": "18.03", "status": "all", "text": TEXT,
            "action": "send"}
    sent = await web.post("/dinas/siaran/send", data=form)
    assert sent.status_code == 303 and sent.headers["location"] == "/dinas/siaran/1?done=sent"
    assert (await web.post("/dinas/siaran/send", data=form)).headers["location"] == "/dinas/siaran/1?done=sent"
    assert await count_rows(database, OutboxMessage) == 2 and await count_rows(database, Siaran) == 1
    detail = await web.get("/dinas/siaran/1")
    assert "0</strong> terkirim dari 2" in detail.text and 'http-equiv="refresh"' in detail.text
    assert "Batalkan yang belum terkirim" in detail.text
    cancelled = await web.post("/dinas/siaran/1/cancel", data={"csrf": csrf})
    assert cancelled.status_code == 303
    assert await count_rows(database, OutboxMessage, OutboxMessage.status == OutboxStatus.cancelled) == 2
    detail = await web.get("/dinas/siaran/1?done=cancelled")
    assert "2 dibatalkan" in detail.text and 'http-equiv="refresh"' not in detail.text
    download = await web.get("/dinas/siaran.csv")
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["ID", "Waktu (WIB)", "Pengirim"] and rows[1][0] == "1" and rows[1][-1] == TEXT
    assert rows[1][9] == "2" and rows[1][11] == "whatsapp_window 1"


async def test_forged_region_no_csrf_and_bad_text_send_nothing(database: Database, settings: Settings,
                                                                web: httpx.AsyncClient) -> None:
    await owner(database, "mine", region="18.03")
    await owner(database, "theirs", region="18.04")
    who = await officer(database, "18.03")
    admin = await officer(database, "18", OfficerRole.admin)
    await officer(database, "32.01", OfficerRole.admin)
    csrf = await sign_in(web, database, settings, who.id)  # type: ignore[arg-type]
    for path in ("/dinas/siaran/preview", "/dinas/siaran/send"):
        for region in ("18.04", "18", "32.01"):
            answer = await web.post(path, data={"csrf": csrf, "region": region, "status": "all", "text": TEXT,
                                                "key": "k", "action": "send"})
            assert answer.status_code == 403 and "hanya bisa dikirim ke wilayah sendiri" in answer.text
    assert (await web.post("/dinas/siaran/send", data={"region": "18.03", "status": "all", "text": TEXT,
                                                        "action": "send"})).status_code == 403
    long = await web.post("/dinas/siaran/send", data={"csrf": csrf, "region": "18.03", "status": "all",
                                                       "text": "x" * 4500, "action": "send"})
    assert long.status_code == 400 and "Pesan terlalu panjang untuk Telegram" in long.text
    assert await count_rows(database, OutboxMessage) == 0 and await count_rows(database, Siaran) == 0
    # An admin of the province may pick any of its districts; another area's siaran stays out of sight.
    csrf = await sign_in(web, database, settings, admin.id)  # type: ignore[arg-type]
    sent = await web.post("/dinas/siaran/send", data={"csrf": csrf, "region": "18.04", "status": "all",
                                                       "text": TEXT, "action": "send"})
    assert sent.status_code == 303 and await count_rows(database, OutboxMessage) == 1
    csrf = await sign_in(web, database, settings, who.id)  # type: ignore[arg-type]
    assert (await web.get("/dinas/siaran/1")).status_code == 404
    assert (await web.post("/dinas/siaran/1/cancel", data={"csrf": csrf})).status_code == 404
    assert await count_rows(database, OutboxMessage, OutboxMessage.status == OutboxStatus.cancelled) == 0


def test_siaran_words_have_the_same_keys_in_both_languages(settings: Settings) -> None:
    pages = Pages(settings.templates_dir, Renderer(settings.templates_dir))

    def keys(locale: str) -> dict[str, object]:
        module = pages.env.get_template(f"siaran/{locale}.j2").module
        return {k: sorted(v) if isinstance(v, dict) else len(v) if isinstance(v, list) else None
                for k, v in vars(module).items() if not k.startswith("_")}

    assert keys("id") == keys("en")
