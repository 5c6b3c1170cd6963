"""How the bot read an answer is said once when it differs from what was typed ("25rb" -> Rp25.000, a region
found by a loose name), and a NIB another business gave too is pointed out: gently to the owner, and to the
officer as a possible duplicate on the submission."""

from __future__ import annotations

from bot.review.officers import add_officer
from tests.chat import Network
from tests.support.conversations import BUSINESS_ANSWERS, FOOD_PRODUCT, fill_product, onboard, play


async def test_a_reading_that_differs_is_said_once_in_the_next_message(network: Network) -> None:
    owner = network.chat("owner-1")
    await owner.send("/start")
    await owner.tap("Saya setuju")
    for answer in BUSINESS_ANSWERS[:8]:
        said = await owner.send(answer)
        assert "dicatat" not in said[0].text  # typed as the bot reads them (NPWP with or without dots alike)
    said = await owner.send("lampung utara")
    assert said[0].text.startswith("✓ Kabupaten/kota: Kabupaten Lampung Utara, Lampung (dicatat)\n\n(10/11)")
    said = await owner.send("Jl. Merdeka No. 5, Kotabumi")
    assert "dicatat" not in said[0].text  # once: not again in the message after
    said = await owner.send("0812 3456 7890")
    assert "dicatat" not in said[0].text  # a phone number in its stored format is no news
    await play(owner, FOOD_PRODUCT[:4])
    said = await owner.send("25rb")
    assert said[0].text.startswith("✓ Harga satuan: Rp25.000 (dicatat)\n\n")
    assert "Dijual per satuan apa" in said[0].text
    await owner.send("kembali")
    said = await owner.send("Rp 25.000")  # written as the bot shows it: nothing to say
    assert "dicatat" not in said[0].text and "Dijual per satuan apa" in said[0].text


async def test_english_says_it_in_english(network: Network) -> None:
    owner = network.chat("owner-1")
    await onboard(owner)
    await owner.send("/language")
    await owner.tap("English")
    await play(owner, [FOOD_PRODUCT[0], ("tap", "opt:makanan"), *FOOD_PRODUCT[2:4]])
    said = await owner.send("1,5jt")
    assert said[0].text.startswith("✓ Unit price: Rp1.500.000 (noted)\n\n")


async def test_a_nib_given_twice_is_told_gently_and_marked_for_the_officer(network: Network) -> None:
    await add_officer(network.engine.db, "Budi", "18.03", "fake", "officer-1")
    first, second, officer = network.chat("owner-1"), network.chat("owner-2"), network.chat("officer-1")
    await onboard(first)
    await fill_product(first)
    await first.tap("Kirim ke Dinas")
    assert "Kemungkinan duplikat" not in officer.inbox[-1].text
    await second.send("/start")
    await second.tap("Saya setuju")
    await second.send("Keripik Sari Jaya")
    await second.send("Sari Wulandari")
    said = await second.send("perorangan")
    assert "NIB ini sudah dipakai" not in said[0].text
    said = await second.send(BUSINESS_ANSWERS[3])  # the NIB of owner-1's business
    assert said[0].text.startswith("ℹ️ NIB ini sudah dipakai oleh usaha lain")
    assert "Keripik Bu Sari" not in said[0].text  # the other business stays private
    for answer in BUSINESS_ANSWERS[4:]:
        said = await second.send(answer)
        assert "NIB ini sudah dipakai" not in said[0].text
    await fill_product(second)
    await second.tap("Kirim ke Dinas")
    text = officer.inbox[-1].text
    assert "⚠️ Kemungkinan duplikat: NIB 1234567890123 juga dipakai Keripik Bu Sari." in text
    assert "Keripik Sari Jaya" in text
