"""The road after approval (bot/review/catalogue.py): the catalogue link checked, recorded once, corrected by an
officer; nothing stored when a link is refused."""

from __future__ import annotations

import pytest
from sqlmodel import col, select

from bot.delivery.outbox import OutboxWriter
from bot.review import catalogue
from bot.review.catalogue import Actor, Refused, find_link, parse_link
from storage.models import Officer, OutboxMessage, Product, ProductHistory, ProductStatus, utcnow
from tests.chat import Network
from tests.conftest import count_rows
from tests.support.conversations import submit_with_officer

HOSTS = ("katalog.inaproc.id",)
GOOD = "https://katalog.inaproc.id/produk/keripik-balado-123"


@pytest.mark.parametrize("text, expected", [
    (GOOD, GOOD),
    ("https://KATALOG.inaproc.id/produk/1?ref=wa#atas", "https://katalog.inaproc.id/produk/1?ref=wa"),
    ("https://katalog.inaproc.id:443/produk/1", "https://katalog.inaproc.id/produk/1"),
    ("<https://katalog.inaproc.id/p/1>", "https://katalog.inaproc.id/p/1"),
])
def test_catalogue_links_are_kept_as_the_catalogue_shows_them(text: str, expected: str) -> None:
    assert parse_link(text, HOSTS) == expected


BAD_LINKS = [
    ("http://katalog.inaproc.id/produk/1", "link_not_https"),
    ("ftp://katalog.inaproc.id/produk/1", "link_not_https"),
    ("katalog.inaproc.id/produk/1", "link_no_scheme"),
    ("https://katalog.inaproc.id.example.shop/produk/1", "link_wrong_host"),
    ("https://katalog-inaproc.id/produk/1", "link_wrong_host"),
    ("https://inaproc.id/produk/1", "link_wrong_host"),
    ("https://evil.example/katalog.inaproc.id/produk/1", "link_wrong_host"),
    ("https://katalog.inaproc.id./produk/1", "link_wrong_host"),
    ("https://katalog.inaproc.id%2eevil.example/produk/1", "link_wrong_host"),
    ("https://katalog.inaproc.id@evil.example/produk/1", "link_userinfo"),
    ("https://user:pw@katalog.inaproc.id/produk/1", "link_userinfo"),
    ("https://katalog.inaproc.id\\@evil.example/produk/1", "link_invalid"),
    ("https://kаtalog.inaproc.id/produk/1", "link_lookalike"),  # a Cyrillic "а"
    ("https://xn--ktalog-3ve.inaproc.id/produk/1", "link_lookalike"),
    ("https://katalog.inaproc.id:8443/produk/1", "link_port"),
    ("https://katalog.inaproc.id/", "link_no_path"),
    ("https://katalog.inaproc.id", "link_no_path"),
    ("https://katalog.inaproc.id/" + "p" * 480, "link_too_long"),
]


@pytest.mark.parametrize("text, key", BAD_LINKS)
def test_anything_else_is_refused_with_its_reason(text: str, key: str) -> None:
    with pytest.raises(Refused) as refused:
        parse_link(text, HOSTS)
    assert refused.value.key == key


@pytest.mark.parametrize("text, found", [
    (f"ini tautannya {GOOD} terima kasih", GOOD),
    ("sudah tayang: katalog.inaproc.id/produk/9", "katalog.inaproc.id/produk/9"),
    ("https://kаtalog.inaproc.id/p/1", "https://kаtalog.inaproc.id/p/1"),
    ("lihat https://xn--80ak6aa92e.com/x", "https://xn--80ak6aa92e.com/x"),
    ("Toko kami: https://tokosari.example/keripik", None),  # a shop's own site in a description
    ("Keripik/kerupuk dari katalog kami", None),
    ("katalog.inaproc.id", None),  # a mention, not a link
])
def test_only_links_to_the_catalogue_or_look_alikes_are_spotted(text: str, found: str | None) -> None:
    assert find_link(text, HOSTS) == found


async def approved(network: Network) -> None:
    owner, officer = await submit_with_officer(network)
    await officer.tap("Setujui")


async def record(network: Network, link: str, product_id: int = 1, officer_id: int | None = None) -> Product:
    async with network.engine.db.transaction() as session:
        officer = await session.get(Officer, officer_id) if officer_id else None
        outbox = OutboxWriter(session, utcnow())
        product = await catalogue.record_link(session, outbox, network.engine.renderer,
                                              Actor("web" if officer else "fake", officer), product_id, link,
                                              hosts=HOSTS)
        await outbox.flush()
        return product


