"""The product page on the road to INAPROC: the upload kit ("Salin untuk INAPROC") and the live link's form."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from bot.review import signin
from bot.service.web import create_app
from bot.settings import Settings
from bot.words.i18n import Renderer
from bot.words.upload_kit import kit_rows
from storage.db import Database
from storage.models import Business, OutboxMessage, Product, ProductHistory, utcnow
from tests.conftest import count_rows
from tests.dinas_data import add_business, add_officer, add_product

BASE = "http://127.0.0.1:8080"
LINK = "https://katalog.inaproc.id/produk/keripik-singkong-balado-123"
Browser = Callable[[str], Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def officer_web(database: Database, settings: Settings) -> AsyncIterator[Browser]:
    app = create_app(settings, database)
    clients: list[httpx.AsyncClient] = []

    async def sign_in(region: str) -> httpx.AsyncClient:
        officer = await add_officer(database, region, name=f"Petugas {region}")
        async with database.transaction() as session:
            link = await signin.issue_link(session, settings, officer, utcnow())
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE)
        clients.append(client)
        page = await client.get(link.removeprefix(BASE))
        done = await client.post(link.removeprefix(BASE), data={"csrf": csrf_of(page.text)})
        assert done.status_code == 303
        return client

    yield sign_in
    for client in clients:
        await client.aclose()


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


async def product_row(db: Database, product_id: int) -> Product:
    async with db.transaction() as session:
        found = await session.get(Product, product_id)
        assert found is not None
        return found


async def test_the_kit_shows_the_owners_rows_in_the_forms_order(database: Database, officer_web: Browser,
                                                               settings: Settings) -> None:
    officer = await add_officer(database)
    business_id = await add_business(database)
    product_id = await add_product(database, business_id, officer_id=officer, number=1)
    web = await officer_web("18.03")
    page = await web.get(f"/dinas/products/{product_id}")
    assert page.status_code == 200 and 'id="inaproc-h">Salin untuk INAPROC' in page.text
    assert "<h1>Keripik Singkong Balado <span class=\"muted\">#1</span></h1>" in page.text
    async with database.transaction() as session:
        product, business = await session.get(Product, product_id), await session.get(Business, business_id)
        expected = kit_rows(product, business, "id", Renderer(settings.templates_dir))  # type: ignore[arg-type]
    shown = re.findall(r'<label for="kit-([a-z_]+)">([^<]+)</label>', page.text)
    assert shown == [(r.key, r.label) for r in expected]  # the same rows, the same order as the chat's kit
    assert 'id="kit-harga" type="text" readonly value="25000"' in page.text  # usable without JavaScript
    assert '<script src="/dinas/copy.js" defer></script>' in page.text
    script = await web.get("/dinas/copy.js")
    assert script.status_code == 200 and "clipboard" in script.text
    waiting = await add_product(database, business_id, status="submitted")
    assert "Salin untuk INAPROC" not in (await web.get(f"/dinas/products/{waiting}")).text


async def test_record_correct_and_remove_the_link(database: Database, officer_web: Browser) -> None:
    officer = await add_officer(database)
    product_id = await add_product(database, await add_business(database), status="uploaded", officer_id=officer)
    web = await officer_web("18.03")
    page = await web.get(f"/dinas/products/{product_id}")
    done = await web.post(f"/dinas/products/{product_id}/link",
                          data={"csrf": csrf_of(page.text), "action": "record", "link": f"  {LINK} "})
    assert done.status_code == 303 and done.headers["location"] == f"/dinas/products/{product_id}?link=record#inaproc"
    product = await product_row(database, product_id)
    assert product.status == "listed" and product.listing_url == LINK and product.listed_at is not None
    shown = await web.get(done.headers["location"])
    assert "Tautan tersimpan" in shown.text and f'href="{LINK}"' in shown.text and "Hapus tautan" in shown.text
    assert await count_rows(database, ProductHistory, ProductHistory.status == "listed") == 1

    corrected = LINK.replace("123", "124")
    fixed = await web.post(f"/dinas/products/{product_id}/link",
                           data={"csrf": csrf_of(shown.text), "action": "record", "link": corrected})
    assert fixed.status_code == 303 and (await product_row(database, product_id)).listing_url == corrected

    removed = await web.post(f"/dinas/products/{product_id}/link",
                             data={"csrf": csrf_of(shown.text), "action": "remove"})
    assert removed.status_code == 303
    product = await product_row(database, product_id)
    assert product.status == "uploaded" and product.listing_url is None


@pytest.mark.parametrize(("link", "message"), [
    ("https://example.com/produk/1", "Masukkan tautan dari katalog.inaproc.id, bukan dari situs lain"),
    ("http://katalog.inaproc.id/produk/1", "Masukkan tautan yang diawali https://"),
    ("https://katalog.inaproc.id/", "bukan halaman depan katalog"),
    ("", "Masukkan tautan"),
])
async def test_a_bad_link_is_explained_and_nothing_is_stored(database: Database, officer_web: Browser,
                                                             link: str, message: str) -> None:
    officer = await add_officer(database)
    product_id = await add_product(database, await add_business(database), officer_id=officer)
    web = await officer_web("18.03")
    page = await web.get(f"/dinas/products/{product_id}")
    before = await count_rows(database, OutboxMessage)
    refused = await web.post(f"/dinas/products/{product_id}/link",
                             data={"csrf": csrf_of(page.text), "action": "record", "link": link})
    assert refused.status_code == 400
    summary = refused.text.split('class="error-summary"')[1].split("</div>")[0]
    assert '<a href="#link">' in summary and message in summary
    assert 'class="error-message" id="link-error"' in refused.text and message in refused.text.split("link-error")[1]
    product = await product_row(database, product_id)
    assert product.status == "approved" and product.listing_url is None
    assert await count_rows(database, OutboxMessage) == before
    assert await count_rows(database, ProductHistory, ProductHistory.status == "listed") == 0


async def test_a_link_held_by_another_product_undoes_the_whole_correction(database: Database,
                                                                         officer_web: Browser) -> None:
    officer = await add_officer(database)
    business = await add_business(database)
    first = await add_product(database, business, status="listed", officer_id=officer)
    second = await add_product(database, business, status="listed", officer_id=officer)
    taken = (await product_row(database, first)).listing_url
    web = await officer_web("18.03")
    page = await web.get(f"/dinas/products/{second}")
    refused = await web.post(f"/dinas/products/{second}/link",
                             data={"csrf": csrf_of(page.text), "action": "record", "link": taken})
    assert refused.status_code == 400 and "sudah tercatat untuk produk lain" in refused.text
    product = await product_row(database, second)
    assert product.status == "listed" and product.listing_url not in (None, taken)  # the old link stays


async def test_other_regions_and_missing_csrf_change_nothing(database: Database, officer_web: Browser) -> None:
    officer = await add_officer(database)
    product_id = await add_product(database, await add_business(database, "32.01"), officer_id=officer)
    web = await officer_web("18.03")
    token = csrf_of((await web.get("/dinas/progress")).text)
    other = await web.post(f"/dinas/products/{product_id}/link", data={"csrf": token, "link": LINK})
    assert other.status_code == 404
    no_csrf = await web.post(f"/dinas/products/{product_id}/link", data={"link": LINK})
    assert no_csrf.status_code == 403
    assert (await product_row(database, product_id)).status == "approved"
