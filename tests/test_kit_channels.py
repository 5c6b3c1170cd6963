"""From approval to tayang on each channel: the owner opens the upload kit (rows in the form's order, copyable,
the photos), pastes the catalogue link, the product is listed and the officer told."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlmodel import select

from bot.conversation.engine import Engine
from bot.handlers.terminal import Terminal
from bot.review.officers import add_officer
from bot.settings import Settings
from storage.db import Database
from storage.models import OutboxMessage, ProductStatus
from tests.conftest import World, make_image, product_status
from tests.support.conversations import BUSINESS_ANSWERS, FOOD_PRODUCT
from tests.test_telegram import OWNER as TG_OWNER
from tests.test_telegram import submitted as telegram_submitted
from tests.test_whatsapp import OFFICER as WA_OFFICER
from tests.test_whatsapp import OWNER as WA_OWNER
from tests.test_whatsapp import WA, graph, wa  # noqa: F401  (fixtures)
from tests.test_whatsapp import submitted as whatsapp_submitted

LINK = "https://katalog.inaproc.id/produk/keripik-singkong-balado-250-g"
ORDER = ["Kategori (3 level)", "Nama produk", "Foto produk", "PPN", "KBKI", "Produk dalam negeri", "Merek",
         "Spesifikasi/deskripsi", "Stok", "Harga (Rp)", "Satuan", "Minimal pembelian", "Berat (gram)",
         "Panjang (cm)", "Lebar (cm)", "Tinggi (cm)", "Nomor P-IRT", "Sertifikat halal"]


def in_order(text: str, labels: list[str]) -> bool:
    places = [text.find(label) for label in labels]
    return -1 not in places and places == sorted(places)


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_telegram_kit_and_link(world: World) -> None:
    owner, officer = await telegram_submitted(world)
    await officer.tap("Setujui")
    assert "Langkah berikutnya" in owner.last
    await owner.tap("Bahan unggah")
    await owner.tap("Sudah punya")  # an INAPROC account already: no email asked
    kit = next(c.params for c in reversed(world.api.sent("sendMessage", TG_OWNER)) if "INAPROC" in c.params["text"]
               and "Kategori" in c.params["text"])
    assert kit["parse_mode"] == "HTML" and in_order(kit["text"], ORDER)
    assert "<code>25000</code>" in kit["text"] and "<code>Keripik Singkong Balado 250 g</code>" in kit["text"]
    album = world.api.sent("sendMediaGroup", TG_OWNER)
    assert len(album) == 1 and len(album[0].params["media"]) == 2  # the photos, in upload order
    await owner.tap("Sudah saya unggah")
    assert await product_status(world.db) == ProductStatus.uploaded
    await owner.send(LINK)
    assert await product_status(world.db) == ProductStatus.listed
    assert any("tayang" in t and LINK in t for t in owner.texts[-3:])
    assert LINK in officer.last and "Keripik Bu Sari" in officer.last


async def test_whatsapp_kit_and_link(wa: WA) -> None:  # noqa: F811
    owner, officer = await whatsapp_submitted(wa)
    await officer.tap("Setujui")
    await owner.tap("Bahan unggah")
    await owner.tap("Belum")
    await owner.send("sari@example.com")  # no account yet: INAPROC's verification goes to this email
    texts = wa.graph.texts(WA_OWNER)
    kit = next(t for t in reversed(texts) if "Bahan unggah INAPROC" in t)
    assert in_order(kit, ORDER) and "```25000```" in kit and "```Keripik Singkong Balado 250 g```" in kit
    assert len(wa.graph.sent(WA_OWNER, "image")) == 2
    await owner.send(f"Sudah tayang: {LINK}")
    assert await product_status(wa.db) == ProductStatus.listed
    assert any(LINK in t for t in wa.graph.texts(WA_OFFICER)[-2:])
    await owner.send("http://katalog.inaproc.id/produk/lain")
    assert "Tautan tidak disimpan" in owner.last


async def test_terminal_kit_and_link(database: Database, settings: Settings, tmp_path: Path) -> None:
    engine = Engine(database, settings)
    await add_officer(database, "Budi", "18.03", "terminal", "officer-1")
    red, blue = tmp_path / "red.jpg", tmp_path / "blue.jpg"
    red.write_bytes(make_image(color="red"))
    blue.write_bytes(make_image(color="blue"))
    product = [value for _, value in FOOD_PRODUCT]
    owner_out, officer_out = io.StringIO(), io.StringIO()
    owner = Terminal(engine, "owner-1", owner_out)
    await owner.scripted(io.StringIO("\n".join(["/start", "1", *BUSINESS_ANSWERS, *product, f"{red} {blue}", "1"])))
    assert "Terkirim" in owner_out.getvalue()
    await Terminal(engine, "officer-1", officer_out).scripted(io.StringIO("1\n"))  # Setujui
    assert await product_status(database) == ProductStatus.approved
    start = len(owner_out.getvalue())
    await owner.scripted(io.StringIO("1\n1\n"))  # Bahan unggah, then "Sudah punya" (an INAPROC account)
    kit = owner_out.getvalue()[start:]
    assert in_order(kit, ORDER) and "\n25000\n" in kit and "`" not in kit  # plain: every value as it reads
    assert kit.count("🖼") == 2
    await owner.scripted(io.StringIO(f"{LINK}\n"))
    assert await product_status(database) == ProductStatus.listed
    async with database.transaction() as session:
        rows = (await session.exec(select(OutboxMessage).where(OutboxMessage.address == "officer-1"))).all()
    assert any(LINK in r.payload["text"] for r in rows)
