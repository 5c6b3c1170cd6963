"""UU 27/2022: nothing kept without consent; owners see what is stored and can have it erased."""

from __future__ import annotations

from sqlmodel import select

from bot.domain.messages import Inbound
from bot.review.officers import add_officer
from storage.models import (
    Business,
    Contact,
    Conversation,
    OutboxMessage,
    OutboxStatus,
    Owner,
    Product,
    ProductPhoto,
    ProductStatus,
)
from tests.chat import Network
from tests.conftest import count_rows
from tests.support.conversations import fill_product, onboard


async def test_nothing_is_kept_of_someone_who_declines(network: Network) -> None:
    await network.engine.handle(Inbound("fake", "6281234567890", "e1", "text", "halo", display_name="Sari W"))
    async with network.engine.db.transaction() as session:
        for message in (await session.exec(select(OutboxMessage))).all():
            message.status = OutboxStatus.sent  # as the deliverer marks it
    async with network.engine.db.transaction() as session:
        contact = (await session.exec(select(Contact))).one()
    assert contact.display_name == ""  # not even the name, before consent
    replies = await network.engine.handle(
        Inbound("fake", "6281234567890", "e2", "text", "tidak setuju", display_name="Sari W"))
    assert "Tanpa persetujuan" in replies[-1].text
    assert await count_rows(network.engine.db, Contact) == 0
    async with network.engine.db.transaction() as session:
        kept = (await session.exec(select(OutboxMessage))).all()
    assert [m.payload["text"] for m in kept] == [replies[-1].text]  # only the answer still to be sent
    assert await count_rows(network.engine.db, Conversation) == 0
    again = await network.engine.handle(Inbound("fake", "6281234567890", "e3", "text", "halo"))
    assert "Apakah Bapak/Ibu setuju?" in again[-1].text


async def test_my_data_shows_what_is_stored(network: Network) -> None:
    owner = network.chat("owner-1")
    await onboard(owner)
    await owner.send("Keripik Pisang Coklat")
    await owner.send("data saya")
    text = owner.last
    for stored in ("Sari Wulandari", "1234567890123", "01.312.166.0-091.000", "Jl. Merdeka No. 5",
                   "+6281234567890", "fake:owner-1", "#1 Keripik Pisang Coklat"):
        assert stored in text, stored
    assert owner.buttons == ["Hapus data saya", "Menu"]


async def test_erasing_keeps_only_anonymous_counts(network: Network) -> None:
    owner = network.chat("owner-1")
    await onboard(owner)
    await fill_product(owner)
    media = network.engine.settings.media_dir
    assert len(list(media.rglob("*.jpg"))) == 2
    await owner.send("hapus data")
    assert "tidak bisa dibatalkan" in owner.last
    await owner.tap("Ya, hapus semua")
    assert "sudah dihapus" in owner.last
    async with network.engine.db.transaction() as session:
        business = (await session.exec(select(Business))).one()
        owner_row = (await session.exec(select(Owner))).one()
        product = (await session.exec(select(Product))).one()
        photos = (await session.exec(select(ProductPhoto))).all()
    assert (business.nama_usaha, business.nama_pemilik, business.nib, business.npwp, business.alamat,
            business.phone, business.consent_at) == (None,) * 7
    assert (business.region_code, business.skala) == ("18.03", "mikro")
    assert owner_row.phone is None and owner_row.erased_at is not None
    assert (product.status, product.nama_produk) == (ProductStatus.deleted, None)
    assert all(p.path == "" and p.removed_at for p in photos) and list(media.rglob("*.jpg")) == []
    assert await count_rows(network.engine.db, Contact) == 0
    await owner.send("halo")
    assert "Apakah Bapak/Ibu setuju?" in owner.last  # a stranger again


async def test_an_approved_listing_keeps_what_the_catalogue_needs(network: Network) -> None:
    await add_officer(network.engine.db, "Budi", "18.03", "fake", "officer-1")
    owner, officer = network.chat("owner-1"), network.chat("officer-1")
    await onboard(owner)
    await fill_product(owner)
    await owner.tap("Kirim ke Dinas")
    await officer.tap("Setujui")
    await owner.send("language")
    await owner.tap("English")
    await owner.send("My data.")
    assert "The data we keep about you" in owner.last
    await owner.tap("Delete my data")
    await owner.tap("Yes, delete it all")
    assert "Approved products stay on record" in owner.last
    async with network.engine.db.transaction() as session:
        business = (await session.exec(select(Business))).one()
        product = (await session.exec(select(Product))).one()
    assert (business.nama_usaha, business.nib, business.npwp) == ("Keripik Bu Sari", "1234567890123",
                                                                  "013121660091000")
    assert (business.nama_pemilik, business.alamat, business.phone) == (None, None, None)
    assert product.status == ProductStatus.approved and product.nama_produk == "Keripik Singkong Balado 250 g"
    assert await count_rows(network.engine.db, Contact, Contact.owner_id.is_not(None)) == 0