async def stored(network: Network, product_id: int = 1) -> Product:
    async with network.engine.db.transaction() as session:
        product = await session.get(Product, product_id)
    assert product is not None
    return product


async def test_approval_fills_the_catalogue_category_and_time(network: Network) -> None:
    await approved(network)
    product = await stored(network)
    assert product.status == ProductStatus.approved and product.approved_at is not None
    assert product.catalogue_path and product.catalogue_path.count(" > ") >= 1


async def test_a_link_lists_an_approved_product_and_tells_the_region(network: Network) -> None:
    await approved(network)
    await record(network, GOOD)
    product = await stored(network)
    assert (product.status, product.listing_url) == (ProductStatus.listed, GOOD) and product.listed_at
    assert await count_rows(network.engine.db, ProductHistory, ProductHistory.status == "listed",
                            col(ProductHistory.officer_id).is_(None)) == 1
    async with network.engine.db.transaction() as session:
        rows = (await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id).desc()).limit(2))).all()
    texts = {r.address: r.payload["text"] for r in rows}
    assert "tayang" in texts["owner-1"] and "Keripik Singkong Balado" in texts["owner-1"]
    assert GOOD in texts["officer-1"] and "Keripik Bu Sari" in texts["officer-1"]


@pytest.mark.parametrize("text, key", BAD_LINKS[:6] + BAD_LINKS[9:])
async def test_a_refused_link_stores_nothing(network: Network, text: str, key: str) -> None:
    await approved(network)
    before = await count_rows(network.engine.db, OutboxMessage)
    with pytest.raises(Refused) as refused:
        await record(network, text)
    assert refused.value.key == key
    product = await stored(network)
    assert (product.status, product.listing_url, product.listed_at) == (ProductStatus.approved, None, None)
    assert await count_rows(network.engine.db, ProductHistory, ProductHistory.status == "listed") == 0
    assert await count_rows(network.engine.db, OutboxMessage) == before


async def test_one_link_belongs_to_one_product(network: Network) -> None:
    await approved(network)
    async with network.engine.db.transaction() as session:
        first = await session.get(Product, 1)
        assert first is not None
        second = Product(business_id=first.business_id, number=2, status=ProductStatus.approved,
                         nama_produk="Keripik Pisang", kategori="makanan")
        session.add(second)
        await session.flush()
        second_id = second.id
    await record(network, GOOD)
    with pytest.raises(Refused) as refused:
        await record(network, GOOD, product_id=second_id)  # type: ignore[arg-type]
    assert refused.value.key == "link_taken"
    assert (await stored(network, second_id)).status == ProductStatus.approved  # type: ignore[arg-type]
    with pytest.raises(Refused) as again:
        await record(network, GOOD + "-lain")
    assert again.value.key == "already_listed"


async def test_a_submitted_product_cannot_be_listed(network: Network) -> None:
    await submit_with_officer(network)
    with pytest.raises(Refused) as refused:
        await record(network, GOOD)
    assert refused.value.key == "not_approved"
    assert (await stored(network)).listing_url is None


async def test_uploaded_then_listed_then_an_officer_corrects_it(network: Network) -> None:
    await approved(network)
    async with network.engine.db.transaction() as session:
        outbox = OutboxWriter(session, utcnow())
        await catalogue.mark_uploaded(session, outbox, Actor("fake"), 1)
    assert (await stored(network)).status == ProductStatus.uploaded
    await record(network, GOOD, officer_id=1)
    assert await count_rows(network.engine.db, ProductHistory, ProductHistory.status == "listed",
                            ProductHistory.officer_id == 1, ProductHistory.source == "web") == 1
    async with network.engine.db.transaction() as session:
        outbox = OutboxWriter(session, utcnow())
        with pytest.raises(Refused):
            await catalogue.remove_link(session, outbox, network.engine.renderer, Actor("fake"), 1)
        budi = await session.get(Officer, 1)
        await catalogue.remove_link(session, outbox, network.engine.renderer, Actor("web", budi), 1)
        await outbox.flush()
    product = await stored(network)
    assert (product.status, product.listing_url) == (ProductStatus.uploaded, None)
    await record(network, GOOD)  # the link is free again
    assert (await stored(network)).status == ProductStatus.listed
