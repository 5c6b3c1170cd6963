"""Where the business is: everyday names, loose typos confirmed, a way out of every list."""

from __future__ import annotations

import pytest
from sqlmodel import select

from storage.models import Business
from tests.chat import Chat, Network
from tests.support.conversations import BUSINESS_ANSWERS


async def at_region_question(network: Network, english: bool = False) -> Chat:
    owner = network.chat("owner-1")
    if english:
        await owner.send("language")
        await owner.tap("English")
        await owner.tap("I agree")
    else:
        await owner.send("/start")
        await owner.tap("Saya setuju")
    for answer in BUSINESS_ANSWERS[:8]:
        await owner.send(answer)
    return owner


async def region_of(network: Network) -> str | None:
    async with network.engine.db.transaction() as session:
        return (await session.exec(select(Business))).one().region_code


@pytest.mark.parametrize("typed", ["Lampura", "Kotabumi", "lampung utra", "Kab. Lampung Utara"])
async def test_everyday_names_resolve(network: Network, typed: str) -> None:
    owner = await at_region_question(network)
    await owner.send(typed)
    assert "alamat lengkap" in owner.last
    assert await region_of(network) == "18.03"


async def test_jogja_is_the_city(network: Network) -> None:
    owner = await at_region_question(network)
    await owner.send("Jogja")
    assert await region_of(network) == "34.71"


async def test_a_loose_typo_asks_to_confirm(network: Network) -> None:
    owner = await at_region_question(network)
    await owner.send("lampong utoro")
    assert "Maksud Bapak/Ibu kabupaten/kota ini?" in owner.last
    assert owner.buttons == ["Kabupaten Lampung Utara, Lampung", "Bukan, ketik lagi"]
    assert await region_of(network) is None
    await owner.tap("Kabupaten Lampung Utara, Lampung")
    assert await region_of(network) == "18.03"


async def test_every_list_has_a_way_out_and_back_returns_to_the_question(network: Network) -> None:
    owner = await at_region_question(network)
    await owner.send("bogor")
    assert owner.buttons[-1] == "Bukan, ketik lagi"
    await owner.tap("Bukan, ketik lagi")
    assert "silakan ketik lagi" in owner.last and "kabupaten/kota mana" in owner.last
    await owner.send("bogor")
    await owner.send("kembali")
    assert "kabupaten/kota mana" in owner.last and "Skala" not in owner.last
    await owner.send("kota bogor")
    assert await region_of(network) == "32.71"


async def test_english_confirmation(network: Network) -> None:
    owner = await at_region_question(network, english=True)
    await owner.send("lampong utoro")
    assert "Did you mean this regency/city" in owner.last and owner.buttons[-1] == "None, type again"
    await owner.tap("None, type again")
    assert "please type the name of the regency/city again" in owner.last
