"""Drafts: a steady progress counter, deleting drafts, no empty drafts, the owner's own product numbers."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from storage.models import Product, ProductStatus
from tests.chat import Network
from tests.conftest import count_rows, make_image
from tests.support.conversations import CRAFT_PRODUCT, FOOD_PRODUCT, fill_product, onboard, play


def counters(texts: list[str]) -> list[tuple[int, int]]:
    return [(int(n), int(total)) for t in texts for n, total in re.findall(r"\((\d+)/(\d+)\)", t)]


@pytest.mark.parametrize("script", [FOOD_PRODUCT, CRAFT_PRODUCT], ids=["food", "craft"])
async def test_the_progress_counter_never_jumps(network: Network, script: list[tuple[str, str]]) -> None:
    owner = network.chat("owner-1")
    await onboard(owner)
    start = len(owner.inbox) - 1
    await play(owner, script)
    seen = counters(owner.texts(start))
    positions = [n for n, _ in seen]
    totals = [total for _, total in seen]
    assert positions == list(range(1, len(seen) + 1)), seen
    assert all(later <= earlier for earlier, later in zip(totals, totals[1:], strict=False)), seen
    assert positions[-1] == totals[-1] - 1 or positions[-1] == totals[-1]  # the photo step is the last one


async def test_cancelling_an_empty_new_product_leaves_no_draft(network: Network) -> None:
    owner = network.chat("owner-1")
    await onboard(owner)
    await owner.send("batal!")
    assert "Menu utama" in owner.last
    await owner.tap("Produk baru")
    await owner.send("Menu.")
    assert await count_rows(network.engine.db, Product) == 0
    await owner.tap("Lanjutkan draf")
    assert "Belum ada draf" in owner.last and "Tanpa nama" not in owner.last


async def test_a_draft_can_be_deleted(network: Network) -> None:
    owner = network.chat("owner-1")
    await onboard(owner)
    await owner.send("Keripik Pisang Coklat")
    await owner.send("hapus draf")
    assert 'Hapus draf "Keripik Pisang Coklat" (#1)?' in owner.last
    await owner.tap("Ya, hapus")
    assert "sudah dihapus" in owner.last
    await owner.tap("Produk baru")
    await play(owner, CRAFT_PRODUCT)
    await owner.photos(make_image())
    await owner.tap("Ubah jawaban")
    await owner.tap("Hapus draf ini")
    await owner.tap("Jangan hapus")
    assert "Ringkasan produk #2" in owner.last
    await owner.tap("Ubah jawaban")
    await owner.tap("Hapus draf ini")
    await owner.tap("Ya, hapus")
    await owner.send("produk saya")
    assert "Belum ada produk" in owner.last
    async with network.engine.db.transaction() as session:
        statuses = [p.status for p in (await session.exec(select(Product).order_by(Product.id))).all()]
    assert statuses == [ProductStatus.deleted, ProductStatus.deleted]


async def test_english_owner_deletes_a_draft(network: Network) -> None:
    owner = network.chat("owner-en")
    await owner.send("language")
    await owner.tap("English")
    await owner.tap("I agree")
    from tests.support.conversations import BUSINESS_ANSWERS
    for answer in BUSINESS_ANSWERS:
        await owner.send(answer)
    await owner.send("Banana Chips")
    await owner.send("Delete draft.")
    assert 'Delete the draft "Banana Chips" (#1)?' in owner.last
    await owner.tap("Yes, delete")
    assert 'The draft "Banana Chips" was deleted.' in owner.last


async def test_each_owner_counts_their_own_products(network: Network) -> None:
    first, second = network.chat("owner-1"), network.chat("owner-2")
    await onboard(first)
    await fill_product(first)
    await onboard(second)
    await fill_product(second)
    assert "Ringkasan produk #1" in second.last
    await second.tap("Simpan draf")
    await second.tap("Produk baru")
    await second.send("Tas Anyaman Pandan")
    await second.send("menu")
    await second.tap("Lanjutkan draf")
    assert "#1 Keripik Singkong Balado 250 g" in second.last and "#2 Tas Anyaman Pandan" in second.last
    assert set(second.buttons) >= {"Keripik Singkong Balado 250 g #1", "Tas Anyaman Pandan #2"}
    async with network.engine.db.transaction() as session:
        rows = (await session.exec(select(Product).order_by(Product.id))).all()
    assert [(p.id, p.number) for p in rows] == [(1, 1), (2, 1), (3, 2)]


async def test_back_with_punctuation_goes_back(network: Network) -> None:
    owner = network.chat("owner-1")
    await onboard(owner)
    await owner.send("Keripik Pisang Coklat")
    await owner.send("Kembali.")
    assert "Apa nama produknya" in owner.last and "Jawaban sekarang: Keripik Pisang Coklat" in owner.last
