"""Wrong or odd answers get a correction that says what is expected, in both languages."""

from __future__ import annotations

import re

import pytest

from bot.domain import validators as v
from bot.settings import ROOT
from storage.db import Database
from storage.models import Business, Product
from tests.chat import Chat, Network
from tests.conftest import make_image
from tests.support.conversations import BUSINESS_ANSWERS, onboard


async def product_values(database: Database) -> Product:
    async with database.transaction() as session:
        product = await session.get(Product, 1)
    assert product is not None
    return product


async def to_price(owner: Chat, kategori: str = "Kerajinan") -> None:
    await onboard(owner)
    await owner.send("Tas Anyaman Pandan")
    await owner.tap(kategori)
    await owner.send("lewati")
    await owner.send("Tas anyaman pandan asli Lampung, 30x20 cm, tali kulit sintetis.")


async def test_price_out_of_range_says_the_range_and_a_tiny_one_is_confirmed(network: Network) -> None:
    owner = network.chat("owner-1")
    await to_price(owner)
    await owner.send("0")
    assert "lebih dari Rp0 dan paling tinggi Rp10 miliar" in owner.last and "harga satuannya" in owner.last
    await owner.send("-5000")
    assert "Rp10 miliar" in owner.last
    await owner.send("20 miliar")
    assert "Rp10 miliar" in owner.last
    await owner.send("Rp 50")
    assert "Harganya Rp50 per satuan — benar segitu?" in owner.last
    assert owner.buttons == ["Ya, benar", "Bukan, ubah"]
    await owner.tap("Bukan, ubah")
    assert "harga satuannya" in owner.last
    await owner.send("Rp 50")
    await owner.send("ya")
    assert "satuan" in owner.last.lower() and (await product_values(network.engine.db)).harga == 50


async def test_confirmation_answered_with_a_new_value_takes_the_new_value(network: Network) -> None:
    owner = network.chat("owner-1")
    await to_price(owner)
    await owner.send("50")
    await owner.send("50rb")
    assert (await product_values(network.engine.db)).harga == 50_000


async def test_stock_unit_weight_and_minimum_order(network: Network) -> None:
    owner = network.chat("owner-1")
    await to_price(owner)
    await owner.send("150rb")
    await owner.send("Rp25k")
    assert "Itu sepertinya harga, bukan satuan" in owner.last
    await owner.tap("pcs")
    await owner.send("15rb/pcs")
    assert (await product_values(network.engine.db)).stok == 15_000
    assert "berat" in owner.last.lower()
    await owner.send("0")
    assert "Beratnya 0 — benar produk ini tidak punya berat" in owner.last
    await owner.send("400 gr")  # the weight alone: the package size is asked next
    assert "ukuran kemasannya" in owner.last
    await owner.send("20 x 15 x 5 cm")
    await owner.tap("Tidak")
    await owner.photos(make_image())
    await owner.tap("Ubah jawaban")
    await owner.tap("Minimal pembelian")
    assert "Jawaban sekarang: 1" in owner.last
    await owner.send("20rb")
    assert "Minimal pembelian 20.000 lebih banyak dari stok/kapasitas 15.000" in owner.last
    await owner.tap("Bukan, ubah")
    await owner.send("10")
    assert "Ringkasan produk" in owner.last
    product = await product_values(network.engine.db)
    assert (product.min_beli, product.berat_gram) == (10, 400)


async def test_english_owner_gets_the_same_corrections(network: Network) -> None:
    owner = network.chat("owner-en")
    await owner.send("language")
    await owner.tap("English")
    await owner.tap("I agree")
    await owner.send("😀😀😀")
    assert "letters or digits" in owner.last
    await owner.send("x" * 101)
    assert "At most 100 characters" in owner.last
    await owner.send("Keripik \u202eBu Sari")
    await owner.send("Sari Wulandari")
    await owner.send("perorangan")
    await owner.send("0000000000000")
    assert "one digit repeated" in owner.last
    for answer in BUSINESS_ANSWERS[3:]:
        await owner.send(answer)
    await owner.send("Banana Chips")
    await owner.tap("Handicrafts")
    await owner.send("skip")
    await owner.send("Crispy banana chips with palm sugar, 200 gram pouch.")
    await owner.send("0")
    assert "more than Rp0 and at most Rp10 billion" in owner.last
    await owner.send("Rp 50")
    assert "The price is Rp50 per unit — is that right?" in owner.last
    async with network.engine.db.transaction() as session:
        business = await session.get(Business, 1)
    assert business is not None and business.nama_usaha == "Keripik Bu Sari"


async def test_indonesian_names_and_ids(network: Network) -> None:
    owner = network.chat("owner-1")
    await owner.send("/start")
    await owner.tap("Saya setuju")
    await owner.send("!!!")
    assert "huruf atau angka" in owner.last
    await owner.send("x" * 101)
    assert "Maksimal 100 karakter" in owner.last
    await owner.send("Keripik Bu Sari")
    await owner.send("Sari Wulandari")
    await owner.send("perorangan")
    await owner.send("1111111111111")
    assert "angkanya sama semua" in owner.last


@pytest.mark.parametrize("locale", ["id", "en"])
def test_the_npwp_example_in_the_question_passes_its_own_check(locale: str) -> None:
    for name in ("ask/business/npwp.j2", "errors/npwp.j2"):
        text = (ROOT / "templates" / locale / name).read_text(encoding="utf-8")
        examples = re.findall(r"\d{2}\.\d{3}\.\d{3}\.\d-\d{3}\.\d{3}", text)
        assert examples, name
        for example in examples:
            assert len(v.npwp(example)) == 15
