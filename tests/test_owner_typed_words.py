"""What an owner types is read like what they tap: menu labels in either language, outside a question."""

from __future__ import annotations

import pytest

from tests.chat import Network
from tests.support.conversations import onboard


@pytest.mark.parametrize(("typed", "expected"), [
    ("profil usaha", "Profil usaha"), ("Business profile", "Profil usaha"), ("Produk baru", "Apa nama produknya"),
    ("new product", "Apa nama produknya"), ("lanjutkan draf", "Masuk kategori"),
    ("Continue a draft", "Masuk kategori"), ("bahasa/language", "Pilih bahasa"),
    ("Language/Bahasa", "Pilih bahasa"), ("produk saya", "Produk Bapak/Ibu"), ("My products", "Produk Bapak/Ibu"),
])
async def test_menu_labels_typed_work_like_the_buttons(network: Network, typed: str, expected: str) -> None:
    owner = network.chat("owner-1")
    await onboard(owner)
    await owner.send("Keripik Pisang")  # a draft, for "lanjutkan draf"
    await owner.send("menu")
    said = await owner.send(typed)
    assert expected.casefold() in said[-1].text.casefold(), said[-1].text
    assert all("belum mengerti" not in m.text for m in said)


async def test_a_menu_label_answering_a_question_is_the_answer(network: Network) -> None:
    owner = network.chat("owner-1")
    await onboard(owner)
    said = await owner.send("Produk baru")  # the product's name: an odd one, still the owner's answer
    assert "Apa nama produknya" not in said[-1].text
    await owner.send("menu")
    said = await owner.send("produk saya")
    assert "Produk baru" in said[-1].text
