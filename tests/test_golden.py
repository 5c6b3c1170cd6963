"""Whole conversations through the fake channel, as an owner and an officer would have them."""

from __future__ import annotations

import pytest

from bot.admin import add_officer
from storage.models import Product, ProductStatus, Review
from tests.chat import Chat, Network
from tests.conftest import make_image

BUSINESS_ANSWERS = [
    "Keripik Bu Sari",            # nama usaha
    "Sari Wulandari",             # nama pemilik
    "1234567890123",              # NIB
    "10794",                      # KBLI
    "01.312.166.0-091.000",       # NPWP
    "mikro",                      # skala
    "lampung utara",              # kab/kota
    "Jl. Merdeka No. 5, Kotabumi",  # alamat
    "0812 3456 7890",             # HP
    "lewati",                     # email
]


async def onboard(chat: Chat) -> None:
    """From the first hello to the first product question."""
    await chat.send("/start")
    await chat.tap("Saya setuju")
    for answer in BUSINESS_ANSWERS:
        await chat.send(answer)
    assert "Apa nama produknya" in chat.last


async def fill_product(chat: Chat, name: str = "Keripik Singkong Balado 250 g") -> None:
    await chat.send(name)
    await chat.tap("Makanan & minuman")
    await chat.send("Bu Sari")
    await chat.send("Keripik singkong renyah bumbu balado, 250 gram, kemasan standing pouch.")
    await chat.send("25rb")
    await chat.tap("pcs")
    await chat.send("500")
    await chat.send("10")
    await chat.send("250 gr")
    await chat.tap("Ya")
    await chat.send("lewati")                  # TKDN
    await chat.send("P-IRT 2063509010789-26")  # P-IRT
    await chat.send("lewati")                  # BPOM, optional once P-IRT is given
    await chat.send("ID31110000123450321")     # halal
    await chat.send("lewati")                  # SNI
    await chat.photos(make_image(color="red"), make_image(color="blue"))
    await chat.tap("Selesai")


async def test_onboarding_product_and_submit(network: Network) -> None:
    owner = network.chat("owner-1")
    await onboard(owner)
    await fill_product(owner)
    assert "Ringkasan produk" in owner.last
    assert "Rp25.000" in owner.last
    assert "Makanan & minuman" in owner.last
    assert "2 foto" in owner.last
    await owner.tap("Kirim ke Dinas")
    assert any("Terkirim" in m.text for m in owner.inbox[-2:])
    async with network.engine.db.transaction() as session:
        product = await session.get(Product, 1)
    assert product.status == ProductStatus.submitted
    assert product.harga == 25000 and product.berat_gram == 250 and product.pirt == "206350901078926"


async def test_officer_approves(network: Network) -> None:
    await add_officer(network.engine.db, "Budi", "18.03", "fake", "officer-1")
    owner, officer = network.chat("owner-1"), network.chat("officer-1")
    await onboard(owner)
    await fill_product(owner)
    await owner.tap("Kirim ke Dinas")
    note = officer.inbox[-1]
    assert "Pengajuan produk baru" in note.text and len(note.photos) == 2
    assert [c.label for c in note.choices] == ["Setujui", "Minta revisi", "Tolak"]
    await officer.tap("Setujui")
    assert "DISETUJUI" in owner.last
    async with network.engine.db.transaction() as session:
        product = await session.get(Product, 1)
        review = await session.get(Review, 1)
    assert product.status == ProductStatus.approved and review.decision == "approved"


@pytest.mark.parametrize("answer", ["Tolak"])
async def test_reject_with_reason(network: Network, answer: str) -> None:
    await add_officer(network.engine.db, "Budi", "Lampung", "fake", "officer-1")
    owner, officer = network.chat("owner-1"), network.chat("officer-1")
    await onboard(owner)
    await fill_product(owner)
    await owner.tap("Kirim ke Dinas")
    await officer.tap(answer)
    await officer.send("Foto tidak jelas dan produk tidak sesuai deskripsi")
    assert "DITOLAK" in owner.last and "Foto tidak jelas" in owner.last
