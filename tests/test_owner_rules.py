"""Rules the catalogue's curation enforces, caught in the chat: food permits and the KBLI fitting the category."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.flows import kbli
from bot.flows.product import KATEGORI
from storage.models import Business, Product, ProductStatus
from tests.chat import Chat, Network
from tests.conftest import make_image, product_status
from tests.support.conversations import CRAFT_PRODUCT, onboard, play

FOOD_WITHOUT_PERMITS = [
    ("send", "Sambal Roa Bu Sari"),
    ("tap", "Makanan"),
    ("send", "lewati"),
    ("send", "Sambal roa asap khas Manado, pedas, botol kaca 150 gram."),
    ("send", "35rb"),
    ("tap", "pcs"),
    ("send", "200"),
    ("send", "200 gr 6x6x12 cm"),   # weight and package size in one message
    ("tap", "Ya"),
]


async def finish_with_photo(owner: Chat) -> None:
    await owner.photos(make_image())


async def test_a_p_irt_number_means_bpom_is_not_asked(network: Network) -> None:
    owner = network.chat("owner-1")
    await onboard(owner)
    await play(owner, FOOD_WITHOUT_PERMITS)
    assert "P-IRT" in owner.last and "cukup salah satu" in owner.last
    await owner.send("P-IRT 2063509010789-26")
    assert "sertifikat halal" in owner.last and "BPOM" not in owner.last


async def test_an_owner_without_permits_is_told_where_to_get_one_and_the_draft_is_kept(network: Network) -> None:
    owner = network.chat("owner-1")
    await onboard(owner)
    await play(owner, FOOD_WITHOUT_PERMITS)
    await owner.send("belum punya")        # no P-IRT
    assert "nomor izin edar BPOM" in owner.last
    await owner.send("tidak ada")          # no BPOM either
    said = "\n".join(owner.texts(-2))
    assert "Dinas Kesehatan" in said and "OSS" in said and "draf tetap tersimpan" in said
    assert "sertifikat halal" in owner.last
    await owner.send("lewati")                 # halal
    await finish_with_photo(owner)
    await owner.tap("Kirim ke Dinas")
    assert "perlu nomor P-IRT atau BPOM" in "\n".join(owner.texts(-2))
    assert await product_status(network.engine.db) == ProductStatus.draft
    await owner.tap("Lanjutkan draf")
    await owner.tap("Ubah jawaban")
    await owner.tap("Nomor BPOM")
    await owner.send("MD 123456789012")
    await owner.tap("Kirim ke Dinas")
    assert await product_status(network.engine.db) == ProductStatus.submitted


async def test_english_owner_without_permits(network: Network) -> None:
    owner = network.chat("owner-1")
    await onboard(owner)
    await owner.send("language")
    await owner.tap("English")
    script = [(a, {"Makanan": "Food", "Ya": "Yes", "lewati": "skip"}.get(v, v)) for a, v in FOOD_WITHOUT_PERMITS]
    await play(owner, script)
    assert "one of them is enough" in owner.last
    await owner.send("no")
    await owner.send("skip")
    assert "Dinas Kesehatan" in owner.last and "the draft is kept" in owner.last


async def test_a_kbli_that_does_not_fit_the_category_is_explained(network: Network) -> None:
    owner = network.chat("owner-1")
    await onboard(owner)                   # KBLI 10794: food manufacturing
    await play(owner, CRAFT_PRODUCT)
    await finish_with_photo(owner)
    await owner.tap("Kirim ke Dinas")
    assert "KBLI usaha Bapak/Ibu 10794 (industri makanan) tidak cocok dengan kategori Kerajinan" in owner.last
    assert "cocok untuk: Makanan" in owner.last
    assert owner.buttons == ["Ubah kategori", "Ubah KBLI"]
    await owner.tap("Ubah KBLI")
    assert "KBLI" in owner.last and "Jawaban sekarang: 10794" in owner.last
    await owner.send("16291")              # woven rattan and bamboo goods
    assert "Ringkasan produk" in owner.last
    await owner.tap("Kirim ke Dinas")
    assert await product_status(network.engine.db) == ProductStatus.submitted
    async with network.engine.db.transaction() as session:
        assert (await session.exec(select(Business))).one().kbli == "16291"


async def test_a_category_that_does_not_fit_is_noted_when_chosen(network: Network) -> None:
    owner = network.chat("owner-1")
    await onboard(owner)                   # KBLI 10794: food manufacturing
    await owner.send("Tas Anyaman Pandan")
    await owner.tap("Kerajinan")
    note = owner.last                      # one message: the note, then the next question
    assert "KBLI usaha Bapak/Ibu 10794 tidak cocok dengan kategori Kerajinan (cocok untuk: Makanan)" in note
    assert "draf tetap dilanjutkan" in note
    assert note.index("sebelum dikirim") < note.index("Apa merek produknya")  # never blocked: asked right after


async def test_english_note_when_the_category_is_chosen(network: Network) -> None:
    owner = network.chat("owner-1")
    await onboard(owner)
    await owner.send("language")
    await owner.tap("English")
    await owner.send("Woven Pandan Bag")
    await owner.tap("Handicrafts")
    note = owner.last
    assert "your business KBLI 10794 does not fit the category Handicrafts (it fits: Food)" in note
    assert "the draft goes on" in note and "brand" in owner.last


async def test_a_fitting_category_gets_no_note(network: Network) -> None:
    owner = network.chat("owner-1")
    await onboard(owner)
    await owner.send("Keripik Singkong Balado 250 g")
    await owner.tap("Makanan")
    assert "KBLI" not in owner.last and "Apa merek produknya" in owner.last


async def test_or_the_category_is_corrected(network: Network) -> None:
    owner = network.chat("owner-1")
    await onboard(owner)
    await play(owner, CRAFT_PRODUCT)
    await finish_with_photo(owner)
    await owner.tap("Kirim ke Dinas")
    await owner.tap("Ubah kategori")
    await owner.tap("Makanan")
    assert "P-IRT" in owner.last       # food now: its permit question comes in
    await owner.send("P-IRT 2063509010789-26")
    await owner.send("lewati")         # halal
    assert "Ringkasan produk" in owner.last
    await owner.tap("Kirim ke Dinas")
    async with network.engine.db.transaction() as session:
        product = await session.get(Product, 1)
    assert product is not None and (product.status, product.kategori) == (ProductStatus.submitted, "makanan")


async def test_english_mismatch(network: Network) -> None:
    owner = network.chat("owner-1")
    await onboard(owner)
    await play(owner, CRAFT_PRODUCT)
    await finish_with_photo(owner)
    await owner.send("language")
    await owner.tap("English")
    await owner.tap("Send to Dinas")
    assert "Your business KBLI 10794 (food manufacturing) does not fit the category Handicrafts" in owner.last


@pytest.mark.parametrize(("code", "kategori", "fits"), [
    ("10794", "makanan", True), ("11040", "minuman", True), ("10761", "minuman", True),
    ("10794", "minuman", False), ("11040", "makanan", False), ("16291", "kerajinan", True),
    ("14111", "pakaian", True), ("13134", "pakaian", True), ("15201", "alas_kaki", True),
    ("31001", "furnitur", True), ("56210", "catering", True), ("01131", "pertanian", True),
    ("47111", "lainnya", True), ("10794", "kerajinan", False), (None, "kerajinan", True),
])
def test_kbli_table(code: str | None, kategori: str, fits: bool) -> None:
    assert kbli.fits(code, kategori) is fits


def test_every_category_but_other_has_kbli_groups() -> None:
    assert set(kbli.FITTING) == set(KATEGORI) - {"lainnya"}
