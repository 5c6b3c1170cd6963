"""Conversations the tests share: an owner's business answers and products, played on any channel's test person
(the fake chat, a Telegram or WhatsApp user), and the way to a submission an officer can review."""

from __future__ import annotations

from bot.review.officers import add_officer
from tests.chat import Chat, Network
from tests.conftest import make_image

BUSINESS_ANSWERS = [
    "Keripik Bu Sari",            # nama usaha
    "Sari Wulandari",             # nama pemilik
    "perorangan",                 # bentuk usaha (no akta: not a badan usaha)
    "1234567890123",              # NIB
    "10794",                      # KBLI
    "01.312.166.0-091.000",       # NPWP
    "bukan pkp",                  # PKP (so no product is asked about PPN)
    "mikro",                      # skala
    "lampung utara",              # kab/kota
    "Jl. Merdeka No. 5, Kotabumi",  # alamat
    "0812 3456 7890",             # HP (e-mail is not asked on the way: it is added from the profile)
]


async def onboard(chat: Chat) -> None:
    """From the first hello to the first product question."""
    await chat.send("/start")
    await chat.tap("Saya setuju")
    for answer in BUSINESS_ANSWERS:
        await chat.send(answer)
    assert "Apa nama produknya" in chat.last


# A product as an owner enters it, up to its photos: ("send", text) types, ("tap", label) presses a button.
FOOD_PRODUCT = [
    ("send", "Keripik Singkong Balado 250 g"),
    ("tap", "Makanan"),
    ("send", "Bu Sari"),
    ("send", "Keripik singkong renyah bumbu balado, 250 gram, kemasan standing pouch."),
    ("send", "25rb"),
    ("tap", "pcs"),
    ("send", "500"),                     # stock; the minimum order is 1 unless changed from the summary
    ("send", "250 gr 20x15x5 cm"),
    ("tap", "Ya"),                       # TKDN and SNI are added from the summary by those who have them
    ("send", "P-IRT 2063509010789-26"),  # P-IRT (then BPOM is not asked)
    ("send", "ID31110000123450321"),     # halal
]


CRAFT_PRODUCT = [
    ("send", "Tas Anyaman Pandan"),
    ("tap", "Kerajinan"),
    ("send", "lewati"),
    ("send", "Tas anyaman pandan asli Lampung, 30x20 cm, tali kulit sintetis."),
    ("send", "150rb"),
    ("tap", "pcs"),
    ("send", "40"),
    ("send", "400 gr 25x20x8 cm"),
    ("tap", "Tidak"),                    # no food permits for a craft: the photos come next
]


async def play(person, script: list[tuple[str, str]]) -> None:  # type: ignore[no-untyped-def]
    """Plays a script on any channel's test person (fake chat, Telegram or WhatsApp user)."""
    for action, value in script:
        await getattr(person, action)(value)


async def fill_product(chat: Chat) -> None:
    await play(chat, FOOD_PRODUCT)
    await chat.photos(make_image(color="red"), make_image(color="blue"))  # then straight to the summary


async def submit_with_officer(network: Network, region: str = "18.03") -> tuple[Chat, Chat]:
    await add_officer(network.engine.db, "Budi", region, "fake", "officer-1")
    owner, officer = network.chat("owner-1"), network.chat("officer-1")
    await onboard(owner)
    await fill_product(owner)
    await owner.tap("Kirim ke Dinas")
    return owner, officer
