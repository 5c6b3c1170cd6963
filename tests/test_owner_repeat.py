"""A second product of the same kind: unchanging answers in one tap, copies, skip offered first."""

from __future__ import annotations

from bot.conversation.repeat import similar
from storage.models import Product
from tests.chat import Chat, Network
from tests.conftest import make_image
from tests.support.conversations import fill_product, onboard


async def second_product(owner: Chat) -> None:
    await owner.tap("Kirim ke Dinas")
    await owner.tap("Produk baru")


async def product(network: Network, product_id: int) -> Product:
    async with network.engine.db.transaction() as session:
        found = await session.get(Product, product_id)
    assert found is not None
    return found


async def test_same_kind_answers_in_one_tap(network: Network) -> None:
    owner = network.chat("owner-1")
    await onboard(owner)
    await fill_product(owner)
    await second_product(owner)
    await owner.send("Keripik Pisang Coklat 200 g")
    await owner.tap("Makanan")
    assert 'sejenis dengan "Keripik Singkong Balado 250 g"' in owner.last
    assert "Merek: Bu Sari" in owner.last and "Nomor P-IRT: 206350901078926" in owner.last
    # same category, same unit: the weight and package size are offered too
    assert "Berat (gram): 250" in owner.last and "Ukuran kemasan: 20 × 15 × 5 cm" in owner.last
    await owner.tap("Ya, sama")
    assert "deskripsi" in owner.last.lower()
    for answer in ["Keripik pisang lumer coklat, 250 gram, kemasan standing pouch.", "20rb", "300"]:
        await owner.send(answer)
    assert "foto" in owner.last and "berat" not in owner.last.lower()  # weight not asked again
    await owner.photos(make_image(color="yellow"))
    assert "Ringkasan produk #2" in owner.last
    second = await product(network, 2)
    assert (second.merek, second.satuan, second.pdn, second.pirt, second.halal, second.berat_gram) == (
        "Bu Sari", "pcs", True, "206350901078926", "ID31110000123450321", 250)


def test_similar_means_same_category_and_unit() -> None:
    chips = Product(business_id=1, kategori="makanan", satuan="pcs", berat_gram=250)
    assert similar(chips, Product(business_id=1, kategori="makanan", satuan="pcs"))
    assert not similar(chips, Product(business_id=1, kategori="makanan", satuan="kg"))
    assert not similar(chips, Product(business_id=1, kategori="minuman", satuan="pcs"))
    assert not similar(Product(business_id=1), Product(business_id=1))


async def test_one_by_one_and_skip_offered_first(network: Network) -> None:
    owner = network.chat("owner-1")
    await onboard(owner)
    await fill_product(owner)
    await second_product(owner)
    await owner.send("Keripik Pisang Coklat 200 g")
    await owner.tap("Makanan")
    await owner.tap("Isi satu per satu")
    assert "Apa merek produknya" in owner.last and owner.buttons == []
    for answer in ["Bu Sari", "Keripik pisang lumer coklat, 200 gram, kemasan standing pouch.", "20rb"]:
        await owner.send(answer)
    await owner.tap("pcs")
    for answer in ["300", "200 gr 20x15x5 cm"]:
        await owner.send(answer)
    await owner.tap("Ya")
    await owner.send("P-IRT 2063509010789-26")
    await owner.send("lewati")  # no halal certificate this time
    await owner.photos(make_image(color="yellow"))
    await owner.tap("Simpan draf")
    await owner.tap("Produk baru")
    await owner.send("Keripik Talas 150 g")
    await owner.tap("Makanan")
    await owner.tap("Isi satu per satu")
    for answer in ["Bu Sari", "Keripik talas renyah, 150 gram, kemasan standing pouch.", "18rb"]:
        await owner.send(answer)
    await owner.tap("pcs")
    for answer in ["300", "150 gr 15x10x5"]:
        await owner.send(answer)
    await owner.tap("Ya")
    await owner.send("P-IRT 2063509010789-26")
    assert "sertifikat halal" in owner.last and owner.buttons == ["Lewati"]  # skipped last time: one tap
    await owner.tap("Lewati")
    assert "foto" in owner.last


async def test_copy_a_product(network: Network) -> None:
    owner = network.chat("owner-1")
    await onboard(owner)
    await fill_product(owner)
    await owner.tap("Kirim ke Dinas")
    await owner.tap("Produk saya")
    await owner.tap("Salin produk")
    await owner.tap("Keripik Singkong Balado 250 g #1")
    assert 'Disalin dari "Keripik Singkong Balado 250 g"' in owner.last and "Apa nama produknya" in owner.last
    await owner.send("Keripik Singkong Pedas Manis 250 g")
    await owner.send("Keripik singkong pedas manis, 250 gram, kemasan standing pouch.")
    await owner.send("26rb")
    assert "foto" in owner.last
    await owner.photos(make_image(color="green"))
    assert "Ringkasan produk #2" in owner.last and "Rp26.000" in owner.last and "Bu Sari" in owner.last
    await owner.tap("Kirim ke Dinas")
    copy = await product(network, 2)
    assert (copy.nama_produk, copy.status, copy.stok, copy.berat_gram) == (
        "Keripik Singkong Pedas Manis 250 g", "submitted", 500, 250)


async def test_english_same_as_before(network: Network) -> None:
    owner = network.chat("owner-1")
    await onboard(owner)
    await fill_product(owner)
    await owner.send("language")
    await owner.tap("English")
    await owner.tap("Send to Dinas")
    await owner.tap("New product")
    await owner.send("Banana Chips")
    await owner.tap("Food")
    assert 'same kind as "Keripik Singkong Balado 250 g"' in owner.last
    assert owner.buttons == ["Yes, the same", "One by one"]
